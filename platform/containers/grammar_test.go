package containers

import (
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing/quick"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Elasticsearch's time values: "a number and a unit", the units d, h, m,
// s, ms, micros and nanos
// (https://www.elastic.co/guide/en/elasticsearch/reference/current/api-conventions.html#time-units).
var elasticTimeGrammar = regexp.MustCompile(`^([0-9]+)(d|h|m|s|ms|micros|nanos)$`)

// parseElasticTime reads a time value as the server does; ok is false for
// anything outside the grammar (such as Go's "1m0s").
func parseElasticTime(text string) (time.Duration, bool) {
	m := elasticTimeGrammar.FindStringSubmatch(text)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, false
	}
	unit := map[string]time.Duration{"d": 24 * time.Hour, "h": time.Hour, "m": time.Minute, "s": time.Second, "ms": time.Millisecond, "micros": time.Microsecond, "nanos": time.Nanosecond}[m[2]]
	return time.Duration(n) * unit, true
}

// documentedNodeSettings are the node settings the platform passes as
// environment variables, each with where it is documented.
var documentedNodeSettings = map[string]string{
	"cluster.name":                 "https://www.elastic.co/docs/reference/elasticsearch/configuration-reference/miscellaneous-cluster-settings",
	"node.name":                    "https://www.elastic.co/docs/deploy-manage/deploy/self-managed/important-settings-configuration#node-name",
	"node.attr.zone":               "https://www.elastic.co/docs/deploy-manage/distributed-architecture/shard-allocation-relocation-recovery/shard-allocation-awareness (node.attr.<attribute>)",
	"discovery.seed_hosts":         "https://www.elastic.co/docs/reference/elasticsearch/configuration-reference/discovery-cluster-formation-settings",
	"cluster.initial_master_nodes": "https://www.elastic.co/docs/reference/elasticsearch/configuration-reference/discovery-cluster-formation-settings",
	"cluster.routing.allocation.awareness.attributes":   "https://www.elastic.co/docs/reference/elasticsearch/configuration-reference/cluster-level-shard-allocation-routing-settings",
	"cluster.routing.allocation.disk.threshold_enabled": "https://www.elastic.co/docs/reference/elasticsearch/configuration-reference/cluster-level-shard-allocation-routing-settings#disk-based-shard-allocation",
	"xpack.security.enabled":                            "https://www.elastic.co/docs/reference/elasticsearch/configuration-reference/security-settings",
	"node.store.allow_mmap":                             "https://www.elastic.co/docs/reference/elasticsearch/index-settings/store#allow-mmap",
	"s3.client.default.endpoint":                        "https://www.elastic.co/docs/deploy-manage/tools/snapshot-and-restore/s3-repository#repository-s3-client",
	"s3.client.default.path_style_access":               "https://www.elastic.co/docs/deploy-manage/tools/snapshot-and-restore/s3-repository#repository-s3-client",
}

// The official image turns an environment variable into a setting only
// when its name is "at least two dot separated lowercase words"; any other
// is silently ignored
// (https://github.com/elastic/elasticsearch/blob/main/distribution/docker/src/docker/bin/docker-entrypoint.sh).
var imageSettingVariable = regexp.MustCompile(`^[a-z0-9_]+\.[a-z0-9_]+`)

// JVM heap options: -Xms<size> and -Xmx<size>, size a whole number with an
// optional k, m or g (https://docs.oracle.com/en/java/javase/21/docs/specs/man/java.html#extra-options-for-java);
// Elasticsearch's heap size bootstrap check wants them equal
// (https://www.elastic.co/docs/deploy-manage/deploy/self-managed/bootstrap-checks#bootstrap-checks-heap-size).
var jvmHeap = regexp.MustCompile(`^-Xms([0-9]+[kKmMgG]?) -Xmx([0-9]+[kKmMgG]?)$`)

