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
// fault that hit one of its nodes, else the first injected fault of the run. The outage starts
// at the invocation of the first write at or after F that the client could
// not count on (not acknowledged, or acknowledged and then lost); RTO is the
// first acknowledgement of a write invoked at or after that which survived
// to the read-back, minus F. A service with no such write was not interrupted
// (RTO 0); one whose writes never came back has a null RTO. RPO is the span
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
