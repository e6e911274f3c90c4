package scenarios_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/scenarios"
)

// Issue 17.4: a member the runbook adds is a valid fault target for the
// faults scheduled after the step that adds it.
var _ = Describe("faults on nodes a runbook step creates", func() {
	const runbook = `runbook:
  - {name: promote, action: mongo.force-reconfigure, params: {promote: mongo-west-1a}, after: lose-east}
  - {name: add-b, action: mongo.add-member, params: {name: mongo-west-1b, zone: us-west-1b}, after: promote}
`
	It("accepts them after the step, directly or through other faults and steps", func() {
		text := base + `faults:
  - {name: lose-east, kind: kill, target: region:us-east-1, at: 1m}
  - {name: kill-new, kind: kill, target: node:mongo-west-1b, after: add-b, heal: 1m}
  - {name: cut-new, kind: partition, between: [node:mongo-west-1b, node:mongo-west-1a], after: kill-new, delay: 2m}
` + runbook
		_, err := scenarios.Parse("s.yaml", []byte(text))
		Expect(err).NotTo(HaveOccurred())
	})

	It("refuses them for a fault that may come before the step, naming the step", func() {
		text := base + `faults:
  - {name: lose-east, kind: kill, target: region:us-east-1, at: 1m}
  - {name: too-early, kind: kill, target: node:mongo-west-1b, at: 2m}
` + runbook
		_, err := scenarios.Parse("s.yaml", []byte(text))
		problems := problemsOf(err)
		Expect(problems).To(HaveLen(1))
		Expect(problems[0].Path).To(Equal("faults[1].target"))
		Expect(problems[0].Message).To(ContainSubstring(`created by runbook step "add-b"`))
	})
})
