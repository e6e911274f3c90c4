package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	dockernetwork "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
	"golang.org/x/sync/errgroup"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Labels every container and network of a run carries. LabelRun is the
// ownership mark: the engine touches nothing without the current run's value,
// and Cleanup removes by it, once the process that created the run (the
// owner labels, owner.go) has ended.
const (
	LabelRun    = "chaosdrill.run"
	LabelNode   = "chaosdrill.node"
	LabelRegion = "chaosdrill.region"
	LabelZone   = "chaosdrill.zone"
)

// ryukDisabledVariable switches off testcontainers' reaper container, which
// has to be pulled from Docker Hub; the engine removes its own containers by
// label instead (https://golang.testcontainers.org/features/configuration/).
const ryukDisabledVariable = "TESTCONTAINERS_RYUK_DISABLED"

// hostOverrideVariable tells testcontainers where published ports are
// reached (its wait strategies dial there). The engine publishes on
// 127.0.0.1 only, so that is the address; left alone, testcontainers guesses
// the default gateway when it finds /.dockerenv
// (https://golang.testcontainers.org/features/configuration/).
const hostOverrideVariable = "TESTCONTAINERS_HOST_OVERRIDE"

// stopGracePeriodSeconds is how long Stop lets a node shut down before the
// engine's SIGKILL; Docker's own default is 10 s
// (https://docs.docker.com/reference/cli/docker/container/stop/).
const stopGracePeriodSeconds = 10

// logTailLines is how much of a failed node's output an error carries.
const logTailLines = "20"

// ErrForeignContainer is returned when a node's container does not carry the
// current run's label: the engine refuses to touch it.
var ErrForeignContainer = errors.New("container does not belong to this run")

// NodeSpec describes one container of a run.
type NodeSpec struct {
	Name, Region, Zone string
	Image              string
	Env                map[string]string
	Cmd                []string
	ExposedPorts       []string      // "27017/tcp"; published on 127.0.0.1 at a random host port
	WaitingFor         wait.Strategy // readiness, with its own timeout
	// StartupTimeout is WaitingFor's timeout, said in the error of a node
	// that never came up; 0 when not known.
	StartupTimeout time.Duration
	Files          []testcontainers.ContainerFile
	CapAdd         []string
	Memory         int64 // bytes, 0 = unlimited
	// DataDir, if set, is where the node's server keeps its data: the
	// engine mounts a data volume of DiskBytes (DefaultDiskBytes if 0)
	// there that disk faults can slow, fail and fill (disk.go; needs root
	// on a Linux Docker host).
	DataDir   string
	DiskBytes int64
}

// Engine runs the containers of one chaosdrill run on Docker and injects
// faults into them. Its methods are safe for concurrent use.
type Engine struct {
	runID  string
	docker *testcontainers.DockerClient
	noPull bool // a missing image is an error, not a pull

	mu          sync.Mutex
	networkName string // empty until the first node starts
	nodes       map[string]*node
	network     networkFaults
	disks       map[string]*diskVolume
}

type node struct {
	spec      NodeSpec
	container testcontainers.Container
}

// NewEngine connects to Docker for run runID. Unless they are set already,
// it sets TESTCONTAINERS_RYUK_DISABLED=true, because the reaper's image
// cannot be assumed pullable (Close and Cleanup remove everything by label
// instead), and TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1, because ports are
// published on loopback only.
func NewEngine(ctx context.Context, runID string, opts ...EngineOption) (*Engine, error) {
	if !validRunID.MatchString(runID) {
		return nil, fmt.Errorf("new engine: run id %q must match %s", runID, validRunID)
	}
	docker, err := connect(ctx)
	if err != nil {
		return nil, err
	}
	if p := remoteProblem(docker.DaemonHost()); p != nil {
		_ = docker.Close()
		return nil, fmt.Errorf("%w: %s; %s", platform.ErrEnvironment, p.What, p.Fix)
	}
	e := &Engine{
		runID:  runID,
		docker: docker,
		nodes:  map[string]*node{},
		network: networkFaults{
			cuts:      map[nodePair]struct{}{},
			latency:   map[string]time.Duration{},
			delayers:  map[string]*delayer{},
			addresses: map[string]string{},
		},
	}
	for _, opt := range opts {
		opt(e)
	}
	return e, nil
}

