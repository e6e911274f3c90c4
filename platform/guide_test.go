package platform_test

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

var _ = Describe("the rehearsal guide of each runbook action", func() {
	It("gives every action of the catalog a done state a watcher knows, a goal and instructions", func() {
		for _, info := range platform.ActionCatalog() {
			g, ok := platform.Guide(info.Name)
			Expect(ok).To(BeTrue(), "%s has no guide: a rehearsal could neither tell the engineer how nor see it done", info.Name)
			a := platform.Action{Name: "step", Action: info.Name, Params: map[string]string{}}
			for _, k := range info.Required {
				a.Params[k] = "x"
			}
			Expect(platform.DoneStates).To(ContainElement(g.Done(a).What), info.Name)
			Expect(g.Goal(a)).NotTo(BeEmpty(), info.Name)
			Expect(g.Instructions(a, "svc", platform.Facts{})).NotTo(BeEmpty(), info.Name)
		}
	})

	It("fills the forced reconfig in with the surviving member's address and keeps only the members that answer", func() {
		g, _ := platform.Guide(platform.ActionMongoForceReconfigure)
		a := platform.Action{Action: platform.ActionMongoForceReconfigure, Params: map[string]string{"promote": "mongo-west-1a"}}
		lines := strings.Join(g.Instructions(a, "mongo", platform.Facts{
			platform.FactAddress("mongo-west-1a"):    "127.0.0.1:49153",
			platform.FactMemberHost("mongo-west-1a"): "mongo-west-1a:27017",
			platform.FactSurvivors("mongo"):          "mongo-west-1a:27017",
			platform.FactReplicaSet("mongo"):         "ion-rs",
		}), "\n")
		Expect(lines).To(ContainSubstring(`mongosh "mongodb://127.0.0.1:49153/?directConnection=true"`))
		Expect(lines).To(ContainSubstring(`keep = ["mongo-west-1a:27017"]`))
		Expect(lines).To(ContainSubstring(`rs.reconfig(cfg, {force: true})`))
		Expect(lines).To(ContainSubstring("replica set ion-rs"))
		Expect(g.Done(a)).To(Equal(platform.DoneState{What: platform.DonePrimary, Member: "mongo-west-1a"}))
	})

	It("names the repository, the snapshot and the bucket in the restore requests, and shows a fact it could not tell as a placeholder", func() {
		g, _ := platform.Guide(platform.ActionLogsRestoreSnapshot)
		a := platform.Action{Action: platform.ActionLogsRestoreSnapshot, Params: map[string]string{"region": "us-west-1"}}
		lines := strings.Join(g.Instructions(a, "logs", platform.Facts{
			platform.FactRepository("logs"):            "chaosdrill",
			platform.FactSnapshot("logs", "us-west-1"): "snapshot-000007",
			platform.FactIndex("logs"):                 "chaosdrill-logs-events",
		}), "\n")
		Expect(lines).To(ContainSubstring(`/_snapshot/chaosdrill/snapshot-000007/_restore`))
		Expect(lines).To(ContainSubstring(`"indices":"chaosdrill-logs-events"`))
		Expect(lines).To(ContainSubstring(`"bucket":"<bucket:logs:us-west-1>"`), "an unknown fact is shown, never left empty")
	})
})

var _ = Describe("Distribution.CDF", func() {
	It("puts a log-normal's median at 0.5 and its tail percentile at its quantile", func() {
		d := platform.Distribution{Shape: platform.ShapeLogNormal, Duration: true, Median: float64(2 * time.Minute), Tail: float64(6 * time.Minute), TailQuantile: 0.9}
		Expect(d.CDF(float64(2 * time.Minute))).To(BeNumerically("~", 0.5, 1e-9))
		Expect(d.CDF(float64(6 * time.Minute))).To(BeNumerically("~", 0.9, 1e-9))
		Expect(d.CDF(0)).To(BeZero())
	})
	It("is linear across a uniform and a step at a fixed value", func() {
		u := platform.Distribution{Shape: platform.ShapeUniform, Min: 60, Max: 300}
		Expect(u.CDF(120)).To(BeNumerically("~", 0.25, 1e-12))
		Expect(u.CDF(500)).To(Equal(1.0))
		f := platform.Distribution{Shape: platform.ShapeFixed, Value: 30}
		Expect(f.CDF(29)).To(BeZero())
		Expect(f.CDF(30)).To(Equal(1.0))
	})
})
