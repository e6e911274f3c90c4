// Package mongo is the live platform's client for a MongoDB replica set: the
// workload's writer and read-back (one document per operation, _id
// "<run>-<op>"), and the admin commands the recovery runbook uses (status,
// primary, replSetInitiate, forced reconfig, adding a member, step-down).
//
// # Reaching members from the host
//
// Replica-set members know each other by container alias ("mongo-east-1a:27017"),
// which the harness's process cannot resolve, and Docker maps each member's
// port to a host port that changes when the container restarts. The client
// therefore keeps the members' own names in the driver's topology (so that
// discovery, elections and the driver's failover behave as in production) and
// maps a name to a host address inside its dialer, through Options.Resolve, on
// every dial. The admin helpers take an address that is already dialable.
//
// # Outcomes
//
// Write returns Acked when the server confirmed the write with the requested
// write concern, Failed when the server refused it or it was never sent, and
// Unknown when it was sent and then timed out, lost its connection, was
// interrupted, or was applied without its write concern being satisfied (a
// write concern error: the write may still be rolled back). Whether a write
// was sent is observed, not guessed: the driver publishes a CommandStarted
// event just before putting a command on the wire, and Write counts them for
// its own insert. A duplicate-key answer for the write's own _id means an
// earlier attempt was applied, so it is Acked. The driver's single retryable
// write retry stays on; when it ran, a refusal of the retry says nothing about
// the first attempt, so it is Unknown. See classify for the full rules.
//
// # Reads
//
// A read workload's query (NewReadQuery, ReadNewest) asks the member the
// driver's server selection picks under the workload's read preference
// and tag sets for the run's document with the largest op, under the
// workload's read concern, through an index on {run, op} (EnsureReadIndex):
// its value is the op id of the newest write the member returned. The
// member that answered is taken from the CommandSucceeded event of the
// find. A read that never reached the wire or got an error answer is
// Failed; one that timed out or lost its connection after sending is
// Unknown.
//
// # What the tests here can and cannot prove
//
// The tests run against FerretDB's embedded server (the MongoDB wire protocol
// on SQLite, on loopback): writes, read-back, connection refused, lost
// replies, reset connections, a server killed mid-write and restarted on its
// data at another port. FerretDB is a standalone server: it has no replica
// set, no write concern beyond one server, no retryable writes and none of
// replSetInitiate, replSetGetStatus, replSetGetConfig, replSetReconfig or
// replSetStepDown. The shapes of those commands and of their replies are
// tested as data here; that a real replica set accepts them, elects, rolls
// back and fails over as expected is proven only by the `live` suite against
// mongod containers.
package mongo
