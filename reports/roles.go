package reports

import (
	"strconv"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// VersionSkewReport is a role rebuilt on an older version of a key than the
// newest published (roles.rebuild): the bucket of the region it was built
// in had not received the newest. NewestAge is how long the newest version
// had been published when the role came back without it.
type VersionSkewReport struct {
	Step             string  `json:"step"`
	Role             string  `json:"role"`
	Region           string  `json:"region"`
	Key              string  `json:"key"`
	Version          string  `json:"version_rebuilt"`
	Newest           string  `json:"newest_version"`
	NewestAgeSeconds float64 `json:"newest_age_seconds"`
	AtSeconds        float64 `json:"at_seconds"`
}

// UpgradeReport is one rolling upgrade (roles.upgrade): the nodes restarted
// one at a time and the mixed-version window, from the first node back on
// the new version to the last (null ends while it never closed), with the
// writes of the role's service invoked from the upgrade's start to the
// window's end (or the end of the run) that failed, whose outcome is
// unknown, or that were acknowledged and lost.
type UpgradeReport struct {
	Step               string              `json:"step"`
	Role               string              `json:"role"`
	Service            string              `json:"service"`
	Key                string              `json:"key"`
	From               string              `json:"from_version"`
	To                 string              `json:"to_version"`
	Done               bool                `json:"done"`
	StartedAt          float64             `json:"started_at_seconds"`
	MixedFrom          *float64            `json:"mixed_from_seconds"`
	MixedUntil         *float64            `json:"mixed_until_seconds"`
	MixedWindowSeconds *float64            `json:"mixed_window_seconds"`
	Nodes              []UpgradeNodeReport `json:"nodes"`
	WritesFailed       int64               `json:"writes_failed"`
	WritesUnknown      int64               `json:"writes_unknown"`
	WritesLost         int64               `json:"writes_lost"`
}

// UpgradeNodeReport is one node of a rolling upgrade: stopped, started on
// the new version, and healthy again (null: never).
type UpgradeNodeReport struct {
	Node      string   `json:"node"`
	StoppedAt float64  `json:"stopped_at_seconds"`
	StartedAt *float64 `json:"started_at_seconds"`
	HealthyAt *float64 `json:"healthy_at_seconds"`
}

func versionSkewReports(skews []platform.VersionSkew) []VersionSkewReport {
	out := make([]VersionSkewReport, 0, len(skews))
	for _, s := range skews {
		out = append(out, VersionSkewReport{Step: s.Step, Role: s.Role, Region: s.Region, Key: s.Key, Version: s.Version, Newest: s.Newest,
			NewestAgeSeconds: seconds(s.At - s.NewestPublishedAt), AtSeconds: seconds(s.At)})
	}
	return out
}

// upgradeReports describes each upgrade and counts the writes of its
// service it spoiled, from the ledger (unverified services count no loss).
func upgradeReports(run *Run) []UpgradeReport {
	out := make([]UpgradeReport, 0, len(run.Upgrades))
	ledger := run.Ledger
	for _, u := range run.Upgrades {
		r := UpgradeReport{Step: u.Step, Role: u.Role, Service: u.Service, Key: u.Key, From: u.From, To: u.To, Done: u.Done,
			StartedAt: seconds(u.StartedAt), Nodes: []UpgradeNodeReport{}}
		if u.MixedFrom != nil {
			r.MixedFrom = secondsPointer(*u.MixedFrom)
		}
		end := run.Duration
		if u.MixedUntil != nil {
			r.MixedUntil = secondsPointer(*u.MixedUntil)
			end = *u.MixedUntil
			if u.MixedFrom != nil {
				r.MixedWindowSeconds = secondsPointer(*u.MixedUntil - *u.MixedFrom)
			}
		}
		for _, n := range u.NodesRestarted {
			nr := UpgradeNodeReport{Node: n.Node, StoppedAt: seconds(n.StoppedAt)}
			if n.StartedAt != nil {
				nr.StartedAt = secondsPointer(*n.StartedAt)
			}
			if n.HealthyAt != nil {
				nr.HealthyAt = secondsPointer(*n.HealthyAt)
			}
			r.Nodes = append(r.Nodes, nr)
		}
		if ledger != nil {
			r.WritesFailed, r.WritesUnknown, r.WritesLost = spoiled(ledger, u.Service, u.StartedAt, end, run.ReadBackErrors[u.Service] == "")
		}
		out = append(out, r)
	}
	return out
}

// spoiled counts the writes of service invoked in [from, to] that failed,
// stayed unknown, or were acknowledged and lost.
func spoiled(ledger *Ledger, service string, from, to time.Duration, verified bool) (failed, unknown, lost int64) {
	index := -1
	for i, s := range ledger.Services {
		if s == service {
			index = i
		}
	}
	if index < 0 {
		return 0, 0, 0
	}
	for _, op := range ledger.All() {
		if int(op.Service) != index || op.Invoked < from || op.Invoked > to {
			continue
		}
		switch op.Outcome {
		case platform.Failed:
			failed++
		case platform.Acked:
			if verified && !op.Present {
				lost++
			}
		default:
			unknown++
		}
	}
	return failed, unknown, lost
}

// rolesSections are the report's tables of version skew and rolling
// upgrades, for the runs that had any.
func rolesSections(r *Report) []struct {
	title string
	table table
} {
	var out []struct {
		title string
		table table
	}
	if len(r.VersionSkew) > 0 {
		t := table{Headers: []string{"role", "region", "key", "rebuilt on", "newest", "newest published before"}}
		for _, s := range r.VersionSkew {
			t.Rows = append(t.Rows, []string{s.Role, s.Region, s.Key, s.Version, s.Newest, formatSeconds(s.NewestAgeSeconds)})
		}
		out = append(out, struct {
			title string
			table table
		}{"Version skew", t})
	}
	if len(r.Upgrades) > 0 {
		t := table{Headers: []string{"role", "key", "from", "to", "done", "mixed versions for", "writes failed", "unknown", "lost"}}
		for _, u := range r.Upgrades {
			window := "never closed"
			if u.MixedWindowSeconds != nil {
				window = formatSeconds(*u.MixedWindowSeconds)
			}
			t.Rows = append(t.Rows, []string{u.Role, u.Key, u.From, u.To, strconv.FormatBool(u.Done), window,
				strconv.FormatInt(u.WritesFailed, 10), strconv.FormatInt(u.WritesUnknown, 10), strconv.FormatInt(u.WritesLost, 10)})
		}
		out = append(out, struct {
			title string
			table table
		}{"Rolling upgrades", t})
	}
	return out
}
