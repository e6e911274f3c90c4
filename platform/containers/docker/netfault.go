package docker

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"golang.org/x/sync/errgroup"

	"github.com/chaosdrill/chaosdrill/platform"
)

// firstDelayQueue is the first NFQUEUE queue number the delay rules use;
// a node gets one queue per distinct delay. Queues are per network
// namespace, so the same numbers serve every node.
const firstDelayQueue = 4321

// nodePair is an unordered pair of node names, smaller first.
type nodePair [2]string

func pairOf(a, b string) nodePair {
	if a > b {
		a, b = b, a
	}
	return nodePair{a, b}
}

// LinkLatency is the one-way delay of the link from a node placed in
// (fromRegion, fromZone) to one in (toRegion, toZone); 0 for none.
type LinkLatency func(fromRegion, fromZone, toRegion, toZone string) time.Duration

// networkFaults is the network state the engine has imposed: which pairs of
// nodes are cut apart, which nodes carry extra latency, and the latency of
// the links between placements. Every node's firewall is rendered from it as
// a whole, so that applying it again (after a restart gave the node a new
// namespace) is the same operation as applying it the first time.
type networkFaults struct {
	mu        sync.Mutex // held for a whole change: state and rendering
	cuts      map[nodePair]struct{}
	latency   map[string]time.Duration
	links     LinkLatency
	addresses map[string]string // each node's address when last rendered

	delayersMu sync.Mutex // nodes render in parallel
	delayers   map[string]*delayer
}

// release closes node's delayer: its namespace is gone (killed or stopped),
// and the socket would otherwise keep it alive.
func (n *networkFaults) release(node string) {
	n.delayersMu.Lock()
	defer n.delayersMu.Unlock()
	if d := n.delayers[node]; d != nil {
		d.Close()
		delete(n.delayers, node)
	}
}

