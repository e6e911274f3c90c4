// Package elastic is the Elasticsearch side of the live platform's log
// aggregation tier: it bulk-indexes the workload's log events (one document
// per operation, _id "<run>-<op>") and reads them back, and it carries out
// the cluster chores the scenarios and the recovery runbook need: health,
// the elected master, index setup, an S3 snapshot repository, snapshots and
// restores.
//
// # Outcomes
//
// Bulk sends one _bulk request and classifies each item by its own status:
// 200/201 Acked; 4xx Failed (400 mapping errors and 429
// es_rejected_execution_exception are raised on the primary before the item
// is applied); 5xx Unknown (an item can fail after a primary that applied it
// went away). A whole request refused with a 4xx fails every item; a 5xx, a
// broken connection or a timeout leaves every item Unknown; a request that
// no node accepted (connection refused everywhere: its headers never went
// out, as observed through net/http/httptrace) fails every item. The
// transport resends a request to another node after a connection error or a
// 502/503/504; once an earlier attempt went out, an item refused by the
// later one is Unknown, since the earlier one may have applied it.
//
// # What the tests here can and cannot prove
//
// The tests run against an in-process server on loopback that answers with
// the documented response shapes of the Elasticsearch 8 REST API (bulk with
// mixed item statuses, _mget, cluster health, _cat/master, snapshot
// repository, snapshot, restore). Only the `live` suite, against real
// Elasticsearch containers, can prove the cluster's behaviour: which items a
// lost primary really applied, replica promotion and delayed allocation,
// master elections, and that the repository-s3 module reaches LocalStack
// (path-style endpoint and keystore credentials are node settings that
// whoever starts the nodes must provide) and that a snapshot taken in one
// region restores in another after the bucket sync.
package elastic
