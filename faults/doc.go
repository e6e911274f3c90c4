// Package faults is the fault vocabulary of a scenario and the injector that
// carries it out on any platform. Each fault kind (kill, stop, pause,
// restart, partition, latency, and the disk faults disk-slow, disk-error
// and disk-full) is a small type with Inject and Recover over
// the platform's primitives; the injector resolves a fault's selectors
// (node, az, region, role, service) to node names at the moment it fires, so
// `role:mongo:primary` hits whichever member is primary then, and keeps what
// it injected so that recovery is exact and idempotent.
package faults
