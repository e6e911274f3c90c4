package reports_test

import (
	"bytes"
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

const (
	spacing = 100 * time.Millisecond
	latency = 5 * time.Millisecond
)

var _ = Describe("Build", func() {
	var (
		ledger *reports.Ledger
		run    *reports.Run
	)

	BeforeEach(func() {
		ledger = &reports.Ledger{}
		run = &reports.Run{Scenario: "drill", Platform: "sim", Seed: 7, Duration: 30 * time.Second, Ledger: ledger}
	})

	faultAt := func(at time.Duration, nodes ...string) reports.FaultRecord {
		return reports.FaultRecord{Name: "kill", Kind: scenarios.FaultKill, Target: "node:x", Nodes: nodes, Injected: true, At: at}
	}

	Context("without a fault", func() {
		It("reports RTO 0 and RPO 0", func() {
			writeSteadily(ledger, "mongo", 0, 30*time.Second, spacing, ackedFor(latency))

			s := reports.Build(run).Services["mongo"]

			Expect(s.Acked).To(BeNumerically("==", 300))
			Expect(s.Lost).To(BeZero())
			Expect(s.RTO).To(HaveValue(BeZero()))
			Expect(s.RPO).To(BeZero())
			Expect(s.FaultAt).To(BeNil())
		})
	})

	Context("when a cut-off primary acknowledges writes that are later rolled back", func() {
		BeforeEach(func() {
			run.Faults = []reports.FaultRecord{faultAt(10 * time.Second)}
			writeSteadily(ledger, "mongo", 0, 30*time.Second, spacing, func(at time.Duration) outcome {
				switch {
				case at >= 10*time.Second && at < 12*time.Second:
					return outcome{platform.Acked, false, latency} // acked, rolled back
				case at >= 12*time.Second && at < 20*time.Second:
					return outcome{platform.Failed, false, latency}
				}
				return outcome{platform.Acked, true, latency}
			})
		})

		It("starts the outage at the first lost acknowledgement and ends it at the first write that survived", func() {
			s := reports.Build(run).Services["mongo"]

			Expect(s.OutageStart).To(HaveValue(BeNumerically("==", 10)))
			Expect(s.RTO).To(HaveValue(BeNumerically(">=", 10)))
			Expect(s.RTO).To(HaveValue(BeNumerically("<=", (10*time.Second + spacing + latency).Seconds())))
			Expect(s.LostAfterFault).To(Equal(s.Lost))
		})
	})

	Context("with an outage from 10s to 20s after a fault at 10s", func() {
		BeforeEach(func() {
			run.Faults = []reports.FaultRecord{faultAt(10 * time.Second)}
			writeSteadily(ledger, "mongo", 0, 30*time.Second, spacing, func(at time.Duration) outcome {
				if at >= 10*time.Second && at < 20*time.Second {
					return outcome{platform.Unknown, false, 2 * time.Second}
				}
				return outcome{platform.Acked, true, latency}
			})
		})

		It("measures RTO as 10s, within one write spacing", func() {
			s := reports.Build(run).Services["mongo"]

			Expect(s.OutageStart).To(HaveValue(BeNumerically("==", 10)))
			Expect(s.RTO).To(HaveValue(BeNumerically(">=", 10)))
			Expect(s.RTO).To(HaveValue(BeNumerically("<=", (10*time.Second + spacing + latency).Seconds())))
			Expect(s.RPO).To(BeZero())
			Expect(s.Unknown).To(BeNumerically("==", 100))
		})

	})

	It("does not count an outage that ended before the fault", func() {
		run.Faults = []reports.FaultRecord{faultAt(10 * time.Second)}
		writeSteadily(ledger, "mongo", 0, 30*time.Second, spacing, func(at time.Duration) outcome {
			switch {
			case at >= 5*time.Second && at < 7*time.Second:
				return outcome{platform.Failed, false, latency}
			case at >= 10*time.Second && at < 11*time.Second:
				return outcome{platform.Unknown, false, 2 * time.Second}
			}
			return outcome{platform.Acked, true, latency}
		})

		s := reports.Build(run).Services["mongo"]

		Expect(s.OutageStart).To(HaveValue(BeNumerically("==", 10)))
		Expect(s.RTO).To(HaveValue(BeNumerically("~", (time.Second + latency).Seconds(), 1e-6)))
		Expect(s.Failed).To(BeNumerically("==", 20))
		Expect(s.OutageWindowsTotal).To(BeNumerically("==", 2))
	})

	Context("when the service never recovers", func() {
		BeforeEach(func() {
			run.Faults = []reports.FaultRecord{faultAt(10 * time.Second)}
			writeSteadily(ledger, "mongo", 0, 30*time.Second, spacing, func(at time.Duration) outcome {
				if at >= 10*time.Second {
					return outcome{platform.Failed, false, latency}
				}
				return outcome{platform.Acked, true, latency}
			})
		})

		It("reports a null RTO, written as null in JSON", func() {
			r := reports.Build(run)
			Expect(r.Services["mongo"].RTO).To(BeNil())

			var buf bytes.Buffer
			Expect(reports.WriteJSON(&buf, r)).To(Succeed())
			var doc struct {
				Services map[string]map[string]json.RawMessage `json:"services"`
			}
			Expect(json.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
			Expect(string(doc.Services["mongo"]["rto_seconds"])).To(Equal("null"))
		})

		It("fails rto_max and recovers, and passes rto_min", func() {
			run.Expect = []scenarios.Expectation{{
				Service: "mongo", RTOMax: pd(time.Minute), RTOMin: pd(5 * time.Second), Recovers: boolPointer(true),
			}}

			r := reports.Build(run)

			Expect(r.Expectations).To(HaveLen(3))
			Expect(r.Expectations[0]).To(Equal(reports.ExpectationResult{Name: "mongo: rto <= 1m0s", Service: "mongo", Result: "fail", Pass: false, Observed: "never recovered"}))
			Expect(r.Expectations[1].Pass).To(BeTrue())
			Expect(r.Expectations[2]).To(Equal(reports.ExpectationResult{Name: "mongo: recovers", Service: "mongo", Result: "fail", Pass: false, Observed: "never recovered"}))
			Expect(r.Passed()).To(BeFalse())
			Expect(r.Verdict).To(Equal("fail"))
		})

		It("counts writes still pending at the end as unknown", func() {
			ledger.Invoke(0, 29*time.Second+50*time.Millisecond)

			s := reports.Build(run).Services["mongo"]

			Expect(s.Unknown).To(BeNumerically("==", 1))
			Expect(s.Failed).To(BeNumerically("==", 200))
		})
	})

	Context("with lost writes", func() {
		BeforeEach(func() {
			run.Faults = []reports.FaultRecord{faultAt(10 * time.Second)}
			// Writes acknowledged from 8.5s on never reached the survivors.
			writeSteadily(ledger, "mongo", 0, 10*time.Second, spacing, func(at time.Duration) outcome {
				return outcome{platform.Acked, at < 8500*time.Millisecond, latency}
			})
		})

		It("reports RPO as the fault time minus the ack time of the oldest lost write", func() {
			s := reports.Build(run).Services["mongo"]

			Expect(s.Lost).To(BeNumerically("==", 15))
			Expect(s.RPO).To(BeNumerically("==", (1500*time.Millisecond - latency).Seconds()))
			Expect(s.LostWrites[0]).To(Equal(reports.LostWrite{Op: 85, AckedAt: 8.505}))
			Expect(s.LostAfterFault).To(BeZero())
		})

		It("counts lost writes acknowledged after the fault apart, and widens the RPO to the whole span of lost data", func() {
			writeSteadily(ledger, "mongo", 10*time.Second, 11*time.Second, spacing, func(time.Duration) outcome {
				return outcome{platform.Acked, false, latency}
			})

			s := reports.Build(run).Services["mongo"]

			Expect(s.Lost).To(BeNumerically("==", 25))
			Expect(s.LostAfterFault).To(BeNumerically("==", 10))
			// From the oldest lost ack (8.5s) to the newest (one spacing
			// before 11s), both with the same latency.
			Expect(s.RPO).To(BeNumerically("~", (2500*time.Millisecond - spacing).Seconds(), 1e-6))
		})

		It("lists the first 100 lost writes and counts them all", func() {
			writeSteadily(ledger, "mongo", 10*time.Second, 30*time.Second, spacing, func(time.Duration) outcome {
				return outcome{platform.Acked, false, latency}
			})

			s := reports.Build(run).Services["mongo"]

			Expect(s.Lost).To(BeNumerically("==", 215))
			Expect(s.LostWrites).To(HaveLen(100))
			Expect(s.LostWrites[99].Op).To(BeNumerically("==", 184))
		})

		It("fails lost_writes_max and passes lost_writes_min and rpo_max that hold", func() {
			run.Expect = []scenarios.Expectation{
				{Service: "mongo", LostWrites: intPointer(0), MinLost: intPointer(1), RPOMax: pd(2 * time.Second)},
			}

			r := reports.Build(run)

			Expect(r.Expectations).To(Equal([]reports.ExpectationResult{
				{Name: "mongo: lost writes <= 0", Service: "mongo", Result: "fail", Pass: false, Observed: "15 lost writes"},
				{Name: "mongo: lost writes >= 1", Service: "mongo", Result: "pass", Pass: true, Observed: "15 lost writes"},
				{Name: "mongo: rpo <= 2s", Service: "mongo", Result: "pass", Pass: true, Observed: "rpo 1.495s"},
			}))
			Expect(r.Passed()).To(BeFalse())
		})
	})

	It("counts unknown writes found on read-back apart from lost ones", func() {
		run.Faults = []reports.FaultRecord{faultAt(10 * time.Second)}
		writeSteadily(ledger, "mongo", 0, 20*time.Second, spacing, func(at time.Duration) outcome {
			if at >= 10*time.Second && at < 11*time.Second {
				return outcome{platform.Unknown, at < 10500*time.Millisecond, 10 * time.Second}
			}
			return outcome{platform.Acked, true, latency}
		})

		s := reports.Build(run).Services["mongo"]

		Expect(s.Unknown).To(BeNumerically("==", 10))
		Expect(s.UnknownPresent).To(BeNumerically("==", 5))
		Expect(s.Lost).To(BeZero())
		Expect(s.RPO).To(BeZero())
	})

	It("measures each service from the first fault that hit its own nodes", func() {
		run.Topology = &platform.Topology{
			Name:    "two",
			Regions: []platform.Region{{Name: "east", Zones: []string{"east-a"}}},
			Services: []platform.ServiceSpec{
				{Name: "app", Kind: platform.KindMongo, Members: []platform.MongoMember{{Name: "m1", Zone: "east-a", Priority: 1}}},
				{Name: "logs", Kind: platform.KindElastic, Nodes: []platform.NodePlacement{{Name: "es1", Zone: "east-a"}}},
			},
		}
		run.Faults = []reports.FaultRecord{faultAt(10*time.Second, "m1"), faultAt(20*time.Second, "es1")}
		writeSteadily(ledger, "app", 0, 30*time.Second, spacing, ackedFor(latency))
		writeSteadily(ledger, "logs", 0, 30*time.Second, spacing, func(at time.Duration) outcome {
			if at >= 20*time.Second && at < 25*time.Second {
				return outcome{platform.Failed, false, latency}
			}
			return outcome{platform.Acked, true, latency}
		})

		r := reports.Build(run)

		Expect(r.Services["app"].FaultAt).To(HaveValue(BeNumerically("==", 10)))
		Expect(r.Services["app"].RTO).To(HaveValue(BeZero()))
		Expect(r.Services["logs"].FaultAt).To(HaveValue(BeNumerically("==", 20)))
		Expect(r.Services["logs"].RTO).To(HaveValue(BeNumerically("==", 5.005)))
		Expect(r.Topology.Nodes).To(HaveLen(2))
	})

	It("reads redundancy, sync age and replication lag from the events", func() {
		run.Faults = []reports.FaultRecord{faultAt(10 * time.Second)}
		writeSteadily(ledger, "mongo", 0, 30*time.Second, spacing, ackedFor(latency))
		writeSteadily(ledger, "artifacts", 0, 30*time.Second, spacing, ackedFor(latency))
		run.Events = []platform.Event{
			{At: 3 * time.Second, Service: "artifacts", What: platform.EventSyncCompleted, Detail: "west"},
			{At: 6 * time.Second, Service: "artifacts", What: platform.EventSyncCompleted, Detail: "west"},
			{At: 12 * time.Second, Service: "artifacts", What: platform.EventSyncCompleted, Detail: "west"},
			{At: 5 * time.Second, Service: "mongo", What: platform.EventRedundancyRestored},
			{At: 10 * time.Second, Service: "mongo", What: platform.EventReplicationLag, Node: "west", Detail: "1.5s"},
			{At: 10 * time.Second, Service: "mongo", What: platform.EventReplicationLag, Node: "east-b", Detail: "2ms"},
			{At: 25 * time.Second, Service: "mongo", What: platform.EventReplicationLag, Node: "west", Detail: "9s"},
			{At: 25 * time.Second, Service: "mongo", What: platform.EventRedundancyRestored},
			{At: 28 * time.Second, Service: "mongo", What: platform.EventRedundancyRestored},
		}

		r := reports.Build(run)

		mongo, artifacts := r.Services["mongo"], r.Services["artifacts"]
		Expect(mongo.Redundancy).To(HaveValue(BeNumerically("==", 15)))
		Expect(mongo.ReplicationLag).To(Equal(map[string]float64{"west": 1.5, "east-b": 0.002}))
		Expect(mongo.LastSyncAge).To(BeNil())
		Expect(artifacts.LastSyncAge).To(HaveValue(BeNumerically("==", 4)))
		Expect(artifacts.Redundancy).To(BeNil())
		Expect(artifacts.ReplicationLag).To(BeEmpty())
	})

	It("gives latency percentiles of acknowledged writes within 0.1% and the exact maximum", func() {
		s := ledger.ServiceIndex("mongo")
		for i := 1; i <= 1000; i++ {
			id := ledger.Invoke(s, time.Duration(i)*time.Millisecond)
			ledger.Complete(id, platform.Acked, time.Duration(i)*time.Millisecond+time.Duration(i)*100*time.Microsecond)
			ledger.SetPresent(uint64(id), true)
		}
		failed := ledger.Invoke(s, 2*time.Second)
		ledger.Complete(failed, platform.Failed, 20*time.Second)

		l := reports.Build(run).Services["mongo"].WriteLatency

		Expect(l.P50).To(BeNumerically("~", 50, 0.05))
		Expect(l.P90).To(BeNumerically("~", 90, 0.09))
		Expect(l.P99).To(BeNumerically("~", 99, 0.099))
		Expect(l.Max).To(Equal(100.0))
	})

	Describe("expectations", func() {
		BeforeEach(func() {
			run.Faults = []reports.FaultRecord{faultAt(10 * time.Second)}
			writeSteadily(ledger, "mongo", 0, 30*time.Second, spacing, func(at time.Duration) outcome {
				if at >= 10*time.Second && at < 20*time.Second {
					return outcome{platform.Failed, false, latency}
				}
				return outcome{platform.Acked, true, latency}
			})
		})

		It("passes the verdict when every bound holds", func() {
			run.Expect = []scenarios.Expectation{{
				Service: "mongo", LostWrites: intPointer(0), RTOMax: pd(11 * time.Second), RTOMin: pd(9 * time.Second),
				RPOMax: pd(0), Recovers: boolPointer(true),
			}}

			r := reports.Build(run)

			Expect(r.Expectations).To(HaveLen(5))
			for _, e := range r.Expectations {
				Expect(e.Pass).To(BeTrue(), e.Name)
			}
			Expect(r.Expectations[1].Observed).To(Equal("rto 10.005s"))
			Expect(r.Passed()).To(BeTrue())
			Expect(r.Verdict).To(Equal("pass"))
		})

		It("fails the verdict when one bound is missed", func() {
			run.Expect = []scenarios.Expectation{{Service: "mongo", LostWrites: intPointer(0), RTOMax: pd(5 * time.Second)}}

			r := reports.Build(run)

			Expect(r.Expectations[0].Pass).To(BeTrue())
			Expect(r.Expectations[1]).To(Equal(reports.ExpectationResult{Name: "mongo: rto <= 5s", Service: "mongo", Result: "fail", Pass: false, Observed: "rto 10.005s"}))
			Expect(r.Passed()).To(BeFalse())
		})

		It("fails a bound on a service that issued no writes", func() {
			run.Expect = []scenarios.Expectation{{Service: "logs", LostWrites: intPointer(0)}}

			r := reports.Build(run)

			Expect(r.Expectations[0].Pass).To(BeFalse())
			Expect(r.Expectations[0].Observed).To(Equal("no writes recorded for the service"))
		})

		It("passes a run without expectations", func() {
			Expect(reports.Build(run).Passed()).To(BeTrue())
		})
	})
})
