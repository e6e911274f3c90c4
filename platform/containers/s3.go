package containers

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/adapters/s3"
)

// s3Service is one S3 service: a LocalStack per region, each holding the
// artifact bucket (and the snapshot bucket when Elasticsearch snapshots
// here), the harness's cross-region sync, and which region the artifact
// clients use.
type s3Service struct {
	p    *Platform
	spec *platform.ServiceSpec

	mu        sync.Mutex
	artifacts map[string]*s3.Client // by region
	snapshots map[string]*s3.Client // by region; empty when nothing snapshots here
	active    string                // the region artifact clients write to
	watches   []*s3Watch            // a rehearsal's watches for puts to a region (watch.go)
}

func newS3Service(p *Platform, spec *platform.ServiceSpec) *s3Service {
	return &s3Service{p: p, spec: spec, artifacts: map[string]*s3.Client{}, snapshots: map[string]*s3.Client{}, active: spec.PrimaryRegion}
}

// takesSnapshots reports whether an Elasticsearch service snapshots here.
func (s *s3Service) takesSnapshots() bool {
	for _, es := range s.p.cfg.Topology.Services {
		if es.Kind == platform.KindElastic && es.SnapshotTo == s.spec.Name {
			return true
		}
	}
	return false
}

// setUp creates every region's buckets.
func (s *s3Service) setUp(ctx context.Context) error {
	for _, e := range s.spec.Endpoints {
		client, err := s.bucketClient(ctx, e, purposeArtifacts)
		if err != nil {
			return err
		}
		s.artifacts[e.Region] = client
		if s.takesSnapshots() {
			client, err := s.bucketClient(ctx, e, purposeSnapshots)
			if err != nil {
				return err
			}
			s.snapshots[e.Region] = client
		}
	}
	return s.putInitialArtifacts(ctx)
}

func (s *s3Service) endpointURL(ctx context.Context, endpoint string) (string, error) {
	addr, err := s.p.hostAddress(ctx, endpoint, localStackPort)
	if err != nil {
		return "", err
	}
	return "http://" + addr, nil
}

