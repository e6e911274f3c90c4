package mongo_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"github.com/FerretDB/FerretDB/ferretdb"
	. "github.com/onsi/ginkgo/v2"
)

// ferret is an embedded FerretDB (a MongoDB wire-protocol server on SQLite)
// listening on loopback.
type ferret struct {
	addr string
	stop context.CancelFunc
	done chan struct{}
}

// startFerret serves the SQLite databases in dir; a second server on the
// same dir sees what the first one stored. The spec is skipped if FerretDB
// cannot start here.
func startFerret(dir string) *ferret {
	fdb, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		Skip("FerretDB cannot start here: " + err.Error())
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &ferret{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		_ = fdb.Run(ctx)
	}()
	uri := fdb.MongoDBURI() // blocks until the listener is up
	f.addr = uri[len("mongodb://") : len(uri)-1]
	DeferCleanup(f.Stop)
	return f
}

// Stop shuts the server down and waits for it (FerretDB gives open
// connections up to 3 s).
func (f *ferret) Stop() {
	f.stop()
	<-f.done
}

// proxy forwards loopback TCP to a server. It can swallow the server's
// replies (the request arrives and is applied, the answer never comes back)
// and cut every connection with a reset, as a crashed host would.
type proxy struct {
	ln          net.Listener
	upstream    string
	dropReplies atomic.Bool
	mu          sync.Mutex
	conns       []net.Conn
}

func startProxy(upstream string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		Fail("listen: " + err.Error())
	}
	p := &proxy{ln: ln, upstream: upstream}
	go p.serve()
	DeferCleanup(p.Cut)
	return p
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.upstream)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(server, client) }()
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := server.Read(buf)
				if n > 0 && !p.dropReplies.Load() {
					if _, werr := client.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// Cut stops accepting and resets every connection.
func (p *proxy) Cut() {
	_ = p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
	p.conns = nil
}

// closedPort is a loopback address nothing listens on.
func closedPort() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		Fail("listen: " + err.Error())
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// mapping is a Resolve function whose answer the test can change, as Docker
// changes a container's host port when it restarts.
type mapping struct {
	mu   sync.Mutex
	addr string
}

func (m *mapping) Set(addr string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.addr = addr
}

func (m *mapping) Resolve(_ context.Context, member string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if member != memberName {
		return "", errors.New("unknown member " + member)
	}
	return m.addr, nil
}
