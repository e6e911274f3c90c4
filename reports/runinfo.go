package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"time"

	"github.com/chaosdrill/chaosdrill/internal/files"
)

// FileRunInfo is the side file that holds a run's wall-clock facts, beside
// report.json.
const FileRunInfo = "run.json"

// RunInfoSchema names the layout of run.json.
const RunInfoSchema = "chaosdrill.run/v1"

// maxRunInfoBytes bounds a run.json read back: it holds a few fields.
const maxRunInfoBytes = 64 << 10

// RunInfo is what a run knows beyond its report: when it ran, by the wall
// clock, and how long that took. It is kept out of report.json on purpose,
// so that the simulator's report stays byte-identical for a scenario and
// seed (a spec enforces it) while a nightly trend still has a date to
// plot each run at, and junit.xml a wall time to give CI. It is written
// as run.json beside report.json, in the same whole-or-nothing set.
type RunInfo struct {
	Schema string `json:"schema"`
	// StartedAt and FinishedAt are wall-clock times in UTC (RFC 3339).
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// WallSeconds is the run's wall time: loading, bring-up, the scenario,
	// read-back and tear-down. On the simulator it is far below the
	// scenario's duration (report.json's duration_seconds).
	WallSeconds float64 `json:"wall_seconds"`
	// Version is the chaosdrill build that ran it ("chaosdrill devel
	// (commit ...)").
	Version string `json:"chaosdrill_version"`
}

// NewRunInfo describes a run that started and finished at the given wall
// times; times are kept in UTC to the millisecond.
func NewRunInfo(started, finished time.Time, version string) *RunInfo {
	started, finished = started.UTC().Round(time.Millisecond), finished.UTC().Round(time.Millisecond)
	return &RunInfo{
		Schema:      RunInfoSchema,
		StartedAt:   started,
		FinishedAt:  finished,
		WallSeconds: math.Max(0, finished.Sub(started).Seconds()),
		Version:     version,
	}
}

// WriteRunInfo writes run.json.
func WriteRunInfo(w io.Writer, info *RunInfo) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return fmt.Errorf("encode run info: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadRunInfo reads the run.json in dir. It returns nil and no error when
// there is none (a report written before run.json existed, or by
// WriteAll); a run.json that is there but unreadable, too large or of
// another schema is an error.
func ReadRunInfo(dir string) (*RunInfo, error) {
	path := filepath.Join(dir, FileRunInfo)
	b, err := files.ReadRegular(path, maxRunInfoBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var info RunInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	if info.Schema != RunInfoSchema {
		return nil, fmt.Errorf("decode %s: schema %q, want %q", path, info.Schema, RunInfoSchema)
	}
	if info.StartedAt.IsZero() || math.IsNaN(info.WallSeconds) || info.WallSeconds < 0 || info.WallSeconds > maxStoredSeconds {
		return nil, fmt.Errorf("decode %s: started_at and a wall_seconds of 0 or more are required", path)
	}
	return &info, nil
}

// WriteRunContext writes a run's files into dir as one set, like
// WriteAllContext: report.json, junit.xml (with the wall time of info),
// report.md, report.html and, when info is not nil, run.json.
func WriteRunContext(ctx context.Context, dir string, r *Report, info *RunInfo, progress func(file string)) error {
	writers := []struct {
		file  string
		write func(io.Writer) error
	}{
		{FileJSON, func(w io.Writer) error { return WriteJSON(w, r) }},
		{FileJUnit, func(w io.Writer) error { return WriteJUnitRun(w, r, info) }},
		{FileMarkdown, func(w io.Writer) error { return WriteMarkdown(w, r) }},
		{FileHTML, func(w io.Writer) error { return WriteHTML(w, r) }},
	}
	if info != nil {
		writers = append(writers, struct {
			file  string
			write func(io.Writer) error
		}{FileRunInfo, func(w io.Writer) error { return WriteRunInfo(w, info) }})
	}
	var set []files.File
	for _, wr := range writers {
		set = append(set, files.File{Name: wr.file, Write: wr.write})
	}
	return files.WriteAll(ctx, dir, set, progress)
}