var _ = Describe("what the live platform sends to Elasticsearch, against its documented grammar", func() {
	It("writes every duration as one number and one unit, never Go's 1m0s", func() {
		for d, want := range map[time.Duration]string{
			time.Minute:                    "1m",
			90 * time.Second:               "90s",
			1500 * time.Millisecond:        "1500ms",
			5 * time.Second:                "5s",
			24 * time.Hour:                 "1d",
			2500 * time.Microsecond:        "2500micros",
			time.Hour + time.Nanosecond:    "3600000000001nanos",
			10*time.Minute + 5*time.Second: "605s",
		} {
			Expect(elasticTimeValue(d)).To(Equal(want), "%v", d)
		}
		Expect(parseElasticTime("1m0s")).Error().To(BeFalse(), "the bug: Go's form is outside the grammar")
	})

	It("writes any positive duration so that the server reads back exactly that duration", func() {
		roundTrips := func(n int64) bool {
			d := time.Duration(n%int64(100*24*time.Hour)) + 1
			if d <= 0 {
				d = -d + 1
			}
			back, ok := parseElasticTime(elasticTimeValue(d))
			return ok && back == d
		}
		Expect(quick.Check(roundTrips, &quick.Config{MaxCount: 5000})).To(Succeed())
	})

	It("sets the delayed allocation timeout with the documented setting name and a valid time value", func() {
		for _, d := range []time.Duration{time.Minute, 90 * time.Second, 5 * time.Minute, 1500 * time.Millisecond} {
			var body map[string]string
			Expect(json.Unmarshal([]byte(delayedTimeoutBody(d)), &body)).To(Succeed())
			Expect(body).To(HaveLen(1))
			Expect(body).To(HaveKey("index.unassigned.node_left.delayed_timeout"))
			back, ok := parseElasticTime(body["index.unassigned.node_left.delayed_timeout"])
			Expect(ok).To(BeTrue(), body["index.unassigned.node_left.delayed_timeout"])
			Expect(back).To(Equal(d))
		}
		set, err := parseSettings(nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(delayedTimeoutBody(set.delayedTimeout)).To(MatchJSON(`{"index.unassigned.node_left.delayed_timeout":"1m"}`), "the default, which killed every live bring-up as 1m0s")
	})

	It("asks cluster health for a green cluster with a valid server-side timeout", func() {
		path, err := url.Parse(clusterHealthPath(4, elasticHealthWait))
		Expect(err).NotTo(HaveOccurred())
		Expect(path.Path).To(Equal("/_cluster/health"))
		query := path.Query()
		Expect(query.Get("wait_for_status")).To(BeElementOf("green", "yellow", "red"))
		Expect(strconv.Atoi(query.Get("wait_for_nodes"))).To(Equal(4))
		_, ok := parseElasticTime(query.Get("timeout"))
		Expect(ok).To(BeTrue(), query.Get("timeout"))
		Expect(query).To(HaveLen(3))
	})

	It("configures every node with documented settings the image passes on, in their grammar", func() {
		for _, topology := range []*platform.Topology{platform.Ion(), twoRegionTopology()} {
			plans, err := plan(topology, defaultOptions())
			Expect(err).NotTo(HaveOccurred())
			for _, p := range plans {
				if p.Node.Kind != platform.KindElastic {
					continue
				}
				for name, value := range p.Spec.Env {
					if name == "ES_JAVA_OPTS" {
						m := jvmHeap.FindStringSubmatch(value)
						Expect(m).NotTo(BeNil(), "ES_JAVA_OPTS %q", value)
						Expect(m[1]).To(Equal(m[2]), "initial and maximum heap must be equal")
						continue
					}
					Expect(documentedNodeSettings).To(HaveKey(name), "undocumented setting %s", name)
					Expect(imageSettingVariable.MatchString(name)).To(BeTrue(), "the image would ignore %s", name)
					Expect(value).NotTo(BeEmpty(), "the image drops an empty %s", name)
					switch name {
					case "xpack.security.enabled", "node.store.allow_mmap", "cluster.routing.allocation.disk.threshold_enabled", "s3.client.default.path_style_access":
						Expect(value).To(BeElementOf("true", "false"), name)
					case "s3.client.default.endpoint":
						u, err := url.Parse(value)
						Expect(err).NotTo(HaveOccurred())
						Expect(u.Scheme).To(Equal("http"))
						Expect(u.Port()).To(Equal("4566"))
					case "discovery.seed_hosts", "cluster.initial_master_nodes":
						for _, host := range strings.Split(value, ",") {
							Expect(host).To(MatchRegexp(`^[a-z0-9-]+$`), "%s: %q", name, value)
						}
					}
				}
			}
		}
	})

	It("provisions the S3 keys with the keystore tool's documented command line, then starts the node through the image's entry point", func() {
		plans, err := plan(platform.Ion(), defaultOptions())
		Expect(err).NotTo(HaveOccurred())
		for _, p := range plans {
			if p.Node.Kind != platform.KindElastic {
				continue
			}
			Expect(p.Spec.Cmd).To(HaveLen(3))
			Expect(p.Spec.Cmd[:2]).To(Equal([]string{"/bin/bash", "-c"}))
			script := p.Spec.Cmd[2]
			// bin/elasticsearch-keystore ( [add <settings>] [-f] [--stdin] ...
			Expect(script).To(ContainSubstring("bin/elasticsearch-keystore add --stdin --force 's3.client.default.access_key' 's3.client.default.secret_key'"))
			Expect(script).To(HaveSuffix("&& exec /usr/local/bin/docker-entrypoint.sh eswrapper"))
		}
	})

	It("feeds the keystore one value per line, in the order of the names, and starts the node only if that worked", func() {
		bash, err := exec.LookPath("bash")
		if err != nil {
			Skip("bash is not installed here")
		}
		dir := GinkgoT().TempDir()
		Expect(os.MkdirAll(filepath.Join(dir, "bin"), 0o755)).To(Succeed())
		// Stand-ins for the image's keystore tool and entry point record
		// what they were given.
		Expect(os.WriteFile(filepath.Join(dir, "bin", "elasticsearch-keystore"), []byte("#!/bin/sh\necho \"$@\" > args\ncat > stdin\nexit ${KEYSTORE_EXIT:-0}\n"), 0o755)).To(Succeed())
		entry := filepath.Join(dir, "entrypoint")
		Expect(os.WriteFile(entry, []byte("#!/bin/sh\necho \"$@\" > started\n"), 0o755)).To(Succeed())

		secrets := map[string]string{settingS3AccessKey: "it's", settingS3SecretKey: "a $ecret"}
		script := strings.Replace(elasticKeystoreCommand(secrets)[2], elasticEntrypoint, entry, 1)
		run := exec.Command(bash, "-c", script)
		run.Dir = dir
		out, err := run.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(os.ReadFile(filepath.Join(dir, "args"))).To(BeEquivalentTo("add --stdin --force s3.client.default.access_key s3.client.default.secret_key\n"))
		Expect(os.ReadFile(filepath.Join(dir, "stdin"))).To(BeEquivalentTo("it's\na $ecret\n"))
		Expect(os.ReadFile(filepath.Join(dir, "started"))).To(BeEquivalentTo("eswrapper\n"))

		Expect(os.Remove(filepath.Join(dir, "started"))).To(Succeed())
		failing := exec.Command(bash, "-c", script)
		failing.Dir = dir
		failing.Env = append(os.Environ(), "KEYSTORE_EXIT=1")
		Expect(failing.Run()).To(HaveOccurred(), "a node whose keys could not be added does not start")
		Expect(filepath.Join(dir, "started")).NotTo(BeAnExistingFile())
	})

	Describe("checking reload_secure_settings", func() {
		nodes := []string{"es-east-1a", "es-east-1b"}

		It("accepts an answer in which every node reloaded", func() {
			Expect(checkReload([]byte(`{"_nodes":{"total":2,"successful":2,"failed":0},"cluster_name":"logs","nodes":{"x1":{"name":"es-east-1a"},"x2":{"name":"es-east-1b"}}}`), nodes)).To(Succeed())
		})

		It("names a node whose reload failed inside a 200 answer", func() {
			body := `{"_nodes":{"total":2,"successful":2,"failed":0},"cluster_name":"logs","nodes":{
				"x1":{"name":"es-east-1a"},
				"x2":{"name":"es-east-1b","reload_exception":{"type":"security_exception","reason":"Provided keystore password was incorrect"}}}}`
			Expect(checkReload([]byte(body), nodes)).To(MatchError(And(ContainSubstring("es-east-1b"), ContainSubstring("security_exception")), Not(ContainSubstring("es-east-1a"))))
		})

		It("names a node that did not answer", func() {
			body := `{"_nodes":{"total":2,"successful":1,"failed":1,"failures":[{"type":"failed_node_exception","reason":"Failed node [x2]"}]},"nodes":{"x1":{"name":"es-east-1a"}}}`
			Expect(checkReload([]byte(body), nodes)).To(MatchError(And(ContainSubstring("failed_node_exception"), ContainSubstring("es-east-1b: no answer"))))
		})
	})
})

// S3 bucket naming rules
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html):
// 3-63 characters; lower-case letters, digits, dots and hyphens; begin and
// end with a letter or digit; no two adjacent dots; not an IP address; not
// starting with xn--, sthree- or amzn-s3-demo-; not ending with -s3alias,
// --ol-s3, .mrap or --x-s3.
func documentedBucketProblems(name string) []string {
	var problems []string
	if len(name) < 3 || len(name) > 63 {
		problems = append(problems, "length")
	}
	if !regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`).MatchString(name) {
		problems = append(problems, "characters")
	}
	if strings.Contains(name, "..") {
		problems = append(problems, "adjacent dots")
	}
	if regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`).MatchString(name) {
		problems = append(problems, "IP address")
	}
	for _, prefix := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, prefix) {
			problems = append(problems, "prefix "+prefix)
		}
	}
	for _, suffix := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3"} {
		if strings.HasSuffix(name, suffix) {
			problems = append(problems, "suffix "+suffix)
		}
	}
	return problems
}

