package containers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/adapters/elastic"
)

// Elasticsearch timings.
const (
	// elasticRequestTimeout bounds one admin request (health, settings,
	// repository registration) of the harness.
	elasticRequestTimeout = 10 * time.Second
	// elasticRestoreTimeout bounds a whole runbook restore: new nodes up,
	// cluster formed, snapshot restored.
	elasticRestoreTimeout = 10 * time.Minute
	// elasticHealthWait is how long one health request waits server-side
	// for the cluster to be green with every node; well under
	// elasticRequestTimeout.
	elasticHealthWait = 5 * time.Second
)

// elasticService is one Elasticsearch cluster and the log tier's view of
// it: bring-up, health and master polling, periodic snapshots, and the
// runbook restore into a new cluster, after which the tier writes there.
type elasticService struct {
	p    *Platform
	spec *platform.ServiceSpec

	mu       sync.Mutex
	client   *elastic.Client // the cluster the tier writes to now
	nodes    []string        // its nodes
	restored bool            // a restored cluster (its repository is read-only: no snapshots)
	snapSeq  int

	// Poll state, touched only by the poll goroutine.
	health      string
	lastMaster  string
	wasDegraded bool
}

func newElasticService(p *Platform, spec *platform.ServiceSpec) *elasticService {
	e := &elasticService{p: p, spec: spec}
	for _, n := range spec.Nodes {
		e.nodes = append(e.nodes, n.Name)
	}
	return e
}

func (e *elasticService) index() string { return bucketName("chaosdrill", e.spec.Name, "events") }

// transport dials Elasticsearch nodes by alias through their host ports,
// looked up on every dial (a restarted node has a new one).
func (p *Platform) transport() *http.Transport {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			mapped, err := p.resolve(ctx, addr)
			if err != nil {
				return nil, err
			}
			return dialer.DialContext(ctx, network, mapped)
		},
		MaxIdleConnsPerHost: 16,
	}
}

func elasticURL(node string) string {
	return "http://" + dockerAlias(node) + ":" + strings.TrimSuffix(elasticPort, "/tcp")
}

func (e *elasticService) connect(nodes []string) (*elastic.Client, error) {
	addresses := make([]string, len(nodes))
	for i, n := range nodes {
		addresses[i] = elasticURL(n)
	}
	// The adapter's own per-request timeout (longer than a replica
	// promotion) stays; every call here carries a deadline of its own: the
	// workload's timeout for bulks, the poll interval or set-up bound for
	// the rest.
	return elastic.New(e.p.cfg.RunID, elastic.Options{
		Addresses: addresses,
		Index:     e.index(),
		Transport: e.p.transport(),
	})
}

// setUp readies the cluster: S3 keys in every node's keystore, a healthy
// cluster, the index with the scenario's shards and replicas, and (once the
// buckets exist) the snapshot repository.
func (e *elasticService) setUp(ctx context.Context, s3Ready <-chan struct{}) error {
	client, err := e.connect(e.nodes)
	if err != nil {
		return err
	}
	e.client = client
	if err := e.formCluster(ctx, e.nodes); err != nil {
		return err
	}
	if err := retry(ctx, func() error { return client.Setup(ctx, e.spec.Shards, e.spec.Replicas) }); err != nil {
		return fmt.Errorf("create index %s: %w", e.index(), err)
	}
	if err := e.adminRequest(ctx, e.nodes, http.MethodPut, "/"+e.index()+"/_settings", delayedTimeoutBody(e.p.set.delayedTimeout), nil); err != nil {
		return fmt.Errorf("set delayed allocation timeout: %w", err)
	}
	if e.spec.SnapshotTo == "" {
		return nil
	}
	select {
	case <-s3Ready:
	case <-ctx.Done():
		return fmt.Errorf("wait for the snapshot buckets: %w", ctx.Err())
	}
	bucket := bucketName(purposeSnapshots, e.spec.SnapshotTo, e.snapshotRegion())
	if err := retry(ctx, func() error { return client.RegisterS3Repository(ctx, elasticRepository, bucket, false) }); err != nil {
		return fmt.Errorf("register snapshot repository on bucket %s: %w", bucket, err)
	}
	return nil
}

func (e *elasticService) snapshotRegion() string {
	s3, _ := e.p.cfg.Topology.Service(e.spec.SnapshotTo)
	return s3.PrimaryRegion
}

// formCluster waits until every node has joined a green cluster, then
// checks that every node loaded the S3 keys its container put into its
// keystore before it started (see elasticKeystoreCommand).
func (e *elasticService) formCluster(ctx context.Context, nodes []string) error {
	// Cluster health answers 408 while its wait conditions are unmet.
	healthy := clusterHealthPath(len(nodes), elasticHealthWait)
	if err := retry(ctx, func() error {
		return e.adminRequest(ctx, nodes, http.MethodGet, healthy, "", nil)
	}); err != nil {
		return fmt.Errorf("wait for a green cluster of %d nodes: %w", len(nodes), err)
	}
	if err := retry(ctx, func() error {
		var answer []byte
		if err := e.adminRequest(ctx, nodes, http.MethodPost, "/_nodes/reload_secure_settings", "", &answer); err != nil {
			return err
		}
		return checkReload(answer, nodes)
	}); err != nil {
		return fmt.Errorf("check the S3 keys on every node: %w", err)
	}
	return nil
}

