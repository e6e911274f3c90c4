package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Options configures a Client.
type Options struct {
	Endpoint  string // e.g. "http://127.0.0.1:4566"
	Region    string // e.g. "us-east-1"
	Bucket    string
	AccessKey string
	SecretKey string
	// Timeout bounds one request; a write still unanswered then is Unknown.
	// 0 means DefaultTimeout.
	Timeout time.Duration
}

// DefaultTimeout applies when Options.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// KeyPrefix is where the workload's objects live in a bucket.
const KeyPrefix = "artifacts/"

// Client writes the workload's objects to one bucket on one endpoint, reads
// them back, and can be pointed at another region's endpoint. It is safe for
// concurrent use.
type Client struct {
	runID   string
	opts    Options
	httpc   *http.Client
	mu      sync.RWMutex
	service *s3.Client
}

// New builds a client. It sends nothing.
func New(ctx context.Context, runID string, o Options) (*Client, error) {
	if o.Endpoint == "" || o.Region == "" || o.Bucket == "" {
		return nil, errors.New("new s3 client: endpoint, region and bucket are required")
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	c := &Client{runID: runID, opts: o, httpc: &http.Client{}}
	c.service = c.build(o.Endpoint, o.Region)
	return c, nil
}

// build makes the SDK client. The configuration is built here rather than
// loaded with config.LoadDefaultConfig so that nothing from the environment
// or ~/.aws reaches a run. Checksums are computed only when an operation
// requires them: since service/s3 v1.73.0 the SDK adds CRC32 checksums to
// every upload by default
// (https://github.com/aws/aws-sdk-go-v2/pull/3151), which older LocalStack
// releases reject.
func (c *Client) build(endpoint, region string) *s3.Client {
	cfg := aws.Config{
		Region:                     region,
		Credentials:                credentials.NewStaticCredentialsProvider(c.opts.AccessKey, c.opts.SecretKey, ""),
		HTTPClient:                 tracingClient{inner: c.httpc},
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		// LocalStack serves buckets by path; virtual-host style would need
		// DNS for "<bucket>.<host>" (https://docs.localstack.cloud/aws/services/s3/).
		o.UsePathStyle = true
	})
}

func (c *Client) client() *s3.Client {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.service
}

// SetEndpoint points the client at another region's endpoint (failover). The
// bucket name stays the same: each region's endpoint holds its own bucket of
// that name. Requests already under way finish against the old endpoint.
func (c *Client) SetEndpoint(endpoint, region string) {
	service := c.build(endpoint, region)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opts.Endpoint, c.opts.Region, c.service = endpoint, region, service
}

// Key is the object key of operation op.
func Key(runID string, op uint64) string { return fmt.Sprintf("%s%s-%d", KeyPrefix, runID, op) }

// EnsureBucket creates the bucket unless it is already there.
func (c *Client) EnsureBucket(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	c.mu.RLock()
	region := c.opts.Region
	c.mu.RUnlock()
	in := &s3.CreateBucketInput{Bucket: aws.String(c.opts.Bucket)}
	// us-east-1 is the one region that refuses a location constraint naming
	// itself (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html).
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(region)}
	}
	_, err := c.client().CreateBucket(ctx, in)
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) && !hasCode(err, "BucketAlreadyOwnedByYou", "BucketAlreadyExists") {
		return fmt.Errorf("create bucket %s: %w", c.opts.Bucket, err)
	}
	return nil
}

func hasCode(err error, codes ...string) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	for _, code := range codes {
		if api.ErrorCode() == code {
			return true
		}
	}
	return false
}

// Write puts the object of operation op, in one attempt: the SDK's own
// retries are off so that one write is one request and its outcome is what
// that request was told (see the package documentation).
func (c *Client) Write(ctx context.Context, op uint64) platform.Outcome {
	var a attempts
	ctx = context.WithValue(ctx, attemptsKey{}, &a)
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	body := fmt.Sprintf("chaosdrill run %s op %d\n", c.runID, op)
	_, err := c.client().PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(c.opts.Bucket),
		Key:           aws.String(Key(c.runID, op)),
		Body:          strings.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
	}, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	return classify(err, int(a.wrote.Load()))
}