var _ = Describe("what the live platform sends to S3 (LocalStack), against the documented rules", func() {
	It("names every bucket by the S3 bucket naming rules, for any topology's names", func() {
		for _, topology := range []*platform.Topology{platform.Ion(), twoRegionTopology()} {
			for endpoint, names := range buckets(topology) {
				for _, name := range names {
					Expect(documentedBucketProblems(name)).To(BeEmpty(), "%s on %s", name, endpoint)
				}
			}
		}
		for _, awkward := range [][3]string{
			{"snapshots", "Very_Long.Service Name", strings.Repeat("region", 20)},
			{"artifacts", "--x", "us-east-1--"},
			{"artifacts", "..", "xn--"},
		} {
			name := bucketName(awkward[0], awkward[1], awkward[2])
			Expect(documentedBucketProblems(name)).To(BeEmpty(), "%q from %q", name, awkward)
		}
		Expect(documentedBucketProblems("xn--bad..name-s3alias")).NotTo(BeEmpty(), "the check itself catches a bad name")
	})

	It("tells LocalStack which services to start and the host name its URLs carry", func() {
		plans, err := plan(platform.Ion(), defaultOptions())
		Expect(err).NotTo(HaveOccurred())
		for _, p := range plans {
			if p.Node.Kind != platform.KindS3 {
				continue
			}
			// SERVICES is a comma-separated list of service names;
			// LOCALSTACK_HOST is host:port
			// (https://docs.localstack.cloud/references/configuration/).
			Expect(p.Spec.Env).To(HaveKeyWithValue("SERVICES", "s3"))
			host, port, ok := strings.Cut(p.Spec.Env["LOCALSTACK_HOST"], ":")
			Expect(ok).To(BeTrue())
			Expect(host).To(Equal(dockerAlias(p.Node.Name)))
			Expect(port).To(Equal("4566"))
		}
	})
})