// adminRequest sends one request the adapter has no call for to the first
// node that answers, and keeps a 2xx answer's body in answer when it is not
// nil.
func (e *elasticService) adminRequest(ctx context.Context, nodes []string, method, path, body string, answer *[]byte) error {
	client := &http.Client{Transport: e.p.transport(), Timeout: elasticRequestTimeout}
	defer client.CloseIdleConnections()
	var errs []error
	for _, n := range nodes {
		req, err := http.NewRequestWithContext(ctx, method, elasticURL(n)+path, bytes.NewBufferString(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		text, readErr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode/100 == 2 && readErr == nil {
			if answer != nil {
				*answer = text
			}
			return nil
		}
		errs = append(errs, fmt.Errorf("%s %s on %s: %s: %s", method, path, n, resp.Status, strings.TrimSpace(string(text[:min(len(text), 4096)]))))
	}
	return errors.Join(errs...)
}

func (e *elasticService) current() (*elastic.Client, []string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.client, e.nodes, e.restored
}

// bulk indexes a batch for the log tier into the current cluster.
func (e *elasticService) bulk(ctx context.Context, ops []uint64, outcomes []platform.Outcome) {
	client, _, _ := e.current()
	client.Bulk(ctx, ops, outcomes)
}

// readBack reads the events back from the cluster the log tier writes to
// now, after a quick look that it answers: one that is gone (a restore step
// failed and the tier still points at the lost region) fails at once, with
// its nodes named.
func (e *elasticService) readBack(ctx context.Context, ids []uint64, present []bool) error {
	client, nodes, _ := e.current()
	checkCtx, cancel := context.WithTimeout(ctx, readBackCheckTimeout)
	_, err := client.Health(checkCtx)
	cancel()
	if err != nil {
		return fmt.Errorf("read back %s: the cluster the log tier writes to (%s) does not answer (did a recovery step fail?): %w", e.spec.Name, strings.Join(nodes, ", "), err)
	}
	return client.ReadBack(ctx, ids, present)
}

// master resolves the logs:master role.
func (e *elasticService) master(ctx context.Context) ([]string, error) {
	client, _, _ := e.current()
	name, err := client.MasterNode(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolve role %s:master: %w", e.spec.Name, err)
	}
	if name == "" {
		return nil, nil
	}
	return []string{name}, nil
}

// poll reports health colour changes, a new master, and redundancy-restored
// when the cluster is green again after it was not.
func (e *elasticService) poll(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, max(4*e.p.set.healthPoll, time.Second))
	defer cancel()
	client, _, _ := e.current()
	status := "red" // a cluster that does not answer serves nothing
	if health, err := client.Health(ctx); err == nil {
		status = health
	} else if e.p.background.Err() != nil {
		return
	}
	if status != e.health {
		what := map[string]string{"green": platform.EventHealthGreen, "yellow": platform.EventHealthYellow, "red": platform.EventHealthRed}[status]
		if what != "" {
			e.p.emit(platform.Event{Service: e.spec.Name, What: what})
		}
		if status == "green" && e.wasDegraded {
			e.p.emit(platform.Event{Service: e.spec.Name, What: platform.EventRedundancyRestored})
		}
		e.wasDegraded = status != "green"
		e.health = status
	}
	if master, err := client.MasterNode(ctx); err == nil && master != "" && master != e.lastMaster {
		e.lastMaster = master
		e.p.emit(platform.Event{Service: e.spec.Name, What: platform.EventMasterElected, Node: master})
	}
}

// snapshotJob is the periodic snapshot as a job: it stops while the S3
// endpoint it writes to is down, or every node of the cluster is.
func (e *elasticService) snapshotJob(interval time.Duration) *job {
	name := "snapshot " + e.spec.Name
	endpoint, _ := snapshotEndpoint(e.p.cfg.Topology, e.spec, "")
	return &job{
		name: name, interval: interval, phase: platform.JobPhase(e.p.cfg.Seed, e.spec.SnapshotPhase, interval, platform.SnapshotPhaseStream(e.spec.Name)),
		pass: e.snapshot,
		blocked: func(down map[string]bool, _ func(a, b string) bool) bool {
			if down[endpoint] {
				return true
			}
			for _, n := range e.spec.Nodes {
				if !down[n.Name] {
					return false
				}
			}
			return true
		},
	}
}

func (e *elasticService) snapshotInterval() time.Duration {
	if e.spec.SnapshotTo == "" {
		return 0
	}
	if e.p.set.snapshotInterval > 0 {
		return e.p.set.snapshotInterval
	}
	return e.spec.SnapshotInterval.D()
}

// snapshot takes one snapshot of the original cluster and reports it when
// it reached the repository.
func (e *elasticService) snapshot(ctx context.Context) {
	client, _, restored := e.current()
	if restored {
		return
	}
	e.mu.Lock()
	e.snapSeq++
	name := fmt.Sprintf("snapshot-%06d", e.snapSeq)
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, e.snapshotInterval())
	defer cancel()
	if err := client.Snapshot(ctx, elasticRepository, name); err != nil {
		return
	}
	e.p.emit(platform.Event{Service: e.spec.Name, What: platform.EventSnapshotCompleted, Detail: name})
}
