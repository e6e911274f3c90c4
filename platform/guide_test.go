package platform_test

import (
	"fmt"
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

var _ = Describe("the rehearsal guide of the artifact and role actions", func() {
	// The facts a platform gives for the ion topology's artifacts service,
	// with addresses as a live run maps them.
	ionFacts := func() platform.Facts {
		t := platform.Ion()
		spec, _ := t.Service("artifacts")
		f := platform.Facts{}
		platform.ArtifactFacts(f, t, spec, "roles/")
		for i, region := range []string{"us-east-1", "us-west-1"} {
			f[platform.FactBucket("artifacts", region)] = "artifacts-artifacts-" + region
			f[platform.FactEndpoint("artifacts", region)] = fmt.Sprintf("http://127.0.0.1:4900%d", i)
		}
		for i, node := range []string{"es-east-1a", "es-east-1b", "es-east-1c", "es-east-1d"} {
			f[platform.FactAddress(node)] = fmt.Sprintf("127.0.0.1:4920%d", i)
		}
		f[platform.FactRebuildStandIn("artifacts")] = "a wait of roles.converge_duration"
		f[platform.FactUpgradeStandIn("artifacts")] = "a restart of each container"
		f[platform.FactHealthTimeout("artifacts")] = "600s"
		return f
	}
	// indexOf is the first line holding text, from line from on.
	indexOf := func(lines []string, from int, text string) int {
		GinkgoHelper()
		for i := from; i < len(lines); i++ {
			if strings.Contains(lines[i], text) {
				return i
			}
		}
		Fail(fmt.Sprintf("no line from %d holds %q in:\n%s", from, text, strings.Join(lines, "\n")))
		return -1
	}

	It("publishes with an S3 PUT into the primary region's bucket by default, and sees it done when that bucket holds the version", func() {
		g, _ := platform.Guide(platform.ActionArtifactsPublish)
		a := platform.Action{Action: platform.ActionArtifactsPublish, Params: map[string]string{"key": "elasticsearch", "version": "2"}}
		lines := strings.Join(g.Instructions(a, "artifacts", ionFacts()), "\n")
		Expect(lines).To(ContainSubstring("printf '%s' '2' > elasticsearch.jar"), "the stand-in file holds the version a rebuild reads back")
		Expect(lines).To(ContainSubstring("aws s3api put-object --bucket artifacts-artifacts-us-east-1 --key roles/elasticsearch --body elasticsearch.jar --endpoint-url http://127.0.0.1:49000"))
		Expect(g.Done(a)).To(Equal(platform.DoneState{What: platform.DoneArtifactIn, Key: "elasticsearch", Value: "2"}))
		Expect(g.Goal(a)).To(Equal("the primary region's bucket holds elasticsearch at version 2"))

		del, _ := platform.Guide(platform.ActionArtifactsDelete)
		d := platform.Action{Action: platform.ActionArtifactsDelete, Params: map[string]string{"key": "chef-configuration", "region": "us-west-1"}}
		Expect(strings.Join(del.Instructions(d, "artifacts", ionFacts()), "\n")).To(ContainSubstring(
			"aws s3api delete-object --bucket artifacts-artifacts-us-west-1 --key roles/chef-configuration --endpoint-url http://127.0.0.1:49001"))
		Expect(del.Done(d)).To(Equal(platform.DoneState{What: platform.DoneArtifactGone, Region: "us-west-1", Key: "chef-configuration"}))
	})

	It("rebuilds a role with the S3 GETs of its keys from that region's bucket, then the recipe run, and says what the harness does instead of Chef", func() {
		g, _ := platform.Guide(platform.ActionRolesRebuild)
		a := platform.Action{Action: platform.ActionRolesRebuild, Params: map[string]string{"role": "elasticsearch", "region": "us-west-1"}}
		lines := g.Instructions(a, "artifacts", ionFacts())
		getJar := indexOf(lines, 0, "aws s3api get-object --bucket artifacts-artifacts-us-west-1 --key roles/elasticsearch elasticsearch.jar --endpoint-url http://127.0.0.1:49001")
		getRecipe := indexOf(lines, 0, "aws s3api get-object --bucket artifacts-artifacts-us-west-1 --key roles/chef-configuration chef-recipe.config --endpoint-url http://127.0.0.1:49001")
		chef := indexOf(lines, 0, "chef-client --local-mode --override-runlist 'role[elasticsearch]'")
		Expect(chef).To(BeNumerically(">", max(getJar, getRecipe)), "the recipes run on what was fetched")
		indexOf(lines, chef, "its stand-in for this rebuild: a wait of roles.converge_duration")
		Expect(strings.Join(lines, "\n")).NotTo(ContainSubstring("ion-console"), "only the role's own keys")
		Expect(g.Done(a)).To(Equal(platform.DoneState{What: platform.DoneRoleBuilt, Role: "elasticsearch", Region: "us-west-1"}))
	})

	It("upgrades a role by publishing, then node by node in order, with the health check before the next node", func() {
		g, _ := platform.Guide(platform.ActionRolesUpgrade)
		a := platform.Action{Action: platform.ActionRolesUpgrade, Params: map[string]string{"role": "elasticsearch", "key": "elasticsearch", "version": "2"}}
		lines := g.Instructions(a, "artifacts", ionFacts())
		at := indexOf(lines, 0, "aws s3api put-object --bucket artifacts-artifacts-us-east-1 --key roles/elasticsearch")
		for i, node := range []string{"es-east-1a", "es-east-1b", "es-east-1c", "es-east-1d"} {
			other := fmt.Sprintf("127.0.0.1:4920%d", (i+1)%4)
			at = indexOf(lines, at, node+" (at 127.0.0.1:4920")
			at = indexOf(lines, at, `curl -X PUT "http://`+other+`/_cluster/settings"`)
			Expect(lines[at]).To(ContainSubstring(`"cluster.routing.allocation.enable":"primaries"`), node)
			at = indexOf(lines, at, "stop Elasticsearch on "+node)
			at = indexOf(lines, at, "aws s3api get-object --bucket artifacts-artifacts-us-east-1 --key roles/elasticsearch elasticsearch.jar")
			at = indexOf(lines, at, "chef-client --local-mode --override-runlist 'role[elasticsearch]'")
			at = indexOf(lines, at, `"cluster.routing.allocation.enable":null`)
			at = indexOf(lines, at, `curl "http://`+other+`/_cluster/health?wait_for_status=green&wait_for_nodes=4&timeout=600s"`)
		}
		indexOf(lines, at, "its stand-in for each node's recipe run: a restart of each container")
		Expect(g.Done(a)).To(Equal(platform.DoneState{What: platform.DoneRoleUpgraded, Role: "elasticsearch", Key: "elasticsearch", Value: "2"}))
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