var _ = Describe("what the live platform passes mongod, against its documented options", func() {
	It("starts every member with documented options and values", func() {
		plans, err := plan(platform.Ion(), defaultOptions())
		Expect(err).NotTo(HaveOccurred())
		for _, p := range plans {
			if p.Node.Kind != platform.KindMongo {
				continue
			}
			// --replSet <name>, --bind_ip_all, --wiredTigerCacheSizeGB
			// <float>, 0.25 to 10000
			// (https://www.mongodb.com/docs/manual/reference/program/mongod/).
			cmd := p.Spec.Cmd
			for i := 0; i < len(cmd); i++ {
				switch cmd[i] {
				case "--replSet":
					i++
					Expect(cmd[i]).To(MatchRegexp(`^[^/\s]+$`))
				case "--bind_ip_all":
				case "--wiredTigerCacheSizeGB":
					i++
					size, err := strconv.ParseFloat(cmd[i], 64)
					Expect(err).NotTo(HaveOccurred())
					Expect(size).To(And(BeNumerically(">=", 0.25), BeNumerically("<=", 10000)))
				default:
					Fail("undocumented mongod option " + cmd[i])
				}
			}
		}
	})

	It("refuses an election timeout that is not a whole number of milliseconds (electionTimeoutMillis is an integer)", func() {
		_, err := parseSettings(map[string]string{ParamElectionTimeout: "1500us"})
		Expect(err).To(MatchError(ContainSubstring(ParamElectionTimeout)))
		set, err := parseSettings(map[string]string{ParamElectionTimeout: "1500ms"})
		Expect(err).NotTo(HaveOccurred())
		Expect(set.electionTimeout).To(Equal(1500 * time.Millisecond))
	})
})
