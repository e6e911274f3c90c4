package reports_test

import (
	"bytes"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// Issue 7.5: "how far behind was the standby" is measured at the fault,
// against the primary of that moment; a member that was primary then has
// no lag, and a member with no sample near the fault is named as such.
var _ = Describe("replication lag at the fault", func() {
	It("takes the samples at the fault, not the ones at the heal against the new primary, and names the members without one", func() {
		ledger := &reports.Ledger{}
		writeSteadily(ledger, "mongo", 0, 3*time.Minute, spacing, ackedFor(latency))
		const fault, heal = time.Minute, 2 * time.Minute
		run := &reports.Run{Scenario: "mongo-primary-kill", Platform: "sim", Duration: 3 * time.Minute, Ledger: ledger,
			Topology: platform.Ion(),
			Faults:   []reports.FaultRecord{{Name: "kill-primary", Kind: scenarios.FaultKill, Target: "role:mongo:primary", Nodes: []string{"mongo-east-1a"}, At: fault, Injected: true}},
			Events: []platform.Event{
				// At the fault, against east-1a, the primary then. The
				// west standby was down, so it has no sample.
				{At: fault, Service: "mongo", What: platform.EventReplicationLag, Node: "mongo-east-1a", Detail: "0s"},
				{At: fault, Service: "mongo", What: platform.EventReplicationLag, Node: "mongo-east-1b", Detail: "2ms"},
				// At the heal, against east-1b, the primary by then.
				{At: heal, Service: "mongo", What: platform.EventReplicationLag, Node: "mongo-east-1a", Detail: "1m0s"},
				{At: heal, Service: "mongo", What: platform.EventReplicationLag, Node: "mongo-west-1a", Detail: "1m0.03s"},
			},
		}

		r := reports.Build(run)

		mongo := r.Services["mongo"]
		Expect(mongo.ReplicationLag).To(Equal(map[string]float64{"mongo-east-1a": 0, "mongo-east-1b": 0.002}))
		Expect(mongo.ReplicationLagUnmeasured).To(Equal([]string{"mongo-west-1a"}))
		var md bytes.Buffer
		Expect(reports.WriteMarkdown(&md, r)).To(Succeed())
		Expect(md.String()).To(ContainSubstring("no lag was measured at the fault for mongo-west-1a"))
	})

	It("takes a sample measured just after the fault by a platform that measures once it is in", func() {
		ledger := &reports.Ledger{}
		writeSteadily(ledger, "mongo", 0, time.Minute, spacing, ackedFor(latency))
		run := &reports.Run{Duration: time.Minute, Ledger: ledger, Topology: platform.Ion(),
			Faults: []reports.FaultRecord{{Name: "f", Kind: scenarios.FaultKill, Target: "node:mongo-east-1b", Nodes: []string{"mongo-east-1b"}, At: 10 * time.Second, Injected: true}},
			Events: []platform.Event{
				{At: 10*time.Second + 300*time.Millisecond, Service: "mongo", What: platform.EventReplicationLag, Node: "mongo-west-1a", Detail: "40ms"},
				{At: 40 * time.Second, Service: "mongo", What: platform.EventReplicationLag, Node: "mongo-east-1b", Detail: "30s"},
			},
		}
		mongo := reports.Build(run).Services["mongo"]
		Expect(mongo.ReplicationLag).To(Equal(map[string]float64{"mongo-west-1a": 0.04}))
		Expect(mongo.ReplicationLagUnmeasured).To(ConsistOf("mongo-east-1a", "mongo-east-1b"))
	})
})
