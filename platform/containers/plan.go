package containers

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers/docker"
)

// Ports the real images listen on.
const (
	mongoPort      = "27017/tcp" // https://www.mongodb.com/docs/manual/reference/default-mongodb-port/
	elasticPort    = "9200/tcp"  // https://www.elastic.co/docs/reference/elasticsearch/configuration-reference/networking-settings
	localStackPort = "4566/tcp"  // https://docs.localstack.cloud/references/internal-endpoints/
)

// MemoryProfile sizes the containers: each one's memory limit, and the
// Elasticsearch heap inside its limit.
type MemoryProfile struct {
	Name string
	// ElasticHeap is the JVM heap (-Xms and -Xmx, equal), half the
	// container's memory, as Elastic advises for off-heap use
	// (https://www.elastic.co/docs/reference/elasticsearch/jvm-settings#set-jvm-heap-size).
	ElasticHeap                                  string
	ElasticMemory, MongoMemory, LocalStackMemory int64 // bytes
}

// Memory profiles. Standard: Elasticsearch 1 GiB with a 512 MiB heap,
// MongoDB and LocalStack 768 MiB; ion's nine containers add up to 7.75 GiB
// before a fault (a runner needs 8 GiB or more). Small: half of that for
// Elasticsearch and 512 MiB for the others, 4.5 GiB for ion, for runners
// with 7 GB; its headroom is thin, a model assumption sized for the
// scenario library's rates (a 256 MiB heap indexes their few hundred
// events per second), not for heavy workloads.
var (
	StandardMemory = MemoryProfile{Name: "standard", ElasticHeap: "512m", ElasticMemory: 1 << 30, MongoMemory: 768 << 20, LocalStackMemory: 768 << 20}
	SmallMemory    = MemoryProfile{Name: "small", ElasticHeap: "256m", ElasticMemory: 512 << 20, MongoMemory: 512 << 20, LocalStackMemory: 512 << 20}
)

// MemoryProfileVariable names the memory profile for every run: standard
// (the default) or small.
const MemoryProfileVariable = "CHAOSDRILL_MEMORY_PROFILE"

// MemoryProfileNamed returns the profile called name ("" is standard).
func MemoryProfileNamed(name string) (MemoryProfile, error) {
	switch name {
	case "", StandardMemory.Name:
		return StandardMemory, nil
	case SmallMemory.Name:
		return SmallMemory, nil
	}
	return MemoryProfile{}, fmt.Errorf("memory profile %q: want %s or %s", name, StandardMemory.Name, SmallMemory.Name)
}

const (
	mongoCacheSizeGB  = "0.25"      // storage.wiredTiger.engineConfig.cacheSizeGB; the minimum is 0.25 (https://www.mongodb.com/docs/manual/reference/configuration-options/#mongodb-setting-storage.wiredTiger.engineConfig.cacheSizeGB)
	localStackRegion  = "us-east-1" // LocalStack's default region
	localStackKey     = "test"      // LocalStack accepts any key; "test" is its documented default (https://docs.localstack.cloud/aws/capabilities/config/credentials/)
	localStackSecret  = "test"
	elasticRepository = "chaosdrill"
)

// plannedNode is one container to start: which node of the topology it is
// and how Docker runs it. Every node is reached on the run's network by its
// alias (docker.Engine.Alias of its name).
type plannedNode struct {
	Node platform.Node
	Spec docker.NodeSpec
	Port string // the port the harness talks to
}

