package docker

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/chaosdrill/chaosdrill/platform"
)

// delayQueueNumber is the NFQUEUE queue the latency rule sends a node's
// outgoing packets to. Queues are per network namespace, so one number serves
// every node.
const delayQueueNumber = 4321

// nodePair is an unordered pair of node names, smaller first.
type nodePair [2]string

func pairOf(a, b string) nodePair {
	if a > b {
		a, b = b, a
	}
	return nodePair{a, b}
}

// networkFaults is the network state the engine has imposed: which pairs of
// nodes are cut apart and which nodes carry extra latency. Every node's
// firewall is rendered from it as a whole, so that applying it again (after
// a restart gave the node a new namespace) is the same operation as applying
// it the first time.
type networkFaults struct {
	mu       sync.Mutex
	cuts     map[nodePair]struct{}
	latency  map[string]time.Duration
	delayers map[string]*delayer
}

// release closes node's delayer: its namespace is gone (killed or stopped),
// and the socket would otherwise keep it alive.
func (n *networkFaults) release(node string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if d := n.delayers[node]; d != nil {
		d.Close()
		delete(n.delayers, node)
	}
}

func (n *networkFaults) closeAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for node, d := range n.delayers {
		d.Close()
		delete(n.delayers, node)
	}
	n.cuts = map[nodePair]struct{}{}
	n.latency = map[string]time.Duration{}
}

// Partition cuts every node of a from every node of b, both ways: packets
// between them are dropped silently, as on a broken link, so connections
// time out rather than being refused. Traffic within each group, and from
// the harness to any node, is not affected.
func (e *Engine) Partition(ctx context.Context, a, b []string) error {
	return e.changeCuts(ctx, "partition", a, b, true)
}

// Heal undoes Partition(a, b).
func (e *Engine) Heal(ctx context.Context, a, b []string) error {
	return e.changeCuts(ctx, "heal", a, b, false)
}

func (e *Engine) changeCuts(ctx context.Context, verb string, a, b []string, cut bool) error {
	inA := map[string]bool{}
	for _, node := range a {
		inA[node] = true
	}
	for _, node := range b {
		if inA[node] {
			return fmt.Errorf("%s: node %s is in both groups", verb, node)
		}
	}
	touched := append(append([]string{}, a...), b...)
	for _, node := range touched {
		if _, err := e.owned(ctx, node); err != nil {
			return fmt.Errorf("%s: %w", verb, err)
		}
	}
	e.network.mu.Lock()
	defer e.network.mu.Unlock()
	for _, x := range a {
		for _, y := range b {
			if cut {
				e.network.cuts[pairOf(x, y)] = struct{}{}
			} else {
				delete(e.network.cuts, pairOf(x, y))
			}
		}
	}
	for _, node := range touched {
		if err := e.render(ctx, node); err != nil {
			return fmt.Errorf("%s: %w", verb, err)
		}
	}
	return nil
}

// AddLatency delays every packet node sends by extra, so every round trip
// through node (to peers and to the harness) grows by extra.
func (e *Engine) AddLatency(ctx context.Context, node string, extra time.Duration) error {
	if extra <= 0 {
		return fmt.Errorf("add latency to %s: extra must be positive, got %v", node, extra)
	}
	if _, err := e.owned(ctx, node); err != nil {
		return fmt.Errorf("add latency: %w", err)
	}
	e.network.mu.Lock()
	defer e.network.mu.Unlock()
	e.network.latency[node] = extra
	if err := e.render(ctx, node); err != nil {
		return fmt.Errorf("add latency: %w", err)
	}
	return nil
}

// RemoveLatency undoes AddLatency.
func (e *Engine) RemoveLatency(ctx context.Context, node string) error {
	if _, err := e.owned(ctx, node); err != nil {
		return fmt.Errorf("remove latency: %w", err)
	}
	e.network.mu.Lock()
	defer e.network.mu.Unlock()
	delete(e.network.latency, node)
	if err := e.render(ctx, node); err != nil {
		return fmt.Errorf("remove latency: %w", err)
	}
	return nil
}

// reapplyNetworkFaults renders node and every node cut from it, after node
// started again with a new namespace and perhaps a new address.
func (e *Engine) reapplyNetworkFaults(ctx context.Context, node string) error {
	e.network.mu.Lock()
	defer e.network.mu.Unlock()
	affected := map[string]bool{}
	for pair := range e.network.cuts {
		if pair[0] == node || pair[1] == node {
			affected[pair[0]], affected[pair[1]] = true, true
		}
	}
	if e.network.latency[node] > 0 {
		affected[node] = true
	}
	names := make([]string, 0, len(affected))
	for name := range affected {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := e.render(ctx, name); err != nil {
			return fmt.Errorf("reapply network faults: %w", err)
		}
	}
	return nil
}

