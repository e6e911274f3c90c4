package platform

import (
	"fmt"
	"strconv"
	"strings"
)

// The rehearsal guide of the artifact and role actions (issue 13): what an
// engineer does with the AWS CLI, Chef and Elasticsearch's API to publish
// an artifact, remove one, rebuild a role in a region from its bucket, and
// upgrade a role one node at a time; and what the harness does in place of
// what it does not run (Chef), as the platform says (FactRebuildStandIn,
// FactUpgradeStandIn).

// Fact keys of the artifact and role instructions.

// FactPrimaryRegion is the key of an s3 service's primary region.
func FactPrimaryRegion(service string) string { return "primary-region:" + service }

// FactObject is the key of the object an artifact key is stored under in
// the bucket.
func FactObject(service, key string) string { return "object:" + service + ":" + key }

// FactFile is the key of the file an artifact key holds (console.war).
func FactFile(service, key string) string { return "file:" + service + ":" + key }

// FactRoleKeys is the key of the artifact keys a role is built from,
// comma-separated.
func FactRoleKeys(service, role string) string { return "role-keys:" + service + ":" + role }

// FactRoleNodes is the key of the nodes an upgrade of role restarts, in
// order, comma-separated.
func FactRoleNodes(service, role string) string { return "role-nodes:" + service + ":" + role }

// FactRegion is the key of the region a node is in.
func FactRegion(node string) string { return "region:" + node }

// FactRebuildStandIn is the key of what the platform does in place of a
// rebuild's recipe run (the harness runs no Chef), in words.
func FactRebuildStandIn(service string) string { return "rebuild-stand-in:" + service }

// FactUpgradeStandIn is the key of what the platform does in place of a
// rolling upgrade's per-node recipe run, in words.
func FactUpgradeStandIn(service string) string { return "upgrade-stand-in:" + service }

// FactHealthTimeout is the key of how long an upgrade waits for green
// after each node, as an Elasticsearch time value ("600s").
func FactHealthTimeout(service string) string { return "health-timeout:" + service }

// ArtifactFacts adds what the topology says about s3 service s to f: its
// primary region, each artifact's object key (objectPrefix + key) and
// file, each role's keys, and, for a role played by a service, that
// service's nodes (the upgrade order) and their regions. A platform adds
// the rest: buckets, endpoints, addresses and its stand-ins.
func ArtifactFacts(f Facts, t *Topology, s *ServiceSpec, objectPrefix string) {
	f[FactPrimaryRegion(s.Name)] = s.PrimaryRegion
	for _, a := range s.Artifacts {
		f[FactObject(s.Name, a.Key)] = objectPrefix + a.Key
		f[FactFile(s.Name, a.Key)] = a.File
	}
	for _, r := range s.Roles {
		f[FactRoleKeys(s.Name, r.Name)] = strings.Join(r.Keys, ",")
		if r.Service == "" {
			continue
		}
		var nodes []string
		for _, n := range t.Nodes() {
			if n.Service == r.Service {
				nodes = append(nodes, n.Name)
				f[FactRegion(n.Name)] = n.Region
			}
		}
		f[FactRoleNodes(s.Name, r.Name)] = strings.Join(nodes, ",")
	}
}

// ElasticTime writes a duration as an Elasticsearch time value in whole
// seconds (Go's "10m0s" is not one).
func ElasticTime(seconds float64) string {
	return strconv.FormatInt(int64(seconds), 10) + "s"
}

// bucketWords names the bucket of region in a goal.
func bucketWords(region string) string {
	if region == "" {
		return "the primary region's bucket"
	}
	return "the " + region + " bucket"
}

// regionOr is region, or the service's primary region when it is "".
func regionOr(region, service string, f Facts) string {
	if region != "" {
		return region
	}
	return f.Get(FactPrimaryRegion(service))
}

// shellQuote quotes a word for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// s3Put is the two lines that put version of key into region's bucket:
// the stand-in file and the PUT.
func s3Put(service, region, key, version string, f Facts) []string {
	file := f.Get(FactFile(service, key))
	return []string{
		// The harness's buckets hold, for each key, an object whose
		// content is its version: that is what a rebuild reads back.
		fmt.Sprintf("  printf '%%s' %s > %s   # the harness's stand-in for %s: a file holding its version; on the real platform, the new %s itself",
			shellQuote(version), file, file, file),
		fmt.Sprintf("  aws s3api put-object --bucket %s --key %s --body %s --endpoint-url %s",
			f.Get(FactBucket(service, region)), f.Get(FactObject(service, key)), file, f.Get(FactEndpoint(service, region))),
	}
}

// s3Get is the GET that fetches key from region's bucket into its file.
func s3Get(service, region, key string, f Facts) string {
	return fmt.Sprintf("  aws s3api get-object --bucket %s --key %s %s --endpoint-url %s",
		f.Get(FactBucket(service, region)), f.Get(FactObject(service, key)), f.Get(FactFile(service, key)), f.Get(FactEndpoint(service, region)))
}

