// Package containers is the live platform: it brings a scenario's topology
// up on Docker as real MongoDB, Elasticsearch and LocalStack containers,
// drives the workloads through the service adapters, injects faults for real
// through the Docker engine (package docker), and carries out the recovery
// runbook against the real servers. [New] builds it; the runner drives it
// through the [platform.Platform] seam exactly as it drives the simulator.
//
// # Time and the loop
//
// Scenario time is wall-clock time since the end of Start. One goroutine,
// the runner's, runs the loop: handlers fire in time order from a timer heap,
// and the goroutines that block on I/O (write workers, the log tier's bulk
// flusher, pollers, the sync and snapshot jobs, runbook actions) hand their
// results back to it, so the runner, workloads and checkers stay
// single-threaded. A write's completion carries the time its answer arrived,
// not the time the loop delivered it.
//
// # Bring-up
//
// Start plans one container per node of the services the scenario uses (the
// ones with a workload, and the S3 service their cluster snapshots to; see
// plan.go), checks that the network faults can be applied when the
// topology's link latencies will be (root, nsenter, iptables-restore, a
// local daemon), starts every container in parallel (naming every missing
// image in one error), puts the topology's link latencies on the network
// and measures them (link-latency events), then sets each service up:
// replSetInitiate with the scenario's priorities, votes, hidden flags, tags
// and write modes (idempotent: a lost reply is no failure), waiting for a
// primary; cluster health, the S3 keys every node put into its keystore
// before it started, the index and the snapshot repository; the buckets on
// every LocalStack. Every wait has a timeout, and the error names what never
// came up; every environment failure wraps [platform.ErrEnvironment]. Before
// scenario time 0 each cluster takes a baseline snapshot and every bucket is
// synced once, as on a platform that has been running: a region lost before
// the first periodic snapshot then still has something to restore.
//
// Every value sent to a server is written in that server's documented
// grammar (Elasticsearch time values, setting names, replica-set
// configuration documents, S3 bucket names); grammar_test.go checks each
// one, since the real servers cannot run where the tests do.
//
// # Clients
//
// Each workload gets a bounded pool of workers (client.workers) calling its
// adapter; a write's timeout counts from when the workload issued it, so a
// write that waited in the queue past it is Failed without being sent. The
// log tier batches events into bulk requests (logs.bulk_size,
// logs.flush_interval, the simulator's defaults) and acknowledges each one
// only once Elasticsearch acknowledged its item, unless logs.ack_on_receipt.
// After a forced reconfiguration the Mongo workload reconnects, as operators
// restart their applications: the driver never re-learns a hidden member it
// dropped. A read-back first checks that its service can be read at all (a
// primary, a cluster that answers, an endpoint that answers), so one whose
// recovery step failed fails at once with the reason.
//
// # The Mongo runbook
//
// Arbiters start as any member (a mongod with --replSet) and are
// configured arbiterOnly, with priority 0 and one vote; the set is
// initiated on a member that can be elected. mongo.force-reconfigure,
// mongo.add-member (a new container, then an initial sync),
// mongo.step-down, mongo.set-write-concern and mongo.reconfigure-member (a
// normal replSetReconfig of one member's votes and priority, done once a
// majority of the voting members installed it) are carried out against
// the servers; mongo.resync-member replaces the member's container by an
// empty one at the same alias, which the set brings back with an initial
// sync (MongoDB's "automatically sync a member"). A member added or
// resynced is followed until it is caught up: its lag every heartbeat
// interval (replication-lag) and member-caught-up once it is within
// mongo.caught_up_lag. Restoring a member from a backup (source: backup)
// is refused before the run starts, naming the step: the platform keeps
// no backups of a member's data.
//
// # Faults and events
//
// The fault primitives run off the loop; those one loop handler issues (a
// zone or region outage is one call per node) start together, so the nodes
// go down within milliseconds of each other, and fault-applied reports when
// the last one did and the spread. node-down and node-up carry the time
// Docker recorded (the container's exit or start, its pause or unpause
// event); a primitive that failed is reported as fault-failed, and a node of
// a service the run did not start is left out (fault-skipped).
// primary-elected and primary-lost come from asking every member for
// replSetGetStatus every mongo.status_poll_interval and believing the
// primary most members name; health colours and the master from polling
// _cluster/health; redundancy-restored when as many healthy, synced
// data-bearing members (or shard copies: green) exist as the topology
// declares. replication-lag, for the primary (0 s) and each secondary, is
// measured at the fault instant from the members' lastAppliedWallTime.
// member-stale when a member is RECOVERING, too stale to catch up (RS102):
// its own replSetGetStatus says tooStale, or a view gives the "too stale"
// message older servers send. snapshot-completed and sync-completed come from the
// harness's own periodic jobs, which run on the topology's pinned
// sync_phase or snapshot_phase, else on a phase drawn from the run's seed
// by platform.JobPhase, the simulator's own draw (the same seed gives the
// same schedule on both platforms), and stop at the instant a fault takes
// down a node they need. logs.restore-snapshot with partial: true restores
// the newest snapshot even if PARTIAL, asking Elasticsearch for partial (its
// unsnapshotted shards are recreated empty).
//
// # Disk faults
//
// The nodes a disk fault of the scenario may hit (platform.Config.DiskNodes:
// the nodes its static targets name, every node of the service a role
// target names) get a data volume of the harness's at their server's data
// directory: MongoDB's /data/db, Elasticsearch's data path (see package
// docker for the tmpfs and FUSE mechanics, and what they need: root, Linux,
// /dev/fuse; Start checks it before any container starts). disk-slow,
// disk-error and disk-full act on that volume; disk-faulted and disk-healed
// say when, and a heal starts again a server the fault crashed (mongod
// aborts on a failed journal write). LocalStack's community image keeps its
// objects in memory, so a disk fault on an s3 endpoint has no volume to act
// on: it fails (fault-failed) and the runner reports it not rehearsed.
//
// # Artifacts and roles
//
// The artifact keys of an s3 service (the seed's ion-console,
// chef-configuration, elasticsearch) are objects of its artifact bucket, put
// into every region's bucket at bring-up and carried by the sync. The
// artifacts.* and roles.* steps are real requests to the LocalStacks;
// roles.rebuild stands in for the recipe run with roles.converge_duration
// (the harness runs no Chef), and roles.upgrade restarts the containers of
// the role's Elasticsearch nodes one at a time on the same image: the
// version a node runs is the one it fetched (roles.go).
//
// # What is only proved live
//
// The protocol side (replica-set initiation, forced reconfiguration, initial
// sync, snapshot and restore through LocalStack) runs only with the real
// images, in the `live` Ginkgo suite that users' CI runs nightly
// (.github/workflows/live.yml). Here, without a registry, the loop is tested
// under testing/synctest and the bring-up and fault path on locally built
// stand-in images; the S3 service runs end to end on the S3 stand-in
// (docker.BuildS3StandinImage, a real-protocol gofakes3 server): puts, the
// cross-region sync, a region kill, the failover (which first checks that
// its target endpoint answers, so a failover to a lost region fails, naming
// it), the read-back and the report (cmd/chaosdrill's stand-in specs).
package containers
