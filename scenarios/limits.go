package scenarios

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Limits on what a scenario file may be and ask for. A file over one is bad
// input (exit 2) that names the field and the limit, so that work which
// cannot fit in memory or time is refused before anything runs. Where a
// limit is the modelled system's own, its source is given; the others are
// chaosdrill's, said plainly.
const (
	// MaxFileBytes is the largest scenario file read (1 MiB); the library's
	// largest is under 5 KB.
	MaxFileBytes = 1 << 20
	// MaxValues bounds the YAML values decoded from one file, an alias
	// counted again each time it is used: a few hundred bytes of aliases
	// to a wide list must not expand into millions of values. It admits
	// MaxTriggers faults or steps of a dozen values each (a plain fault
	// has about six), so the section limits are the ones a file meets.
	MaxValues = 250_000
	// MaxProblems is how many problems of one file are listed; the rest are
	// counted in a last line.
	MaxProblems = 100

	// MaxDuration is the longest scenario, and the longest duration any
	// field of a file may hold (chaosdrill's limit: a week). Every sum of
	// times the runner makes then stays far from the overflow of
	// time.Duration (about 292 years).
	MaxDuration = platform.MaxParameterDuration
	// MaxOperations bounds the writes one run issues over all its
	// workloads (rate × duration each). A run keeps the ledger's packed
	// record of each write and the simulator's packed per-write state
	// (oplog entries, shard logs, bucket objects). Measured peak RSS per
	// write: about 12 bytes on the library's mix (east-region-outage for
	// 24 hours, 61 million writes, 777 MB; for 6 hours, 239 MB), 7 for
	// log events alone (10^8 in 728 MB), and up to about 33 when every
	// write is an S3 put (2×10^7 in 669 MB) or a Mongo write that stays
	// unanswered until it times out (10^8 in 3.1 GB). So a run at the
	// limit takes 0.7 to 3.3 GB; it admits a 24-hour run at 1,150
	// writes/s.
	MaxOperations = 100_000_000
	// MaxRate is the highest rate of one workload, in writes per second:
	// the simulator's clock counts nanoseconds, and at a million writes a
	// second the interval between writes (1 µs) is still exact to 0.1%.
	MaxRate = 1_000_000
	// MaxBurstFactor is the largest bursts.factor (chaosdrill's limit): a
	// burst is a traffic peak of a few times the usual rate, and a thousand
	// times it is already past any peak a service is sized for. The rate
	// during a burst (rate × factor) must also stay within MaxRate, and the
	// writes of the bursts count against MaxOperations.
	MaxBurstFactor = 1_000
	// MaxPeriods bounds how often a period the file sets may repeat over
	// the scenario (duration / period), each repetition being model work.
	MaxPeriods = 10_000_000
	// MinTopologyPeriod is the shortest snapshot_interval or sync_interval
	// (chaosdrill's limit: neither an Elasticsearch snapshot nor an S3 sync
	// pass completes in less than a second).
	MinTopologyPeriod = time.Second
	// MaxTriggers bounds the faults and runbook steps of one file.
	MaxTriggers = 10_000

	// MaxMembers is MongoDB's limit on a replica set: "A replica set can
	// have up to 50 members but only 7 voting members"
	// (https://www.mongodb.com/docs/manual/reference/limits/#mongodb-limit-Number-of-Members-of-a-Replica-Set;
	// the topology's own validation checks the 7). Members a runbook adds
	// count.
	MaxMembers = 50
	// MaxPrimaryShards is Elasticsearch's limit on index.number_of_shards:
	// "The number of shards are limited to 1024 per index"
	// (https://www.elastic.co/guide/en/elasticsearch/reference/7.9/index-modules.html).
	MaxPrimaryShards = 1024
	// MaxShardsPerNode is cluster.max_shards_per_node's default: a cluster
	// holds at most 1000 shard copies (primaries and replicas) per data
	// node (https://www.elastic.co/guide/en/elasticsearch/reference/current/misc-cluster-settings.html#cluster-shard-limit).
	MaxShardsPerNode = 1000
	// MaxShardCopies bounds the shard copies (primaries and replicas) of
	// one Elasticsearch service in the simulator, whose allocation model
	// grows with the square of the copies (chaosdrill's limit; see README).
	MaxShardCopies = 5_000
	// MaxElasticNodes bounds the nodes of one Elasticsearch cluster
	// (chaosdrill's limit for the model; Elastic's guidance is a few
	// hundred nodes at most per cluster).
	MaxElasticNodes = 100
	// MaxRegions, MaxZones and MaxServices bound an inline topology
	// (chaosdrill's limits; AWS has about 35 regions of up to 6 zones).
	MaxRegions  = 64
	MaxZones    = 256
	MaxServices = 32
)

