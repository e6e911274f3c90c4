// Package docker is the Docker mechanics under the live platform: it starts
// the containers of one chaosdrill run in parallel through testcontainers-go,
// labels and names them, tells the harness where their ports are, injects
// the fault primitives (kill, stop, start, pause, resume, partition, added
// latency, and slow, failing or full data volumes) into them for real, puts the topology's link latencies on their
// network, measures outages with a [Prober], and removes
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
// Every container and network also names the process that created it:
// [LabelOwnerHost], [LabelOwnerPID] and [LabelOwnerStart] (the start time
// from /proc/PID/stat, so that a reused PID is not taken for the owner);
// disk-fault volumes, folders on the host, hold the same in an owner file.
// [Cleanup] removes only the runs whose owner has ended: a run still going
// on this host, one whose owner is on another host sharing the daemon, and
// one without owner labels (an older chaosdrill) are kept and listed in
// [Removed.Kept], unless [CleanupOptions.All]. So a cleanup (or a test
// calling it) never stops another run mid-way.
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
//   - Delays are NFQUEUE rules on a node's outgoing packets, one queue per
//     distinct delay, served by a netlink socket the harness opens inside
//     the node's namespace, which holds each packet for its queue's delay
//     before accepting it. SetLinkLatency gives every link the latency of
//     its placements (packets to a peer in another region wait the
//     inter-region latency, on each side, so a round trip takes both);
//     AddLatency(node, d) adds d to everything node sends (except
//     loopback), on top. This is netem's delay in user space; the kernel
//     this project is built on has no sch_netem, and NFQUEUE is in every
//     distribution kernel. The rules have --queue-bypass, so if the harness
//     dies the node's packets flow undelayed rather than not at all.
//   - RoundTrip(from, to, port) measures a link through every rule in
//     force: TCP handshakes made from from's own namespace.
//
// The network state is kept in the engine and each node's table is
// rendered from it as a whole, so Start applies it again to a restarted
// node (new namespace, perhaps a new address), and a node started later (a
// runbook's new member) gets its links while every other node's rules learn
// its address. The images need no tools and no capabilities.
//
// Measured here (Docker 20.10, 2 shared cores): cutting a 3-node AZ from a
// 3-node region (inspect, then nsenter + iptables-restore on each of the 6
// nodes) takes about 100 ms; a stand-in round trip with 200 ms added
// measures 200.5 to 201 ms, and about 0.03 ms once removed; with link
// latencies of 40 ms between regions and 5 ms between zones, round trips
// measure 80.8 ms and 10.6 ms. The alternative, a helper container sharing
// the target's namespace with NET_ADMIN, costs a container start per fault
// (about 1 s for one stand-in on this host) and an image with iptables,
// which cannot be pulled here; for latency it would also have to keep
// running the delayer for as long as the fault lasts.
//
// # Disk faults
//
// Needs root on a Linux Docker host with /dev/fuse ([Host.DiskFaultProblems]
// says what is missing). A node whose [NodeSpec] names a DataDir gets a data
// volume of its own on the host: a tmpfs mounted with size= (the real,
// size-limited store), and over it a FUSE passthrough file system served by
// the harness itself (github.com/hanwen/go-fuse/v2, its loopback node with
// the file handles wrapped), bind-mounted into the container at DataDir.
// Every read, write, fsync and file creation of the node's server goes
// through the harness, which:
//
//   - slows it ([Engine.SlowDisk]): sleeps the added latency on each one
//     and, with a throughput cap, queues every transfer behind the ones
//     before it at the capped rate (the kernel's FUSE passthrough is not
//     offered, so no I/O bypasses the harness);
//   - fails it ([Engine.FailDisk]): writes, fsyncs, fallocates and creates
//     answer EIO; reads still work, as on a disk whose writes fail;
//   - fills it ([Engine.FillDisk]): a ballast file is written into the
//     tmpfs itself until it refuses with ENOSPC, so the server's writes fail
//     for real and statfs through the FUSE mount reports 100% used (what
//     Elasticsearch's disk watermarks read);
//
// and [Engine.HealDisk] undoes any of them at once (the ballast removed).
// The alternatives were device-mapper delay and error targets over a loop
// device, which the kernels this project is built on do not always have
// (this one has no device-mapper), and an LD_PRELOAD shim, which would
// need a library built into each image. A volume is unmounted (FUSE, then
// the tmpfs) when the engine closes, after its container is gone; Cleanup
// unmounts what a killed harness left, found by its folder
// (<tmp>/chaosdrill-disk-<run>-<node>) in the mount table.
//
// Measured here (a stand-in appending to a file of its volume and fsyncing
// it, timed inside the container; 2 shared cores): 64 KiB through a
// healthy volume 0.7 ms; with 150 ms added, 4 KiB took 301 ms (the write
// and the fsync each wait the latency); capped at 256 KiB/s, 256 KiB took
// 1.003 s, and 1.0 ms once healed; filling a 16 MiB volume took 6 ms.
//
// # Times
//
// Every fault primitive returns the time Docker itself recorded for the act
// (the container's exit or start from its state, the pause or unpause from
// the daemon's events), not the time the API call returned: under load a
// call can take hundreds of milliseconds around the act.
//
// # What users' CI needs
//
// Kill, stop, start, pause and resume need only access to the Docker
// socket. Partition, latency and link latencies need the harness to run as
// root on the Docker host (sudo -E on a GitHub-hosted runner), with nsenter
// (util-linux) and iptables-restore (iptables) on the PATH, the Docker
// daemon on the same kernel (not Docker Desktop's VM) and nfnetlink_queue;
// [Host.NetworkFaultProblems] says what is missing and what to do. A remote
// DOCKER_HOST is refused by [NewEngine]: ports are published on the engine
// host's loopback. On Debian/Ubuntu: apt-get install iptables util-linux.
//
// # Stand-ins
//
// [BuildStandinImage] compiles ./standin (a static echo and probe server)
// and imports it with `docker import`, tagged by the binary's hash, so the
// tests of this package and of platform/containers can exercise every
// mechanism above without pulling an image. [BuildS3StandinImage] does the
// same for ./standins3, a real-protocol S3 server (gofakes3) behind
// LocalStack's port and health endpoint: `make standins` tags it
// chaosdrill/standin-s3:dev, and `--image s3=chaosdrill/standin-s3:dev`
// runs the whole live platform on it, from bring-up to report, with no
// special case. Stand-in images carry [LabelStandin].
package docker
