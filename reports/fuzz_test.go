package reports_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/chaosdrill/chaosdrill/reports"
)

// FuzzDecode checks that any bytes either decode into a report that
// renders in every format and prints a summary without a panic, or are
// refused with an error: a stored report is validated before anything is
// rendered from it.
func FuzzDecode(f *testing.F) {
	var stored bytes.Buffer
	if err := reports.WriteJSON(&stored, reports.Build(regionLoss())); err != nil {
		f.Fatal(err)
	}
	f.Add(stored.Bytes())
	f.Add([]byte(`{"schema":"chaosdrill.report/v2","verdict":"pass","services":{"m":null}}`))
	f.Add([]byte(`{"schema":"chaosdrill.report/v2","verdict":"pass","services":{"m":{"read_back":"complete","timeline":{"bucket_seconds":1,"acked":[1,2],"lost":[0],"failed":[0,0],"unknown":[0,0]}}}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := reports.Decode("fuzz.json", data)
		if err != nil {
			return
		}
		reports.RecomputeVerdict(r)
		reports.Summary(io.Discard, r)
		for _, write := range []func(io.Writer, *reports.Report) error{reports.WriteJSON, reports.WriteJUnit, reports.WriteMarkdown, reports.WriteHTML} {
			if err := write(io.Discard, r); err != nil {
				t.Fatalf("a validated report does not render: %v", err)
			}
		}
	})
}
