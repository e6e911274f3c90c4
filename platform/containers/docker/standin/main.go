// Command standin is the stand-in server the docker package's tests run in
// place of MongoDB, Elasticsearch and LocalStack: a static binary that says
// which node it is and measures its own reachability to peers, so that a test
// can check a network fault from inside the Docker network.
//
// It listens on two ports:
//
//   - EchoPort (TCP): every line received is answered with "pong <node>\n".
//     The harness probes this through the container's host port.
//   - ControlPort (HTTP): GET / answers the node name (the readiness check);
//     GET /dial?addr=host:port&timeout=500ms&rounds=3 connects to a peer's
//     echo port from inside this container and answers a JSON DialResult;
//     GET /disk?path=/data/f&bytes=4096 appends that many bytes to the file,
//     fsyncs it and answers a JSON DiskResult (how long it took, the error,
//     the usage of the file system holding it): the disk-fault specs.
//
// The node name comes from the NODE_NAME environment variable.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	echoAddress    = ":7000"
	controlAddress = ":8080"
	// defaultDialTimeout bounds one /dial when the caller gives none; it is
	// far above a healthy round trip on a bridge network (well under 1 ms).
	defaultDialTimeout = 500 * time.Millisecond
	maxRounds          = 20
)

// DialResult is the JSON body of GET /dial. Durations are nanoseconds.
type DialResult struct {
	From      string `json:"from"`
	Address   string `json:"address"`
	Reachable bool   `json:"reachable"`
	Reply     string `json:"reply,omitempty"`
	ConnectNs int64  `json:"connect_ns,omitempty"`
	// RoundTripNs is the fastest ping/pong over the established connection.
	RoundTripNs int64  `json:"round_trip_ns,omitempty"`
	Error       string `json:"error,omitempty"`
}

func main() {
	node := os.Getenv("NODE_NAME")
	if node == "" {
		node, _ = os.Hostname()
	}
	echo, err := net.Listen("tcp", echoAddress)
	if err != nil {
		log.Fatalf("listen echo: %v", err)
	}
	go serveEcho(echo, node)

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, node)
	})
	mux.HandleFunc("/dial", func(w http.ResponseWriter, r *http.Request) {
		result := dial(node, r)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(result)
	})
	mux.HandleFunc("/disk", func(w http.ResponseWriter, r *http.Request) {
		result := diskWrite(r)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(result)
	})
	log.Fatal(http.ListenAndServe(controlAddress, mux))
}

func serveEcho(listener net.Listener, node string) {
	for {
		conn, err := listener.Accept()
		if err != nil {
			log.Printf("accept: %v", err)
			continue
		}
		go func() {
			defer conn.Close()
			lines := bufio.NewScanner(conn)
			for lines.Scan() {
				if _, err := fmt.Fprintf(conn, "pong %s\n", node); err != nil {
					return
				}
			}
		}()
	}
}

func dial(node string, r *http.Request) DialResult {
	query := r.URL.Query()
	result := DialResult{From: node, Address: query.Get("addr")}
	timeout := defaultDialTimeout
	if text := query.Get("timeout"); text != "" {
		parsed, err := time.ParseDuration(text)
		if err != nil {
			result.Error = fmt.Sprintf("parse timeout: %v", err)
			return result
		}
		timeout = parsed
	}
	rounds := 1
	if text := query.Get("rounds"); text != "" {
		parsed, err := strconv.Atoi(text)
		if err != nil || parsed < 1 || parsed > maxRounds {
			result.Error = fmt.Sprintf("rounds must be 1..%d", maxRounds)
			return result
		}
		rounds = parsed
	}
	deadline := time.Now().Add(timeout)
	started := time.Now()
	conn, err := net.DialTimeout("tcp", result.Address, timeout)
	if err != nil {
		result.Error = fmt.Sprintf("connect: %v", err)
		return result
	}
	defer conn.Close()
	result.ConnectNs = time.Since(started).Nanoseconds()
	if err := conn.SetDeadline(deadline); err != nil {
		result.Error = fmt.Sprintf("set deadline: %v", err)
		return result
	}
	replies := bufio.NewReader(conn)
	for range rounds {
		sent := time.Now()
		if _, err := conn.Write([]byte("ping\n")); err != nil {
			result.Error = fmt.Sprintf("send ping: %v", err)
			return result
		}
		reply, err := replies.ReadString('\n')
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				err = fmt.Errorf("no pong within %v", timeout)
			}
			result.Error = fmt.Sprintf("read pong: %v", err)
			return result
		}
		roundTrip := time.Since(sent).Nanoseconds()
		if result.RoundTripNs == 0 || roundTrip < result.RoundTripNs {
			result.RoundTripNs = roundTrip
		}
		result.Reply = strings.TrimSpace(reply)
	}
	result.Reachable = true
	return result
}

// DiskResult is the JSON body of GET /disk. Durations are nanoseconds.
type DiskResult struct {
	Path        string  `json:"path"`
	Written     int     `json:"written"`
	TookNs      int64   `json:"took_ns"`
	Error       string  `json:"error,omitempty"`
	UsedPercent float64 `json:"used_percent"`
}

func diskWrite(r *http.Request) DiskResult {
	query := r.URL.Query()
	result := DiskResult{Path: query.Get("path")}
	size, err := strconv.Atoi(query.Get("bytes"))
	if err != nil || size < 0 {
		result.Error = "bytes must be a whole number"
		return result
	}
	started := time.Now()
	f, err := os.OpenFile(result.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err == nil {
		result.Written, err = f.Write(make([]byte, size))
		if err == nil {
			err = f.Sync()
		}
		if closeErr := f.Close(); err == nil {
			err = closeErr
		}
	}
	result.TookNs = time.Since(started).Nanoseconds()
	if err != nil {
		result.Error = err.Error()
	}
	var st syscall.Statfs_t
	if syscall.Statfs(filepath.Dir(result.Path), &st) == nil && st.Blocks > 0 {
		result.UsedPercent = 100 * float64(st.Blocks-st.Bavail) / float64(st.Blocks)
	}
	return result
}
