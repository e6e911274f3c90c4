package platform

import "time"

// Read preferences of a mongo read workload: which members the driver may
// send a read to (https://www.mongodb.com/docs/manual/core/read-preference/).
// Hidden members are never selected by any of them.
const (
	ReadPrimary            = "primary"            // the primary only; reads wait for one while the set has none
	ReadPrimaryPreferred   = "primaryPreferred"   // the primary, a secondary while there is none
	ReadSecondary          = "secondary"          // secondaries only
	ReadSecondaryPreferred = "secondaryPreferred" // a secondary, the primary while there is none
	ReadNearest            = "nearest"            // any of them within the latency window of the nearest
)

// ReadPreferences lists the read preferences.
var ReadPreferences = []string{ReadPrimary, ReadPrimaryPreferred, ReadSecondary, ReadSecondaryPreferred, ReadNearest}

// Read concerns of a mongo read workload: which of the member's data a read
// may return (https://www.mongodb.com/docs/manual/reference/read-concern/).
const (
	// ReadConcernLocal returns the member's newest data, including writes
	// a majority does not hold yet (and that a rollback may discard).
	ReadConcernLocal = "local"
	// ReadConcernMajority returns data a majority of the voting members
	// acknowledged, as the member knows it.
	ReadConcernMajority = "majority"
	// ReadConcernLinearizable (primary only) returns the primary's data once
	// a majority has confirmed it is still primary: it reflects every write
	// majority-acknowledged before the read began
	// (https://www.mongodb.com/docs/manual/reference/read-concern-linearizable/).
	ReadConcernLinearizable = "linearizable"
)

// ReadConcerns lists the read concerns.
var ReadConcerns = []string{ReadConcernLocal, ReadConcernMajority, ReadConcernLinearizable}

// ReadNothing is the value of a read that found no write of the run.
const ReadNothing = ^uint64(0)

// ReadConfig configures one read workload.
//
// A read asks the member the driver selects for the newest write of the
// run it can return under the read concern, and returns that write's op
// id (the write's number, as given to Client.Write), or ReadNothing. The
// checker compares that one number with the history of writes: a read is
// stale when a write acknowledged (and kept) before the read began has a
// larger op id, and dirty when the write it returned is missing after
// recovery.
type ReadConfig struct {
	Service string
	// Preference is one of the Read* preferences ("" is primary).
	Preference string
	// TagSets narrow the members a non-primary preference may select: the
	// first set some eligible member matches wins; an empty set matches
	// any member (https://www.mongodb.com/docs/manual/core/read-preference-tags/).
	TagSets []map[string]string
	// Concern is one of the ReadConcern* values ("" is local).
	Concern string
	// Timeout after which an unanswered read is Unknown.
	Timeout time.Duration
}

// ReadCompletions receives the outcome of each read, on the loop: Acked
// with the value it returned and the member that served it, Failed (an
// error answer, or no suitable server found in time), or Unknown (timed
// out, connection broken).
type ReadCompletions interface {
	ReadCompleted(read uint64, outcome Outcome, value uint64, member string, at time.Duration)
}

// Reader issues one read workload's reads.
type Reader interface {
	// Read issues read number read (unique among the run's reads). It
	// returns at once; the outcome arrives through the ReadCompletions the
	// Reader was made with. Read is called on the loop.
	Read(read uint64)
}
