package containers

import (
	"context"
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/adapters/mongo"
	"github.com/chaosdrill/chaosdrill/platform/adapters/s3"
)

var _ = Describe("full redundancy of a replica set", func() {
	member := func(name, state string, healthy bool) mongo.MemberStatus {
		return mongo.MemberStatus{Name: name, State: state, Healthy: healthy}
	}

	It("counts healthy, synced members against the three the topology declares", func() {
		all := mongo.ReplicaSetStatus{Primary: "a", Members: []mongo.MemberStatus{member("a", "PRIMARY", true), member("b", "SECONDARY", true), member("c", "SECONDARY", true)}}
		Expect(redundant(all, 3)).To(BeTrue())
	})

	It("is not back after the forced reconfiguration onto one survivor, though every member of that configuration is healthy", func() {
		forced := mongo.ReplicaSetStatus{Primary: "c", Members: []mongo.MemberStatus{member("c", "PRIMARY", true)}}
		Expect(redundant(forced, 3)).To(BeFalse())
	})

	It("is not back while a new member is still in its initial sync, and is once it is a secondary", func() {
		syncing := mongo.ReplicaSetStatus{Primary: "c", Members: []mongo.MemberStatus{member("c", "PRIMARY", true), member("d", "SECONDARY", true), member("e", "STARTUP2", true)}}
		Expect(redundant(syncing, 3)).To(BeFalse())
		syncing.Members[2].State = "SECONDARY"
		Expect(redundant(syncing, 3)).To(BeTrue())
	})

	It("does not count a member that is down", func() {
		st := mongo.ReplicaSetStatus{Primary: "a", Members: []mongo.MemberStatus{member("a", "PRIMARY", true), member("b", "SECONDARY", true), member("c", "(not reachable/healthy)", false)}}
		Expect(redundant(st, 3)).To(BeFalse())
	})
})

var _ = Describe("the periodic jobs", func() {
	ion := platform.Ion()
	artifacts, _ := ion.Service("artifacts")
	logs, _ := ion.Service("logs")
	p := &Platform{cfg: platform.Config{Topology: ion, Seed: 7}, jobs: newJobs()}

	It("start at the phase the simulator draws for the run's seed (platform.JobPhase), not on the whole minute", func() {
		const interval = time.Minute
		phases := map[time.Duration]bool{}
		for seed := range uint64(20) {
			live := &Platform{cfg: platform.Config{Topology: ion, Seed: seed}, jobs: newJobs()}
			sync := (&s3Service{p: live, spec: artifacts}).syncJob(interval)
			Expect(sync.phase).To(Equal(platform.JobPhase(seed, nil, interval, platform.SyncPhaseStream("artifacts"))))
			Expect(sync.phase).To(And(BeNumerically(">=", 0), BeNumerically("<", interval)))
			snapshots := (&elasticService{p: live, spec: logs}).snapshotJob(interval)
			Expect(snapshots.phase).To(Equal(platform.JobPhase(seed, nil, interval, platform.SnapshotPhaseStream("logs"))))
			Expect(snapshots.phase).NotTo(Equal(sync.phase), "each job has its own")
			phases[sync.phase] = true
		}
		Expect(len(phases)).To(BeNumerically(">", 15), "seeds spread the phase")
	})

	It("start at the topology's pinned sync_phase and snapshot_phase", func() {
		topo := platform.Ion()
		ten, forty := platform.Duration(10*time.Second), platform.Duration(40*time.Second)
		topo.Services[1].SnapshotPhase = &ten
		topo.Services[2].SyncPhase = &forty
		pinnedArtifacts, _ := topo.Service("artifacts")
		pinnedLogs, _ := topo.Service("logs")
		for seed := range uint64(3) {
			live := &Platform{cfg: platform.Config{Topology: topo, Seed: seed}, jobs: newJobs()}
			Expect((&s3Service{p: live, spec: pinnedArtifacts}).syncJob(time.Minute).phase).To(Equal(40 * time.Second))
			Expect((&elasticService{p: live, spec: pinnedLogs}).snapshotJob(time.Minute).phase).To(Equal(10 * time.Second))
		}
	})

	It("stop the sync at the fault instant of its region, cancelling the pass under way, and start again once the region is back", func() {
		j := newJobs()
		sync := (&s3Service{p: p, spec: artifacts}).syncJob(time.Minute)
		j.add(sync)
		passCtx, end, ok := j.begin(context.Background(), sync)
		Expect(ok).To(BeTrue())

		j.nodeDown("s3-us-east-1") // the region outage is issued

		Expect(passCtx.Err()).To(MatchError(context.Canceled), "the pass under way stops at once")
		end()
		_, _, ok = j.begin(context.Background(), sync)
		Expect(ok).To(BeFalse(), "no pass runs while the source endpoint is down")
		j.nodeUp("s3-us-east-1")
		_, end, ok = j.begin(context.Background(), sync)
		Expect(ok).To(BeTrue())
		end()
	})

	It("stop the sync when the regions are cut apart, since the copy stands for that link", func() {
		j := newJobs()
		sync := (&s3Service{p: p, spec: artifacts}).syncJob(time.Minute)
		j.add(sync)
		j.partition([]string{"s3-us-east-1", "mongo-east-1a"}, []string{"s3-us-west-1"}, true)
		_, _, ok := j.begin(context.Background(), sync)
		Expect(ok).To(BeFalse())
		j.partition([]string{"s3-us-east-1", "mongo-east-1a"}, []string{"s3-us-west-1"}, false)
		_, end, ok := j.begin(context.Background(), sync)
		Expect(ok).To(BeTrue())
		end()
	})

	It("keep snapshotting through the loss of one Elasticsearch node, and stop when the cluster or its bucket is gone", func() {
		j := newJobs()
		snapshots := (&elasticService{p: p, spec: logs}).snapshotJob(5 * time.Minute)
		j.add(snapshots)
		j.nodeDown("es-east-1c")
		_, end, ok := j.begin(context.Background(), snapshots)
		Expect(ok).To(BeTrue())
		end()
		j.nodeDown("s3-us-east-1")
		_, _, ok = j.begin(context.Background(), snapshots)
		Expect(ok).To(BeFalse())
		j.nodeUp("s3-us-east-1")
		for _, n := range []string{"es-east-1a", "es-east-1b", "es-east-1d"} {
			j.nodeDown(n)
		}
		_, _, ok = j.begin(context.Background(), snapshots)
		Expect(ok).To(BeFalse())
	})
})