func (s *s3Service) bucketClient(ctx context.Context, e platform.S3Endpoint, purpose string) (*s3.Client, error) {
	url, err := s.endpointURL(ctx, e.Name)
	if err != nil {
		return nil, err
	}
	bucket := bucketName(purpose, s.spec.Name, e.Region)
	// Each region is its own LocalStack, so the region that matters is the
	// container; inside it everything uses LocalStack's default region,
	// which is also what Elasticsearch's S3 client signs with when given
	// only an endpoint.
	client, err := s3.New(ctx, s.p.cfg.RunID, s3.Options{
		Endpoint: url, Region: localStackRegion, Bucket: bucket,
		AccessKey: localStackKey, SecretKey: localStackSecret,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 client for %s on %s: %w", bucket, e.Name, err)
	}
	if err := retry(ctx, func() error { return client.EnsureBucket(ctx) }); err != nil {
		return nil, fmt.Errorf("create bucket %s on %s: %w", bucket, e.Name, err)
	}
	return client, nil
}

// endpointRestarted points the clients of a LocalStack that started again
// at its new host port. LocalStack community keeps no data across a
// restart (https://docs.localstack.cloud/aws/capabilities/state-management/persistence/),
// so its buckets are made again, empty: a region that comes back has lost
// what it held.
func (s *s3Service) endpointRestarted(ctx context.Context, e platform.S3Endpoint) {
	url, err := s.endpointURL(ctx, e.Name)
	if err != nil {
		return
	}
	s.mu.Lock()
	clients := []*s3.Client{s.artifacts[e.Region], s.snapshots[e.Region]}
	s.mu.Unlock()
	for _, c := range clients {
		if c != nil {
			c.SetEndpoint(url, localStackRegion)
		}
	}
	s.p.goBackground(func(ctx context.Context) {
		for _, c := range clients {
			if c != nil {
				_ = retry(ctx, func() error { return c.EnsureBucket(ctx) })
			}
		}
	})
}

// write puts artifact op into the active region's bucket.
func (s *s3Service) write(ctx context.Context, op uint64) platform.Outcome {
	s.mu.Lock()
	region, client, watched := s.active, s.artifacts[s.active], len(s.watches) > 0
	s.mu.Unlock()
	outcome := client.Write(ctx, op)
	if outcome == platform.Acked && watched {
		s.acked(region)
	}
	return outcome
}

// readBack reads from the active region's bucket, after asking once that
// its endpoint answers: one that is gone (the failover step failed, or
// pointed at the lost region) fails at once, naming the region.
func (s *s3Service) readBack(ctx context.Context, ids []uint64, present []bool) error {
	s.mu.Lock()
	region, client := s.active, s.artifacts[s.active]
	s.mu.Unlock()
	endpoint := s.endpointIn(region)
	checkCtx, cancel := context.WithTimeout(ctx, readBackCheckTimeout)
	err := client.Check(checkCtx)
	cancel()
	if err != nil {
		return fmt.Errorf("read back %s: the endpoint its clients use, %s in %s, does not answer (did a recovery step fail, or fail over to a lost region?): %w", s.spec.Name, endpoint, region, err)
	}
	if err := client.ReadBack(ctx, ids, present); err != nil {
		return fmt.Errorf("read back %s from %s in %s: %w", s.spec.Name, endpoint, region, err)
	}
	return nil
}

// failOver makes the artifact clients use region's bucket, once that
// region's endpoint has answered that the bucket is there (HeadBucket), as
// an operator checks the target before switching: a failover to an
// endpoint that does not answer (a lost region) fails, naming it, and the
// clients stay where they were.
func (s *s3Service) failOver(ctx context.Context, region string) error {
	s.mu.Lock()
	target := s.artifacts[region]
	s.mu.Unlock()
	if target == nil {
		return fmt.Errorf("fail over %s: no endpoint in region %s", s.spec.Name, region)
	}
	checkCtx, cancel := context.WithTimeout(ctx, failoverCheckTimeout)
	err := target.Check(checkCtx)
	cancel()
	if err != nil {
		return fmt.Errorf("fail over %s to %s: its endpoint %s does not answer, so the clients stay on %s: %w", s.spec.Name, region, s.endpointIn(region), s.activeRegion(), err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active = region
	return nil
}

// failoverCheckTimeout bounds the failover's look at its target: an
// endpoint that answers does so in milliseconds; a killed one is refused at
// once, a cut-off one takes this long.
const failoverCheckTimeout = 5 * time.Second

func (s *s3Service) activeRegion() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// endpointIn names the service's endpoint in region.
func (s *s3Service) endpointIn(region string) string {
	for _, e := range s.spec.Endpoints {
		if e.Region == region {
			return e.Name
		}
	}
	return ""
}

// syncJob is the cross-region sync as a periodic job: it stops while any
// endpoint of the service is down, or the primary region's is cut from
// another's (the copy runs from the harness, which a partition between the
// containers would not stop, so the job stands for the link itself).
func (s *s3Service) syncJob(interval time.Duration) *job {
	name := "sync " + s.spec.Name
	return &job{
		name: name, interval: interval, phase: platform.JobPhase(s.p.cfg.Seed, s.spec.SyncPhase, interval, platform.SyncPhaseStream(s.spec.Name)),
		pass: s.sync,
		blocked: func(down map[string]bool, cut func(a, b string) bool) bool {
			var primary string
			for _, e := range s.spec.Endpoints {
				if down[e.Name] {
					return true
				}
				if e.Region == s.spec.PrimaryRegion {
					primary = e.Name
				}
			}
			for _, e := range s.spec.Endpoints {
				if e.Name != primary && cut(primary, e.Name) {
					return true
				}
			}
			return false
		},
	}
}

func (s *s3Service) syncInterval() time.Duration {
	if s.p.set.syncInterval > 0 {
		return s.p.set.syncInterval
	}
	return s.spec.SyncInterval.D()
}

// sync copies the primary region's buckets to every other region, then
// reports sync-completed per destination. LocalStack community accepts
// bucket replication rules but copies nothing
// (https://github.com/localstack/localstack/pull/8901), so this pass is the
// replication, and its interval the S3 RPO of a region loss.
func (s *s3Service) sync(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.syncInterval())
	defer cancel()
	for region, err := range s.syncPass(ctx) {
		if err == nil {
			s.p.emit(platform.Event{Service: s.spec.Name, What: platform.EventSyncCompleted, Detail: region})
		}
	}
}

// syncOnce runs one pass and reports the first failure.
func (s *s3Service) syncOnce(ctx context.Context) error {
	for region, err := range s.syncPass(ctx) {
		if err != nil {
			return fmt.Errorf("sync to %s: %w", region, err)
		}
	}
	return nil
}

// syncPass copies the primary region's buckets to each other region, in
// region order, yielding each destination's result.
func (s *s3Service) syncPass(ctx context.Context) iter.Seq2[string, error] {
	s.mu.Lock()
	primary := s.spec.PrimaryRegion
	type pair struct{ from, to *s3.Client }
	byRegion := map[string][]pair{}
	for region, to := range s.artifacts {
		if region != primary {
			byRegion[region] = append(byRegion[region], pair{s.artifacts[primary], to})
		}
	}
	for region, to := range s.snapshots {
		if region != primary {
			byRegion[region] = append(byRegion[region], pair{s.snapshots[primary], to})
		}
	}
	s.mu.Unlock()
	return func(yield func(string, error) bool) {
		for _, region := range platform.SortedKeys(byRegion) {
			var errs []error
			for _, pr := range byRegion[region] {
				if _, err := s3.Sync(ctx, pr.from, pr.to, ""); err != nil {
					errs = append(errs, err)
				}
			}
			if !yield(region, errors.Join(errs...)) {
				return
			}
		}
	}
}