// render replaces node's filter table with the rules the current state asks
// for, and starts or stops its delayer. A node that is not running is
// skipped: Start renders it again. Callers hold e.network.mu.
func (e *Engine) render(ctx context.Context, node string) error {
	found, err := e.owned(ctx, node)
	if err != nil {
		return err
	}
	if found.State == nil || found.State.Pid == 0 {
		return nil
	}
	pid := found.State.Pid
	var peers []string
	for pair := range e.network.cuts {
		switch node {
		case pair[0]:
			peers = append(peers, pair[1])
		case pair[1]:
			peers = append(peers, pair[0])
		}
	}
	sort.Strings(peers)
	var addresses []string
	for _, peer := range peers {
		peerContainer, err := e.owned(ctx, peer)
		if err != nil {
			return err
		}
		if address := e.runAddress(peerContainer); address != "" {
			addresses = append(addresses, address)
		}
	}
	extra := e.network.latency[node]
	current := e.network.delayers[node]
	if current != nil && (extra == 0 || current.pid != pid || current.delay != extra) {
		// Take the queue rule out first so that no packet waits on a
		// closing queue.
		if err := applyFilterTable(ctx, pid, filterTable(addresses, false)); err != nil {
			return fmt.Errorf("node %s: %w", node, err)
		}
		current.Close()
		delete(e.network.delayers, node)
		current = nil
	}
	if extra > 0 && current == nil {
		opened, err := openDelayer(pid, delayQueueNumber, extra)
		if err != nil {
			return fmt.Errorf("%w: node %s: start packet delayer: %v", platform.ErrEnvironment, node, err)
		}
		e.network.delayers[node] = opened
	}
	if err := applyFilterTable(ctx, pid, filterTable(addresses, extra > 0)); err != nil {
		return fmt.Errorf("node %s: %w", node, err)
	}
	return nil
}

// runAddress is the container's IPv4 address on the run's network, or "" if
// it has none (not running).
func (e *Engine) runAddress(found container.InspectResponse) string {
	e.mu.Lock()
	name := e.networkName
	e.mu.Unlock()
	if found.NetworkSettings == nil {
		return ""
	}
	endpoint := found.NetworkSettings.Networks[name]
	if endpoint == nil || !endpoint.IPAddress.IsValid() {
		return ""
	}
	return endpoint.IPAddress.String()
}

// filterTable is the iptables-restore input for one node: drop everything
// to and from the cut peers, and queue outgoing packets for the delayer.
// --queue-bypass lets packets through if the delayer is gone (the harness
// died), rather than blackholing the node.
func filterTable(cutAddresses []string, delayed bool) string {
	var rules strings.Builder
	rules.WriteString("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	for _, address := range cutAddresses {
		fmt.Fprintf(&rules, "-A INPUT -s %s/32 -j DROP\n", address)
		fmt.Fprintf(&rules, "-A OUTPUT -d %s/32 -j DROP\n", address)
	}
	if delayed {
		fmt.Fprintf(&rules, "-A OUTPUT ! -o lo -j NFQUEUE --queue-num %d --queue-bypass\n", delayQueueNumber)
	}
	rules.WriteString("COMMIT\n")
	return rules.String()
}

// applyFilterTable loads rules into the network namespace of process pid,
// from the host: `nsenter --target PID --net -- iptables-restore`. It needs
// root on the Docker host; the container itself needs no capability and no
// tools.
func applyFilterTable(ctx context.Context, pid int, rules string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: network faults need root on the Docker host (they run iptables-restore through nsenter in the container's network namespace); run the harness as root or with sudo", platform.ErrEnvironment)
	}
	command := exec.CommandContext(ctx, "nsenter", "--target", fmt.Sprint(pid), "--net", "--", "iptables-restore")
	command.Stdin = strings.NewReader(rules)
	var output bytes.Buffer
	command.Stdout, command.Stderr = &output, &output
	if err := command.Run(); err != nil {
		return fmt.Errorf("%w: iptables-restore in the namespace of pid %d: %v: %s", platform.ErrEnvironment, pid, err, strings.TrimSpace(output.String()))
	}
	return nil
}
