// Package simulator is the embedded platform: a deterministic discrete-event
// model of the services a topology places (MongoDB replica set,
// Elasticsearch cluster behind the log tier, regional S3 with a cross-region
// sync job or cross-region replication), the network between their nodes and
// the faults that hit them. It implements platform.Platform, so a scenario
// runs on it unchanged.
//
// # Determinism
//
// The simulator is a pure state machine stepped by its event queue: virtual
// time only moves when the queue is popped, randomness comes from streams
// derived from the run's seed (one per subsystem), and nothing starts a
// goroutine or reads the wall clock. The same scenario and seed produce the
// same history, byte for byte.
//
// # Cost per operation
//
// A client write costs one queue event (the workload tick that issues it).
// Models keep writes in append-only logs and compute replication, commit
// points and acknowledgements from link latencies on demand, delivering
// completions from per-model FIFOs through [model.advance] instead of
// scheduling an event per write. Faults and elections, which are rare, are
// ordinary queue events.
//
// # Parameters
//
// Every timing the models use is a named parameter with its documented
// default and source (see [Parameters] and `chaosdrill list --parameters`),
// overridable from a scenario's `parameters:`.
package simulator
