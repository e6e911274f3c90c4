package elastic_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/adapters/elastic"
)

func newClient(timeout time.Duration, addresses ...string) *elastic.Client {
	c, err := elastic.New("run1", elastic.Options{Addresses: addresses, Index: "logs", Timeout: timeout})
	Expect(err).NotTo(HaveOccurred())
	return c
}

func closedAddress() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	addr := ln.Addr().String()
	Expect(ln.Close()).To(Succeed())
	return "http://" + addr
}

func bulk(ctx context.Context, c *elastic.Client, ops ...uint64) []platform.Outcome {
	outcomes := make([]platform.Outcome, len(ops))
	c.Bulk(ctx, ops, outcomes)
	return outcomes
}

var _ = Describe("Client against a fake Elasticsearch", func() {
	var (
		es *fakeES
		c  *elastic.Client
	)

	BeforeEach(func() {
		es = startFakeES()
		c = newClient(2*time.Second, es.server.URL)
	})

	Describe("Bulk", func() {
		It("classifies each item by its own status", func(ctx SpecContext) {
			es.itemStatus["run1-2"] = 429 // queue full on the primary: not applied
			es.itemStatus["run1-3"] = 400 // mapping error: not applied
			es.itemStatus["run1-4"] = 503 // primary lost mid-way: may have been applied
			Expect(bulk(ctx, c, 1, 2, 3, 4, 5)).To(Equal([]platform.Outcome{
				platform.Acked, platform.Failed, platform.Failed, platform.Unknown, platform.Acked,
			}))
		})

		It("sends one request naming the index and each operation's id", func(ctx SpecContext) {
			bulk(ctx, c, 7, 8)
			Expect(es.requests).To(ConsistOf(HavePrefix("POST /_bulk")))
			Expect(es.bodies["POST /_bulk"]).To(ContainSubstring(`{"index":{"_id":"run1-7","_index":"logs"}}`))
			Expect(es.bodies["POST /_bulk"]).To(ContainSubstring(`{"index":{"_id":"run1-8","_index":"logs"}}`))
		})

		It("fails everything when the whole request is rejected", func(ctx SpecContext) {
			es.bulkStatus = 429
			Expect(bulk(ctx, c, 1, 2)).To(Equal([]platform.Outcome{platform.Failed, platform.Failed}))
		})

		It("leaves everything unknown when the whole request meets a server error", func(ctx SpecContext) {
			es.bulkStatus = 500
			Expect(bulk(ctx, c, 1, 2)).To(Equal([]platform.Outcome{platform.Unknown, platform.Unknown}))
		})

		It("fails everything when no node accepts the connection", func(ctx SpecContext) {
			dead := newClient(2*time.Second, closedAddress())
			Expect(bulk(ctx, dead, 1, 2)).To(Equal([]platform.Outcome{platform.Failed, platform.Failed}))
		})

		It("goes to the next node when one refuses the connection, and that does not count as sent", func(ctx SpecContext) {
			es.itemStatus["run1-2"] = 429
			both := newClient(2*time.Second, closedAddress(), es.server.URL)
			Expect(bulk(ctx, both, 1, 2)).To(Equal([]platform.Outcome{platform.Acked, platform.Failed}))
		})

		It("does not call an item failed when an earlier attempt of the same request went out", func(ctx SpecContext) {
			es.failBulks = 1 // 502, which the transport resends
			es.itemStatus["run1-2"] = 429
			Expect(bulk(ctx, c, 1, 2)).To(Equal([]platform.Outcome{platform.Acked, platform.Unknown}))
		})

		It("leaves everything unknown when the answer never comes, though the items were stored", func(ctx SpecContext) {
			slow := newClient(300*time.Millisecond, es.server.URL)
			es.holdBulk = true
			Expect(bulk(ctx, slow, 1, 2)).To(Equal([]platform.Outcome{platform.Unknown, platform.Unknown}))
			present := make([]bool, 2)
			Expect(c.ReadBack(ctx, []uint64{1, 2}, present)).To(Succeed())
			Expect(present).To(Equal([]bool{true, true}))
		})
	})

	Describe("ReadBack", func() {
		It("reports stored documents present and the others absent, across several _mget batches", func(ctx SpecContext) {
			Expect(bulk(ctx, c, 1, 1000, 1001, 2400)).To(HaveEach(platform.Acked))
			ids := make([]uint64, 2500)
			for i := range ids {
				ids[i] = uint64(i + 1)
			}
			present := make([]bool, len(ids))
			Expect(c.ReadBack(ctx, ids, present)).To(Succeed())
			var found []uint64
			for i, ok := range present {
				if ok {
					found = append(found, ids[i])
				}
			}
			Expect(found).To(Equal([]uint64{1, 1000, 1001, 2400}))
			mgets := 0
			for _, r := range es.requests {
				if strings.HasPrefix(r, "POST /logs/_mget") {
					mgets++
					Expect(r).To(ContainSubstring("realtime=true"))
				}
			}
			Expect(mgets).To(Equal(3))
		})

		It("reports every document absent when the index is gone", func(ctx SpecContext) {
			es.indexExists = false
			present := []bool{true, true}
			Expect(c.ReadBack(ctx, []uint64{1, 2}, present)).To(Succeed())
			Expect(present).To(Equal([]bool{false, false}))
		})
	})

	It("reports cluster health and the elected master", func(ctx SpecContext) {
		es.health = "yellow"
		Expect(c.Health(ctx)).To(Equal("yellow"))
		Expect(c.MasterNode(ctx)).To(Equal("es-az2"))
	})

	It("sets the index up with its shards, replicas and request durability, and accepts an existing index", func(ctx SpecContext) {
		Expect(c.Setup(ctx, 5, 1)).To(Succeed()) // the fake already has the index
		var template struct {
			IndexPatterns []string `json:"index_patterns"`
			Template      struct {
				Settings map[string]any `json:"settings"`
			} `json:"template"`
		}
		Expect(json.Unmarshal([]byte(es.bodies["PUT /_index_template/logs"]), &template)).To(Succeed())
		Expect(template.IndexPatterns).To(Equal([]string{"logs"}))
		Expect(template.Template.Settings).To(Equal(map[string]any{
			"number_of_shards": 5.0, "number_of_replicas": 1.0, "index.translog.durability": "request",
		}))
		Expect(es.bodies["PUT /logs"]).To(ContainSubstring(`"number_of_shards":5`))
	})

	It("creates a missing index", func(ctx SpecContext) {
		es.indexExists = false
		Expect(c.Setup(ctx, 3, 0)).To(Succeed())
		Expect(es.indexExists).To(BeTrue())
	})

	Describe("snapshots", func() {
		It("registers an S3 repository, read-only when asked", func(ctx SpecContext) {
			Expect(c.RegisterS3Repository(ctx, "backups", "es-snapshots-west", true)).To(Succeed())
			Expect(es.bodies["PUT /_snapshot/backups"]).To(MatchJSON(`{"type":"s3","settings":{"bucket":"es-snapshots-west","readonly":true}}`))
		})

		It("takes a snapshot of the log index and waits for it", func(ctx SpecContext) {
			Expect(c.Snapshot(ctx, "backups", "snap-1")).To(Succeed())
			Expect(es.requests).To(ContainElement(ContainSubstring("PUT /_snapshot/backups/snap-1?wait_for_completion=true")))
			Expect(es.bodies["PUT /_snapshot/backups/snap-1"]).To(MatchJSON(`{"indices":"logs","include_global_state":false}`))
		})

		It("reports a snapshot that did not copy every shard", func(ctx SpecContext) {
			es.shards = map[string]int{"total": 5, "failed": 2, "successful": 3}
			Expect(c.Snapshot(ctx, "backups", "snap-1")).To(MatchError(ContainSubstring("ended PARTIAL with 2 of 5 shards failed")))
		})

		It("finds the newest successful snapshot", func(ctx SpecContext) {
			es.snapshots = []map[string]any{
				{"snapshot": "snap-1", "state": "SUCCESS", "end_time_in_millis": 1000},
				{"snapshot": "snap-3", "state": "FAILED", "end_time_in_millis": 3000},
				{"snapshot": "snap-2", "state": "SUCCESS", "end_time_in_millis": 2000},
			}
			Expect(c.LatestSnapshot(ctx, "backups")).To(Equal("snap-2"))
		})

		It("says when the repository has no snapshot to restore", func(ctx SpecContext) {
			_, err := c.LatestSnapshot(ctx, "backups")
			Expect(err).To(MatchError(elastic.ErrNoSnapshot))
		})

		It("restores the log index and checks every shard came back", func(ctx SpecContext) {
			Expect(c.Restore(ctx, "backups", "snap-2")).To(Succeed())
			Expect(es.requests).To(ContainElement(ContainSubstring("POST /_snapshot/backups/snap-2/_restore?wait_for_completion=true")))
			Expect(es.bodies["POST /_snapshot/backups/snap-2/_restore"]).To(MatchJSON(`{"indices":"logs","include_global_state":false,"partial":false}`))
			es.shards = map[string]int{"total": 5, "failed": 1, "successful": 4}
			Expect(c.Restore(ctx, "backups", "snap-2")).To(MatchError(ContainSubstring("1 of 5 shards failed")))
		})

		It("asks for a partial restore in the request body, and counts the shards it recreated empty", func(ctx SpecContext) {
			es.shards = map[string]int{"total": 5, "failed": 2, "successful": 3}
			restored, err := c.RestoreWith(ctx, "backups", "snap-4", elastic.RestoreOptions{Partial: true})
			Expect(err).NotTo(HaveOccurred())
			Expect(restored).To(Equal(elastic.RestoredShards{Total: 5, Empty: 2}))
			// partial is a boolean of the body, beside indices, not a
			// query parameter
			// (https://www.elastic.co/guide/en/elasticsearch/reference/current/restore-snapshot-api.html).
			Expect(es.bodies["POST /_snapshot/backups/snap-4/_restore"]).To(MatchJSON(`{"indices":"logs","include_global_state":false,"partial":true}`))
			Expect(es.requests).To(ContainElement("POST /_snapshot/backups/snap-4/_restore?wait_for_completion=true"))
		})

		It("takes the newest PARTIAL snapshot only for a partial restore", func(ctx SpecContext) {
			es.snapshots = []map[string]any{
				{"snapshot": "snap-1", "state": "SUCCESS", "end_time_in_millis": 1000},
				{"snapshot": "snap-2", "state": "PARTIAL", "end_time_in_millis": 2000},
				{"snapshot": "snap-3", "state": "FAILED", "end_time_in_millis": 3000},
			}
			Expect(c.LatestRestorable(ctx, "backups", false)).To(Equal("snap-1"))
			Expect(c.LatestRestorable(ctx, "backups", true)).To(Equal("snap-2"))
		})
	})

	It("carries Elasticsearch's error type and reason in its errors", func(ctx SpecContext) {
		err := c.Restore(ctx, "nope", "x/y")
		var re *elastic.ResponseError
		Expect(errors.As(err, &re)).To(BeTrue())
		Expect(re.Status).To(Equal(404))
		Expect(re.Type).To(Equal("snapshot_missing_exception"))
	})
})
