package simulator

import (
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// TEMPORARY scaffolding so the package compiles while the elastic model is
// written; it is deleted when elastic.go lands.
type elasticStub struct {
	s    *Sim
	spec *platform.ServiceSpec
}

func newElasticModel(s *Sim, spec *platform.ServiceSpec) (model, error) {
	return &elasticStub{s: s, spec: spec}, nil
}

func (m *elasticStub) service() string                                       { return m.spec.Name }
func (m *elasticStub) start()                                                {}
func (m *elasticStub) write(op uint64)                                       { m.s.complete(op, platform.Acked, m.s.now) }
func (m *elasticStub) advance(t time.Duration)                               {}
func (m *elasticStub) nodeChanged(n *simNode, c nodeChange)                  {}
func (m *elasticStub) networkChanged()                                       {}
func (m *elasticStub) role(name string) ([]string, error)                    { return nil, nil }
func (m *elasticStub) action(a platform.Action, d platform.ActionDone) error { return nil }
func (m *elasticStub) readBack(ids []uint64, present []bool) {
	for i := range present {
		present[i] = true
	}
}
