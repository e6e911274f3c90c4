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
// Start plans one container per node of the topology (see plan.go), starts
// them all in parallel, then sets each service up: replSetInitiate with the
// scenario's priorities, votes, hidden flags, tags and write modes, waiting
// for a primary; Elasticsearch keystore keys on every node, cluster health,
// the index and the snapshot repository; the buckets on every LocalStack.
// Every wait has a timeout, and the error names what never came up; every
// environment failure wraps [platform.ErrEnvironment]. Before scenario time 0
// each cluster takes a baseline snapshot and every bucket is synced once, as
// on a platform that has been running: a region lost before the first
// periodic snapshot then still has something to restore.
//
// # Clients
//
// Each workload gets a bounded pool of workers (client.workers) calling its
// adapter; a write's timeout counts from when the workload issued it, so a
// write that waited in the queue past it is Failed without being sent. The
// log tier batches events into bulk requests (logs.bulk_size,
// logs.flush_interval) and acknowledges each one only once Elasticsearch
// acknowledged its item, unless logs.ack_on_receipt. After a forced
// reconfiguration the Mongo workload reconnects, as operators restart their
// applications: the driver never re-learns a hidden member it dropped.
//
// # Events
//
// node-down and node-up come from the fault primitives themselves (Stop,
// which may take Docker's whole grace period, runs in the background and
// reports node-down when the container has exited); primary-elected and
// primary-lost from asking every member for replSetGetStatus every
// mongo.status_poll_interval and believing the primary most members name;
// health colours and the master from polling _cluster/health;
// replication-lag, one per secondary, is measured from the primary's
// replSetGetStatus optimes just before a fault (the primitives of one zone or
// region outage share one measurement); snapshot-completed and
// sync-completed from the harness's own periodic jobs.
//
// # What is only proved live
//
// The protocol side (replica-set initiation, forced reconfiguration, initial
// sync, snapshot and restore through LocalStack, the cross-region sync) runs
// only with the real images, in the `live` Ginkgo suite that users' CI runs
// nightly (.github/workflows/live.yml). Here, without a registry, the loop is
// tested under testing/synctest and the bring-up and fault path on locally
// built stand-in images.
package containers