// EngineOption tunes an Engine.
type EngineOption func(*Engine)

// WithoutPull makes a missing image an error at once instead of a pull:
// for tests, and for machines that must not reach for a registry.
func WithoutPull() EngineOption { return func(e *Engine) { e.noPull = true } }

// validRunID keeps run ids usable inside container and network names.
var validRunID = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$`)

// IsReachable reports, as an error wrapping platform.ErrEnvironment, why
// Docker cannot be used; nil when it can.
func IsReachable(ctx context.Context) error {
	docker, err := connect(ctx)
	if err != nil {
		return err
	}
	return docker.Close()
}

func connect(ctx context.Context) (*testcontainers.DockerClient, error) {
	// testcontainers reads its configuration once per process, so it must
	// be set before the first client is made, whoever makes it.
	for variable, value := range map[string]string{ryukDisabledVariable: "true", hostOverrideVariable: "127.0.0.1"} {
		if _, set := os.LookupEnv(variable); !set {
			if err := os.Setenv(variable, value); err != nil {
				return nil, fmt.Errorf("configure testcontainers: %w", err)
			}
		}
	}
	where := os.Getenv("DOCKER_HOST")
	if where == "" {
		where = "the default socket (unix:///var/run/docker.sock, or the testcontainers/Docker context configuration)"
	} else if err := pingHost(ctx, where); err != nil {
		// testcontainers would quietly fall back to another engine; a user
		// who named one means that one.
		return nil, fmt.Errorf("%w: Docker is not reachable at DOCKER_HOST=%s: %v", platform.ErrEnvironment, where, err)
	}
	docker, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: Docker is not reachable (tried DOCKER_HOST=%s): %v", platform.ErrEnvironment, where, err)
	}
	if _, err := docker.Ping(ctx, client.PingOptions{}); err != nil {
		_ = docker.Close()
		return nil, fmt.Errorf("%w: Docker is not reachable (ping via DOCKER_HOST=%s): %v", platform.ErrEnvironment, where, err)
	}
	return docker, nil
}

// pingHost asks the engine at host whether it answers.
func pingHost(ctx context.Context, host string) error {
	c, err := client.New(client.WithHost(host), client.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = c.Ping(ctx, client.PingOptions{})
	return err
}

// RunID is the run this engine owns.
func (e *Engine) RunID() string { return e.runID }

// Alias is the DNS name other containers of the run reach node by.
func (e *Engine) Alias(node string) string {
	return dnsLabel(node)
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

func dnsLabel(name string) string {
	label := strings.Trim(notDNS.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(label) > 63 {
		label = label[:63]
	}
	return label
}

func (e *Engine) containerName(node string) string {
	return "chaosdrill-" + e.runID + "-" + dnsLabel(node)
}

func (e *Engine) labels(spec NodeSpec) map[string]string {
	labels := CurrentOwner().labels()
	labels[LabelRun] = e.runID
	labels[LabelNode] = spec.Name
	labels[LabelRegion] = spec.Region
	labels[LabelZone] = spec.Zone
	return labels
}

// runLabels are the labels of what the run creates besides containers.
func (e *Engine) runLabels() map[string]string {
	labels := CurrentOwner().labels()
	labels[LabelRun] = e.runID
	return labels
}

// StartNodes starts specs in parallel and waits for each to be ready. If any
// node fails, every container this call created is removed and the error
// names the node that never came up.
func (e *Engine) StartNodes(ctx context.Context, specs []NodeSpec) error {
	if err := e.admit(specs); err != nil {
		return err
	}
	if err := e.checkImages(ctx, specs); err != nil {
		e.forget(specs)
		return err
	}
	if err := e.ensureNetwork(ctx); err != nil {
		e.forget(specs)
		return err
	}
	group, groupCtx := errgroup.WithContext(ctx)
	for _, spec := range specs {
		group.Go(func() error { return e.startNode(groupCtx, spec) })
	}
	if err := group.Wait(); err != nil {
		e.abandon(context.WithoutCancel(ctx), specs)
		return err
	}
	if err := e.renderStarted(ctx); err != nil {
		return fmt.Errorf("start nodes: %w", err)
	}
	return nil
}

// AddNode starts one more node (a new member during a runbook) and waits for
// it to be ready; on failure its container is removed.
func (e *Engine) AddNode(ctx context.Context, spec NodeSpec) error {
	return e.StartNodes(ctx, []NodeSpec{spec})
}

func (e *Engine) admit(specs []NodeSpec) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := map[string]bool{}
	for _, spec := range specs {
		switch {
		case spec.Name == "" || dnsLabel(spec.Name) == "":
			return fmt.Errorf("start nodes: node name %q has no DNS-usable characters", spec.Name)
		case spec.Image == "":
			return fmt.Errorf("start node %s: no image", spec.Name)
		case seen[dnsLabel(spec.Name)] || e.nodes[spec.Name] != nil:
			return fmt.Errorf("start node %s: a node with this name (or alias %s) already exists in run %s", spec.Name, dnsLabel(spec.Name), e.runID)
		}
		seen[dnsLabel(spec.Name)] = true
	}
	for _, spec := range specs {
		e.nodes[spec.Name] = &node{spec: spec}
	}
	return nil
}

func (e *Engine) forget(specs []NodeSpec) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, spec := range specs {
		delete(e.nodes, spec.Name)
	}
}

// checkImages makes sure every image is present before anything is created,
// pulling each missing one once, and names every image it could not have,
// with the nodes that need it, in one error. testcontainers would retry a
// failed pull with exponential backoff until the context ends; a missing
// image is a configuration error that deserves an immediate answer.
func (e *Engine) checkImages(ctx context.Context, specs []NodeSpec) error {
	var images []string
	nodes := map[string][]string{}
	for _, spec := range specs {
		if nodes[spec.Image] == nil {
			images = append(images, spec.Image)
		}
		nodes[spec.Image] = append(nodes[spec.Image], spec.Name)
	}
	var missing []string
	for _, image := range images {
		_, err := e.docker.ImageInspect(ctx, image)
		if err == nil {
			continue
		}
		if e.noPull {
			missing = append(missing, fmt.Sprintf("%s (for %s)", image, strings.Join(nodes[image], ", ")))
			continue
		}
		pull, pullErr := e.docker.ImagePull(ctx, image, client.ImagePullOptions{})
		if pullErr == nil {
			pullErr = pull.Wait(ctx)
			_ = pull.Close()
		}
		if pullErr != nil {
			missing = append(missing, fmt.Sprintf("%s (for %s; pull: %v)", image, strings.Join(nodes[image], ", "), pullErr))
		}
	}
	switch {
	case len(missing) == 0:
		return nil
	case e.noPull:
		return fmt.Errorf("%w: images not on the Docker engine (pulling is off): %s", platform.ErrEnvironment, strings.Join(missing, "; "))
	default:
		return fmt.Errorf("%w: images not on the Docker engine that could not be pulled: %s", platform.ErrEnvironment, strings.Join(missing, "; "))
	}
}

func (e *Engine) ensureNetwork(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.networkName != "" {
		return nil
	}
	name := "chaosdrill-" + e.runID
	create, cancel := uninterrupted(ctx)
	defer cancel()
	_, err := e.docker.NetworkCreate(create, name, client.NetworkCreateOptions{
		Driver: "bridge",
		Labels: e.runLabels(),
	})
	if err != nil {
		return fmt.Errorf("%w: create network %s: %v", platform.ErrEnvironment, name, err)
	}
	e.networkName = name
	return ctx.Err()
}

// createTimeout bounds a Docker create call that an interrupt does not cut.
const createTimeout = time.Minute

// uninterrupted is a context for a call that creates something in Docker:
// it is not cancelled with ctx, because the daemon finishes a create whose
// client went away, and a network or container made after the run's cleanup
// looked would be left behind (seen here: interrupting a bring-up 50 ms in
// left its network). The caller checks ctx once the call returns.
func uninterrupted(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), createTimeout)
}

func (e *Engine) startNode(ctx context.Context, spec NodeSpec) error {
	dataMount := ""
	if spec.DataDir != "" {
		v, err := e.attachDisk(spec)
		if err != nil {
			return fmt.Errorf("start node %s: %w", spec.Name, err)
		}
		dataMount = v.mount
	}
	// testcontainers computes the bindings after this modifier runs and
	// keeps the ones it finds for exposed ports; a binding left to it would
	// listen on every interface.
	loopbackOnly := func(hostConfig *container.HostConfig) {
		if hostConfig.PortBindings == nil {
			hostConfig.PortBindings = dockernetwork.PortMap{}
		}
		for _, exposed := range spec.ExposedPorts {
			port, err := dockernetwork.ParsePort(exposed)
			if err != nil {
				continue // testcontainers reports it
			}
			hostConfig.PortBindings[port] = []dockernetwork.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1")}}
		}
		hostConfig.CapAdd = append(hostConfig.CapAdd, spec.CapAdd...)
		hostConfig.Memory = spec.Memory
		if dataMount != "" {
			hostConfig.Binds = append(hostConfig.Binds, dataMount+":"+spec.DataDir)
		}
	}
	request := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Name:               e.containerName(spec.Name),
			Image:              spec.Image,
			Env:                spec.Env,
			Cmd:                spec.Cmd,
			ExposedPorts:       spec.ExposedPorts,
			WaitingFor:         spec.WaitingFor,
			Files:              spec.Files,
			Labels:             e.labels(spec),
			HostConfigModifier: loopbackOnly,
		},
		Logger: discardLogger{},
	}
	if err := network.WithNetworkName([]string{e.Alias(spec.Name)}, e.networkName)(&request); err != nil {
		return fmt.Errorf("%w: start node %s: attach network: %v", platform.ErrEnvironment, spec.Name, err)
	}
	// Create without the interrupt (see uninterrupted), then start and
	// wait with it: an interrupted bring-up leaves only containers that
	// exist, which Close finds by label.
	create, cancel := uninterrupted(ctx)
	created, err := testcontainers.GenericContainer(create, request)
	cancel()
	if created != nil {
		e.mu.Lock()
		e.nodes[spec.Name].container = created
		e.mu.Unlock()
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = created.Start(ctx)
	}
	if err != nil {
		within := ""
		if spec.StartupTimeout > 0 && errors.Is(err, context.DeadlineExceeded) {
			within = " within " + spec.StartupTimeout.String()
		}
		return fmt.Errorf("%w: node %s (image %s) never came up%s: %v%s", platform.ErrEnvironment, spec.Name, spec.Image, within, err, e.logTail(ctx, spec.Name))
	}
	return nil
}

// logTail is the end of a node's output, for the error of a node that never
// came up.
func (e *Engine) logTail(ctx context.Context, node string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	logs, err := e.docker.ContainerLogs(ctx, e.containerName(node), client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: logTailLines})
	if err != nil {
		return ""
	}
	defer logs.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, logs); err != nil || out.Len() == 0 {
		return ""
	}
	return "\nlast lines of its output:\n" + out.String()
}

// abandon removes the containers of a failed StartNodes, and the network if
// no other node uses it.
func (e *Engine) abandon(ctx context.Context, specs []NodeSpec) {
	for _, spec := range specs {
		e.removeContainer(ctx, e.containerName(spec.Name))
	}
	e.forget(specs)
	e.mu.Lock()
	empty := len(e.nodes) == 0
	name := e.networkName
	if empty {
		e.networkName = ""
	}
	e.mu.Unlock()
	if empty && name != "" {
		_, _ = e.docker.NetworkRemove(ctx, name, client.NetworkRemoveOptions{})
	}
}

func (e *Engine) removeContainer(ctx context.Context, nameOrID string) {
	inspected, err := e.docker.ContainerInspect(ctx, nameOrID, client.ContainerInspectOptions{})
	if err != nil || inspected.Container.Config == nil || inspected.Container.Config.Labels[LabelRun] != e.runID {
		return
	}
	_, _ = e.docker.ContainerRemove(ctx, inspected.Container.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
}

// owned inspects node's container as it is now and refuses it unless it
// carries this run's label and the node's own label.
func (e *Engine) owned(ctx context.Context, node string) (container.InspectResponse, error) {
	e.mu.Lock()
	_, known := e.nodes[node]
	e.mu.Unlock()
	if !known {
		return container.InspectResponse{}, fmt.Errorf("node %s: %w", node, platform.ErrUnknownNode)
	}
	name := e.containerName(node)
	inspected, err := e.docker.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil {
		return container.InspectResponse{}, fmt.Errorf("%w: inspect container %s of node %s: %v", platform.ErrEnvironment, name, node, err)
	}
	found := inspected.Container
	var labels map[string]string
	if found.Config != nil {
		labels = found.Config.Labels
	}
	if labels[LabelRun] != e.runID || labels[LabelNode] != node {
		return container.InspectResponse{}, fmt.Errorf("node %s: container %s (labels %s=%q %s=%q, want %q %q): %w",
			node, name, LabelRun, labels[LabelRun], LabelNode, labels[LabelNode], e.runID, node, ErrForeignContainer)
	}
	return found, nil
}

// HostAddress is where the harness reaches port ("27017/tcp" or "27017") of
// node, looked up now: Docker assigns a new host port when a container
// starts again.
func (e *Engine) HostAddress(ctx context.Context, node, port string) (string, error) {
	found, err := e.owned(ctx, node)
	if err != nil {
		return "", err
	}
	if !strings.Contains(port, "/") {
		port += "/tcp"
	}
	parsed, err := dockernetwork.ParsePort(port)
	if err != nil {
		return "", fmt.Errorf("host address of %s: %w", node, err)
	}
	if found.NetworkSettings != nil {
		for _, binding := range found.NetworkSettings.Ports[parsed] {
			if binding.HostPort != "" && (!binding.HostIP.IsValid() || binding.HostIP.Is4()) {
				return "127.0.0.1:" + binding.HostPort, nil
			}
		}
	}
	state := "unknown"
	if found.State != nil {
		state = string(found.State.Status)
	}
	return "", fmt.Errorf("host address of %s: port %s is not published (container %s)", node, port, state)
}

// Exec runs cmd in node's container and returns its exit code and combined
// output.
func (e *Engine) Exec(ctx context.Context, node string, cmd []string) (int, string, error) {
	if _, err := e.owned(ctx, node); err != nil {
		return 0, "", err
	}
	target, err := e.target(node)
	if err != nil {
		return 0, "", err
	}
	code, output, err := target.Exec(ctx, cmd, tcexec.Multiplexed())
	if err != nil {
		return code, "", fmt.Errorf("exec %q on %s: %w", strings.Join(cmd, " "), node, err)
	}
	text, err := io.ReadAll(output)
	if err != nil {
		return code, string(text), fmt.Errorf("read output of %q on %s: %w", strings.Join(cmd, " "), node, err)
	}
	return code, string(text), nil
}

// Container is the testcontainers handle of node, for wait strategies and
// file copies.
func (e *Engine) Container(node string) (testcontainers.Container, error) {
	return e.target(node)
}

func (e *Engine) target(node string) (testcontainers.Container, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	found := e.nodes[node]
	if found == nil || found.container == nil {
		return nil, fmt.Errorf("node %s: %w", node, platform.ErrUnknownNode)
	}
	return found.container, nil
}

// WaitReady waits on node's readiness strategy again, e.g. after Start.
func (e *Engine) WaitReady(ctx context.Context, node string) error {
	target, err := e.target(node)
	if err != nil {
		return err
	}
	e.mu.Lock()
	strategy := e.nodes[node].spec.WaitingFor
	e.mu.Unlock()
	if strategy == nil {
		return nil
	}
	if err := strategy.WaitUntilReady(ctx, target); err != nil {
		return fmt.Errorf("%w: node %s not ready: %v", platform.ErrEnvironment, node, err)
	}
	return nil
}

// Nodes lists the run's node names, sorted.
func (e *Engine) Nodes() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, 0, len(e.nodes))
	for name := range e.nodes {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Close removes every container, network and volume labelled with this run.
// It is idempotent.
func (e *Engine) Close(ctx context.Context) error {
	e.network.closeAll()
	// Its own run: removed whatever the owner check would say.
	_, err := cleanup(ctx, e.docker, CleanupOptions{Run: e.runID, All: true})
	// The data volumes go once no container uses them.
	err = errors.Join(err, e.closeDisks())
	e.mu.Lock()
	e.nodes = map[string]*node{}
	e.networkName = ""
	e.mu.Unlock()
	if err != nil {
		return fmt.Errorf("close run %s: %w", e.runID, err)
	}
	return nil
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
