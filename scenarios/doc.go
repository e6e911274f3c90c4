// Package scenarios holds the scenario file format and the code that loads
// and validates it. A scenario file (YAML, schema in schema.json) names a
// topology, a duration, the workloads that drive each service, a fault
// schedule, the recovery runbook and the expectations a run must meet. The
// same file runs on the simulator and on containers. Loading reports every
// problem with file:line and the field's path, and never half-accepts a file.
// The scenario library lives beside this package as *.yaml.
package scenarios
