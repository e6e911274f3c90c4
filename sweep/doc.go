// Package sweep turns many runs of one scenario, one per seed, into what an
// operator asks of a failover: how likely each expectation is to hold, and
// how RTO, RPO, lost and unknown writes are spread over the seeds.
//
// A [Seed] is what a sweep keeps of one run's report: its verdict, the
// checks that did not pass, and a few figures per service (a few hundred
// bytes, so that a million seeds fit in memory). [Aggregate] gathers the
// seeds of each value of a what-if ([Vary]) into a [Result], the content
// of sweep.json: per check the share of seeds that met it with a 95%
// Wilson score interval; per service and figure the distribution over the
// seeds (min, p50, p90, p95, p99, max, empirical quantiles) and a
// histogram; the worst seeds per figure, each replayable with
// `chaosdrill run --seed`; and the sweep's gates (scenarios.Gate), which
// set its exit code.
//
// A sweep is sharded over machines by the engine that runs it (a CI
// matrix, a Kubernetes Indexed Job): shard i of n runs every n-th seed and
// writes a Result that carries its shard and its seeds. [Decode] reads and
// checks such a file, and [Merge] combines the shards of one sweep into
// exactly the Result of the unsharded sweep: sweep.json holds no wall-clock
// figure, and every figure is computed from the seeds alone, in seed order,
// so the bytes are the same however the seeds were spread over shards and
// workers.
//
// Statistics come from gonum (gonum.org/v1/gonum/stat): quantiles are
// stat.Empirical (the lowest value that at least a share q of the seeds
// do not exceed, so that "p95 of RTO <= 3m" and "at least 95% of seeds
// have an RTO <= 3m" are one statement), histograms stat.Histogram, and the
// normal quantile of the Wilson interval distuv.UnitNormal.
package sweep
