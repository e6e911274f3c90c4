package simulator

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// The read path of the Mongo model (issue 9, item 5): which member serves a
// read, what it returns, and when it fails.

// readRecord is what a reader reported about one read.
type readRecord struct {
	outcome platform.Outcome
	value   uint64
	member  string
	at      time.Duration
}

// readRecorder collects read outcomes; each read completes once.
type readRecorder struct {
	reads  map[uint64]readRecord
	issued map[uint64]time.Duration
}

func (r *readRecorder) ReadCompleted(read uint64, o platform.Outcome, value uint64, member string, at time.Duration) {
	if _, dup := r.reads[read]; dup {
		panic("read completed twice")
	}
	r.reads[read] = readRecord{o, value, member, at}
}

// readerLoop issues one read every interval from now until stop.
type readerLoop struct {
	s        *Sim
	reader   platform.Reader
	rec      *readRecorder
	next     uint64
	interval time.Duration
	stop     time.Duration
}

func (l *readerLoop) Fire(now time.Duration) {
	if now >= l.stop {
		return
	}
	l.rec.issued[l.next] = now
	l.reader.Read(l.next)
	l.next++
	l.s.At(now+l.interval, l)
}

// readEvery starts a read workload on mongo with cfg's settings.
func readEvery(s *Sim, cfg platform.ReadConfig, interval, stop time.Duration) *readRecorder {
	rec := &readRecorder{reads: map[uint64]readRecord{}, issued: map[uint64]time.Duration{}}
	cfg.Service = "mongo"
	reader, err := s.Reader(cfg, rec)
	mongoMust(err)
	s.At(s.Now(), &readerLoop{s: s, reader: reader, rec: rec, interval: interval, stop: stop})
	return rec
}

// servedBy counts the reads each member answered among those issued in
// [from, to).
func servedBy(rec *readRecorder, from, to time.Duration) map[string]int {
	out := map[string]int{}
	for id, r := range rec.reads {
		if at := rec.issued[id]; at >= from && at < to && r.outcome == platform.Acked {
			out[r.member]++
		}
	}
	return out
}

