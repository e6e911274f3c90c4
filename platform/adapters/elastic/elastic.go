package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sort"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Options configures a Client.
type Options struct {
	Addresses []string // e.g. "http://127.0.0.1:9200"; requests go round-robin, a dead node is skipped
	Index     string
	// Timeout bounds one request; a bulk still unanswered then leaves its
	// items Unknown. 0 means DefaultTimeout.
	Timeout time.Duration
	// Transport carries the requests; nil means a fresh http.Transport.
	Transport http.RoundTripper
}

// DefaultTimeout applies when Options.Timeout is 0. It is longer than the
// one minute an index request waits for a replica to be promoted when its
// primary is lost (the request `timeout` default,
// https://www.elastic.co/docs/deploy-manage/distributed-architecture/reading-and-writing-documents),
// so that a write during a promotion gets the cluster's answer.
const DefaultTimeout = 70 * time.Second

// SnapshotTimeout bounds Snapshot and Restore, which wait for completion.
const SnapshotTimeout = 10 * time.Minute

// readBackBatch is how many ids one _mget asks for; the request body stays
// far below http.max_content_length (100mb,
// https://www.elastic.co/guide/en/elasticsearch/reference/8.19/modules-network.html).
const readBackBatch = 1000

// ErrNoSnapshot is returned by LatestSnapshot when the repository holds no
// successful snapshot.
var ErrNoSnapshot = errors.New("elastic: no successful snapshot in the repository")

// ResponseError is an Elasticsearch error answer.
type ResponseError struct {
	Status int
	Type   string // error.type, e.g. "index_not_found_exception"
	Reason string
}

func (e *ResponseError) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("elasticsearch answered %d", e.Status)
	}
	return fmt.Sprintf("elasticsearch answered %d %s: %s", e.Status, e.Type, e.Reason)
}

// Client is the log aggregation tier's handle on one Elasticsearch cluster.
// It is safe for concurrent use.
type Client struct {
	runID string
	opts  Options
	es    *elasticsearch.Client
}

// New builds a client. It sends nothing.
func New(runID string, o Options) (*Client, error) {
	if len(o.Addresses) == 0 || o.Index == "" {
		return nil, errors.New("new elasticsearch client: addresses and index are required")
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	inner := o.Transport
	if inner == nil {
		inner = http.DefaultTransport.(*http.Transport).Clone()
	}
	es, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses: o.Addresses,
		Transport: tracingTransport{inner: inner},
	})
	if err != nil {
		return nil, fmt.Errorf("new elasticsearch client: %w", err)
	}
	return &Client{runID: runID, opts: o, es: es}, nil
}

// DocumentID is the _id of operation op.
func DocumentID(runID string, op uint64) string { return fmt.Sprintf("%s-%d", runID, op) }

// attempts counts requests whose headers went to the wire; the transport
// retries on other nodes, so one call may send more than one.
type attempts struct{ wrote atomic.Int32 }

type attemptsKey struct{}

type tracingTransport struct{ inner http.RoundTripper }

func (t tracingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if a, ok := req.Context().Value(attemptsKey{}).(*attempts); ok {
		trace := &httptrace.ClientTrace{WroteHeaders: func() { a.wrote.Add(1) }}
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	}
	return t.inner.RoundTrip(req)
}