// plan lists the containers of a topology, in topology order. With a
// stand-in image every node runs the stand-in instead.
func plan(t *platform.Topology, o options) ([]plannedNode, error) {
	var plans []plannedNode
	for _, n := range t.Nodes() {
		svc, _ := t.Service(n.Service)
		if svc.Replication == platform.ReplicationCRR {
			// LocalStack's community image accepts replication rules but
			// copies nothing (https://github.com/localstack/localstack/pull/8901).
			return nil, fmt.Errorf("s3 service %s: replication: %s runs on the simulator only: LocalStack's community image does not replicate buckets", svc.Name, platform.ReplicationCRR)
		}
		if o.standin != "" {
			plans = append(plans, plannedNode{Node: n, Spec: docker.StandinSpec(o.standin, n.Name, n.Region, n.Zone), Port: docker.StandinEchoPort})
			continue
		}
		var p plannedNode
		switch n.Kind {
		case platform.KindMongo:
			p = mongoNode(n, replicaSetName(svc), o)
		case platform.KindElastic:
			names := make([]string, len(svc.Nodes))
			for i, m := range svc.Nodes {
				names[i] = m.Name
			}
			s3, err := snapshotEndpoint(t, svc, "")
			if err != nil {
				return nil, err
			}
			p = elasticNode(n, svc.Name, names, s3, o)
		case platform.KindS3:
			p = localStackNode(n, o)
		default:
			return nil, fmt.Errorf("plan node %s: unknown service kind %q", n.Name, n.Kind)
		}
		plans = append(plans, p)
	}
	return plans, nil
}

func mongoNode(n platform.Node, replicaSet string, o options) plannedNode {
	return plannedNode{Node: n, Port: mongoPort, Spec: docker.NodeSpec{
		Name: n.Name, Region: n.Region, Zone: n.Zone,
		Image:          o.images.Mongo,
		Cmd:            []string{"--replSet", replicaSet, "--bind_ip_all", "--wiredTigerCacheSizeGB", mongoCacheSizeGB},
		ExposedPorts:   []string{mongoPort},
		WaitingFor:     wait.ForListeningPort(mongoPort).WithStartupTimeout(o.containerTimeout),
		StartupTimeout: o.containerTimeout,
		Memory:         o.memory.MongoMemory,
	}}
}

func elasticNode(n platform.Node, cluster string, clusterNodes []string, s3Endpoint string, o options) plannedNode {
	return plannedNode{Node: n, Port: elasticPort, Spec: docker.NodeSpec{
		Name: n.Name, Region: n.Region, Zone: n.Zone,
		Image:        o.images.Elastic,
		Cmd:          elasticKeystoreCommand(map[string]string{settingS3AccessKey: localStackKey, settingS3SecretKey: localStackSecret}),
		Env:          elasticEnv(cluster, n, clusterNodes, s3Endpoint, o.memory.ElasticHeap),
		ExposedPorts: []string{elasticPort},
		// GET / answers once the node's HTTP layer is up, before the
		// cluster has formed; cluster health is awaited afterwards.
		WaitingFor:     wait.ForHTTP("/").WithPort(elasticPort).WithStartupTimeout(o.containerTimeout),
		StartupTimeout: o.containerTimeout,
		Memory:         o.memory.ElasticMemory,
	}}
}

func localStackNode(n platform.Node, o options) plannedNode {
	return plannedNode{Node: n, Port: localStackPort, Spec: docker.NodeSpec{
		Name: n.Name, Region: n.Region, Zone: n.Zone,
		Image: o.images.LocalStack,
		Env: map[string]string{
			"SERVICES": "s3",
			// The hostname LocalStack puts in the URLs it returns: the alias
			// Elasticsearch reaches it by.
			"LOCALSTACK_HOST": dockerAlias(n.Name) + ":4566",
		},
		ExposedPorts: []string{localStackPort},
		WaitingFor: wait.ForHTTP("/_localstack/health").WithPort(localStackPort).
			WithResponseMatcher(func(body io.Reader) bool {
				b, _ := io.ReadAll(body)
				return strings.Contains(string(b), `"s3"`)
			}).WithStartupTimeout(o.containerTimeout),
		StartupTimeout: o.containerTimeout,
		Memory:         o.memory.LocalStackMemory,
	}}
}

// dockerAlias is the name other containers reach node by.
func dockerAlias(node string) string { return (*docker.Engine)(nil).Alias(node) }

