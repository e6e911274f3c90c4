// Package s3 is the live platform's client for the S3 endpoints, one per
// region (a LocalStack container each): the artifact workload's writer and
// read-back (one object per operation under "artifacts/<run>-<op>"), the
// failover switch to another region's endpoint, and the periodic east-to-west
// Sync job that stands in for bucket replication, which LocalStack's
// community image accepts but does not perform.
//
// # Outcomes
//
// Each Write is one PutObject request, without the SDK's retries. It is
// Acked on a 2xx answer, Failed when the server answered 4xx or when the
// request never got its headers written (connection refused, no route,
// timed out before connecting: observed through net/http/httptrace, not
// guessed from error text), and Unknown otherwise: a 5xx, a dropped
// connection or a timeout after the request went out may or may not have
// stored the object.
//
// # Client settings
//
// Path-style addressing, static credentials, and request and response
// checksums only where an operation requires them (the SDK's 2025 default of
// checksumming every upload is not what older S3 emulators accept). The
// configuration is built in code, never loaded from the environment.
//
// # What the tests here can and cannot prove
//
// The tests run gofakes3 on loopback: puts, listing past one page, failover,
// Sync, refused connections, lost answers, dropped connections, 4xx and 5xx.
// That LocalStack 4.14 accepts the same requests (bucket creation with a
// location constraint, path style, checksum settings) and that losing its
// container loses its data is proven only by the `live` suite.
package s3