// bulkItem is one entry of a _bulk answer
// (https://www.elastic.co/guide/en/elasticsearch/reference/8.19/docs-bulk.html#bulk-api-response-body).
type bulkItem struct {
	ID     string `json:"_id"`
	Status int    `json:"status"`
	Error  *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

// Bulk indexes the log events of ops in one _bulk request and sets
// outcomes[i] for ops[i] (see the package documentation for the rules).
func (c *Client) Bulk(ctx context.Context, ops []uint64, outcomes []platform.Outcome) {
	if len(ops) == 0 {
		return
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	now := time.Now().UTC()
	for _, op := range ops {
		_ = enc.Encode(map[string]any{"index": map[string]string{"_index": c.opts.Index, "_id": DocumentID(c.runID, op)}})
		_ = enc.Encode(map[string]any{"run": c.runID, "op": op, "@timestamp": now, "message": "chaosdrill log event"})
	}
	var a attempts
	ctx = context.WithValue(ctx, attemptsKey{}, &a)
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	res, err := esapi.BulkRequest{Body: &body}.Do(ctx, c.es)
	setAll := func(o platform.Outcome) {
		for i := range ops {
			outcomes[i] = o
		}
	}
	if err != nil {
		if a.wrote.Load() == 0 {
			setAll(platform.Failed)
		} else {
			setAll(platform.Unknown)
		}
		return
	}
	defer res.Body.Close()
	retried := a.wrote.Load() > 1
	if res.IsError() {
		setAll(requestOutcome(res.StatusCode, retried))
		return
	}
	var answer struct {
		Items []map[string]bulkItem `json:"items"`
	}
	if err := json.NewDecoder(res.Body).Decode(&answer); err != nil {
		setAll(platform.Unknown)
		return
	}
	for i, op := range ops {
		outcomes[i] = platform.Unknown
		if i >= len(answer.Items) {
			continue
		}
		for _, item := range answer.Items[i] {
			if item.ID == DocumentID(c.runID, op) {
				outcomes[i] = itemOutcome(item.Status, retried)
			}
		}
	}
}

// requestOutcome classifies a whole _bulk request the cluster answered with
// an error status: a 4xx (bad request, 429 when indexing pressure or a full
// queue rejects it before any item runs) refused everything; a 5xx may come
// after some items ran.
func requestOutcome(status int, retried bool) platform.Outcome {
	if status >= 400 && status < 500 && !retried {
		return platform.Failed
	}
	return platform.Unknown
}

// itemOutcome classifies one item of a _bulk answer. 200 and 201 are Acked:
// the item is on every in-sync copy (translog durability "request"). A 4xx
// is Failed: mapping and validation errors (400) and 429
// es_rejected_execution_exception are raised on the primary before the item
// is applied. A 5xx is Unknown: 503 unavailable_shards_exception or a node
// closing during replication can follow an attempt on a primary that
// applied the item before it failed. If the transport had to resend the
// request (an earlier attempt went out and got no usable answer), an item's
// refusal says nothing about the earlier attempt, so it is Unknown too.
func itemOutcome(status int, retried bool) platform.Outcome {
	switch {
	case status == http.StatusOK || status == http.StatusCreated:
		return platform.Acked
	case status >= 400 && status < 500 && !retried:
		return platform.Failed
	default:
		return platform.Unknown
	}
}

// ReadBack sets present[i] for each ids[i] whose document exists, with
// real-time _mget requests (they see indexed documents before a refresh). A
// missing index means every document is absent.
func (c *Client) ReadBack(ctx context.Context, ids []uint64, present []bool) error {
	if len(present) < len(ids) {
		return fmt.Errorf("read back elasticsearch: %d ids but %d result slots", len(ids), len(present))
	}
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		index[DocumentID(c.runID, id)] = i
		present[i] = false
	}
	realtime := true
	for start := 0; start < len(ids); start += readBackBatch {
		end := min(start+readBackBatch, len(ids))
		keys := make([]string, 0, end-start)
		for _, id := range ids[start:end] {
			keys = append(keys, DocumentID(c.runID, id))
		}
		body, _ := json.Marshal(map[string][]string{"ids": keys})
		var answer struct {
			Docs []struct {
				ID    string `json:"_id"`
				Found bool   `json:"found"`
				Error *struct {
					Type   string `json:"type"`
					Reason string `json:"reason"`
				} `json:"error"`
			} `json:"docs"`
		}
		err := c.do(ctx, esapi.MgetRequest{Index: c.opts.Index, Body: bytes.NewReader(body), Realtime: &realtime, Source: []string{"false"}}, &answer)
		var re *ResponseError
		if errors.As(err, &re) && re.Type == "index_not_found_exception" {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read back elasticsearch: %w", err)
		}
		for _, doc := range answer.Docs {
			if doc.Error != nil {
				if doc.Error.Type == "index_not_found_exception" {
					continue
				}
				return fmt.Errorf("read back elasticsearch: document %s: %s: %s", doc.ID, doc.Error.Type, doc.Error.Reason)
			}
			if i, ok := index[doc.ID]; ok && doc.Found {
				present[i] = true
			}
		}
	}
	return nil
}

// do sends req and decodes a 2xx answer into out (when not nil); an error
// answer becomes a *ResponseError.
func (c *Client) do(ctx context.Context, req esapi.Request, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	return doWith(ctx, c.es, req, out)
}

func doWith(ctx context.Context, es *elasticsearch.Client, req esapi.Request, out any) error {
	res, err := req.Do(ctx, es)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.IsError() {
		return responseError(res)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("decode elasticsearch answer: %w", err)
	}
	return nil
}

func responseError(res *esapi.Response) error {
	re := &ResponseError{Status: res.StatusCode}
	var body struct {
		Error json.RawMessage `json:"error"`
	}
	if json.NewDecoder(res.Body).Decode(&body) == nil && len(body.Error) > 0 {
		var detail struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(body.Error, &detail) == nil {
			re.Type, re.Reason = detail.Type, detail.Reason
		} else {
			_ = json.Unmarshal(body.Error, &re.Reason) // some answers carry a bare string
		}
	}
	return re
}

// Health is the cluster health status: "green", "yellow" or "red".
func (c *Client) Health(ctx context.Context) (string, error) {
	var answer struct {
		Status string `json:"status"`
	}
	if err := c.do(ctx, esapi.ClusterHealthRequest{}, &answer); err != nil {
		return "", fmt.Errorf("get elasticsearch cluster health: %w", err)
	}
	return answer.Status, nil
}

// indexSettings are the log index's settings. Translog durability "request"
// is the default, set explicitly because acknowledged-write safety depends on
// it: success is reported only after the translog is fsynced on the primary
// and every in-sync replica
// (https://www.elastic.co/guide/en/elasticsearch/reference/8.19/index-modules-translog.html).
func indexSettings(shards, replicas int) map[string]any {
	return map[string]any{
		"number_of_shards":          shards,
		"number_of_replicas":        replicas,
		"index.translog.durability": "request",
	}
}

// Setup installs an index template for the log index (so that an index
// created again, by a write or a restore into a fresh cluster, gets the same
// settings) and creates the index if it is not there.
func (c *Client) Setup(ctx context.Context, shards, replicas int) error {
	settings := indexSettings(shards, replicas)
	template, _ := json.Marshal(map[string]any{
		"index_patterns": []string{c.opts.Index},
		"template":       map[string]any{"settings": settings},
	})
	err := c.do(ctx, esapi.IndicesPutIndexTemplateRequest{Name: c.opts.Index, Body: bytes.NewReader(template)}, nil)
	if err != nil {
		return fmt.Errorf("set up elasticsearch index template %s: %w", c.opts.Index, err)
	}
	index, _ := json.Marshal(map[string]any{"settings": settings})
	err = c.do(ctx, esapi.IndicesCreateRequest{Index: c.opts.Index, Body: bytes.NewReader(index)}, nil)
	var re *ResponseError
	if err != nil && !(errors.As(err, &re) && re.Type == "resource_already_exists_exception") {
		return fmt.Errorf("create elasticsearch index %s: %w", c.opts.Index, err)
	}
	return nil
}

// RegisterS3Repository registers snapshot repository repo on bucket, using
// the nodes' default S3 client (s3.client.default.*: endpoint, path-style
// access and keystore credentials are node settings, set by whoever starts
// the nodes). Only one cluster may write to a repository; any other must
// register it readonly
// (https://www.elastic.co/guide/en/elasticsearch/reference/8.19/repository-s3.html).
func (c *Client) RegisterS3Repository(ctx context.Context, repo, bucket string, readonly bool) error {
	body, _ := json.Marshal(map[string]any{
		"type":     "s3",
		"settings": map[string]any{"bucket": bucket, "readonly": readonly},
	})
	if err := c.do(ctx, esapi.SnapshotCreateRepositoryRequest{Repository: repo, Body: bytes.NewReader(body)}, nil); err != nil {
		return fmt.Errorf("register elasticsearch s3 repository %s: %w", repo, err)
	}
	return nil
}

type shardCounts struct {
	Total      int `json:"total"`
	Failed     int `json:"failed"`
	Successful int `json:"successful"`
}

// Snapshot takes snapshot name of the log index into repo and waits for it
// to finish. A snapshot that did not end SUCCESS (PARTIAL, FAILED) is an
// error.
func (c *Client) Snapshot(ctx context.Context, repo, name string) error {
	ctx, cancel := context.WithTimeout(ctx, SnapshotTimeout)
	defer cancel()
	wait := true
	body, _ := json.Marshal(map[string]any{"indices": c.opts.Index, "include_global_state": false})
	var answer struct {
		Snapshot struct {
			State  string      `json:"state"`
			Shards shardCounts `json:"shards"`
		} `json:"snapshot"`
	}
	req := esapi.SnapshotCreateRequest{Repository: repo, Snapshot: name, Body: bytes.NewReader(body), WaitForCompletion: &wait}
	if err := doWith(ctx, c.es, req, &answer); err != nil {
		return fmt.Errorf("snapshot elasticsearch index %s to %s/%s: %w", c.opts.Index, repo, name, err)
	}
	if s := answer.Snapshot; s.State != "SUCCESS" {
		return fmt.Errorf("snapshot elasticsearch index %s to %s/%s: ended %s with %d of %d shards failed",
			c.opts.Index, repo, name, s.State, s.Shards.Failed, s.Shards.Total)
	}
	return nil
}

// LatestSnapshot names the successful snapshot in repo that finished last.
func (c *Client) LatestSnapshot(ctx context.Context, repo string) (string, error) {
	return c.LatestRestorable(ctx, repo, false)
}

// LatestRestorable names the newest snapshot in repo that a restore may
// use: a SUCCESS one, or with partial also a PARTIAL one (some shards
// failed to snapshot), which only a restore asking for partial accepts
// (https://www.elastic.co/guide/en/elasticsearch/reference/current/restore-snapshot-api.html).
// ErrNoSnapshot when there is none.
func (c *Client) LatestRestorable(ctx context.Context, repo string, partial bool) (string, error) {
	var answer struct {
		Snapshots []struct {
			Snapshot string `json:"snapshot"`
			State    string `json:"state"`
			EndTime  int64  `json:"end_time_in_millis"`
		} `json:"snapshots"`
	}
	if err := c.do(ctx, esapi.SnapshotGetRequest{Repository: repo, Snapshot: []string{"_all"}}, &answer); err != nil {
		return "", fmt.Errorf("list elasticsearch snapshots in %s: %w", repo, err)
	}
	snaps := answer.Snapshots[:0]
	for _, s := range answer.Snapshots {
		if s.State == "SUCCESS" || (partial && s.State == "PARTIAL") {
			snaps = append(snaps, s)
		}
	}
	if len(snaps) == 0 {
		return "", ErrNoSnapshot
	}
	sort.Slice(snaps, func(i, j int) bool {
		if snaps[i].EndTime != snaps[j].EndTime {
			return snaps[i].EndTime > snaps[j].EndTime
		}
		return snaps[i].Snapshot > snaps[j].Snapshot
	})
	return snaps[0].Snapshot, nil
}

// RestoreOptions are the restore request's choices.
type RestoreOptions struct {
	// Partial is the restore request body's "partial": a snapshot whose
	// shards did not all snapshot (PARTIAL) may be restored, "only
	// successfully snapshotted shards will be restored in this case and
	// all missing shards will be recreated empty"; without it such a
	// restore fails
	// (https://www.elastic.co/guide/en/elasticsearch/reference/current/restore-snapshot-api.html).
	Partial bool
}

// RestoredShards counts the shards of a restore: Empty were recreated
// empty (partial restores only), Total the index's.
type RestoredShards struct {
	Total, Empty int
}

// Restore restores the log index from snapshot name in repo and waits, with
// wait_for_completion, until the restore has finished every attempt to
// recover the primary shards: "the operation is complete when it finishes
// all attempts to recover primary shards for restored indices"
// (https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-snapshot-restore).
// Replicas are still being built when it returns (the cluster is yellow);
// writes need only the primaries, and full redundancy is green, which the
// caller watches for. A primary that failed to recover is an error. The
// index must not exist (or be closed): this is meant for a fresh cluster.
func (c *Client) Restore(ctx context.Context, repo, name string) error {
	_, err := c.RestoreWith(ctx, repo, name, RestoreOptions{})
	return err
}

// RestoreWith is Restore with options. With Partial, the shards the
// restore reports failed are those it recreated empty (the snapshot held
// no copy of them), and are counted in Empty rather than failing it.
func (c *Client) RestoreWith(ctx context.Context, repo, name string, opts RestoreOptions) (RestoredShards, error) {
	ctx, cancel := context.WithTimeout(ctx, SnapshotTimeout)
	defer cancel()
	wait := true
	body, _ := json.Marshal(map[string]any{"indices": c.opts.Index, "include_global_state": false, "partial": opts.Partial})
	var answer struct {
		Snapshot struct {
			Shards shardCounts `json:"shards"`
		} `json:"snapshot"`
	}
	req := esapi.SnapshotRestoreRequest{Repository: repo, Snapshot: name, Body: bytes.NewReader(body), WaitForCompletion: &wait}
	if err := doWith(ctx, c.es, req, &answer); err != nil {
		return RestoredShards{}, fmt.Errorf("restore elasticsearch snapshot %s/%s: %w", repo, name, err)
	}
	s := answer.Snapshot.Shards
	if opts.Partial {
		return RestoredShards{Total: s.Total, Empty: s.Total - s.Successful}, nil
	}
	if s.Failed > 0 || s.Successful < s.Total {
		return RestoredShards{Total: s.Total}, fmt.Errorf("restore elasticsearch snapshot %s/%s: %d of %d shards failed", repo, name, s.Failed, s.Total)
	}
	return RestoredShards{Total: s.Total}, nil
}

// MasterNode names the elected master node (its node.name).
func (c *Client) MasterNode(ctx context.Context) (string, error) {
	var answer []struct {
		Node string `json:"node"`
	}
	if err := c.do(ctx, esapi.CatMasterRequest{Format: "json"}, &answer); err != nil {
		return "", fmt.Errorf("get elasticsearch master: %w", err)
	}
	if len(answer) == 0 || answer[0].Node == "" || answer[0].Node == "-" {
		return "", errors.New("get elasticsearch master: no master elected")
	}
	return answer[0].Node, nil
}
