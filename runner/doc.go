// Package runner runs one scenario on any platform: it is the single code
// path behind `chaosdrill run` on the simulator and on containers. It plays
// Jepsen's roles around the platform seam: workloads issue writes at their
// rate and record every outcome in the ledger (the history), the nemesis
// fires faults and runbook steps on their triggers, and after the scenario
// every write is read back and the reports package checks the history.
// Everything the runner does happens on the platform's event loop, so it is
// single-threaded on both platforms.
package runner
