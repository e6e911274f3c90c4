package containers

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// What the live platform sends to Elasticsearch beyond the adapter's own
// calls, each value written in the grammar the server documents. Every
// function here has a test that checks its output against that grammar
// (elasticrequests_test.go), since the real server cannot run where the
// tests do.

// elasticTimeUnits are Elasticsearch's time units, largest first
// (https://www.elastic.co/guide/en/elasticsearch/reference/current/api-conventions.html#time-units).
var elasticTimeUnits = []struct {
	suffix string
	size   time.Duration
}{
	{"d", 24 * time.Hour},
	{"h", time.Hour},
	{"m", time.Minute},
	{"s", time.Second},
	{"ms", time.Millisecond},
	{"micros", time.Microsecond},
	{"nanos", time.Nanosecond},
}

// elasticTimeValue writes d as an Elasticsearch time value: one whole number
// and one unit, the largest unit that holds d exactly ("1m", "90s",
// "1500ms"). Go's own form ("1m0s", "1m30s") is not one: Elasticsearch
// answers 400 to it. d must be positive.
func elasticTimeValue(d time.Duration) string {
	for _, unit := range elasticTimeUnits {
		if d%unit.size == 0 {
			return strconv.FormatInt(int64(d/unit.size), 10) + unit.suffix
		}
	}
	return strconv.FormatInt(int64(d), 10) + "nanos" // unreachable: nanos divides everything
}

// Index and node settings the platform sets itself.
const (
	settingDelayedTimeout = "index.unassigned.node_left.delayed_timeout" // https://www.elastic.co/docs/deploy-manage/distributed-architecture/shard-allocation-relocation-recovery/delaying-allocation-when-node-leaves
	settingS3AccessKey    = "s3.client.default.access_key"               // secure: keystore only
	settingS3SecretKey    = "s3.client.default.secret_key"               // secure: keystore only
)

// delayedTimeoutBody is the PUT /<index>/_settings body that sets how long
// the master waits for a departed node before rebuilding its replicas.
func delayedTimeoutBody(d time.Duration) string {
	body, _ := json.Marshal(map[string]string{settingDelayedTimeout: elasticTimeValue(d)})
	return string(body)
}

// clusterHealthPath asks for a green cluster of nodes nodes, waiting at most
// wait on the server; it answers 408 when that did not happen in time
// (https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-cluster-health).
func clusterHealthPath(nodes int, wait time.Duration) string {
	query := url.Values{
		"wait_for_status": {"green"},
		"wait_for_nodes":  {strconv.Itoa(nodes)},
		"timeout":         {elasticTimeValue(wait)},
	}
	return "/_cluster/health?" + query.Encode()
}

// The official image's entry point and working directory
// (https://github.com/elastic/elasticsearch/blob/main/distribution/docker/src/docker/bin/docker-entrypoint.sh):
// a command other than "eswrapper" is run as given, as the image's user,
// from /usr/share/elasticsearch.
const (
	elasticEntrypoint  = "/usr/local/bin/docker-entrypoint.sh"
	elasticDefaultArgs = "eswrapper"
	elasticKeystoreCLI = "bin/elasticsearch-keystore"
)

// elasticKeystoreCommand is the container command of an Elasticsearch
// node: it puts the S3 client's keys into the node's keystore, then starts
// the node through the image's own entry point. So the keys are in place
// before the node starts (secure settings are read at start, and must be on
// every node: https://www.elastic.co/docs/deploy-manage/tools/snapshot-and-restore/s3-repository#repository-s3-client),
// every node provisions its own in parallel with the others, and a restore
// into a new cluster spends no time on it.
//
// One `elasticsearch-keystore add --stdin --force NAME...` takes every
// value, one per line, on standard input; --force creates the keystore,
// unprotected, when there is none
// (https://www.elastic.co/docs/reference/elasticsearch/command-line-tools/elasticsearch-keystore).
func elasticKeystoreCommand(secrets map[string]string) []string {
	names := make([]string, 0, len(secrets))
	for name := range secrets {
		names = append(names, name)
	}
	sort.Strings(names)
	values := make([]string, len(names))
	for i, name := range names {
		values[i] = shellQuote(secrets[name])
	}
	quotedNames := make([]string, len(names))
	for i, name := range names {
		quotedNames[i] = shellQuote(name)
	}
	script := fmt.Sprintf("printf '%%s\\n' %s | %s add --stdin --force %s && exec %s %s",
		strings.Join(values, " "), elasticKeystoreCLI, strings.Join(quotedNames, " "), elasticEntrypoint, elasticDefaultArgs)
	return []string{"/bin/bash", "-c", script}
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// reloadAnswer is the answer of POST _nodes/reload_secure_settings
// (https://www.elastic.co/docs/api/doc/elasticsearch/v8/operation/operation-nodes-reload-secure-settings):
// a node that could not reload says so inside a 200 answer, under
// nodes.<id>.reload_exception, and a node that did not answer at all is
// counted in _nodes.failed.
type reloadAnswer struct {
	Nodes struct {
		Total      int `json:"total"`
		Successful int `json:"successful"`
		Failed     int `json:"failed"`
		Failures   []struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"failures"`
	} `json:"_nodes"`
	PerNode map[string]struct {
		Name            string `json:"name"`
		ReloadException *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"reload_exception"`
	} `json:"nodes"`
}

// checkReload reads a 200 answer of reload_secure_settings and says which of
// want (node names) did not reload their keystore, and why.
func checkReload(body []byte, want []string) error {
	var answer reloadAnswer
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("reload secure settings: unreadable answer: %w", err)
	}
	var problems []string
	reloaded := map[string]bool{}
	for _, id := range platform.SortedKeys(answer.PerNode) {
		node := answer.PerNode[id]
		if e := node.ReloadException; e != nil {
			problems = append(problems, fmt.Sprintf("%s: %s: %s", node.Name, e.Type, e.Reason))
			continue
		}
		reloaded[node.Name] = true
	}
	for _, f := range answer.Nodes.Failures {
		problems = append(problems, fmt.Sprintf("%s: %s", f.Type, f.Reason))
	}
	if answer.Nodes.Failed > 0 && len(answer.Nodes.Failures) == 0 {
		problems = append(problems, fmt.Sprintf("%d nodes failed", answer.Nodes.Failed))
	}
	for _, name := range want {
		if !reloaded[name] && !slicesContainsPrefix(problems, name+":") {
			problems = append(problems, name+": no answer")
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("reload secure settings: %s", strings.Join(problems, "; "))
	}
	return nil
}

func slicesContainsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