var _ = Describe("reading back after a recovery step failed", func() {
	It("fails at once, naming the S3 endpoint and region the clients still use", func(ctx SpecContext) {
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		gone := listener.Addr().String()
		Expect(listener.Close()).To(Succeed()) // the lost region's LocalStack
		client, err := s3.New(ctx, "run", s3.Options{Endpoint: "http://" + gone, Region: "us-east-1", Bucket: "artifacts-artifacts-us-east-1", AccessKey: "test", SecretKey: "test"})
		Expect(err).NotTo(HaveOccurred())
		artifacts, _ := platform.Ion().Service("artifacts")
		s := &s3Service{spec: artifacts, artifacts: map[string]*s3.Client{"us-east-1": client}, active: "us-east-1"}

		began := time.Now()
		err = s.readBack(ctx, []uint64{1, 2}, make([]bool, 2))

		Expect(err).To(MatchError(And(ContainSubstring("read back artifacts"), ContainSubstring("s3-us-east-1 in us-east-1"), ContainSubstring("does not answer"))))
		Expect(time.Since(began)).To(BeNumerically("<", readBackCheckTimeout), "it does not wait out a timeout")
	})

	It("fails at once when the replica set has no member to answer, instead of waiting out server selection on every batch", func(ctx SpecContext) {
		ion := platform.Ion()
		spec, _ := ion.Service("mongo")
		p := &Platform{cfg: platform.Config{RunID: "run", Topology: ion}, aliases: map[string]string{}}
		for _, n := range ion.Nodes() {
			p.aliases[dockerAlias(n.Name)] = n.Name
		}
		m := newMongoService(p, spec)
		DeferCleanup(func(ctx SpecContext) { m.close(ctx) })
		w := &mongoWorkload{m: m}

		began := time.Now()
		err := w.readBack(ctx, []uint64{1}, make([]bool, 1))

		Expect(err).To(MatchError(And(ContainSubstring("read back mongo"), ContainSubstring("cannot be verified"))))
		Expect(time.Since(began)).To(BeNumerically("<", readBackCheckTimeout))
	})
})

var _ = Describe("logs.restore-snapshot's parameters on the live platform", func() {
	ion := platform.Ion()
	logs, _ := ion.Service("logs")
	p := &Platform{cfg: platform.Config{Topology: ion}}
	p.elastics = map[string]*elasticService{"logs": {p: p, spec: logs}}
	act := func(params map[string]string) error {
		_, err := p.action(platform.Action{Name: "restore", Action: platform.ActionLogsRestoreSnapshot, Params: params})
		return err
	}

	It("takes partial as a boolean, as the simulator does, and refuses anything else before the step starts", func() {
		Expect(act(map[string]string{"region": "us-west-1", "partial": "true"})).To(Succeed())
		Expect(act(map[string]string{"region": "us-west-1", "partial": "false"})).To(Succeed())
		Expect(act(map[string]string{"region": "us-west-1", "partial": "sometimes"})).To(MatchError(ContainSubstring(`partial "sometimes": want true or false`)))
	})
})
