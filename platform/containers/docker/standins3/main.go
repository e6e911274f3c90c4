// Command standins3 is the S3 stand-in: a static binary that serves the S3
// API through gofakes3 (github.com/johannesboyne/gofakes3, an in-memory S3
// server speaking the real protocol) on LocalStack's port, 4566, plus
// LocalStack's health endpoint, GET /_localstack/health, which the live
// platform waits on before it uses an S3 node. It lets the live platform
// run its production code path (bring-up, buckets, puts, the cross-region
// sync, region kills, failover, the read-back, the report) where the
// LocalStack image cannot be pulled; `make standins` builds it as the image
// chaosdrill/standin-s3:dev, selected with --image s3=chaosdrill/standin-s3:dev.
//
// Like LocalStack's community image
// (https://docs.localstack.cloud/aws/capabilities/state-management/persistence/),
// it keeps its buckets in memory only: a restarted stand-in is empty.
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

const (
	// listenAddress is LocalStack's edge port
	// (https://docs.localstack.cloud/references/internal-endpoints/).
	listenAddress = ":4566"
	// healthPath is LocalStack's health endpoint (same source).
	healthPath = "/_localstack/health"
	// readHeaderTimeout bounds a client that connects and sends nothing;
	// far above a request's header time on a local network.
	readHeaderTimeout = 30 * time.Second
)

// health is the body of GET /_localstack/health in LocalStack's shape: each
// service with its state ("available" until first used, in LocalStack;
// here it is always ready), the edition and the version.
type health struct {
	Services map[string]string `json:"services"`
	Edition  string            `json:"edition"`
	Version  string            `json:"version"`
}

func main() {
	fake := gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.StdLog(log.New(os.Stderr, "", log.LstdFlags), gofakes3.LogErr))).Server()
	mux := http.NewServeMux()
	mux.HandleFunc(healthPath, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(health{
			Services: map[string]string{"s3": "running"},
			Edition:  "community",
			Version:  "chaosdrill-standin-s3",
		})
	})
	mux.Handle("/", fake)
	server := &http.Server{Addr: listenAddress, Handler: mux, ReadHeaderTimeout: readHeaderTimeout}
	log.Printf("chaosdrill S3 stand-in (gofakes3) listening on %s", listenAddress)
	log.Fatal(server.ListenAndServe())
}
