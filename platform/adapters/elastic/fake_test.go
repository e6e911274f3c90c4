package elastic_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
)

// fakeES answers the Elasticsearch 8 REST API shapes the adapter uses, on
// loopback, from an in-memory index.
type fakeES struct {
	server *httptest.Server
	mu     sync.Mutex

	docs        map[string]bool // _id -> stored
	indexExists bool
	// itemStatus overrides the status of the bulk item with that _id.
	itemStatus map[string]int
	// bulkStatus, when not 0, answers whole _bulk requests with it.
	bulkStatus int
	// failBulks answers that many _bulk requests with 502 first (the
	// transport resends on 502).
	failBulks int
	// holdBulk stores a bulk's items and then never answers.
	holdBulk bool
	release  chan struct{}

	health    string
	master    string
	requests  []string // "METHOD path?query"
	bodies    map[string]string
	snapshots []map[string]any
	shards    map[string]int // snapshot/restore shard counts
}

func startFakeES() *fakeES {
	f := &fakeES{
		docs: map[string]bool{}, indexExists: true, itemStatus: map[string]int{}, release: make(chan struct{}),
		health: "green", master: "es-az2", bodies: map[string]string{}, shards: map[string]int{"total": 5, "failed": 0, "successful": 5},
	}
	f.server = httptest.NewServer(http.HandlerFunc(f.serve))
	DeferCleanup(func() {
		close(f.release)
		f.server.Close()
	})
	return f
}

func (f *fakeES) answer(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func esError(status int, typ, reason string) map[string]any {
	cause := map[string]any{"type": typ, "reason": reason}
	return map[string]any{"error": map[string]any{"root_cause": []any{cause}, "type": typ, "reason": reason}, "status": status}
}

func (f *fakeES) serve(w http.ResponseWriter, r *http.Request) {
	// The v8 client refuses to talk to anything that does not say it is
	// Elasticsearch.
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	var raw strings.Builder
	_, _ = bufio.NewReader(r.Body).WriteTo(&raw)
	body := raw.String()
	f.mu.Lock()
	key := r.Method + " " + r.URL.Path
	f.requests = append(f.requests, key+"?"+r.URL.RawQuery)
	f.bodies[key] = body
	f.mu.Unlock()

	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.URL.Path == "/_bulk":
		f.bulk(w, body)
	case len(parts) == 2 && parts[1] == "_mget":
		f.mget(w, body)
	case r.URL.Path == "/_cluster/health":
		f.answer(w, 200, map[string]any{"cluster_name": "chaos", "status": f.health, "number_of_nodes": 4, "active_shards_percent_as_number": 100.0})
	case r.URL.Path == "/_cat/master":
		f.answer(w, 200, []map[string]string{{"id": "Yc2PKvMxQYewCW7Ar5Ew6g", "host": "172.18.0.3", "ip": "172.18.0.3", "node": f.master}})
	case parts[0] == "_index_template":
		f.answer(w, 200, map[string]any{"acknowledged": true})
	case parts[0] == "_snapshot":
		f.snapshot(w, r, parts)
	case len(parts) == 1 && r.Method == http.MethodPut:
		f.mu.Lock()
		exists := f.indexExists
		f.indexExists = true
		f.mu.Unlock()
		if exists {
			f.answer(w, 400, esError(400, "resource_already_exists_exception", "index [logs/abc] already exists"))
			return
		}
		f.answer(w, 200, map[string]any{"acknowledged": true, "shards_acknowledged": true, "index": parts[0]})
	default:
		f.answer(w, 404, esError(404, "not_found", r.URL.Path))
	}
}

func (f *fakeES) bulk(w http.ResponseWriter, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failBulks > 0 {
		f.failBulks--
		f.answer(w, 502, map[string]any{"error": "bad gateway"})
		return
	}
	if f.bulkStatus != 0 {
		f.answer(w, f.bulkStatus, esError(f.bulkStatus, "es_rejected_execution_exception", "rejected execution of coordinating operation"))
		return
	}
	lines := strings.Split(strings.TrimSpace(body), "\n")
	var items []any
	hasErrors := false
	for i := 0; i+1 < len(lines); i += 2 {
		var action map[string]map[string]string
		_ = json.Unmarshal([]byte(lines[i]), &action)
		id := action["index"]["_id"]
		status, ok := f.itemStatus[id]
		if !ok {
			status = 201
		}
		item := map[string]any{"_index": "logs", "_id": id, "status": status}
		switch status {
		case 201:
			f.docs[id] = true
			item["result"] = "created"
			item["_shards"] = map[string]int{"total": 2, "successful": 2, "failed": 0}
		case 429:
			item["error"] = map[string]any{"type": "es_rejected_execution_exception", "reason": "rejected execution of primary operation"}
		case 400:
			item["error"] = map[string]any{"type": "document_parsing_exception", "reason": "failed to parse field [op]"}
		case 503:
			item["error"] = map[string]any{"type": "unavailable_shards_exception", "reason": "[logs][2] primary shard is not active Timeout: [1m]"}
		}
		hasErrors = hasErrors || status >= 300
		items = append(items, map[string]any{"index": item})
	}
	if f.holdBulk {
		f.mu.Unlock()
		<-f.release
		f.mu.Lock()
		return
	}
	f.answer(w, 200, map[string]any{"took": 3, "errors": hasErrors, "items": items})
}

func (f *fakeES) mget(w http.ResponseWriter, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.indexExists {
		f.answer(w, 404, esError(404, "index_not_found_exception", "no such index [logs]"))
		return
	}
	var req struct {
		IDs []string `json:"ids"`
	}
	_ = json.Unmarshal([]byte(body), &req)
	var docs []any
	for _, id := range req.IDs {
		if f.docs[id] {
			docs = append(docs, map[string]any{"_index": "logs", "_id": id, "_version": 1, "_seq_no": 0, "_primary_term": 1, "found": true})
		} else {
			docs = append(docs, map[string]any{"_index": "logs", "_id": id, "found": false})
		}
	}
	f.answer(w, 200, map[string]any{"docs": docs})
}

func (f *fakeES) snapshot(w http.ResponseWriter, r *http.Request, parts []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case len(parts) == 2 && r.Method == http.MethodPut:
		f.answer(w, 200, map[string]any{"acknowledged": true})
	case len(parts) == 3 && parts[2] == "_all":
		f.answer(w, 200, map[string]any{"snapshots": f.snapshots, "total": len(f.snapshots), "remaining": 0})
	case len(parts) == 3 && r.Method == http.MethodPut:
		state := "SUCCESS"
		if f.shards["failed"] > 0 {
			state = "PARTIAL"
		}
		f.answer(w, 200, map[string]any{"snapshot": map[string]any{
			"snapshot": parts[2], "uuid": "dKb54xw67gvdRctLCxSket", "repository": parts[1], "indices": []string{"logs"},
			"state": state, "start_time_in_millis": 1, "end_time_in_millis": 2, "shards": f.shards,
		}})
	case len(parts) == 4 && parts[3] == "_restore":
		f.answer(w, 200, map[string]any{"snapshot": map[string]any{"snapshot": parts[2], "indices": []string{"logs"}, "shards": f.shards}})
	default:
		f.answer(w, 404, esError(404, "snapshot_missing_exception", fmt.Sprint(parts)))
	}
}
