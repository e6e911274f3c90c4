package reports

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/chaosdrill/chaosdrill/internal/files"
)

// maxRunsPerSet bounds the runs read from one folder.
const maxRunsPerSet = 10_000

// StoredRun is one run read back from disk: its report (validated, its
// verdict worked out again), its run.json when there is one, and the
// folder it was in.
type StoredRun struct {
	Dir    string
	Report *Report
	Info   *RunInfo
}

// RunSet is what one path given to `report compare` or `report trend`
// holds: a single run (a report.json, or the folder it is in) or a suite
// (a folder with summary.json, or with one folder of reports per
// scenario).
type RunSet struct {
	Path string
	// Suite is the suite's summary.json; nil for a single run or a folder
	// of run folders without one.
	Suite *SuiteSummary
	Runs  []StoredRun
	// Warnings are things a reader should know that do not stop the
	// comparison: a stored verdict the report's own figures contradict.
	Warnings []string
}

// LoadRunSet reads the runs at path. A file is one report.json. A folder
// holding report.json is one run; one holding summary.json is a suite
// whose runs are the folders it lists; any other folder is a suite of the
// folders in it that hold a report.json. Every report is read as
// `chaosdrill report` reads one (size cap, schema, validation), and its
// verdict is worked out again from its own figures. Two runs of one
// scenario in a set are an error, as is a set with no run.
func LoadRunSet(path string) (*RunSet, error) {
	set := &RunSet{Path: path}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	switch {
	case !st.IsDir():
		if err := set.add(filepath.Dir(path), path); err != nil {
			return nil, err
		}
	case exists(filepath.Join(path, FileJSON)):
		if err := set.add(path, filepath.Join(path, FileJSON)); err != nil {
			return nil, err
		}
	case exists(filepath.Join(path, FileSuiteJSON)):
		summaryPath := filepath.Join(path, FileSuiteJSON)
		b, err := files.ReadRegular(summaryPath, maxSuiteBytes)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", summaryPath, err)
		}
		if set.Suite, err = DecodeSuite(summaryPath, b); err != nil {
			return nil, err
		}
		for _, run := range set.Suite.Runs {
			if run.Folder == "" {
				continue
			}
			if !filepath.IsLocal(run.Folder) {
				return nil, fmt.Errorf("%s: run %q has folder %q, which is not inside the suite's folder", summaryPath, run.Scenario, run.Folder)
			}
			dir := filepath.Join(path, run.Folder)
			if err := set.add(dir, filepath.Join(dir, FileJSON)); err != nil {
				return nil, err
			}
		}
	default:
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			dir := filepath.Join(path, e.Name())
			if !e.IsDir() || !exists(filepath.Join(dir, FileJSON)) {
				continue
			}
			if err := set.add(dir, filepath.Join(dir, FileJSON)); err != nil {
				return nil, err
			}
		}
	}
	if len(set.Runs) == 0 {
		return nil, fmt.Errorf("%s: no report.json there, in a summary.json's folders, or in the folders inside it", path)
	}
	return set, nil
}

// add reads one run into the set.
func (s *RunSet) add(dir, reportPath string) error {
	if len(s.Runs) == maxRunsPerSet {
		return fmt.Errorf("%s: more than %d runs", s.Path, maxRunsPerSet)
	}
	r, err := Read(reportPath)
	if err != nil {
		return err
	}
	if worked := RecomputeVerdict(r); worked != r.Verdict {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%s: the stored verdict %q contradicts the report's own figures, which give %q; using %q", reportPath, r.Verdict, worked, worked))
		r.Verdict = worked
	}
	for _, other := range s.Runs {
		if other.Report.Scenario == r.Scenario {
			return fmt.Errorf("%s: scenario %q is there twice (%s and %s)", s.Path, r.Scenario, other.Dir, dir)
		}
	}
	info, err := ReadRunInfo(dir)
	if err != nil {
		return err
	}
	s.Runs = append(s.Runs, StoredRun{Dir: dir, Report: r, Info: info})
	return nil
}

// Run returns the set's run of a scenario.
func (s *RunSet) Run(scenario string) (StoredRun, bool) {
	i := slices.IndexFunc(s.Runs, func(r StoredRun) bool { return r.Report.Scenario == scenario })
	if i < 0 {
		return StoredRun{}, false
	}
	return s.Runs[i], true
}

// pathDate finds a date in a folder's name, as nightly folders are often
// named (nightly-2025-03-14, 20250314): 8 digits, dashes allowed, not part
// of a longer number.
var pathDate = regexp.MustCompile(`(?:^|[^0-9])((?:19|20|21)\d{2})-?(\d{2})-?(\d{2})(?:[^0-9]|$)`)

// StartedAt is when the set ran by the wall clock: the suite's start from
// summary.json, else the earliest run.json start of its runs, else a date
// (UTC midnight) in the name of its folder or of the folder above. ok is
// false when none says.
func (s *RunSet) StartedAt() (at time.Time, source string, ok bool) {
	if s.Suite != nil && !s.Suite.StartedAt.IsZero() {
		return s.Suite.StartedAt, FileSuiteJSON, true
	}
	for _, r := range s.Runs {
		if r.Info != nil && (!ok || r.Info.StartedAt.Before(at)) {
			at, ok = r.Info.StartedAt, true
		}
	}
	if ok {
		return at, FileRunInfo, true
	}
	// The folder's own name, then its parent's (nights/2025-03-14/suite);
	// for a report.json, its folder's.
	dir := s.Path
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		dir = filepath.Dir(dir)
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	for _, name := range []string{filepath.Base(dir), filepath.Base(filepath.Dir(dir))} {
		matches := pathDate.FindAllStringSubmatch(name, -1)
		for i := len(matches) - 1; i >= 0; i-- {
			m := matches[i]
			if t, err := time.Parse("2006-01-02", m[1]+"-"+m[2]+"-"+m[3]); err == nil {
				return t, "the folder's name", true
			}
		}
	}
	return time.Time{}, "", false
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}
