package s3_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/adapters/s3"
)

// region is one in-process S3 endpoint (gofakes3 on loopback) with switches
// that make it misbehave on PUT.
type region struct {
	server *httptest.Server
	// holdReplies makes PUTs reach the store, then never answer.
	holdReplies atomic.Bool
	// resetAfterRead makes PUTs read the request and drop the connection
	// without storing anything.
	resetAfterRead atomic.Bool
	// status, when not 0, answers PUTs with that HTTP status.
	status  atomic.Int32
	release chan struct{}
}

func startRegion() *region {
	r := &region{release: make(chan struct{})}
	fake := gofakes3.New(s3mem.New()).Server()
	r.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPut && strings.Count(strings.Trim(req.URL.Path, "/"), "/") > 0 {
			if code := r.status.Load(); code != 0 {
				w.WriteHeader(int(code))
				_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>Refused</Code><Message>test</Message></Error>`))
				return
			}
			if r.resetAfterRead.Load() {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					_ = conn.Close()
				}
				return
			}
			if r.holdReplies.Load() {
				fake.ServeHTTP(httptest.NewRecorder(), req)
				<-r.release
				return
			}
		}
		fake.ServeHTTP(w, req)
	}))
	DeferCleanup(func() {
		close(r.release)
		r.server.Close()
	})
	return r
}

func client(ctx context.Context, r *region, name, bucket string, timeout time.Duration) *s3.Client {
	c, err := s3.New(ctx, "run1", s3.Options{
		Endpoint: r.server.URL, Region: name, Bucket: bucket, AccessKey: "test", SecretKey: "test", Timeout: timeout,
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(c.EnsureBucket(ctx)).To(Succeed())
	return c
}

func ids(from, to uint64) []uint64 {
	var out []uint64
	for op := from; op <= to; op++ {
		out = append(out, op)
	}
	return out
}

func presentOf(ctx context.Context, c *s3.Client, all []uint64) []bool {
	present := make([]bool, len(all))
	Expect(c.ReadBack(ctx, all, present)).To(Succeed())
	return present
}

var _ = Describe("Client against gofakes3", func() {
	var east, west *region

	BeforeEach(func() {
		east, west = startRegion(), startRegion()
	})

	It("creates its bucket once and accepts being asked again", func(ctx SpecContext) {
		c := client(ctx, west, "us-west-1", "artifacts-west", 2*time.Second)
		Expect(c.EnsureBucket(ctx)).To(Succeed())
	})

	It("acknowledges puts, reads them back, and reports ids never written as absent", func(ctx SpecContext) {
		c := client(ctx, east, "us-east-1", "artifacts", 2*time.Second)
		for _, op := range ids(1, 10) {
			Expect(c.Write(ctx, op)).To(Equal(platform.Acked))
		}
		Expect(presentOf(ctx, c, ids(1, 12))).To(Equal([]bool{true, true, true, true, true, true, true, true, true, true, false, false}))
	})

	It("reads back past the 1000 keys of one listing page", func(ctx SpecContext) {
		c := client(ctx, east, "us-east-1", "artifacts", 2*time.Second)
		all := ids(1, 1100)
		for _, op := range all {
			Expect(c.Write(ctx, op)).To(Equal(platform.Acked))
		}
		Expect(presentOf(ctx, c, all)).NotTo(ContainElement(false))
	})

	It("fails a put to an endpoint that refuses connections", func(ctx SpecContext) {
		c := client(ctx, east, "us-east-1", "artifacts", 2*time.Second)
		east.server.Close()
		Expect(c.Write(ctx, 1)).To(Equal(platform.Failed))
	})

	It("fails a put the server answers with a client error", func(ctx SpecContext) {
		c := client(ctx, east, "us-east-1", "artifacts", 2*time.Second)
		east.status.Store(http.StatusForbidden)
		Expect(c.Write(ctx, 1)).To(Equal(platform.Failed))
	})

	It("calls a put the server answers with a server error unknown", func(ctx SpecContext) {
		c := client(ctx, east, "us-east-1", "artifacts", 2*time.Second)
		east.status.Store(http.StatusInternalServerError)
		Expect(c.Write(ctx, 1)).To(Equal(platform.Unknown))
	})

	It("calls a put whose answer never came unknown, and the put did happen", func(ctx SpecContext) {
		c := client(ctx, east, "us-east-1", "artifacts", 300*time.Millisecond)
		east.holdReplies.Store(true)
		Expect(c.Write(ctx, 1)).To(Equal(platform.Unknown))
		east.holdReplies.Store(false)
		Expect(presentOf(ctx, c, []uint64{1})).To(Equal([]bool{true}))
	})

	It("calls a put whose connection dropped after sending unknown", func(ctx SpecContext) {
		c := client(ctx, east, "us-east-1", "artifacts", 2*time.Second)
		east.resetAfterRead.Store(true)
		Expect(c.Write(ctx, 1)).To(Equal(platform.Unknown))
	})

	It("writes to the other region after failing over", func(ctx SpecContext) {
		c := client(ctx, east, "us-east-1", "artifacts", 2*time.Second)
		westView := client(ctx, west, "us-west-1", "artifacts", 2*time.Second)
		Expect(c.Write(ctx, 1)).To(Equal(platform.Acked))
		c.SetEndpoint(west.server.URL, "us-west-1")
		Expect(c.Write(ctx, 2)).To(Equal(platform.Acked))
		Expect(presentOf(ctx, westView, []uint64{1, 2})).To(Equal([]bool{false, true}))
	})

	Describe("Sync", func() {
		var from, to *s3.Client

		BeforeEach(func(ctx SpecContext) {
			from = client(ctx, east, "us-east-1", "artifacts-east", 2*time.Second)
			to = client(ctx, west, "us-west-1", "artifacts-west", 2*time.Second)
			for _, op := range ids(1, 10) {
				Expect(from.Write(ctx, op)).To(Equal(platform.Acked))
			}
			for _, op := range []uint64{1, 2, 3, 99} {
				Expect(to.Write(ctx, op)).To(Equal(platform.Acked))
			}
			// op 4 exists in the west with other content: a stale copy.
			raw := awss3.New(awss3.Options{
				Region: "us-west-1", BaseEndpoint: aws.String(west.server.URL), UsePathStyle: true,
				Credentials: aws.AnonymousCredentials{},
			})
			_, err := raw.PutObject(ctx, &awss3.PutObjectInput{
				Bucket: aws.String("artifacts-west"), Key: aws.String(s3.Key("run1", 4)), Body: strings.NewReader("stale"),
			})
			Expect(err).NotTo(HaveOccurred())
		})

		It("copies exactly the missing and differing objects, keeps the others, and then has nothing to do", func(ctx SpecContext) {
			copied, err := s3.Sync(ctx, from, to, s3.KeyPrefix)
			Expect(err).NotTo(HaveOccurred())
			Expect(copied).To(Equal(7)) // 5..10 missing, 4 stale
			Expect(presentOf(ctx, to, append(ids(1, 10), 99))).NotTo(ContainElement(false))

			copied, err = s3.Sync(ctx, from, to, s3.KeyPrefix)
			Expect(err).NotTo(HaveOccurred())
			Expect(copied).To(BeZero())
		})

		It("copies nothing outside the prefix", func(ctx SpecContext) {
			copied, err := s3.Sync(ctx, from, to, s3.Key("run1", 7))
			Expect(err).NotTo(HaveOccurred())
			Expect(copied).To(Equal(1))
			Expect(presentOf(ctx, to, []uint64{5, 7})).To(Equal([]bool{false, true}))
		})

		It("reports an unreachable destination", func(ctx SpecContext) {
			west.server.Close()
			_, err := s3.Sync(ctx, from, to, s3.KeyPrefix)
			Expect(err).To(MatchError(ContainSubstring("sync s3: list artifacts-west")))
		})
	})
})
