package elastic_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform/adapters/elastic"
)

// Every request the adapter sends, checked against Elasticsearch's
// documented grammar as the fake server receives it: the real server cannot
// run here.
var _ = Describe("the requests the adapter sends, against Elasticsearch's documented grammar", func() {
	// Index names: lower case, none of \ / * ? " < > | space , #, not
	// starting with - _ +, not . or .., at most 255 bytes
	// (https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-indices-create).
	validIndex := func(name string) bool {
		return name != "" && name != "." && name != ".." && len(name) <= 255 &&
			name == strings.ToLower(name) && !strings.ContainsAny(name, `\/*?"<>| ,#:`) &&
			!strings.ContainsAny(name[:1], "-_+")
	}
	// Snapshot names follow the index name rules
	// (https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-snapshot-create).
	// Booleans in a query string are true or false
	// (https://www.elastic.co/guide/en/elasticsearch/reference/current/api-conventions.html).
	booleanQuery := func(query url.Values, name string) {
		if v, ok := query[name]; ok {
			Expect(v).To(ConsistOf(BeElementOf("true", "false")), name)
		}
	}
	// S3 bucket names: 3-63 characters, lower-case letters, digits, dots
	// and hyphens, beginning and ending with a letter or digit
	// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
	bucket := regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

	var (
		es *fakeES
		c  *elastic.Client
	)
	BeforeEach(func() {
		es = startFakeES()
		var err error
		c, err = elastic.New("run1", elastic.Options{Addresses: []string{es.server.URL}, Index: "chaosdrill-logs-events", Timeout: 2 * time.Second})
		Expect(err).NotTo(HaveOccurred())
	})

	It("creates the index and its template with documented settings and values", func(ctx SpecContext) {
		es.indexExists = false
		Expect(c.Setup(ctx, 5, 1)).To(Succeed())
		Expect(validIndex("chaosdrill-logs-events")).To(BeTrue())
		var index struct {
			Settings map[string]any `json:"settings"`
		}
		Expect(json.Unmarshal([]byte(es.bodies["PUT /chaosdrill-logs-events"]), &index)).To(Succeed())
		// number_of_shards and number_of_replicas are index settings
		// (https://www.elastic.co/docs/reference/elasticsearch/index-settings/index-modules);
		// index.translog.durability is request or async
		// (https://www.elastic.co/docs/reference/elasticsearch/index-settings/translog).
		Expect(index.Settings).To(HaveKeyWithValue("number_of_shards", BeNumerically(">=", 1)))
		Expect(index.Settings).To(HaveKeyWithValue("number_of_replicas", BeNumerically(">=", 0)))
		Expect(index.Settings).To(HaveKeyWithValue("index.translog.durability", BeElementOf("request", "async")))
		Expect(index.Settings).To(HaveLen(3))

		var template map[string]any
		Expect(json.Unmarshal([]byte(es.bodies["PUT /_index_template/chaosdrill-logs-events"]), &template)).To(Succeed())
		// An index template has index_patterns and template.settings
		// (https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-indices-put-index-template).
		Expect(template).To(HaveKey("index_patterns"))
		Expect(template).To(HaveKey("template"))
		Expect(template).To(HaveLen(2))
	})

	It("registers the repository with documented S3 repository settings", func(ctx SpecContext) {
		Expect(c.RegisterS3Repository(ctx, "chaosdrill", "snapshots-artifacts-us-west-1", true)).To(Succeed())
		var body struct {
			Type     string         `json:"type"`
			Settings map[string]any `json:"settings"`
		}
		Expect(json.Unmarshal([]byte(es.bodies["PUT /_snapshot/chaosdrill"]), &body)).To(Succeed())
		Expect(body.Type).To(Equal("s3"))
		// bucket (required) and readonly, a boolean
		// (https://www.elastic.co/docs/deploy-manage/tools/snapshot-and-restore/s3-repository#repository-s3-repository).
		for name := range body.Settings {
			Expect(name).To(BeElementOf("bucket", "readonly", "client", "base_path"))
		}
		Expect(body.Settings["bucket"]).To(MatchRegexp(bucket.String()))
		Expect(body.Settings["readonly"]).To(BeAssignableToTypeOf(true))
	})

	It("takes and restores snapshots with valid names, bodies and query parameters", func(ctx SpecContext) {
		Expect(c.Snapshot(ctx, "chaosdrill", "snapshot-000001")).To(Succeed())
		Expect(c.Restore(ctx, "chaosdrill", "snapshot-000001")).To(Succeed())
		Expect(validIndex("snapshot-000001")).To(BeTrue())
		for _, request := range es.requests {
			path, rawQuery, _ := strings.Cut(strings.SplitN(request, " ", 2)[1], "?")
			query, err := url.ParseQuery(rawQuery)
			Expect(err).NotTo(HaveOccurred())
			booleanQuery(query, "wait_for_completion")
			Expect(path).To(HavePrefix("/_snapshot/chaosdrill/snapshot-000001"))
		}
		// indices (a comma-separated list or pattern) and
		// include_global_state (a boolean) are the documented body fields
		// of both, and partial (a boolean) of the restore
		// (https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-snapshot-restore).
		var body map[string]any
		Expect(json.Unmarshal([]byte(es.bodies["PUT /_snapshot/chaosdrill/snapshot-000001"]), &body)).To(Succeed())
		Expect(body).To(Equal(map[string]any{"indices": "chaosdrill-logs-events", "include_global_state": false}))
		body = nil
		Expect(json.Unmarshal([]byte(es.bodies["POST /_snapshot/chaosdrill/snapshot-000001/_restore"]), &body)).To(Succeed())
		Expect(body).To(Equal(map[string]any{"indices": "chaosdrill-logs-events", "include_global_state": false, "partial": false}))
	})

	It("sends bulk actions and real-time gets in their documented shapes", func(ctx SpecContext) {
		bulk(ctx, c, 1, 2)
		lines := strings.Split(strings.TrimSpace(es.bodies["POST /_bulk"]), "\n")
		// NDJSON: an action line, then the document (https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-bulk).
		Expect(lines).To(HaveLen(4))
		var action map[string]map[string]string
		Expect(json.Unmarshal([]byte(lines[0]), &action)).To(Succeed())
		Expect(action).To(HaveKey("index"))
		Expect(action["index"]).To(HaveKeyWithValue("_index", "chaosdrill-logs-events"))

		present := make([]bool, 2)
		Expect(c.ReadBack(ctx, []uint64{1, 2}, present)).To(Succeed())
		for _, request := range es.requests {
			if strings.Contains(request, "_mget") {
				_, rawQuery, _ := strings.Cut(request, "?")
				query, err := url.ParseQuery(rawQuery)
				Expect(err).NotTo(HaveOccurred())
				booleanQuery(query, "realtime")
				booleanQuery(query, "_source")
			}
		}
	})
})
