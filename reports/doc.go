// Package reports turns the history of a run into its verdict and its
// reports (report.json, junit.xml, report.md, report.html), so that a
// nightly CI job can gate on a failover rehearsal and an engineer can read
// what was lost and how long the outage lasted.
//
// The runner fills a [Run]: the [Ledger] of every write (invoked; acked,
// failed or unknown; found or not on read-back), what became of every fault
// and runbook step of the file, the platform events, and the services whose
// read-back failed. [Build] measures it per service and checks the
// scenario's expectations; [BuildError] reports a run that could not
// complete; [WriteAll] writes the four files ([WriteRunContext] adds
// run.json, the run's wall-clock facts); [Summary] prints the few lines a
// terminal needs.
//
// For nightly CI: [SummarizeRun] and [NewSuiteSummary] gather many runs
// into one summary (summary.json, summary.md, the terminal table) whose
// exit code is the worst of the runs' ([WorstExitCode]), and
// [WriteSuiteJUnit] one junit.xml; [LoadRunSet] reads stored runs or
// suites back, [Compare] compares two of them against [Thresholds], and
// [NewTrend] follows each scenario over many nights.
//
// # Verdicts
//
// A verdict never says more than was done. Each check (a bound of an
// expectation, or a fault, heal, step or read-back of the run) has a result
// pass, fail, not-rehearsed or unverified, and the report's verdict is the
// worst of them, in the order error, fail, not-rehearsed, unverified, pass
// (see [Verdicts]). A fault or step of the file that did not happen as
// written is a not-rehearsed check, and so is every expectation about a
// service it concerns, whatever was measured; a service whose read-back
// failed, or that acknowledged no write, has its expectations unverified.
//
// # Measures
//
// Each service is measured from its reference fault F: the first injected
// fault that hit one of its nodes, else the first injected fault of the run.
//
// A write is served when the client was told it succeeded and the write
// was still there when the harness read everything back (when the
// read-back failed, every acknowledged write counts as served: nothing says
// otherwise); a failed, unknown or lost write was not served. An outage
// window starts when a write that was not served is issued and ends at the
// earliest acknowledgement of a served write issued since: the moment the
// client saw the service again. The unserved writes issued in between
// belong to it; the next one issued after it ended starts a new window. A
// window no served write ends is open. RTO is the length of the longest
// window that did not end before F, counted from F when it began before
// (writes in flight when the fault hit, or acknowledged just before it and
// lost with it, whose loss is the RPO): the time the service was actually
// unavailable, not the time from F to the last hiccup. A takeover that
// fails one write for milliseconds long after F gives an RTO of
// milliseconds; writes that are slow but succeed (added latency, or a
// stall that every waiting write rides out within its timeout) are no
// outage: they show in the write latency, which latency_p99_max bounds. A
// service with no window after F was not interrupted (RTO 0); one with an
// open window never came back (null RTO). The report lists the longest
// windows (start, end, writes failed, unknown and lost in each), their
// count and their total. The definition reads only the history, so it is
// the same on every platform.
//
// RPO is the span
// of acknowledged data lost: from the ack time of the oldest lost write
// (acknowledged, then absent on read-back) to F, or to the newest lost ack
// when that is later (a cut-off w:1 primary acknowledging after F); 0 when
// nothing is lost. Lost writes acknowledged after F are also counted as
// lost_after_fault. Writes still pending at the end count as unknown;
// unknown writes are never lost, and those found on read-back are counted as
// unknown_present. Redundancy is F to the service's first
// redundancy-restored event after it. Replication lag is each member's lag
// at F against the primary of that moment, from the replication-lag samples
// within 2 s of F (a later sample, say at a heal against a new primary,
// answers another question); data-bearing members with none are listed as
// unmeasured.
//
// # Formats
//
// report.json (schema [Schema]) is byte-identical for identical input:
// times are seconds of scenario time rounded to the microsecond, maps are
// written with sorted keys, nothing reads the wall clock; the wall clock
// goes into run.json ([RunInfo]) beside it. junit.xml uses the types of
// github.com/jstemmer/go-junit-report/v2/junit (a well-kept library that
// already served go-junit-report's own output); its time attributes are
// wall seconds from run.json, the simulated seconds a property. Latency
// percentiles come from github.com/HdrHistogram/hdrhistogram-go at 3
// significant digits, deterministic and linear in the number of writes.
// report.html is one file with inline CSS and SVG, rendered by html/template
// so that text from scenario files is escaped.
package reports