// classify turns one PutObject result into an outcome: no error is Acked; a
// request that never got its headers written (dial refused, no route,
// timeout before connecting) is Failed; an HTTP 4xx answer is Failed (the
// server refused it); anything else after the request was written (a 5xx,
// a reset, a timeout waiting for the answer) is Unknown.
func classify(err error, wrote int) platform.Outcome {
	if err == nil {
		return platform.Acked
	}
	if wrote == 0 {
		return platform.Failed
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() >= 400 && resp.HTTPStatusCode() < 500 {
		return platform.Failed
	}
	return platform.Unknown
}

// attempts counts requests whose headers went to the wire.
type attempts struct{ wrote atomic.Int32 }

type attemptsKey struct{}

// tracingClient counts, for requests whose context carries attempts, each
// request that got as far as writing its headers: one that did not was never
// seen by the server.
type tracingClient struct{ inner *http.Client }

func (t tracingClient) Do(req *http.Request) (*http.Response, error) {
	if a, ok := req.Context().Value(attemptsKey{}).(*attempts); ok {
		trace := &httptrace.ClientTrace{WroteHeaders: func() { a.wrote.Add(1) }}
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	}
	return t.inner.Do(req)
}

// objectInfo is what listing tells about an object.
type objectInfo struct {
	etag string
	size int64
}

// list returns every object under prefix, following continuation tokens
// (a page holds at most 1000 keys,
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html).
func (c *Client) list(ctx context.Context, prefix string) (map[string]objectInfo, error) {
	out := map[string]objectInfo{}
	pages := s3.NewListObjectsV2Paginator(c.client(), &s3.ListObjectsV2Input{
		Bucket: aws.String(c.opts.Bucket),
		Prefix: aws.String(prefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, obj := range page.Contents {
			out[aws.ToString(obj.Key)] = objectInfo{etag: aws.ToString(obj.ETag), size: aws.ToInt64(obj.Size)}
		}
	}
	return out, nil
}

// Check asks the endpoint, once, whether the bucket is there (HeadBucket,
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html): nil
// when it answers yes.
func (c *Client) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	if _, err := c.client().HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(c.opts.Bucket)}, func(o *s3.Options) { o.RetryMaxAttempts = 1 }); err != nil {
		return fmt.Errorf("check s3 bucket %s: %w", c.opts.Bucket, err)
	}
	return nil
}

// ReadBack sets present[i] for each ids[i] whose object exists, listing the
// run's prefix rather than asking for each key.
func (c *Client) ReadBack(ctx context.Context, ids []uint64, present []bool) error {
	if len(present) < len(ids) {
		return fmt.Errorf("read back s3: %d ids but %d result slots", len(ids), len(present))
	}
	objects, err := c.list(ctx, KeyPrefix+c.runID+"-")
	if err != nil {
		return fmt.Errorf("read back s3 bucket %s: %w", c.opts.Bucket, err)
	}
	for i, id := range ids {
		_, present[i] = objects[Key(c.runID, id)]
	}
	return nil
}

// Sync copies every object under prefix that from has and to lacks, or holds
// with another size or ETag, from from's bucket to to's bucket, and returns
// how many it copied. It never deletes. It is the harness's own cross-region
// replication job: LocalStack's community image accepts replication rules but
// copies nothing (https://github.com/localstack/localstack/pull/8901).
//
// A multipart upload's ETag ("<md5>-<parts>") is not the MD5 of the object,
// so it cannot match the copy's; such objects are compared by size alone.
// Objects are copied through memory: the workload's and snapshots' objects
// are small.
func Sync(ctx context.Context, from, to *Client, prefix string) (copied int, err error) {
	source, err := from.list(ctx, prefix)
	if err != nil {
		return 0, fmt.Errorf("sync s3: list %s: %w", from.opts.Bucket, err)
	}
	target, err := to.list(ctx, prefix)
	if err != nil {
		return 0, fmt.Errorf("sync s3: list %s: %w", to.opts.Bucket, err)
	}
	for _, key := range copyOrder(source) {
		src := source[key]
		if dst, ok := target[key]; ok && sameObject(src, dst) {
			continue
		}
		if err := copyObject(ctx, from, to, key); err != nil {
			return copied, fmt.Errorf("sync s3: copy %s: %w", key, err)
		}
		copied++
	}
	return copied, nil
}

// copyOrder lists keys sorted, with the root blobs of an Elasticsearch
// snapshot repository (index-N, index.latest) last: they name the newest
// generation, so copying them after everything it refers to means a pass
// interrupted half-way leaves the destination at an older but whole
// generation (https://www.elastic.co/docs/deploy-manage/tools/snapshot-and-restore/self-managed#snapshot-repository-contents).
func copyOrder(objects map[string]objectInfo) []string {
	keys := make([]string, 0, len(objects))
	for key := range objects {
		keys = append(keys, key)
	}
	isRoot := func(key string) bool {
		base := path.Base(key)
		return base == "index.latest" || strings.HasPrefix(base, "index-")
	}
	sort.Slice(keys, func(i, j int) bool {
		if ri, rj := isRoot(keys[i]), isRoot(keys[j]); ri != rj {
			return rj
		}
		return keys[i] < keys[j]
	})
	return keys
}

func sameObject(src, dst objectInfo) bool {
	if src.size != dst.size {
		return false
	}
	return strings.Contains(src.etag, "-") || src.etag == dst.etag
}

func copyObject(ctx context.Context, from, to *Client, key string) error {
	ctx, cancel := context.WithTimeout(ctx, max(from.opts.Timeout, to.opts.Timeout))
	defer cancel()
	got, err := from.client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(from.opts.Bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	body, err := io.ReadAll(got.Body)
	_ = got.Body.Close()
	if err != nil {
		return err
	}
	_, err = to.client().PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(to.opts.Bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   got.ContentType,
		Metadata:      got.Metadata,
	})
	return err
}
