// Package runner runs one scenario on any platform: it is the single code
// path behind `chaosdrill run` on the simulator and on containers. It plays
// Jepsen's roles around the platform seam: workloads issue writes at their
// rate and record every outcome in the ledger (the history), the nemesis
// fires faults and runbook steps on their triggers, and after the scenario
// every write is read back and the reports package checks the history.
// Everything the runner does happens on the platform's event loop, so it is
// single-threaded on both platforms.
//
// The runner records what became of every fault and runbook step of the
// file, not only of those that fired: one whose trigger never came, or came
// too late to start before the scenario's end (nothing starts in the drain
// after it), a heal due after the end or that failed, an injection that
// failed on some of its nodes, a restart whose node never came back (a
// restart heals when the platform reports its nodes up), a step that never
// finished. Each is reported not rehearsed with its reason, so the verdict
// cannot pass a scenario that did not happen. A read-back that fails marks
// that service's writes unverified and the run goes on to the others; only
// a platform that cannot start, a loop that fails, or an interrupt ends a
// run without a report ([Error] names the phase).
//
// With [Options.Performer] set the run is a rehearsal (operator.go): each
// runbook step goes to a person at its trigger instead of to the platform
// after its operator delay, and is done when the platform's state shows
// its effect ([platform.StepWatcher]); [Options.Drive] lets the caller pace
// the loop and take the person's commands between slices.
package runner
