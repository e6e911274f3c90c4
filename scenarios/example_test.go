package scenarios_test

import (
	"errors"
	"fmt"

	"github.com/chaosdrill/chaosdrill/scenarios"
)

func ExampleParse() {
	s, err := scenarios.Parse("kill-primary.yaml", []byte(`
name: kill-primary
topology: ion
duration: 5m
workloads:
  - {service: mongo, rate: 100}
faults:
  - {kind: kill, target: role:mongo:primary, at: 1m}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Faults[0].Name, s.Workloads[0].WriteConcern, s.Workloads[0].Timeout, len(s.Topology.Resolved.Nodes()))
	// Output: fault-1 majority 10s 9
}

func ExampleError() {
	_, err := scenarios.Parse("drill.yaml", []byte(`
name: drill
topology: ion
duration: 5m
workloads:
  - {service: mongo, rate: 100}
faults:
  - {kind: kill, target: az:us-east-1e, at: 6m}
`))
	var bad *scenarios.Error
	if errors.As(err, &bad) {
		fmt.Println(err)
	}
	// Output:
	// drill.yaml:8:26: faults[0].target: selector "az:us-east-1e": no zone "us-east-1e" in topology "ion"; did you mean "us-east-1a"?
	// drill.yaml:8:45: faults[0].at: fault at 6m0s is after the scenario's end (duration 5m0s)
}
