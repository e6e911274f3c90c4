package reports

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// WriteMarkdown writes report.md: the verdict and what it rests on, the
// operator's three questions answered in words, and tables of services,
// checks (expectations, and what was not rehearsed or could not be
// checked), faults, runbook and a compact timeline.
func WriteMarkdown(w io.Writer, r *Report) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "# chaosdrill report: %s\n\n", markdownText(r.Scenario))
	if r.Description != "" {
		fmt.Fprintf(b, "%s\n\n", markdownText(r.Description))
	}
	topology := "-"
	if r.Topology != nil {
		topology = r.Topology.Name
	}
	writeMarkdownTable(b, table{
		Headers: []string{"verdict", "platform", "seed", "topology", "duration"},
		Rows:    [][]string{{strings.ToUpper(r.Verdict), r.Platform, strconv.FormatUint(r.Seed, 10), topology, formatSeconds(r.DurationSeconds)}},
	})
	if len(r.Images) > 0 {
		fmt.Fprintf(b, "Images: %s\n\n", markdownText(imagesLine(r.Images)))
	}
	fmt.Fprintf(b, "%s\n\n", markdownText(verdictSentence(r)))
	if line := rehearsalSentence(r); line != "" {
		fmt.Fprintf(b, "%s\n\n", markdownText(line))
	}
	if r.Error != nil && len(r.Services) == 0 && len(r.Faults) == 0 && len(r.Runbook) == 0 {
		fmt.Fprintf(b, "Nothing was measured: the run stopped in its %s phase.\n", r.Error.Phase)
		return b.Flush()
	}

	fmt.Fprintf(b, "## Answers\n\n")
	for _, a := range answers(r) {
		fmt.Fprintf(b, "**%s**\n\n", markdownText(a.Question))
		for _, line := range a.Lines {
			fmt.Fprintf(b, "- %s\n", markdownText(line))
		}
		fmt.Fprintln(b)
	}

	sections := []section{
		{"Services", servicesTable(r), "No writes were issued."},
		{"Outage windows", outagesTable(r), "No write went unserved."},
		{"Checks", expectationsTable(r), "Nothing was checked."},
		{"Faults", faultsTable(r), "No fault was injected."},
		{"Runbook", runbookTable(r), "No runbook step ran."},
	}
	if reads := readsTable(r); len(reads.Rows) > 0 {
		// After the services and their outages, before the checks.
		sections = slices.Insert(sections, 2, section{"Reads", reads, ""})
	}
	if r.Rehearsal != nil {
		sections = append(sections,
			section{"Rehearsal: the people beside the assumptions", rehearsalTable(r), "The runbook has no step."},
			section{"Rehearsal history", historyTable(r), "No earlier rehearsal."})
	}
	sections = append(sections,
		section{"Overrides", overridesTable(r), "None: every model parameter has its default, and no --set changed the file."},
		section{"Drawn from the seed", sampledTable(r), "Nothing was drawn: the scenario fixes every time, delay and parameter."})
	for _, s := range sections {
		fmt.Fprintf(b, "## %s\n\n", s.title)
		if len(s.table.Rows) == 0 {
			fmt.Fprintf(b, "%s\n\n", s.empty)
			continue
		}
		writeMarkdownTable(b, s.table)
	}
	for _, s := range rolesSections(r) {
		fmt.Fprintf(b, "## %s\n\n", s.title)
		writeMarkdownTable(b, s.table)
	}

	fmt.Fprintf(b, "## Timeline\n\n")
	timeline, omitted := timelineTable(r, timelineEntriesListed)
	if len(timeline.Rows) == 0 {
		fmt.Fprintf(b, "Nothing happened.\n")
	} else {
		writeMarkdownTable(b, timeline)
		if omitted > 0 {
			fmt.Fprintf(b, "%d more entries are in report.json (routine sync passes, snapshots and lag samples are left out first).\n", omitted)
		}
	}
	return b.Flush()
}

// section is one titled table of report.md, with what it says when empty.
type section struct {
	title string
	table table
	empty string
}

func writeMarkdownTable(w io.Writer, t table) {
	cells := make([]string, len(t.Headers))
	for i, h := range t.Headers {
		cells[i] = markdownText(h)
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(t.Headers)))
	for _, row := range t.Rows {
		for i, c := range row {
			cells[i] = markdownText(c)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells[:len(row)], " | "))
	}
	fmt.Fprintln(w)
}

// markdownText keeps text from scenario files from becoming markup: most
// Markdown renderers pass raw HTML through, so a "<" that could open a tag
// is escaped; a pipe would split a table cell; "*" and "`" would start
// emphasis or code. Other text stays as written, so that the raw file reads
// well ("rto <= 20s").
func markdownText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '<' && i+1 < len(s) && opensTag(s[i+1]):
			b.WriteString("&lt;")
		case c == '|' || c == '*' || c == '`':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n' || c == '\r':
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func opensTag(c byte) bool {
	return c == '/' || c == '!' || c == '?' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// imagesLine lists a live run's images as "kind ref" pairs, by kind.
func imagesLine(images map[string]string) string {
	kinds := make([]string, 0, len(images))
	for kind := range images {
		kinds = append(kinds, kind)
	}
	sort.Strings(kinds)
	parts := make([]string, len(kinds))
	for i, kind := range kinds {
		parts[i] = kind + " " + images[kind]
	}
	return strings.Join(parts, ", ")
}

// overridesTable lists what the run changed from the defaults, and where.
func overridesTable(r *Report) table {
	t := table{Headers: []string{"parameter or field", "value", "set by"}}
	for _, o := range r.Overrides {
		by := "the file's parameters"
		if o.Source == OverrideSet {
			by = "run --set"
		}
		t.Rows = append(t.Rows, []string{o.Name, o.Value, by})
	}
	return t
}
