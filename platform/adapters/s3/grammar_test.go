package s3_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform/adapters/s3"
)

// The requests the adapter sends, as an S3 endpoint receives them, against
// the documented API: path-style addressing, CreateBucket's location
// constraint, object keys.
var _ = Describe("the requests the adapter sends, against the S3 API", func() {
	type seen struct{ method, path, query, body string }
	var (
		mu       sync.Mutex
		requests []seen
		server   *httptest.Server
	)
	BeforeEach(func() {
		requests = nil
		server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			requests = append(requests, seen{r.Method, r.URL.Path, r.URL.RawQuery, string(body)})
			mu.Unlock()
			w.WriteHeader(http.StatusOK)
		}))
		DeferCleanup(server.Close)
	})

	create := func(region string) seen {
		GinkgoHelper()
		c, err := s3.New(GinkgoT().Context(), "run1", s3.Options{Endpoint: server.URL, Region: region, Bucket: "artifacts-artifacts-" + region, AccessKey: "test", SecretKey: "test"})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.EnsureBucket(GinkgoT().Context())).To(Succeed())
		mu.Lock()
		defer mu.Unlock()
		Expect(requests).NotTo(BeEmpty())
		return requests[len(requests)-1]
	}

	It("addresses buckets by path and names no location in us-east-1, the one region that refuses its own name", func() {
		// CreateBucket: PUT /{Bucket}; LocationConstraint is any region but
		// us-east-1 (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html).
		r := create("us-east-1")
		Expect(r.method).To(Equal(http.MethodPut))
		Expect(r.path).To(Equal("/artifacts-artifacts-us-east-1"), "path-style: the bucket is the first path segment")
		Expect(r.body).NotTo(ContainSubstring("LocationConstraint"))
	})

	It("names the region elsewhere", func() {
		r := create("us-west-1")
		Expect(r.body).To(ContainSubstring("<LocationConstraint>us-west-1</LocationConstraint>"))
	})

	It("writes object keys of safe characters under a fixed prefix, well under 1024 bytes", func() {
		// Object keys: up to 1024 bytes of UTF-8; letters, digits and
		// !-_.*'() are safe (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html).
		key := s3.Key("east-region-outage-1-a1b2c3", 1<<40)
		Expect(len(key)).To(BeNumerically("<", 1024))
		Expect(key).To(MatchRegexp(`^artifacts/[A-Za-z0-9!_.*'()-]+$`))
		Expect(url.PathEscape(strings.TrimPrefix(key, "artifacts/"))).To(Equal(strings.TrimPrefix(key, "artifacts/")))
	})
})
