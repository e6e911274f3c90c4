// Package docker is the Docker mechanics under the live platform: it starts
// the containers of one chaosdrill run in parallel through testcontainers-go,
// labels and names them, tells the harness where their ports are, injects
// the fault primitives (kill, stop, start, pause, resume, partition, added
// latency) into them for real, measures outages with a [Prober], and removes
// everything a run created, even one that was killed ([Cleanup]). It knows
// nothing about MongoDB or Elasticsearch; platform/containers builds the
// services on top of [Engine].
//
// # Ownership
//
// Every container and network carries [LabelRun] (plus [LabelNode],
// [LabelRegion] and [LabelZone] on containers). Containers are named
// chaosdrill-<run>-<node>, and every fault looks the container up by that
// name and inspects it at the moment of the fault: if it does not carry this
// run's label and the node's label, the engine refuses with
// [ErrForeignContainer] and touches nothing. The reaper (Ryuk) is switched
// off, since its image cannot be assumed pullable; [Engine.Close] and
// [Cleanup] remove by label instead (containers forcibly, with their
// anonymous volumes; then networks; then labelled volumes). Images are never
// removed; stand-in images carry [LabelStandin] instead.
//
// # Network design
//
// A run has one bridge network, chaosdrill-<run>; each node joins it with
// its [Engine.Alias] (its name as a DNS label), which is what other
// containers dial. Published ports are bound to 127.0.0.1 only, at random
// host ports that change when a container starts again, so
// [Engine.HostAddress] inspects the container on every call. Containers are
// never disconnected from the network (Docker can drop aliases on
// reconnect), so a stopped and restarted node keeps its alias.
//
// Partitions and latency are real packet-level faults in the target's own
// network namespace, entered from the host:
//
//   - Partition(a, b) replaces the filter table of every node in a and b,
//     with `nsenter --target <pid> --net -- iptables-restore`, by rules that
//     DROP packets to and from the other group's addresses (INPUT and
//     OUTPUT, on both sides). Packets vanish, so connections time out as on
//     a broken link instead of being refused. Traffic inside each group is
//     untouched, and so is the harness: it reaches containers through
//     Docker's port proxy, from the bridge gateway, which is never cut (an
//     operator's management path that survives the partition).
//   - AddLatency(node, d) adds an NFQUEUE rule on node's outgoing packets
//     (except loopback) and holds each queued packet for d before accepting
//     it, from a netlink socket the harness opens inside node's namespace.
//     So every round trip through node grows by d: to peers and to the
//     harness. This is netem's delay in user space; the kernel this project
//     is built on has no sch_netem, and NFQUEUE is in every distribution
//     kernel. The rule has --queue-bypass, so if the harness dies the node's
//     packets flow undelayed rather than not at all.
//
// The network state is kept in the engine and each node's table is
// rendered from it as a whole, so Start applies it again to a restarted
// node (new namespace, perhaps a new address) and to the peers whose rules
// name it. The images need no tools and no capabilities.
//
// Measured here (Docker 20.10, 2 shared cores): cutting a 3-node AZ from a
// 3-node region (inspect, then nsenter + iptables-restore on each of the 6
// nodes) takes about 100 ms; a stand-in round trip with 200 ms added
// measures 200.5 to 201 ms, and about 0.1 ms once removed. The alternative, a
// helper container sharing the target's namespace with NET_ADMIN, costs a
// container start per fault (about 1 s for one stand-in on this host) and an
// image with iptables, which cannot be pulled here; for latency it would
// also have to keep running the delayer for as long as the fault lasts.
//
// # What users' CI needs
//
// Kill, stop, start, pause and resume need only access to the Docker
// socket. Partition and latency need the harness to run as root on the
// Docker host (sudo on a GitHub-hosted runner), with nsenter (util-linux)
// and iptables-restore (iptables) on the PATH, and the Docker daemon on the
// same kernel (not Docker Desktop's VM, not a remote DOCKER_HOST); without
// root they fail with an error wrapping platform.ErrEnvironment that says so.
// On Debian/Ubuntu: apt-get install iptables util-linux.
//
// # Stand-ins
//
// [BuildStandinImage] compiles ./standin (a static echo and probe server)
// and imports it with `docker import`, tagged by the binary's hash, so the
// tests of this package and of platform/containers can exercise every
// mechanism above without pulling an image.
package docker
