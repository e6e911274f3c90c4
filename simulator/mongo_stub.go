package simulator

import (
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// TEMPORARY scaffolding so the package compiles while the mongo model is
// written; it is deleted when mongo.go lands.
type mongoStub struct {
	s    *Sim
	spec *platform.ServiceSpec
}

func newMongoModel(s *Sim, spec *platform.ServiceSpec) (model, error) {
	return &mongoStub{s: s, spec: spec}, nil
}

func (m *mongoStub) service() string                                       { return m.spec.Name }
func (m *mongoStub) start()                                                {}
func (m *mongoStub) write(op uint64)                                       { m.s.complete(op, platform.Acked, m.s.now) }
func (m *mongoStub) advance(t time.Duration)                               {}
func (m *mongoStub) nodeChanged(n *simNode, c nodeChange)                  {}
func (m *mongoStub) networkChanged()                                       {}
func (m *mongoStub) role(name string) ([]string, error)                    { return nil, nil }
func (m *mongoStub) action(a platform.Action, d platform.ActionDone) error { return nil }
func (m *mongoStub) readBack(ids []uint64, present []bool) {
	for i := range present {
		present[i] = true
	}
}
