package containers

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Ports the real images listen on.
const (
	mongoPort      = "27017/tcp" // https://www.mongodb.com/docs/manual/reference/default-mongodb-port/
	elasticPort    = "9200/tcp"  // https://www.elastic.co/docs/reference/elasticsearch/configuration-reference/networking-settings
	localStackPort = "4566/tcp"  // https://docs.localstack.cloud/references/internal-endpoints/
)

// Memory limits per container. Elasticsearch gets twice its heap, as
// Elastic advises for off-heap use
// (https://www.elastic.co/docs/reference/elasticsearch/jvm-settings#set-jvm-heap-size).
const (
	elasticHeap       = "512m"
	elasticMemory     = 1 << 30
	mongoMemory       = 768 << 20
	mongoCacheSizeGB  = "0.25" // storage.wiredTiger.engineConfig.cacheSizeGB; the minimum is 0.25 (https://www.mongodb.com/docs/manual/reference/configuration-options/#mongodb-setting-storage.wiredTiger.engineConfig.cacheSizeGB)
	localStackMemory  = 768 << 20
	localStackRegion  = "us-east-1" // LocalStack's default region
	localStackKey     = "test"      // LocalStack accepts any key; "test" is its documented default (https://docs.localstack.cloud/aws/capabilities/config/credentials/)
	localStackSecret  = "test"
	elasticRepository = "chaosdrill"
)

// nodePlan is one container to start: which node of the topology it is and
// how to run it. It is the input to the Docker engine's NodeSpec, kept apart
// so that planning is tested without Docker.
type nodePlan struct {
	Node   platform.Node
	Image  string
	Env    map[string]string
	Cmd    []string
	Port   string // the port the harness talks to, exposed on the host
	Memory int64
}

// plan lists the containers of a topology, in topology order. Every node is
// reached on the run's networks by its node name.
func plan(t *platform.Topology, images Images, standin *Standin) ([]nodePlan, error) {
	var plans []nodePlan
	for _, n := range t.Nodes() {
		svc, _ := t.Service(n.Service)
		p := nodePlan{Node: n}
		switch {
		case standin != nil:
			p.Image, p.Cmd, p.Port = standin.Image, standin.Cmd, standin.Port
		case n.Kind == platform.KindMongo:
			p.Image, p.Port, p.Memory = images.Mongo, mongoPort, mongoMemory
			p.Cmd = []string{"--replSet", replicaSetName(svc), "--bind_ip_all", "--wiredTigerCacheSizeGB", mongoCacheSizeGB}
		case n.Kind == platform.KindElastic:
			p.Image, p.Port, p.Memory = images.Elastic, elasticPort, elasticMemory
			names := make([]string, len(svc.Nodes))
			for i, m := range svc.Nodes {
				names[i] = m.Name
			}
			s3, err := snapshotEndpoint(t, svc, "")
			if err != nil {
				return nil, err
			}
			p.Env = elasticEnv(svc.Name, n, names, s3)
		case n.Kind == platform.KindS3:
			p.Image, p.Port, p.Memory = images.LocalStack, localStackPort, localStackMemory
			p.Env = map[string]string{
				"SERVICES": "s3",
				// Keep S3 answering on the node's own alias so that
				// Elasticsearch's path-style requests are accepted.
				"LOCALSTACK_HOST": n.Name + ":4566",
			}
		default:
			return nil, fmt.Errorf("plan node %s: unknown service kind %q", n.Name, n.Kind)
		}
		plans = append(plans, p)
	}
	return plans, nil
}

// elasticEnv configures one Elasticsearch node through the image's
// settings-as-environment support
// (https://www.elastic.co/docs/deploy-manage/deploy/self-managed/install-elasticsearch-docker-configure).
// s3Endpoint is the LocalStack alias the snapshot repository talks to; empty
// when the cluster takes no snapshots.
func elasticEnv(cluster string, n platform.Node, clusterNodes []string, s3Endpoint string) map[string]string {
	var seeds []string
	for _, name := range clusterNodes {
		if name != n.Name {
			seeds = append(seeds, name)
		}
	}
	env := map[string]string{
		"cluster.name":                 cluster,
		"node.name":                    n.Name,
		"node.attr.zone":               n.Zone,
		"discovery.seed_hosts":         strings.Join(seeds, ","),
		"cluster.initial_master_nodes": strings.Join(clusterNodes, ","),
		"cluster.routing.allocation.awareness.attributes": "zone",
		"cluster.routing.allocation.disk.threshold_enabled": "false",
		"xpack.security.enabled": "false",
		// Lifts the vm.max_map_count bootstrap check that CI hosts fail
		// (https://www.elastic.co/guide/en/cloud-on-k8s/current/k8s-virtual-memory.html).
		"node.store.allow_mmap": "false",
		"ES_JAVA_OPTS":          "-Xms" + elasticHeap + " -Xmx" + elasticHeap,
	}
	if len(clusterNodes) == 1 {
		delete(env, "discovery.seed_hosts")
	}
	if s3Endpoint != "" {
		// https://www.elastic.co/docs/deploy-manage/tools/snapshot-and-restore/s3-repository#repository-s3-client
		env["s3.client.default.endpoint"] = "http://" + s3Endpoint + ":4566"
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
