package mongo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/chaosdrill/chaosdrill/platform"
)

// ErrNoPrimary is returned by Primary when the set has no primary now.
var ErrNoPrimary = errors.New("mongo: no primary")

// MemberConfig is one member of a replica-set configuration
// (https://www.mongodb.com/docs/manual/reference/replica-configuration/#members).
type MemberConfig struct {
	ID       int               // members[n]._id; AddMember picks the next free one
	Host     string            // address as the members know it, e.g. "mongo-east-1a:27017"
	Priority float64           // 0 = never primary
	Votes    *int              // nil = 1, MongoDB's default
	Hidden   bool              // requires Priority 0
	Tags     map[string]string // used by tag-set write modes
}

// ReplicaSetConfig is what Initiate installs.
type ReplicaSetConfig struct {
	Name    string
	Members []MemberConfig
	// ElectionTimeout is settings.electionTimeoutMillis; 0 keeps the server
	// default (10 s).
	ElectionTimeout time.Duration
	// WriteModes is settings.getLastErrorModes, e.g.
	// {"multiRegion": {"region": 2}}.
	WriteModes map[string]map[string]int
}

// ConfigFor builds the replica-set configuration of a topology's mongo
// service. host maps a member's node name to the address the members use for
// it (the container alias and port). Member _ids follow the topology order.
func ConfigFor(spec platform.ServiceSpec, host func(member string) string) ReplicaSetConfig {
	cfg := ReplicaSetConfig{Name: spec.ReplicaSet, WriteModes: spec.WriteModes}
	for i, m := range spec.Members {
		cfg.Members = append(cfg.Members, MemberConfig{
			ID: i, Host: host(m.Name), Priority: m.Priority, Votes: m.Votes, Hidden: m.Hidden, Tags: m.Tags,
		})
	}
	return cfg
}

// MemberStatus is one member as replSetGetStatus reports it.
type MemberStatus struct {
	Name       string    // host:port as configured
	State      string    // stateStr: PRIMARY, SECONDARY, (not reachable/healthy), ...
	Healthy    bool      // health == 1
	OptimeDate time.Time // last applied operation, whole seconds
	// LastAppliedWallTime is the primary's wall clock, in milliseconds,
	// when it wrote the member's last applied operation; zero when the
	// server does not report it (before 4.2.18/4.4.11, see
	// https://jira.mongodb.org/browse/SERVER-54909).
	LastAppliedWallTime time.Time
	// Lag is how far this member's last applied operation is behind the
	// primary's: the difference of their lastAppliedWallTime (millisecond
	// resolution), or of their optimeDate (whole seconds) where either
	// member lacks a wall time. It is 0 for the primary, for unhealthy
	// members, and when there is no primary.
	Lag time.Duration
}

// ReplicaSetStatus is the replica set as one member sees it.
type ReplicaSetStatus struct {
	Set     string
	Primary string // "" when there is none
	Members []MemberStatus
}

// Primary names the current primary as the members know it. On a server
// that is not part of a replica set but accepts writes (a standalone), it is
// that server's address, Options.Hosts[0].
func (c *Client) Primary(ctx context.Context) (string, error) {
	var hello struct {
		SetName           string `bson:"setName"`
		Primary           string `bson:"primary"`
		IsWritablePrimary bool   `bson:"isWritablePrimary"`
	}
	err := c.client.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}},
		options.RunCmd().SetReadPreference(readpref.Nearest())).Decode(&hello)
	if err != nil {
		return "", fmt.Errorf("ask mongo for its primary: %w", err)
	}
	switch {
	case hello.Primary != "":
		return hello.Primary, nil
	case hello.SetName == "" && hello.IsWritablePrimary:
		return c.opts.Hosts[0], nil
	default:
		return "", ErrNoPrimary
	}
}

// rawStatus is the part of replSetGetStatus that Status reads
// (https://www.mongodb.com/docs/manual/reference/command/replSetGetStatus/).
type rawStatus struct {
	Set     string            `bson:"set"`
	Members []rawMemberStatus `bson:"members"`
}