// checkLimits checks the work the file asks for against the limits above.
// It runs after the other checks, on what decoded.
func (c *checker) checkLimits() {
	s := c.scenario
	if s.Duration.D() > MaxDuration {
		// The decoder has refused it; nothing below can be measured.
		return
	}
	if n := len(s.Faults) + len(s.Runbook); n > MaxTriggers {
		c.add("faults", "%d faults and runbook steps; a scenario holds at most %d", n, MaxTriggers)
	}
	c.checkOperations()
	c.checkTopologyLimits()
}

// checkOperations refuses workloads whose writes would not fit: the
// writes a run can issue (rate × duration, plus what bursts add) over
// MaxOperations, or a rate, or a rate during a burst (rate × factor), over
// MaxRate. It runs on the file as edited (run --set, sweep --vary), so an
// override is held to the same limits.
func (c *checker) checkOperations() {
	s := c.scenario
	if s.Duration <= 0 {
		return
	}
	d := s.Duration.D()
	total := 0.0
	for i, w := range s.Workloads {
		if !(w.Rate > 0) || math.IsInf(w.Rate, 0) {
			continue // reported by checkWorkloads
		}
		path := indexPath("workloads", i) + ".rate"
		if w.Rate > MaxRate {
			c.add(path, "rate %g writes/s is over the limit of %s writes/s per workload", w.Rate, thousands(MaxRate))
			continue
		}
		ops := math.Ceil(w.Rate * d.Seconds())
		if b := w.Bursts; validBursts(b) {
			fp := indexPath("workloads", i) + ".bursts.factor"
			if peak := w.Rate * b.Factor; peak > MaxRate {
				c.add(fp, "a burst at factor %g raises rate %g writes/s to %g writes/s, over the limit of %s writes/s per workload (lower the factor or the rate)", b.Factor, w.Rate, peak, thousands(MaxRate))
				continue
			}
			// The most burst time the scenario can hold whatever the
			// phase: every cycle that starts in it bursts in full.
			cycles := math.Ceil(float64(d) / float64(b.Every))
			burst := min(float64(d), cycles*float64(b.Length)) / float64(time.Second)
			withBursts := math.Ceil(w.Rate * (d.Seconds() + burst*(b.Factor-1)))
			if withBursts > ops && withBursts > MaxOperations {
				c.add(fp, "rate %g writes/s for %s, with bursts of %s every %s at factor %g, is up to %.0f writes; a run issues at most %s (lower the factor, the rate or the duration)", w.Rate, s.Duration, b.Length, b.Every, b.Factor, withBursts, thousands(MaxOperations))
				total += withBursts
				continue
			}
			ops = max(ops, withBursts)
		}
		total += ops
		if ops > MaxOperations {
			c.add(path, "rate %g writes/s for %s is %.0f writes; a run issues at most %s (lower the rate or the duration)", w.Rate, s.Duration, ops, thousands(MaxOperations))
		}
	}
	if total > MaxOperations && len(s.Workloads) > 1 {
		c.add("workloads", "the workloads issue up to %.0f writes over %s in all, bursts included; a run issues at most %s (lower the rates or the duration)", total, s.Duration, thousands(MaxOperations))
	}
}

// validBursts reports whether b is bursts checkArrivals accepts, whose
// writes can be counted.
func validBursts(b *Bursts) bool {
	return b != nil && b.Every > 0 && b.Length > 0 && b.Length < b.Every &&
		b.Factor > 0 && b.Factor <= MaxBurstFactor
}

// thousands writes n with a comma every three digits, as the README's
// Limits table does.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Interval is the time between two writes of the workload at its rate,
// rounded to the nanosecond and at least one. A rate so low that the
// interval would not fit a time.Duration gives the longest interval there
// is: the workload issues its first write and no other.
func (w Workload) Interval() time.Duration {
	if !(w.Rate > 0) {
		return math.MaxInt64
	}
	ns := math.Round(float64(time.Second) / w.Rate)
	switch {
	case ns >= math.MaxInt64 || math.IsInf(ns, 0):
		return math.MaxInt64
	case ns < 1:
		return 1
	}
	return time.Duration(ns)
}

// checkPeriod refuses a period the file sets that would repeat more than
// MaxPeriods times over the scenario.
func (c *checker) checkPeriod(path string, period time.Duration) {
	d := c.scenario.Duration.D()
	if period <= 0 || d <= 0 || d > MaxDuration {
		return
	}
	if n := d / period; n > MaxPeriods {
		c.add(path, "a period of %s repeats %d times over the scenario's %s; at most %d repetitions are allowed (a longer period, or a shorter scenario)", period, n, d, MaxPeriods)
	}
}

// checkTopologyLimits checks an inline topology's size and its values that
// the topology's own validation leaves alone, and every topology against
// what the runbook adds to it.
func (c *checker) checkTopologyLimits() {
	t := c.topology
	if t == nil {
		return
	}
	inline := c.scenario.Topology.Inline != nil
	if inline {
		c.checkTopologySize(t)
	}
	for i := range t.Services {
		svc := &t.Services[i]
		p := fmt.Sprintf("topology.services[%d]", i)
		switch svc.Kind {
		case platform.KindMongo:
			c.checkMongoLimits(p, svc)
		case platform.KindElastic:
			c.checkElasticLimits(p, svc, len(svc.Nodes))
			if inline {
				c.checkTopologyPeriod(p+".snapshot_interval", svc.SnapshotInterval)
			}
		case platform.KindS3:
			if inline {
				c.checkTopologyPeriod(p+".sync_interval", svc.SyncInterval)
			}
		}
	}
	c.checkRestoreLimits()
}

