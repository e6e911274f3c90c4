package scenarios_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/scenarios"
)

var _ = DescribeTable("problems with disk faults, artifacts and roles",
	func(text, path, message string) {
		_, err := scenarios.Parse("s.yaml", []byte(text), scenarios.WithParameters(knownParameters))
		problems := problemsOf(err)
		Expect(problems).To(HaveLen(1), err.Error())
		Expect(problems[0].Path).To(Equal(path))
		Expect(problems[0].Message).To(ContainSubstring(message))
	},
	Entry("a disk-slow fault that slows nothing", base+"faults:\n  - {kind: disk-slow, target: node:mongo-west-1a, at: 1m}\n", "faults[0]", "needs latency"),
	Entry("a throughput cap on another kind", base+"faults:\n  - {kind: disk-full, target: node:es-east-1a, throughput_mb: 1, at: 1m}\n", "faults[0].throughput_mb", "for disk-slow faults, not disk-full"),
	Entry("a negative throughput cap", base+"faults:\n  - {kind: disk-slow, target: node:es-east-1a, latency: 1ms, throughput_mb: -1, at: 1m}\n", "faults[0].throughput_mb", "must not be negative"),
	Entry("latency on a disk-error", base+"faults:\n  - {kind: disk-error, target: node:es-east-1a, latency: 1ms, at: 1m}\n", "faults[0].latency", "latency is for latency faults"),
	Entry("an artifact key the bucket lacks", base+"runbook:\n  - {name: p, action: artifacts.publish, params: {key: elasticsearh, version: '2'}, at: 1m}\n", "runbook[0].params.key", `did you mean "elasticsearch"?`),
	Entry("a role the bucket lacks", base+"runbook:\n  - {name: r, action: roles.rebuild, params: {role: consol, region: us-west-1}, at: 1m}\n", "runbook[0].params.role", `did you mean "console"?`),
	Entry("an upgrade of a role no service plays", base+"runbook:\n  - {name: u, action: roles.upgrade, params: {role: console, key: ion-console, version: '2'}, at: 1m}\n", "runbook[0].params.role", "names no service"),
	Entry("a rebuild without a region", base+"runbook:\n  - {name: r, action: roles.rebuild, params: {role: console}, at: 1m}\n", "runbook[0].params.region", "needs parameter \"region\""),
)

var _ = Describe("disk faults and roles in a valid file", func() {
	It("accepts each disk fault, a publish, a delete, a rebuild and an upgrade", func() {
		text := base + `faults:
  - {kind: disk-slow, target: role:mongo:primary, latency: 20ms, throughput_mb: 5, at: 1m, heal: 1m}
  - {kind: disk-error, target: node:es-east-1a, at: 2m, heal: 1m}
  - {kind: disk-full, target: node:s3-us-east-1, at: 3m}
runbook:
  - {name: p, action: artifacts.publish, params: {key: elasticsearch, version: "2"}, at: 1m}
  - {name: d, action: artifacts.delete, params: {key: ion-console, region: us-west-1}, at: 1m}
  - {name: r, action: roles.rebuild, params: {role: console, region: us-west-1}, at: 2m}
  - {name: u, action: roles.upgrade, params: {role: elasticsearch, key: elasticsearch, version: "3"}, at: 2m}
`
		sc, err := scenarios.Parse("s.yaml", []byte(text), scenarios.WithParameters(knownParameters))
		Expect(err).NotTo(HaveOccurred())
		Expect(sc.Faults[0].ThroughputMB).To(Equal(5.0))
	})
})
