package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/tag"

	"github.com/chaosdrill/chaosdrill/platform"
)

// ReadSettings are a read workload's driver options: a read preference
// (platform.Read* names, "" primary), its tag sets, and a read concern
// (platform.ReadConcern* names, "" local).
type ReadSettings struct {
	Preference string
	TagSets    []map[string]string
	Concern    string
}

// ReadQuery is a read workload's query, with its read preference and read
// concern, prepared once.
type ReadQuery struct {
	collection *options.CollectionOptionsBuilder
	find       *options.FindOneOptionsBuilder
}

// NewReadQuery checks the settings and prepares the query. Tag sets need a
// preference other than primary, and linearizable reads the primary, as
// MongoDB requires
// (https://www.mongodb.com/docs/manual/core/read-preference-tags/,
// https://www.mongodb.com/docs/manual/reference/read-concern-linearizable/).
func NewReadQuery(s ReadSettings) (*ReadQuery, error) {
	preference := s.Preference
	if preference == "" {
		preference = platform.ReadPrimary
	}
	mode, err := readpref.ModeFromString(preference)
	if err != nil {
		return nil, fmt.Errorf("read query: %w", err)
	}
	var rp *readpref.ReadPref
	if len(s.TagSets) > 0 {
		if mode == readpref.PrimaryMode {
			return nil, errors.New("read query: tag sets cannot be used with read preference primary")
		}
		rp, err = readpref.New(mode, readpref.WithTagSets(tag.NewTagSetsFromMaps(s.TagSets)...))
	} else {
		rp, err = readpref.New(mode)
	}
	if err != nil {
		return nil, fmt.Errorf("read query: %w", err)
	}
	var rc *readconcern.ReadConcern
	switch s.Concern {
	case "", platform.ReadConcernLocal:
		rc = readconcern.Local()
	case platform.ReadConcernMajority:
		rc = readconcern.Majority()
	case platform.ReadConcernLinearizable:
		if mode != readpref.PrimaryMode {
			return nil, fmt.Errorf("read query: linearizable reads go to the primary only, not with read preference %q", preference)
		}
		rc = readconcern.Linearizable()
	default:
		return nil, fmt.Errorf("read query: unknown read concern %q", s.Concern)
	}
	return &ReadQuery{
		collection: options.Collection().SetReadPreference(rp).SetReadConcern(rc),
		// The newest write of the run: the document with the largest op.
		find: options.FindOne().SetSort(bson.D{{Key: "op", Value: -1}}).SetProjection(bson.D{{Key: "op", Value: 1}, {Key: "_id", Value: 0}}),
	}, nil
}

// EnsureReadIndex creates the index the read query walks ({run: 1, op: -1}),
// so that a read costs one index seek whatever the number of documents.
// Creating an index that exists does nothing.
func (c *Client) EnsureReadIndex(ctx context.Context) error {
	_, err := c.client.Database(c.opts.Database).Collection(c.opts.Collection).Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "run", Value: 1}, {Key: "op", Value: -1}},
	})
	if err != nil {
		return fmt.Errorf("create the read index: %w", err)
	}
	return nil
}

// ReadNewest runs q: the op id of the newest document of the run the
// selected member returns under q's read concern (platform.ReadNothing when
// it has none), and the address of the member that answered (as the
// replica set knows it, "mongo-east-1b:27017"; "" if unknown). The outcome
// is Acked with a value; Failed when the read got an error answer or never
// found a suitable server; Unknown when it timed out or lost its
// connection. It blocks until ctx ends at the latest.
func (c *Client) ReadNewest(ctx context.Context, q *ReadQuery) (outcome platform.Outcome, value uint64, member string) {
	var s served
	ctx = context.WithValue(ctx, servedKey{}, &s)
	coll := c.client.Database(c.opts.Database).Collection(c.opts.Collection, q.collection)
	var doc struct {
		Op int64 `bson:"op"`
	}
	err := coll.FindOne(ctx, bson.D{{Key: "run", Value: c.runID}}, q.find).Decode(&doc)
	switch {
	case err == nil:
		return platform.Acked, uint64(doc.Op), s.server()
	case errors.Is(err, mongo.ErrNoDocuments):
		return platform.Acked, platform.ReadNothing, s.server()
	}
	return classifyRead(err, s.sent), platform.ReadNothing, ""
}

// classifyRead turns a failed read into Failed or Unknown. A read that
// never reached the wire (no suitable server found in time, the dial
// refused, the context ended first) or that got an error answer (not
// primary, interrupted by a step-down) did not happen: Failed. One sent
// that then timed out or lost its connection may have been served, but the
// client never learned what: Unknown. A read changes nothing, so the two
// differ only in what the client was told.
func classifyRead(err error, sent bool) platform.Outcome {
	if !sent {
		return platform.Failed
	}
	if mongo.IsTimeout(err) || mongo.IsNetworkError(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return platform.Unknown
	}
	return platform.Failed
}

// served records what became of one read: whether the driver put its find
// on the wire (it publishes CommandStarted just before), and the connection
// that answered (CommandSucceeded), both with the operation's context.
type served struct {
	sent       bool
	connection string
}

type servedKey struct{}

// server is the member's address: the connection ID without its
// "[-N]" counter.
func (s *served) server() string {
	address, _, _ := strings.Cut(s.connection, "[")
	return address
}

// commandStarted is the client's CommandStarted hook: it counts a write's
// attempts (markSent) and marks a read sent.
func commandStarted(ctx context.Context, e *event.CommandStartedEvent) {
	markSent(ctx, e)
	if s, ok := ctx.Value(servedKey{}).(*served); ok && e.CommandName == "find" {
		s.sent = true
	}
}

// commandSucceeded is the client's CommandSucceeded hook: it records the
// connection that answered a read.
func commandSucceeded(ctx context.Context, e *event.CommandSucceededEvent) {
	if s, ok := ctx.Value(servedKey{}).(*served); ok && e.CommandName == "find" {
		s.connection = e.ConnectionID
	}
}