func (c *checker) checkTopologySize(t *platform.Topology) {
	if len(t.Regions) > MaxRegions {
		c.add("topology.regions", "%d regions; a topology has at most %d", len(t.Regions), MaxRegions)
	}
	if n := len(t.Zones()); n > MaxZones {
		c.add("topology.regions", "%d zones; a topology has at most %d", n, MaxZones)
	}
	if len(t.Services) > MaxServices {
		c.add("topology.services", "%d services; a topology has at most %d", len(t.Services), MaxServices)
	}
}

// checkTopologyPeriod checks a snapshot or sync interval the file sets.
func (c *checker) checkTopologyPeriod(path string, period platform.Duration) {
	switch {
	case !c.doc.has(path):
	case period < 0:
		c.add(path, "must not be negative, got %s", period)
	case period.D() < MinTopologyPeriod:
		c.add(path, "%s is shorter than the shortest allowed, %s", period, MinTopologyPeriod)
	default:
		c.checkPeriod(path, period.D())
	}
}

func (c *checker) checkMongoLimits(p string, svc *platform.ServiceSpec) {
	members := len(svc.Members) + len(c.addedTo(svc.Name))
	if members > MaxMembers {
		c.add(p+".members", "replica set %q would have %d members (with those the runbook adds); MongoDB allows at most %d", svc.Name, members, MaxMembers)
	}
	for _, mode := range platform.SortedKeys(svc.WriteModes) {
		for _, tag := range platform.SortedKeys(svc.WriteModes[mode]) {
			// MongoDB: a getLastErrorModes count "must be positive".
			if n := svc.WriteModes[mode][tag]; n < 1 || n > MaxMembers {
				c.add(fmt.Sprintf("%s.write_modes.%s.%s", p, mode, tag), "a write mode needs from 1 to %d distinct %s values, got %d", MaxMembers, tag, n)
			}
		}
	}
}

// addedTo lists the runbook steps that add a member to the mongo service.
func (c *checker) addedTo(service string) []int {
	var steps []int
	for i, st := range c.scenario.Runbook {
		if st.Action == platform.ActionMongoAddMember && st.Service(c.topology) == service {
			steps = append(steps, i)
		}
	}
	return steps
}

// checkElasticLimits checks an Elasticsearch service of nodes nodes against
// Elasticsearch's shard limits and the model's.
func (c *checker) checkElasticLimits(p string, svc *platform.ServiceSpec, nodes int) {
	if nodes > MaxElasticNodes {
		c.add(p+".nodes", "%d nodes; an elasticsearch cluster here has at most %d", nodes, MaxElasticNodes)
	}
	if svc.Shards > MaxPrimaryShards {
		c.add(p+".shards", "%d primary shards; Elasticsearch allows at most %d per index (index.number_of_shards)", svc.Shards, MaxPrimaryShards)
		return
	}
	if svc.Shards < 1 || svc.Replicas < 0 {
		return // the topology's own validation says why
	}
	copies := int64(svc.Shards) * (1 + int64(svc.Replicas))
	switch {
	case nodes > 0 && copies > int64(MaxShardsPerNode)*int64(nodes):
		c.add(p+".replicas", "%d shards with %d replicas are %d shard copies on %d nodes; Elasticsearch allows at most %d per node (cluster.max_shards_per_node)",
			svc.Shards, svc.Replicas, copies, nodes, MaxShardsPerNode)
	case copies > MaxShardCopies:
		c.add(p+".replicas", "%d shards with %d replicas are %d shard copies; the simulator models at most %d", svc.Shards, svc.Replicas, copies, MaxShardCopies)
	}
}

// checkRestoreLimits checks the clusters that restore-snapshot steps build.
func (c *checker) checkRestoreLimits() {
	for i, st := range c.scenario.Runbook {
		if st.Action != platform.ActionLogsRestoreSnapshot || st.Params["nodes"] == "" {
			continue
		}
		n, err := strconv.Atoi(st.Params["nodes"])
		if err != nil || n < 1 {
			continue // checkStepParams reports it
		}
		svc, ok := c.topology.Service(st.Service(c.topology))
		if !ok || svc.Kind != platform.KindElastic {
			continue
		}
		before := len(c.problems)
		c.checkElasticLimits(indexPath("runbook", i)+".params.nodes", svc, n)
		// Point every problem of the rebuilt cluster at the step.
		for j := before; j < len(c.problems); j++ {
			c.problems[j].Path = indexPath("runbook", i) + ".params.nodes"
			c.problems[j].Line, c.problems[j].Column = c.doc.position(c.problems[j].Path)
		}
	}
}