// chefRun is the recipe run of a role on an instance that has only the
// base packages and Chef (local mode, the role's run list for this run
// only: https://docs.chef.io/ctl_chef_client/).
func chefRun(role string) string {
	return fmt.Sprintf("  chef-client --local-mode --override-runlist 'role[%s]'", role)
}

func publishInstructions(a Action, service string, f Facts) []string {
	key, version := a.Params["key"], a.Params["version"]
	region := regionOr(a.Params["region"], service, f)
	lines := []string{fmt.Sprintf("Put version %s of %s (%s) into the %s bucket with an S3 PUT; the cross-region sync carries it to the other regions' buckets on a later pass:",
		version, key, f.Get(FactFile(service, key)), region)}
	lines = append(lines, s3Put(service, region, key, version, f)...)
	return append(lines, "Check what the bucket holds now:", s3Get(service, region, key, f)+" && cat "+f.Get(FactFile(service, key)))
}

func deleteInstructions(a Action, service string, f Facts) []string {
	key := a.Params["key"]
	region := regionOr(a.Params["region"], service, f)
	return []string{
		fmt.Sprintf("Remove %s from the %s bucket only (the sync does not carry deletions, like `aws s3 sync` without --delete, so the other buckets keep it):", key, region),
		fmt.Sprintf("  aws s3api delete-object --bucket %s --key %s --endpoint-url %s",
			f.Get(FactBucket(service, region)), f.Get(FactObject(service, key)), f.Get(FactEndpoint(service, region))),
	}
}

func rebuildInstructions(a Action, service string, f Facts) []string {
	role, region := a.Params["role"], a.Params["region"]
	lines := []string{fmt.Sprintf("Rebuild role %s in %s on fresh instances that have only the base packages and Chef: fetch each of its keys from the %s bucket (%s at %s), then run its recipes:",
		role, region, region, f.Get(FactBucket(service, region)), f.Get(FactEndpoint(service, region)))}
	for _, key := range strings.Split(f.Get(FactRoleKeys(service, role)), ",") {
		lines = append(lines, s3Get(service, region, key, f))
	}
	return append(lines,
		chefRun(role),
		fmt.Sprintf("A key missing from the %s bucket fails the rebuild; a key older there than the newest published (not yet synced) is version skew, which the report names.", region),
		"The harness runs no Chef; its stand-in for this rebuild: "+f.Get(FactRebuildStandIn(service))+".",
	)
}

func upgradeInstructions(a Action, service string, f Facts) []string {
	role, key, version := a.Params["role"], a.Params["key"], a.Params["version"]
	primary := f.Get(FactPrimaryRegion(service))
	nodes := strings.Split(f.Get(FactRoleNodes(service, role)), ",")
	lines := []string{fmt.Sprintf("First publish version %s of %s into the %s bucket:", version, key, primary)}
	lines = append(lines, s3Put(service, primary, key, version, f)...)
	lines = append(lines,
		fmt.Sprintf("Then upgrade the nodes of role %s one at a time, in this order: %s (the rolling upgrade: https://www.elastic.co/guide/en/elasticsearch/reference/current/rolling-upgrades.html).", role, strings.Join(nodes, ", ")),
		"For each node: keep its shards where they are while it is down, stop it, fetch the new version from its region's bucket, run the role's recipe (which starts it on that version), let the cluster allocate again, and wait until it is green with every node back before the next node; ask the cluster's API on another node, which stays up:")
	health := fmt.Sprintf("_cluster/health?wait_for_status=green&wait_for_nodes=%d&timeout=%s", len(nodes), f.Get(FactHealthTimeout(service)))
	for i, node := range nodes {
		other := f.Get(FactAddress(nodes[(i+1)%len(nodes)]))
		region := f.Get(FactRegion(node))
		lines = append(lines,
			fmt.Sprintf("  %s (at %s, fetching from the %s bucket):", node, f.Get(FactAddress(node)), region),
			fmt.Sprintf(`    curl -X PUT "http://%s/_cluster/settings" -H 'Content-Type: application/json' -d '{"persistent":{"cluster.routing.allocation.enable":"primaries"}}'`, other),
			fmt.Sprintf(`    curl -X POST "http://%s/_flush"`, other),
			fmt.Sprintf("    stop Elasticsearch on %s, then on it:", node),
			"  "+s3Get(service, region, key, f),
			"  "+chefRun(role)+"   # starts it on the new version",
			fmt.Sprintf(`    curl -X PUT "http://%s/_cluster/settings" -H 'Content-Type: application/json' -d '{"persistent":{"cluster.routing.allocation.enable":null}}'`, other),
			fmt.Sprintf(`    curl "http://%s/%s"`, other, health),
		)
	}
	return append(lines, "The harness runs no Chef; its stand-in for each node's recipe run: "+f.Get(FactUpgradeStandIn(service))+".")
}