// rawMemberStatus is one element of replSetGetStatus's members array.
type rawMemberStatus struct {
	Name                string    `bson:"name"`
	Health              float64   `bson:"health"`
	StateStr            string    `bson:"stateStr"`
	OptimeDate          time.Time `bson:"optimeDate"`
	LastAppliedWallTime time.Time `bson:"lastAppliedWallTime"`
}

// Status runs replSetGetStatus on any reachable member, preferring the
// primary.
func (c *Client) Status(ctx context.Context) (ReplicaSetStatus, error) {
	var raw rawStatus
	err := c.client.Database("admin").RunCommand(ctx, bson.D{{Key: "replSetGetStatus", Value: 1}},
		options.RunCmd().SetReadPreference(readpref.PrimaryPreferred())).Decode(&raw)
	if err != nil {
		return ReplicaSetStatus{}, fmt.Errorf("get mongo replica set status: %w", err)
	}
	return raw.status(), nil
}

// StatusAt runs replSetGetStatus on the member reachable at directAddr (a
// dialable address), without discovery. The runbook needs it where the
// workload client cannot help: a hidden member is never selected by the
// driver, so after losing every visible member only a direct connection
// reaches the survivor.
func StatusAt(ctx context.Context, directAddr string) (ReplicaSetStatus, error) {
	var raw rawStatus
	if err := runAdmin(ctx, directAddr, bson.D{{Key: "replSetGetStatus", Value: 1}}, &raw); err != nil {
		return ReplicaSetStatus{}, fmt.Errorf("get mongo replica set status from %s: %w", directAddr, err)
	}
	return raw.status(), nil
}

func (raw rawStatus) status() ReplicaSetStatus {
	s := ReplicaSetStatus{Set: raw.Set}
	var primary rawMemberStatus
	for _, m := range raw.Members {
		if m.StateStr == "PRIMARY" {
			s.Primary = m.Name
			primary = m
		}
	}
	for _, m := range raw.Members {
		ms := MemberStatus{Name: m.Name, State: m.StateStr, Healthy: m.Health == 1, OptimeDate: m.OptimeDate, LastAppliedWallTime: m.LastAppliedWallTime}
		if s.Primary != "" && ms.Healthy && m.Name != s.Primary {
			ms.Lag = lagBehind(primary, m)
		}
		s.Members = append(s.Members, ms)
	}
	return s
}

// lagBehind is how far member's last applied operation is behind the
// primary's. The members' lastAppliedWallTime has millisecond resolution;
// optimeDate only whole seconds, so a 30 ms lag would read 0 or 1 s
// (https://jira.mongodb.org/browse/SERVER-54909): the optime is the
// fallback for servers that do not report wall times.
func lagBehind(primary, member rawMemberStatus) time.Duration {
	from, to := primary.OptimeDate, member.OptimeDate
	if !primary.LastAppliedWallTime.IsZero() && !member.LastAppliedWallTime.IsZero() {
		from, to = primary.LastAppliedWallTime, member.LastAppliedWallTime
	}
	if from.After(to) {
		return from.Sub(to)
	}
	return 0
}

// rsConfig is a replica-set configuration as replSetGetConfig returns it.
// Extra keeps the fields this package does not touch (protocolVersion,
// settings, ...) so that a reconfig sends them back unchanged.
type rsConfig struct {
	ID      string         `bson:"_id"`
	Version int64          `bson:"version"`
	Members []rsMember     `bson:"members"`
	Extra   map[string]any `bson:",inline"`
}

type rsMember struct {
	ID       int               `bson:"_id"`
	Host     string            `bson:"host"`
	Priority float64           `bson:"priority"`
	Votes    int               `bson:"votes"`
	Hidden   bool              `bson:"hidden"`
	Tags     map[string]string `bson:"tags,omitempty"`
	Extra    map[string]any    `bson:",inline"`
}

func (m MemberConfig) raw() rsMember {
	votes := 1
	if m.Votes != nil {
		votes = *m.Votes
	}
	return rsMember{ID: m.ID, Host: m.Host, Priority: m.Priority, Votes: votes, Hidden: m.Hidden, Tags: m.Tags}
}

