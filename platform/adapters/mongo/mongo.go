package mongo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Options configures a Client.
type Options struct {
	// Hosts are the replica-set member addresses as the members know them,
	// e.g. "mongo-east-1a:27017".
	Hosts []string
	// ReplicaSet is the replica set name; "" means a direct connection to
	// Hosts[0] with no discovery.
	ReplicaSet string
	// Resolve maps a member address to an address this process can dial
	// (127.0.0.1:PORT). It is called on every dial because Docker gives a
	// restarted container a new host port. nil dials addresses as they are.
	Resolve func(ctx context.Context, addr string) (string, error)
	// Database and Collection hold the workload's documents.
	Database, Collection string
	// WriteConcern is "1", "majority", a number of members, or the name of a
	// tag-set write mode from settings.getLastErrorModes (e.g.
	// "multiRegion"). "" means "majority".
	WriteConcern string
	// Timeout bounds one write; a write still unanswered then is Unknown.
	// 0 means DefaultWriteTimeout.
	Timeout time.Duration
	// ServerSelectionTimeout bounds the wait for a suitable server (the
	// primary for writes); a write that never found one is Failed. 0 means
	// the driver default of 30 s.
	ServerSelectionTimeout time.Duration
}

// DefaultWriteTimeout applies when Options.Timeout is 0. It is longer than a
// default election ("should not typically exceed 12 seconds",
// https://www.mongodb.com/docs/manual/core/replica-set-elections/) so that a
// write issued during one can still be retried onto the new primary.
const DefaultWriteTimeout = 15 * time.Second

// readBackBatch is how many ids one read-back query asks for: well under the
// 16 MiB BSON limit of the query document
// (https://www.mongodb.com/docs/manual/reference/limits/#mongodb-limit-BSON-Document-Size).
const readBackBatch = 1000

// Client writes the workload's documents to one replica set (or one server)
// and reads them back. It is safe for concurrent use.
type Client struct {
	runID      string
	opts       Options
	client     *mongo.Client
	collection *mongo.Collection
}

// Connect builds a client. Like the driver, it does not wait for a server:
// connections are made on first use, so Connect succeeds while members are
// still starting.
func Connect(ctx context.Context, runID string, o Options) (*Client, error) {
	if len(o.Hosts) == 0 {
		return nil, errors.New("connect mongo: no hosts")
	}
	if o.Database == "" || o.Collection == "" {
		return nil, errors.New("connect mongo: database and collection are required")
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultWriteTimeout
	}
	wc, err := parseWriteConcern(o.WriteConcern)
	if err != nil {
		return nil, fmt.Errorf("connect mongo: %w", err)
	}
	co := clientOptions(o)
	co.SetMonitor(&event.CommandMonitor{Started: commandStarted, Succeeded: commandSucceeded})
	client, err := mongo.Connect(co)
	if err != nil {
		return nil, fmt.Errorf("connect mongo: %w", err)
	}
	c := &Client{runID: runID, opts: o, client: client}
	c.collection = client.Database(o.Database).Collection(o.Collection, options.Collection().SetWriteConcern(wc))
	return c, nil
}

// clientOptions are the driver options shared by the workload client and the
// admin helpers.
func clientOptions(o Options) *options.ClientOptions {
	co := options.Client().SetHosts(o.Hosts).SetDialer(resolvingDialer{resolve: o.Resolve})
	if o.ReplicaSet == "" {
		co.SetHosts(o.Hosts[:1]).SetDirect(true)
	} else {
		co.SetReplicaSet(o.ReplicaSet)
	}
	if o.ServerSelectionTimeout > 0 {
		co.SetServerSelectionTimeout(o.ServerSelectionTimeout)
	}
	return co
}

// resolvingDialer lets the driver keep the members' own names in its
// topology (so discovery and failover work as in production) while dialing
// the host-side address each name maps to now.
type resolvingDialer struct {
	resolve func(ctx context.Context, addr string) (string, error)
	dialer  net.Dialer
}

func (d resolvingDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if d.resolve != nil {
		mapped, err := d.resolve(ctx, address)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", address, err)
		}
		address = mapped
	}
	return d.dialer.DialContext(ctx, network, address)
}

func parseWriteConcern(s string) (*writeconcern.WriteConcern, error) {
	switch s {
	case "", "majority":
		return writeconcern.Majority(), nil
	case "0":
		return nil, errors.New("write concern 0 is unacknowledged: outcomes could not be classified")
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 {
			return nil, fmt.Errorf("write concern %q: negative", s)
		}
		return &writeconcern.WriteConcern{W: n}, nil
	}
	return writeconcern.Custom(s), nil
}

// DocumentID is the _id written for operation op of a run. Including the run
// keeps runs against the same collection apart.
func DocumentID(runID string, op uint64) string { return fmt.Sprintf("%s-%d", runID, op) }

// attempts counts how many times the driver handed one write to the wire.
// The driver publishes CommandStarted, with the operation's context, just
// before it writes the command to a connection, so an insert that never got
// one was never sent.
type attempts struct{ started atomic.Int32 }

type attemptsKey struct{}

func markSent(ctx context.Context, e *event.CommandStartedEvent) {
	if a, ok := ctx.Value(attemptsKey{}).(*attempts); ok && e.CommandName == "insert" {
		a.started.Add(1)
	}
}

// Write inserts the document of operation op and classifies the answer (see
// the package documentation). It blocks for at most Options.Timeout.
func (c *Client) Write(ctx context.Context, op uint64) platform.Outcome {
	var a attempts
	ctx = context.WithValue(ctx, attemptsKey{}, &a)
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	_, err := c.collection.InsertOne(ctx, bson.D{
		{Key: "_id", Value: DocumentID(c.runID, op)},
		{Key: "run", Value: c.runID},
		{Key: "op", Value: int64(op)},
		{Key: "at", Value: time.Now()},
	})
	return classify(err, int(a.started.Load()))
}

// ReadBack sets present[i] for each ids[i] whose document exists. On a
// replica set it reads with read concern "majority", so a write that only a
// soon-to-roll-back primary holds does not count as present.
func (c *Client) ReadBack(ctx context.Context, ids []uint64, present []bool) error {
	if len(present) < len(ids) {
		return fmt.Errorf("read back mongo: %d ids but %d result slots", len(ids), len(present))
	}
	coll := c.collection
	if c.opts.ReplicaSet != "" {
		coll = c.client.Database(c.opts.Database).Collection(c.opts.Collection,
			options.Collection().SetReadConcern(readconcern.Majority()).SetReadPreference(readpref.Primary()))
	}
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		index[DocumentID(c.runID, id)] = i
		present[i] = false
	}
	for start := 0; start < len(ids); start += readBackBatch {
		end := min(start+readBackBatch, len(ids))
		keys := make([]string, 0, end-start)
		for _, id := range ids[start:end] {
			keys = append(keys, DocumentID(c.runID, id))
		}
		cur, err := coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: keys}}}},
			options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return fmt.Errorf("read back mongo: %w", err)
		}
		for cur.Next(ctx) {
			id, ok := cur.Current.Lookup("_id").StringValueOK()
			if !ok {
				continue
			}
			if i, ok := index[id]; ok {
				present[i] = true
			}
		}
		err = cur.Err()
		_ = cur.Close(ctx)
		if err != nil {
			return fmt.Errorf("read back mongo: %w", err)
		}
	}
	return nil
}

// Close disconnects, waiting for in-use connections until ctx ends.
func (c *Client) Close(ctx context.Context) error {
	if err := c.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("disconnect mongo: %w", err)
	}
	return nil
}
