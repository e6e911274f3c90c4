package simulator

import (
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// TEMPORARY scaffolding so the package compiles while the s3 model is
// written; it is deleted when s3.go lands.
type s3Stub struct {
	s    *Sim
	spec *platform.ServiceSpec
}

func newS3Model(s *Sim, spec *platform.ServiceSpec) (model, error) {
	return &s3Stub{s: s, spec: spec}, nil
}

func (m *s3Stub) service() string                                       { return m.spec.Name }
func (m *s3Stub) start()                                                {}
func (m *s3Stub) write(op uint64)                                       { m.s.complete(op, platform.Acked, m.s.now) }
func (m *s3Stub) advance(t time.Duration)                               {}
func (m *s3Stub) nodeChanged(n *simNode, c nodeChange)                  {}
func (m *s3Stub) networkChanged()                                       {}
func (m *s3Stub) role(name string) ([]string, error)                    { return nil, nil }
func (m *s3Stub) action(a platform.Action, d platform.ActionDone) error { return nil }
func (m *s3Stub) readBack(ids []uint64, present []bool) {
	for i := range present {
		present[i] = true
	}
}