func (cfg ReplicaSetConfig) raw() rsConfig {
	out := rsConfig{ID: cfg.Name, Version: 1}
	for _, m := range cfg.Members {
		out.Members = append(out.Members, m.raw())
	}
	settings := bson.D{}
	if cfg.ElectionTimeout > 0 {
		settings = append(settings, bson.E{Key: "electionTimeoutMillis", Value: cfg.ElectionTimeout.Milliseconds()})
	}
	if len(cfg.WriteModes) > 0 {
		settings = append(settings, bson.E{Key: "getLastErrorModes", Value: cfg.WriteModes})
	}
	if len(settings) > 0 {
		out.Extra = map[string]any{"settings": settings}
	}
	return out
}

// forced is cfg reduced to the members in keep, with promote made electable:
// priority 1, not hidden, one vote. It follows "Reconfigure by Forcing the
// Reconfiguration"
// (https://www.mongodb.com/docs/manual/tutorial/reconfigure-replica-set-with-unavailable-members/).
// The server raises the version of a forced config by a large random amount
// itself; term is dropped because a forced reconfig must not carry one.
func (cfg rsConfig) forced(keep []string, promote string) (rsConfig, error) {
	if !slices.Contains(keep, promote) {
		return rsConfig{}, fmt.Errorf("promote %q is not among the members to keep %v", promote, keep)
	}
	out := cfg
	out.Members = nil
	out.Extra = withoutKey(cfg.Extra, "term")
	for _, m := range cfg.Members {
		if !slices.Contains(keep, m.Host) {
			continue
		}
		if m.Host == promote {
			m.Priority, m.Hidden, m.Votes = 1, false, 1
		}
		out.Members = append(out.Members, m)
	}
	for _, host := range keep {
		if !slices.ContainsFunc(out.Members, func(m rsMember) bool { return m.Host == host }) {
			return rsConfig{}, fmt.Errorf("member %q to keep is not in the configuration", host)
		}
	}
	out.Version++
	return out, nil
}

// adding is cfg with one new member, given the next free _id.
func (cfg rsConfig) adding(member MemberConfig) (rsConfig, error) {
	next := 0
	for _, m := range cfg.Members {
		if m.Host == member.Host {
			return rsConfig{}, fmt.Errorf("%q is already a member", member.Host)
		}
		next = max(next, m.ID+1)
	}
	out := cfg
	out.Extra = withoutKey(cfg.Extra, "term")
	raw := member.raw()
	raw.ID = next
	out.Members = append(slices.Clone(cfg.Members), raw)
	out.Version++
	return out, nil
}