var _ = Describe("mongo reads", func() {
	const (
		interval = 5 * time.Millisecond
		readEach = 10 * time.Millisecond
	)

	It("never reads the hidden west member while the east is up, whatever the preference, and fails secondary reads when no visible secondary is left", func() {
		for _, pref := range []string{platform.ReadSecondary, platform.ReadSecondaryPreferred, platform.ReadNearest, platform.ReadPrimaryPreferred} {
			s, _ := mongoSim(1, "majority", nil)
			drive(s, "mongo", 0, interval, 2*time.Minute)
			rec := readEvery(s, platform.ReadConfig{Preference: pref}, readEach, 2*time.Minute)
			// The primary dies at 30 s: east-1b takes over, and west (hidden)
			// is the only secondary left.
			s.At(30*time.Second, platform.HandlerFunc(func(time.Duration) { mongoMust(s.Faults().Kill(mongoCtx, east1a)) }))
			mongoRunTo(s, 2*time.Minute+15*time.Second)

			Expect(rec.reads).To(HaveLen(len(rec.issued)), pref)
			Expect(servedBy(rec, 0, 2*time.Minute)).NotTo(HaveKey(west1a), pref)
			after := servedBy(rec, 45*time.Second, 2*time.Minute)
			failed := 0
			for id, r := range rec.reads {
				if rec.issued[id] >= 45*time.Second && r.outcome == platform.Failed {
					failed++
				}
			}
			if pref == platform.ReadSecondary {
				Expect(after).To(BeEmpty(), "no visible secondary: nothing to read from")
				Expect(failed).To(BeNumerically(">", 0))
			} else {
				Expect(after).To(Equal(map[string]int{east1b: after[east1b]}), pref)
				Expect(failed).To(BeZero(), pref)
			}
		}
	})

	It("reads the west member once the east is lost and an operator has promoted it (no longer hidden)", func() {
		s, _ := mongoSim(1, "majority", nil)
		drive(s, "mongo", 0, interval, 4*time.Minute)
		rec := readEvery(s, platform.ReadConfig{Preference: platform.ReadNearest}, readEach, 4*time.Minute)
		s.At(time.Minute, platform.HandlerFunc(func(time.Duration) {
			mongoMust(s.Faults().Kill(mongoCtx, east1a))
			mongoMust(s.Faults().Kill(mongoCtx, east1b))
		}))
		actions := newMongoActions()
		s.At(2*time.Minute, platform.HandlerFunc(func(time.Duration) {
			mongoMust(s.StartAction(mongoCtx, platform.Action{Name: "promote", Action: platform.ActionMongoForceReconfigure, Params: map[string]string{"promote": west1a}}, actions))
		}))
		mongoRunTo(s, 4*time.Minute+15*time.Second)

		Expect(actions.errs).To(HaveKeyWithValue("promote", BeNil()))
		// Reads that waited for a member through the outage are answered
		// by west once it is unhidden: count by when they were answered.
		for _, rd := range rec.reads {
			if rd.member == west1a {
				Expect(rd.at).To(BeNumerically(">", 2*time.Minute+defaultMongoSettings().forceReconfig))
			}
		}
		Expect(servedBy(rec, actions.done["promote"], 4*time.Minute)).To(Equal(map[string]int{west1a: servedBy(rec, actions.done["promote"], 4*time.Minute)[west1a]}))
	})

	It("serves dirty data from a cut-off w:1 primary with read concern local, but not with majority or linearizable", func() {
		type result struct{ rolledBack, fromCutOff, answeredByCutOff int }
		run := func(concern string) result {
			s, wrec := mongoSim(1, "1", nil)
			drive(s, "mongo", 0, interval, 3*time.Minute)
			rec := readEvery(s, platform.ReadConfig{Concern: concern}, readEach, 3*time.Minute)
			s.At(time.Minute, platform.HandlerFunc(func(time.Duration) {
				mongoMust(s.Faults().Partition(mongoCtx, []string{east1a}, []string{east1b, west1a}))
			}))
			s.At(2*time.Minute, platform.HandlerFunc(func(time.Duration) {
				mongoMust(s.Faults().Heal(mongoCtx, []string{east1a}, []string{east1b, west1a}))
			}))
			mongoRunTo(s, 3*time.Minute+15*time.Second)
			Expect(rec.reads).To(HaveLen(len(rec.issued)))

			lost := map[uint64]bool{}
			for _, id := range mongoLost(s, wrec) {
				lost[id] = true
			}
			Expect(lost).NotTo(BeEmpty(), "the cut-off primary's w:1 writes are rolled back")
			var r result
			for id, rd := range rec.reads {
				cut := rec.issued[id] >= time.Minute && rec.issued[id] < 2*time.Minute
				if rd.outcome == platform.Acked && lost[rd.value] {
					r.rolledBack++
					if cut && rd.member == east1a {
						r.fromCutOff++
					}
				}
				if cut && rd.member == east1a && rd.outcome == platform.Acked {
					r.answeredByCutOff++
				}
			}
			return r
		}

		local := run(platform.ReadConcernLocal)
		Expect(local.rolledBack).To(BeNumerically(">", 0))
		Expect(local.fromCutOff).To(Equal(local.rolledBack), "every dirty read came from the cut-off primary")
		majority := run(platform.ReadConcernMajority)
		Expect(majority.rolledBack).To(BeZero())
		Expect(majority.answeredByCutOff).To(BeNumerically(">", 0), "it still answers, with the commit point it had")
		linearizable := run(platform.ReadConcernLinearizable)
		Expect(linearizable.rolledBack).To(BeZero())
		Expect(linearizable.answeredByCutOff).To(BeZero(), "a majority never confirms it is primary")
	})

	It("fails the linearizable reads a cut-off primary holds when it steps down, and times out those issued earlier than the timeout", func() {
		s, wrec := mongoSim(1, "1", nil)
		drive(s, "mongo", 0, interval, 2*time.Minute)
		rec := readEvery(s, platform.ReadConfig{Concern: platform.ReadConcernLinearizable, Timeout: 5 * time.Second}, readEach, 2*time.Minute)
		s.At(30*time.Second, platform.HandlerFunc(func(time.Duration) {
			mongoMust(s.Faults().Partition(mongoCtx, []string{east1a}, []string{east1b, west1a}))
		}))
		mongoRunTo(s, 2*time.Minute+15*time.Second)

		lost := mongoEventsAfter(wrec, platform.EventPrimaryLost, 30*time.Second)
		Expect(lost).NotTo(BeEmpty())
		Expect(lost[0].Node).To(Equal(east1a))
		stepDown := lost[0].At
		// It steps down once it has heard from no majority for an election
		// timeout.
		Expect(stepDown - 30*time.Second).To(Equal(defaultMongoSettings().electionTimeout))
		killed, timedOut := 0, 0
		for id, rd := range rec.reads {
			issued := rec.issued[id]
			if issued < 30*time.Second || issued >= stepDown {
				continue
			}
			switch rd.outcome {
			case platform.Failed:
				killed++
				Expect(issued).To(BeNumerically(">", stepDown-5*time.Second))
				Expect(rd.at-stepDown).To(BeNumerically("<=", 2*time.Millisecond), "the error answer's trip back")
			case platform.Unknown:
				timedOut++
				Expect(rd.at - issued).To(Equal(5 * time.Second))
			default:
				Fail("a read the cut-off primary held was answered")
			}
		}
		Expect(killed).To(BeNumerically("~", 500, 2), "5 s of reads, one every 10 ms")
		Expect(timedOut).To(BeNumerically("~", 500, 2))
	})

	It("returns stale data from a secondary cut off from its primary; a paused one answers what waited once resumed, and times out the rest", func() {
		s, _ := mongoSim(1, "majority", nil)
		drive(s, "mongo", 0, interval, 2*time.Minute)
		rec := readEvery(s, platform.ReadConfig{Preference: platform.ReadSecondary}, readEach, 2*time.Minute)
		s.At(30*time.Second, platform.HandlerFunc(func(time.Duration) {
			mongoMust(s.Faults().Partition(mongoCtx, []string{east1b}, []string{east1a}))
		}))
		s.At(time.Minute, platform.HandlerFunc(func(time.Duration) {
			mongoMust(s.Faults().Heal(mongoCtx, []string{east1b}, []string{east1a}))
			mongoMust(s.Faults().Pause(mongoCtx, east1b))
		}))
		s.At(80*time.Second, platform.HandlerFunc(func(time.Duration) { mongoMust(s.Faults().Resume(mongoCtx, east1b)) }))
		mongoRunTo(s, 2*time.Minute+15*time.Second)

		// During the cut east-1b answers with the newest write it had at
		// the cut: one value, whatever the time.
		values := map[uint64]bool{}
		timedOut, answeredLate := 0, 0
		for id, rd := range rec.reads {
			issued := rec.issued[id]
			switch {
			case issued >= 31*time.Second && issued < time.Minute:
				Expect(rd.outcome).To(Equal(platform.Acked))
				values[rd.value] = true
			case issued > time.Minute && issued < 70*time.Second:
				// The 10 s timeout ends before the resume.
				Expect(rd.outcome).To(Equal(platform.Unknown))
				Expect(rd.at - issued).To(Equal(10 * time.Second))
				timedOut++
			case issued > 70*time.Second && issued < 80*time.Second:
				Expect(rd.outcome).To(Equal(platform.Acked))
				Expect(rd.at).To(BeNumerically("~", 80*time.Second, 2*time.Millisecond))
				answeredLate++
			}
		}
		Expect(values).To(HaveLen(1))
		Expect(timedOut).To(BeNumerically("~", 1000, 1))
		Expect(answeredLate).To(BeNumerically("~", 1000, 1))
	})

	It("returns ever staler data from a secondary whose replication lag grows (it applies writes slower than w:1 acknowledges them)", func() {
		// 6 ms to apply a write, one write every 5 ms: the secondary falls
		// behind by a second every 6 seconds.
		s, wrec := mongoSim(1, "1", map[string]string{"mongo.apply_cost_per_op": "6ms"})
		drive(s, "mongo", 0, interval, time.Minute)
		rec := readEvery(s, platform.ReadConfig{Preference: platform.ReadSecondary}, readEach, time.Minute)
		mongoRunTo(s, time.Minute+15*time.Second)

		// How far behind the writes acknowledged by its issue a read was,
		// in writes (op ids count writes issued every 5 ms from 0).
		behind := func(at time.Duration) uint64 {
			var newest uint64
			for op, o := range wrec.outcomes {
				if o == platform.Acked && wrec.completed[op] <= at {
					newest = max(newest, op)
				}
			}
			for id, rd := range rec.reads {
				if rec.issued[id] == at {
					Expect(rd.outcome).To(Equal(platform.Acked))
					Expect(rd.member).To(Equal(east1b))
					Expect(rd.value).To(BeNumerically("<", newest), "stale at %v", at)
					return newest - rd.value
				}
			}
			Fail("no read issued at " + at.String())
			return 0
		}
		early, late := behind(20*time.Second), behind(50*time.Second)
		Expect(early).To(BeNumerically(">", 100))
		Expect(late).To(BeNumerically(">", early+700), "30 s later, about 1,000 writes further behind")
	})

	It("keeps op ids growing along every branch of the oplog, which the read checker relies on", func() {
		s, _ := mongoSim(3, "1", nil)
		drive(s, "mongo", 0, interval, 3*time.Minute)
		s.At(time.Minute, platform.HandlerFunc(func(time.Duration) {
			mongoMust(s.Faults().Partition(mongoCtx, []string{east1a}, []string{east1b, west1a}))
		}))
		s.At(2*time.Minute, platform.HandlerFunc(func(time.Duration) {
			mongoMust(s.Faults().Heal(mongoCtx, []string{east1a}, []string{east1b, west1a}))
			mongoMust(s.Faults().Kill(mongoCtx, east1b))
		}))
		s.At(150*time.Second, platform.HandlerFunc(func(time.Duration) { mongoMust(s.Faults().Start(mongoCtx, east1b)) }))
		branches := map[*oplog]bool{}
		m := s.byService["mongo"].(*mongoModel)
		// Collect every branch any member held over the run.
		var sample platform.HandlerFunc
		sample = func(now time.Duration) {
			for _, x := range m.members {
				if x.log != nil {
					branches[x.log] = true
				}
			}
			if now < 3*time.Minute {
				s.At(now+100*time.Millisecond, sample)
			}
		}
		s.At(0, sample)
		mongoRunTo(s, 3*time.Minute+15*time.Second)

		Expect(len(branches)).To(BeNumerically(">=", 3))
		for l := range branches {
			ops := l.ops(l.len())
			for i := 1; i < len(ops); i++ {
				Expect(ops[i]).To(BeNumerically(">", ops[i-1]), "branch of term %d, entry %d", l.term, i)
			}
		}
	})
})
