package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Files every run writes into its output folder.
const (
	FileJSON     = "report.json"
	FileJUnit    = "junit.xml"
	FileMarkdown = "report.md"
	FileHTML     = "report.html"
)

// WriteAll writes report.json, junit.xml, report.md and report.html into
// dir, creating it if needed.
func WriteAll(dir string, r *Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create report folder: %w", err)
	}
	writers := []struct {
		file  string
		write func(io.Writer, *Report) error
	}{
		{FileJSON, WriteJSON},
		{FileJUnit, WriteJUnit},
		{FileMarkdown, WriteMarkdown},
		{FileHTML, WriteHTML},
	}
	for _, wr := range writers {
		if err := writeFile(filepath.Join(dir, wr.file), r, wr.write); err != nil {
			return fmt.Errorf("write %s: %w", wr.file, err)
		}
	}
	return nil
}

func writeFile(path string, r *Report, write func(io.Writer, *Report) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	buffered := bufio.NewWriter(f)
	if err := write(buffered, r); err != nil {
		f.Close()
		return err
	}
	if err := buffered.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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
func Read(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
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
	return &r, nil
}