func (n *networkFaults) closeAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.delayersMu.Lock()
	defer n.delayersMu.Unlock()
	for node, d := range n.delayers {
		d.Close()
		delete(n.delayers, node)
	}
	n.cuts = map[nodePair]struct{}{}
	n.latency = map[string]time.Duration{}
	n.links = nil
	n.addresses = map[string]string{}
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
	if err := e.renderAll(ctx, touched); err != nil {
		return fmt.Errorf("%s: %w", verb, err)
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
	if err := e.renderAll(ctx, []string{node}); err != nil {
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
	if err := e.renderAll(ctx, []string{node}); err != nil {
		return fmt.Errorf("remove latency: %w", err)
	}
	return nil
}

// SetLinkLatency makes every packet between two nodes wait for the latency
// of the link between their placements, on the sending side, so that a
// round trip between them takes both directions' latencies: the geography
// of the topology. It applies to every node running now and to every node
// started later. Added latency (AddLatency) comes on top.
func (e *Engine) SetLinkLatency(ctx context.Context, latency LinkLatency) error {
	e.network.mu.Lock()
	defer e.network.mu.Unlock()
	e.network.links = latency
	if err := e.renderAll(ctx, e.Nodes()); err != nil {
		return fmt.Errorf("apply link latency: %w", err)
	}
	return nil
}

// renderStarted renders every node once new ones have started, when link
// latencies are set: the new nodes need their rules, and every other node's
// rules must name them.
func (e *Engine) renderStarted(ctx context.Context) error {
	e.network.mu.Lock()
	defer e.network.mu.Unlock()
	if e.network.links == nil {
		return nil
	}
	return e.renderAll(ctx, e.Nodes())
}

// reapplyNetworkFaults renders node again after it started with a new
// namespace, and the nodes whose rules name it if its address changed.
func (e *Engine) reapplyNetworkFaults(ctx context.Context, node string) error {
	e.network.mu.Lock()
	defer e.network.mu.Unlock()
	affected := map[string]bool{node: true}
	for pair := range e.network.cuts {
		if pair[0] == node || pair[1] == node {
			affected[pair[0]], affected[pair[1]] = true, true
		}
	}
	view, err := e.look(ctx)
	if err != nil {
		return fmt.Errorf("reapply network faults: %w", err)
	}
	if previous, known := e.network.addresses[node]; e.network.links != nil && known && previous != view[node].address {
		for name := range view {
			affected[name] = true
		}
	}
	names := make([]string, 0, len(affected))
	for name := range affected {
		names = append(names, name)
	}
	sort.Strings(names)
	if err := e.renderView(ctx, names, view); err != nil {
		return fmt.Errorf("reapply network faults: %w", err)
	}
	return nil
}

// nodeState is what rendering needs to know of a node now.
type nodeState struct {
	pid          int    // 0 when not running
	address      string // on the run's network; "" when not running
	region, zone string
}

// look inspects every node of the run, in parallel.
func (e *Engine) look(ctx context.Context) (map[string]nodeState, error) {
	names := e.Nodes()
	states := make([]nodeState, len(names))
	group, groupCtx := errgroup.WithContext(ctx)
	for i, name := range names {
		group.Go(func() error {
			found, err := e.owned(groupCtx, name)
			if err != nil {
				return err
			}
			e.mu.Lock()
			spec := e.nodes[name].spec
			e.mu.Unlock()
			state := nodeState{region: spec.Region, zone: spec.Zone, address: e.runAddress(found)}
			if found.State != nil && found.State.Running {
				state.pid = found.State.Pid
			}
			states[i] = state
			return nil
		})
	}
	if err := group.Wait(); err != nil {
		return nil, err
	}
	view := make(map[string]nodeState, len(names))
	for i, name := range names {
		view[name] = states[i]
	}
	return view, nil
}

// renderAll renders nodes from a fresh look at every node. Callers hold
// e.network.mu.
func (e *Engine) renderAll(ctx context.Context, nodes []string) error {
	view, err := e.look(ctx)
	if err != nil {
		return err
	}
	return e.renderView(ctx, nodes, view)
}

// renderView renders nodes in parallel. Callers hold e.network.mu.
func (e *Engine) renderView(ctx context.Context, nodes []string, view map[string]nodeState) error {
	group, groupCtx := errgroup.WithContext(ctx)
	for _, node := range nodes {
		if _, known := view[node]; !known {
			continue
		}
		group.Go(func() error { return e.render(groupCtx, node, view) })
	}
	err := group.Wait()
	for node, state := range view {
		if state.address != "" {
			e.network.addresses[node] = state.address
		}
	}
	return err
}

// queuedDestination is a peer address whose packets wait in a delay queue.
type queuedDestination struct {
	address string
	queue   uint16
}

// plan works out one node's rules from the network state: the addresses it
// is cut from, the delay queue of each delayed peer, the queue everything
// else it sends waits in under added latency (0: none), and each queue's
// delay.
func (n *networkFaults) plan(node string, view map[string]nodeState) (cut []string, delayed []queuedDestination, fallback uint16, delays map[uint16]time.Duration) {
	self := view[node]
	extra := n.latency[node]
	byDelay := map[time.Duration][]string{}
	for _, peer := range sortedNames(view) {
		state := view[peer]
		if peer == node || state.address == "" {
			continue
		}
		if _, isCut := n.cuts[pairOf(node, peer)]; isCut {
			cut = append(cut, state.address)
			continue
		}
		var link time.Duration
		if n.links != nil {
			link = n.links(self.region, self.zone, state.region, state.zone)
		}
		if link > 0 {
			// Without a link latency the peer's packets take the
			// fallback queue of added latency, or none.
			byDelay[extra+link] = append(byDelay[extra+link], state.address)
		}
	}
	distinct := make([]time.Duration, 0, len(byDelay)+1)
	for d := range byDelay {
		distinct = append(distinct, d)
	}
	if extra > 0 {
		distinct = append(distinct, extra)
	}
	slices.Sort(distinct)
	delays = map[uint16]time.Duration{}
	for i, d := range distinct {
		queue := uint16(firstDelayQueue + i)
		delays[queue] = d
		for _, address := range byDelay[d] {
			delayed = append(delayed, queuedDestination{address: address, queue: queue})
		}
		if d == extra && extra > 0 {
			fallback = queue
		}
	}
	return cut, delayed, fallback, delays
}

func sortedNames(view map[string]nodeState) []string {
	names := make([]string, 0, len(view))
	for name := range view {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// render replaces node's filter table with the rules the current state asks
// for, and starts, keeps or replaces its delayer. A node that is not running
// is skipped: Start renders it again. Callers hold e.network.mu.
func (e *Engine) render(ctx context.Context, node string, view map[string]nodeState) error {
	pid := view[node].pid
	if pid == 0 {
		return nil
	}
	cut, delayed, fallback, delays := e.network.plan(node, view)
	e.network.delayersMu.Lock()
	current := e.network.delayers[node]
	e.network.delayersMu.Unlock()
	if current != nil && !current.sameDelays(pid, delays) {
		// Take the queue rules out first so that no packet waits on a
		// closing queue.
		if err := applyFilterTable(ctx, pid, filterTable(cut, nil, 0)); err != nil {
			return fmt.Errorf("node %s: %w", node, err)
		}
		e.network.release(node)
		current = nil
	}
	if len(delays) > 0 && current == nil {
		opened, err := openDelayer(pid, delays)
		if err != nil {
			return fmt.Errorf("%w: node %s: start packet delayer: %v", platform.ErrEnvironment, node, err)
		}
		e.network.delayersMu.Lock()
		e.network.delayers[node] = opened
		e.network.delayersMu.Unlock()
	}
	if err := applyFilterTable(ctx, pid, filterTable(cut, delayed, fallback)); err != nil {
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
// to and from the cut peers, queue packets to each delayed peer in its delay
// queue, and, under added latency, everything else it sends (but loopback)
// in the fallback queue. --queue-bypass lets packets through if the delayer
// is gone (the harness died), rather than blackholing the node.
func filterTable(cutAddresses []string, delayed []queuedDestination, fallback uint16) string {
	var rules strings.Builder
	rules.WriteString("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	for _, address := range cutAddresses {
		fmt.Fprintf(&rules, "-A INPUT -s %s/32 -j DROP\n", address)
		fmt.Fprintf(&rules, "-A OUTPUT -d %s/32 -j DROP\n", address)
	}
	for _, d := range delayed {
		fmt.Fprintf(&rules, "-A OUTPUT -d %s/32 -j NFQUEUE --queue-num %d --queue-bypass\n", d.address, d.queue)
	}
	if fallback != 0 {
		fmt.Fprintf(&rules, "-A OUTPUT ! -o lo -j NFQUEUE --queue-num %d --queue-bypass\n", fallback)
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

// roundTripTries is how many handshakes RoundTrip times; the fastest is the
// link, the others met scheduling noise.
const roundTripTries = 5

// RoundTrip measures the round trip from node from to node to's port (e.g.
// "27017" or "27017/tcp") inside the run's network, through every rule in
// force: the fastest of a few TCP handshakes made from from's own network
// namespace. It needs root, like the network faults; the images need no
// tools.
func (e *Engine) RoundTrip(ctx context.Context, from, to, port string) (time.Duration, error) {
	source, err := e.owned(ctx, from)
	if err != nil {
		return 0, fmt.Errorf("round trip: %w", err)
	}
	target, err := e.owned(ctx, to)
	if err != nil {
		return 0, fmt.Errorf("round trip: %w", err)
	}
	if source.State == nil || source.State.Pid == 0 {
		return 0, fmt.Errorf("round trip from %s: it is not running", from)
	}
	address := e.runAddress(target)
	if address == "" {
		return 0, fmt.Errorf("round trip to %s: it has no address (not running)", to)
	}
	endpoint := net.JoinHostPort(address, strings.TrimSuffix(port, "/tcp"))
	best := time.Duration(0)
	for range roundTripTries {
		took, err := dialFrom(ctx, source.State.Pid, endpoint, 5*time.Second)
		if err != nil {
			return 0, fmt.Errorf("%w: round trip %s -> %s: %v", platform.ErrEnvironment, from, to, err)
		}
		if best == 0 || took < best {
			best = took
		}
	}
	return best, nil
}
