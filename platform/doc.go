// Package platform is the seam between a chaosdrill scenario and the system it
// rehearses: the topology model (regions, availability zones, nodes and the
// services placed on them), the Platform interface that the embedded simulator
// and the live containers platform both implement, and the small value types
// (outcomes, events, model parameters) that cross that seam. The runner,
// faults and reports are written once against this package, so that a
// scenario file runs unchanged on either platform.
//
// # The event loop
//
// Every Platform owns a single event loop ([Loop]). Workload ticks, write
// completions, fault schedules, runbook steps and platform events are all
// delivered on it, one at a time, so the code above the seam is
// single-threaded whether time is virtual (the simulator) or wall-clock (the
// containers platform).
package platform
