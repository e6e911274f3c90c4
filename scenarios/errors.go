package scenarios

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a scenario file: where (line and column,
// 1-based; Column is 0 when the YAML parser does not say) and which field
// (Path, e.g. "faults[2].target"; empty only for YAML syntax errors).
type Problem struct {
	Line    int    `json:"line"`
	Column  int    `json:"column,omitempty"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// Error is every problem found in one scenario file. Load and Parse return
// it for any bad input, so the CLI can tell bad input (exit code 2) from
// other failures with errors.As.
type Error struct {
	File     string
	Problems []Problem
}

// Error prints one line per problem, "FILE:LINE:COL: PATH: MESSAGE", the
// form editors and CI problem matchers jump to.
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.position(p))
		if p.Path != "" {
			b.WriteString(p.Path)
			b.WriteString(": ")
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

func (e *Error) position(p Problem) string {
	if p.Column == 0 {
		return fmt.Sprintf("%s:%d: ", e.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d: ", e.File, p.Line, p.Column)
}

// sortProblems orders problems as they appear in the file; problems on the
// same spot keep the order they were found in.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Line != ps[j].Line {
			return ps[i].Line < ps[j].Line
		}
		return ps[i].Column < ps[j].Column
	})
}