func withoutKey(m map[string]any, key string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// reconfigMaxTime bounds a non-force replSetReconfig, which since 4.4 waits
// for a majority to install the new config; when it runs out the command
// errors but the config still propagates
// (https://www.mongodb.com/docs/manual/reference/command/replSetReconfig/).
// A shorter ctx deadline wins.
const reconfigMaxTime = 60 * time.Second

// maxTimeMS is the maxTimeMS of a command that may take at most limit, or
// less if ctx ends sooner: a positive whole number of milliseconds, since 0
// means "no limit" to the server
// (https://www.mongodb.com/docs/manual/reference/method/cursor.maxTimeMS/).
func maxTimeMS(ctx context.Context, limit time.Duration) (int64, error) {
	if deadline, ok := ctx.Deadline(); ok {
		limit = min(limit, time.Until(deadline))
	}
	if limit <= 0 {
		return 0, fmt.Errorf("no time left for the command: %w", context.DeadlineExceeded)
	}
	return max(1, limit.Milliseconds()), nil
}

// defaultCatchUpPeriod is replSetStepDown's secondaryCatchUpPeriodSecs
// default (https://www.mongodb.com/docs/manual/reference/command/replSetStepDown/).
const defaultCatchUpPeriod = 10

// runAdmin runs one admin command on the server at addr (dialed as is,
// without discovery) and decodes the reply into out when it is not nil.
func runAdmin(ctx context.Context, addr string, cmd bson.D, out any) error {
	client, err := mongo.Connect(options.Client().SetHosts([]string{addr}).SetDirect(true))
	if err != nil {
		return err
	}
	defer func() { _ = client.Disconnect(context.WithoutCancel(ctx)) }()
	res := client.Database("admin").RunCommand(ctx, cmd)
	if out == nil {
		return res.Err()
	}
	return res.Decode(out)
}

func getConfig(ctx context.Context, addr string) (rsConfig, error) {
	var reply struct {
		Config rsConfig `bson:"config"`
	}
	if err := runAdmin(ctx, addr, bson.D{{Key: "replSetGetConfig", Value: 1}}, &reply); err != nil {
		return rsConfig{}, err
	}
	return reply.Config, nil
}

// Initiate runs replSetInitiate with cfg on the member reachable at
// directAddr (a dialable address, e.g. 127.0.0.1:PORT). Every Host in cfg
// must resolve on every member.
//
// It is idempotent: when the member answers AlreadyInitialized (an earlier
// attempt went through but its reply was lost), the installed configuration
// is read back and, if it is cfg, that is success; another configuration is
// an error naming the difference.
func Initiate(ctx context.Context, directAddr string, cfg ReplicaSetConfig) error {
	return initiate(cfg,
		func(cmd bson.D) error { return runAdmin(ctx, directAddr, cmd, nil) },
		func() (rsConfig, error) { return getConfig(ctx, directAddr) })
}

// codeAlreadyInitialized is replSetInitiate's answer on a member that has a
// configuration already (https://www.mongodb.com/docs/manual/reference/error-codes/).
const codeAlreadyInitialized = 23

func initiate(cfg ReplicaSetConfig, run func(bson.D) error, installed func() (rsConfig, error)) error {
	want := cfg.raw()
	err := run(bson.D{{Key: "replSetInitiate", Value: want}})
	if err == nil {
		return nil
	}
	var server mongo.ServerError
	if !errors.As(err, &server) || !server.HasErrorCode(codeAlreadyInitialized) {
		return fmt.Errorf("initiate mongo replica set %s: %w", cfg.Name, err)
	}
	have, readErr := installed()
	if readErr != nil {
		return fmt.Errorf("initiate mongo replica set %s: already initialized, and its configuration could not be read: %w", cfg.Name, readErr)
	}
	if difference := want.differsFrom(have); difference != "" {
		return fmt.Errorf("initiate mongo replica set %s: already initialized with another configuration (%s)", cfg.Name, difference)
	}
	return nil
}

// configSettings are the settings Initiate installs, as a configuration
// read back carries them (among the server's defaults for the others).
type configSettings struct {
	ElectionTimeoutMillis int64                     `bson:"electionTimeoutMillis"`
	GetLastErrorModes     map[string]map[string]int `bson:"getLastErrorModes"`
}

func (cfg rsConfig) settings() configSettings {
	var out configSettings
	if raw, err := bson.Marshal(bson.D{{Key: "settings", Value: cfg.Extra["settings"]}}); err == nil {
		var wrapper struct {
			Settings configSettings `bson:"settings"`
		}
		if bson.Unmarshal(raw, &wrapper) == nil {
			out = wrapper.Settings
		}
	}
	return out
}

// differsFrom names the first way the installed configuration have differs
// from cfg in what Initiate sets (set name, members and their options, the
// election timeout and write modes); "" when it does not. The server fills
// in defaults cfg leaves out (heartbeat settings, protocolVersion, ...), so
// those are not compared.
func (cfg rsConfig) differsFrom(have rsConfig) string {
	if cfg.ID != have.ID {
		return fmt.Sprintf("set name %q, want %q", have.ID, cfg.ID)
	}
	if len(cfg.Members) != len(have.Members) {
		return fmt.Sprintf("%d members, want %d", len(have.Members), len(cfg.Members))
	}
	for i, w := range cfg.Members {
		h := have.Members[i]
		switch {
		case w.ID != h.ID || w.Host != h.Host:
			return fmt.Sprintf("member %d is _id %d %s, want _id %d %s", i, h.ID, h.Host, w.ID, w.Host)
		case w.Priority != h.Priority || w.Votes != h.Votes || w.Hidden != h.Hidden:
			return fmt.Sprintf("member %s has priority %v votes %d hidden %v, want %v %d %v", w.Host, h.Priority, h.Votes, h.Hidden, w.Priority, w.Votes, w.Hidden)
		case !maps.Equal(w.Tags, h.Tags) && (len(w.Tags) > 0 || len(h.Tags) > 0):
			return fmt.Sprintf("member %s has tags %v, want %v", w.Host, h.Tags, w.Tags)
		}
	}
	want, got := cfg.settings(), have.settings()
	if want.ElectionTimeoutMillis != 0 && want.ElectionTimeoutMillis != got.ElectionTimeoutMillis {
		return fmt.Sprintf("electionTimeoutMillis %d, want %d", got.ElectionTimeoutMillis, want.ElectionTimeoutMillis)
	}
	for mode, tags := range want.GetLastErrorModes {
		if !maps.Equal(tags, got.GetLastErrorModes[mode]) {
			return fmt.Sprintf("write mode %s is %v, want %v", mode, got.GetLastErrorModes[mode], tags)
		}
	}
	return ""
}

// ForceReconfigure installs, on the member reachable at directAddr, the
// current configuration reduced to the members in keep (hosts as configured),
// with promote made electable, using replSetReconfig with force: true.
func ForceReconfigure(ctx context.Context, directAddr string, keep []string, promote string) error {
	cfg, err := getConfig(ctx, directAddr)
	if err != nil {
		return fmt.Errorf("force-reconfigure mongo: read config: %w", err)
	}
	next, err := cfg.forced(keep, promote)
	if err != nil {
		return fmt.Errorf("force-reconfigure mongo: %w", err)
	}
	cmd := bson.D{{Key: "replSetReconfig", Value: next}, {Key: "force", Value: true}}
	if err := runAdmin(ctx, directAddr, cmd, nil); err != nil {
		return fmt.Errorf("force-reconfigure mongo: %w", err)
	}
	return nil
}

// AddMember adds one member with a normal (non-force) reconfig on the primary
// reachable at primaryAddr. A non-force reconfig may add at most one voting
// member, so adding two takes two calls. The member's _id is chosen here.
// The command waits for a majority to install the config, for at most
// reconfigMaxTime or until ctx ends; the new member's initial sync is not
// awaited (poll Status for it to reach SECONDARY).
func AddMember(ctx context.Context, primaryAddr string, member MemberConfig) error {
	cfg, err := getConfig(ctx, primaryAddr)
	if err != nil {
		return fmt.Errorf("add mongo member %s: read config: %w", member.Host, err)
	}
	next, err := cfg.adding(member)
	if err != nil {
		return fmt.Errorf("add mongo member %s: %w", member.Host, err)
	}
	maxTime, err := maxTimeMS(ctx, reconfigMaxTime)
	if err != nil {
		return fmt.Errorf("add mongo member %s: %w", member.Host, err)
	}
	cmd := bson.D{{Key: "replSetReconfig", Value: next}, {Key: "maxTimeMS", Value: maxTime}}
	if err := runAdmin(ctx, primaryAddr, cmd, nil); err != nil {
		return fmt.Errorf("add mongo member %s: %w", member.Host, err)
	}
	return nil
}

// StepDown asks the primary reachable at primaryAddr to step down and not
// seek election for secs seconds, giving secondaries up to half of that
// (at most the default 10 s) to catch up.
func StepDown(ctx context.Context, primaryAddr string, secs int) error {
	if secs < 2 {
		return fmt.Errorf("step down mongo primary: %d s is too short: it must exceed the catch-up period", secs)
	}
	cmd := bson.D{
		{Key: "replSetStepDown", Value: secs},
		{Key: "secondaryCatchUpPeriodSecs", Value: min(defaultCatchUpPeriod, secs/2)},
	}
	if err := runAdmin(ctx, primaryAddr, cmd, nil); err != nil {
		return fmt.Errorf("step down mongo primary %s: %w", primaryAddr, err)
	}
	return nil
}