// elasticEnv configures one Elasticsearch node through the image's
// settings-as-environment support
// (https://www.elastic.co/docs/deploy-manage/deploy/self-managed/install-elasticsearch-docker-configure).
// s3Endpoint is the LocalStack alias the snapshot repository talks to; empty
// when the cluster takes no snapshots.
func elasticEnv(cluster string, n platform.Node, clusterNodes []string, s3Endpoint, heap string) map[string]string {
	var seeds, masters []string
	for _, name := range clusterNodes {
		masters = append(masters, name)
		if name != n.Name {
			seeds = append(seeds, dockerAlias(name))
		}
	}
	env := map[string]string{
		"cluster.name":                 cluster,
		"node.name":                    n.Name,
		"node.attr.zone":               n.Zone,
		"discovery.seed_hosts":         strings.Join(seeds, ","),
		"cluster.initial_master_nodes": strings.Join(masters, ","),
		"cluster.routing.allocation.awareness.attributes":   "zone",
		"cluster.routing.allocation.disk.threshold_enabled": "false",
		"xpack.security.enabled":                            "false",
		// Lifts the vm.max_map_count bootstrap check that CI hosts fail
		// (https://www.elastic.co/guide/en/cloud-on-k8s/current/k8s-virtual-memory.html).
		"node.store.allow_mmap": "false",
		"ES_JAVA_OPTS":          "-Xms" + heap + " -Xmx" + heap,
	}
	if len(clusterNodes) == 1 {
		delete(env, "discovery.seed_hosts")
	}
	if s3Endpoint != "" {
		// https://www.elastic.co/docs/deploy-manage/tools/snapshot-and-restore/s3-repository#repository-s3-client
		env["s3.client.default.endpoint"] = "http://" + dockerAlias(s3Endpoint) + ":4566"
		env["s3.client.default.path_style_access"] = "true"
	}
	return env
}

// snapshotEndpoint is the S3 node an Elasticsearch service snapshots to: the
// endpoint of region (the snapshot service's primary region when empty).
func snapshotEndpoint(t *platform.Topology, es *platform.ServiceSpec, region string) (string, error) {
	if es.SnapshotTo == "" {
		return "", nil
	}
	s3, ok := t.Service(es.SnapshotTo)
	if !ok {
		return "", fmt.Errorf("plan %s: snapshot_to %q is not a service", es.Name, es.SnapshotTo)
	}
	if region == "" {
		region = s3.PrimaryRegion
	}
	for _, e := range s3.Endpoints {
		if e.Region == region {
			return e.Name, nil
		}
	}
	return "", fmt.Errorf("plan %s: s3 service %s has no endpoint in region %s", es.Name, s3.Name, region)
}

func replicaSetName(svc *platform.ServiceSpec) string {
	if svc.ReplicaSet != "" {
		return svc.ReplicaSet
	}
	return svc.Name
}

var notBucketChars = regexp.MustCompile(`[^a-z0-9-]+`)

// bucketName names a bucket after its purpose, service and region. Bucket
// names are global inside one LocalStack as in AWS, so each region's
// differ; S3 allows 3-63 lower-case letters, digits and hyphens
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
func bucketName(purpose, service, region string) string {
	name := strings.Trim(notBucketChars.ReplaceAllString(strings.ToLower(purpose+"-"+service+"-"+region), "-"), "-")
	if len(name) > 63 {
		name = strings.TrimRight(name[:63], "-")
	}
	return name
}

// Bucket purposes.
const (
	purposeArtifacts = "artifacts"
	purposeSnapshots = "snapshots"
)

// buckets lists the buckets each S3 endpoint holds: the artifact bucket of
// its service, and the snapshot bucket when an Elasticsearch service
// snapshots to that S3 service.
func buckets(t *platform.Topology) map[string][]string {
	out := map[string][]string{}
	for _, s := range t.Services {
		if s.Kind != platform.KindS3 {
			continue
		}
		snapshots := false
		for _, es := range t.Services {
			snapshots = snapshots || (es.Kind == platform.KindElastic && es.SnapshotTo == s.Name)
		}
		for _, e := range s.Endpoints {
			out[e.Name] = append(out[e.Name], bucketName(purposeArtifacts, s.Name, e.Region))
			if snapshots {
				out[e.Name] = append(out[e.Name], bucketName(purposeSnapshots, s.Name, e.Region))
			}
			sort.Strings(out[e.Name])
		}
	}
	return out
}
