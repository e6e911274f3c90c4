// Package scenarios holds the scenario file format and the code that loads
// and validates it. A scenario file (YAML, schema in schema.json) names a
// topology, a duration, the workloads that drive each service, a fault
// schedule, the recovery runbook and the expectations a run must meet. The
// same file runs on the simulator and on containers. Loading reports every
// problem with file:line and the field's path, and never half-accepts a file.
// The scenario library lives beside this package as *.yaml.
//
// # Loading
//
// [Load] reads a file and [Parse] checks bytes already read. Both walk the
// YAML node tree against the Go types, so that an unknown field, a value of
// the wrong type or a bare number where a duration belongs is reported at
// its own line, and then check what spans fields: services and nodes that
// must exist in the topology, faults and runbook steps that must start
// before the end and after something that exists, runbook parameters the
// action catalogue allows, after_event triggers on an event the service's
// kind emits (platform.EventCatalog), heals that come before the end.
// Defaults are filled in only for a file with no problems: a workload
// timeout of [DefaultTimeout], the [DefaultWriteConcern] for mongo
// workloads, fault names "fault-N", and the [Baseline] expectations.
//
// # Expectations
//
// A run that checks nothing cannot fail, so every service with a workload
// and no expectation of its own gets the [Baseline] ones: no acknowledged
// write lost, writes acknowledged again by the end. A file opts out with
// baseline_expectations: false, and must then state at least one
// expectation itself. Besides lost writes, RTO, RPO and recovery, an
// expectation can bound the time to full redundancy (redundancy_max), the
// p99 write latency (latency_p99_max), the writes of unknown outcome
// (unknown_max) and, for mongo, how soon every member the runbook adds
// catches up (caught_up_max).
//
// # Limits and names
//
// A file is read only if it is a regular file of at most [MaxFileBytes],
// and decoded only up to [MaxValues] values (aliases counted where used),
// so that no input can block the loader or exhaust memory. The work a file
// asks for is checked against the limits in limits.go before anything runs
// (writes per run, rate, durations, periods, shards, members, nodes; each
// with its source where the modelled system has one), and every model
// parameter against its kind and range (platform.Parameter.Check). Names
// follow one rule ([CheckName]): they become folder names, container names
// and terminal text. [WithContext] makes loading stop on an interrupt.
//
// # Errors
//
// Bad input is one [*Error] holding every [Problem], printed one per line
// as FILE:LINE:COL: PATH: MESSAGE, e.g.
//
//	drill.yaml:8:26: faults[0].target: selector "az:us-east-1e": no zone "us-east-1e" in topology "ion"
//
// The CLI finds it with errors.As and exits with code 2. A problem whose
// field would only repeat an earlier one (a field that could not be decoded
// and the checks on it) is left out.
package scenarios
