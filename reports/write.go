package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/chaosdrill/chaosdrill/internal/files"
)

// Files every run writes into its output folder.
const (
	FileJSON     = "report.json"
	FileJUnit    = "junit.xml"
	FileMarkdown = "report.md"
	FileHTML     = "report.html"
)

// WriteAll writes report.json, junit.xml, report.md and report.html into
// dir, creating it if needed. See WriteAllContext.
func WriteAll(dir string, r *Report) error {
	return WriteAllContext(context.Background(), dir, r, nil)
}

// WriteAllContext writes the four report files into dir as one: each is
// written in full into a temporary folder inside dir, and only when all
// four are written are they renamed into place, so that no reader (nor a
// second run) ever sees a torn or half-written file. When ctx ends first
// (an interrupt), the temporary folder is removed and dir holds nothing
// new; the renames themselves are not interrupted. progress, if not nil,
// is told each file once it is written (for tests of an interrupt).
func WriteAllContext(ctx context.Context, dir string, r *Report, progress func(file string)) error {
	writers := []struct {
		file  string
		write func(io.Writer, *Report) error
	}{
		{FileJSON, WriteJSON},
		{FileJUnit, WriteJUnit},
		{FileMarkdown, WriteMarkdown},
		{FileHTML, WriteHTML},
	}
	var set []files.File
	for _, wr := range writers {
		set = append(set, files.File{Name: wr.file, Write: func(w io.Writer) error { return wr.write(w, r) }})
	}
	return files.WriteAll(ctx, dir, set, progress)
}

// writeIndentedJSON writes v as JSON indented by two spaces, without
// escaping <, > and & (the files are read by people and tools, not put in
// HTML); what names it in an encoding error. Nothing is written when v
// cannot be encoded.
func writeIndentedJSON(w io.Writer, what string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode %s: %w", what, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// WriteJSON writes report.json: indented, map keys sorted, no wall-clock
// time, so that the same run gives the same bytes.
func WriteJSON(w io.Writer, r *Report) error {
	var compact bytes.Buffer
	enc := json.NewEncoder(&compact)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	b := indentJSON(bytes.TrimSpace(compact.Bytes()))
	b = append(b, '\n')
	_, err := w.Write(b)
	return err
}

// Read loads a report.json written by WriteJSON, for rendering it again.
// The file must be a regular file of at most MaxReportBytes, of the current
// schema, and hold together (see Validate): a report anyone may have edited
// is checked before anything is rendered from it.
func Read(path string) (*Report, error) {
	b, err := files.ReadRegular(path, MaxReportBytes)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	return Decode(path, b)
}

// Decode reads a report.json held in memory; path names it in errors.
func Decode(path string, b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode report %s: %w", path, err)
	}
	switch r.Schema {
	case Schema:
	case "chaosdrill.report/v1":
		// v1 verdicts passed runs whose faults never fired; rendering one
		// again would repeat that.
		return nil, fmt.Errorf("decode report %s: schema %q was written by an older chaosdrill whose pass could hide faults that never fired; run the scenario again", path, r.Schema)
	default:
		return nil, fmt.Errorf("decode report %s: schema %q, want %q", path, r.Schema, Schema)
	}
	if err := Validate(&r); err != nil {
		return nil, fmt.Errorf("decode report %s: %w", path, err)
	}
	return &r, nil
}
