package mongo

import (
	"errors"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Server error codes after which a write may or may not have been applied:
// it was interrupted, or timed out, while running. From the Interruption,
// ShutdownError, ExceededTimeLimitError and NetworkError categories of
// https://github.com/mongodb/mongo/blob/master/src/mongo/base/error_codes.yml.
var interruptedMidWrite = map[int32]bool{
	6:     true, // HostUnreachable
	7:     true, // HostNotFound
	50:    true, // MaxTimeMSExpired
	89:    true, // NetworkTimeout
	91:    true, // ShutdownInProgress
	189:   true, // PrimarySteppedDown
	262:   true, // ExceededTimeLimit
	9001:  true, // SocketException
	11600: true, // InterruptedAtShutdown
	11601: true, // Interrupted
	11602: true, // InterruptedDueToReplStateChange
}

// classify turns the result of one InsertOne into an outcome. sent is how
// many times the driver put the insert on the wire (1 normally, 2 when the
// driver's single retryable-write retry ran).
//
// The rules, in order:
//   - no error: Acked.
//   - never sent (no attempt reached the wire: server selection timed out,
//     the dial was refused, the context ended first): Failed.
//   - duplicate key on our _id with no write concern error: Acked. The _id
//     is unique to this run and operation, so the document is there because
//     an earlier attempt of this very write was applied.
//   - a write concern error: Unknown. The primary applied the write but could
//     not confirm the requested concern (wtimeout, step-down, shutdown); the
//     write may be replicated later or rolled back. For w:1 this does not
//     arise; for w:majority or a tag mode it is exactly the window in which an
//     applied write can still be lost, so it must not count as acknowledged.
//   - timeouts and network errors after sending: Unknown.
//   - a server error refusing the write before applying it (not primary), or
//     any other write or command error the server answered with, when only
//     one attempt was sent: Failed. If two attempts were sent, the first
//     ended indefinitely (that is why the driver retried), so the second
//     refusal says nothing about the first: Unknown.
//   - interruptions (step-down, shutdown, maxTimeMS): Unknown.
func classify(err error, sent int) platform.Outcome {
	if err == nil {
		return platform.Acked
	}
	if sent == 0 {
		return platform.Failed
	}
	var we mongo.WriteException
	if errors.As(err, &we) {
		if we.WriteConcernError != nil {
			return platform.Unknown
		}
		if mongo.IsDuplicateKeyError(err) {
			return platform.Acked
		}
		if sent > 1 {
			return platform.Unknown
		}
		return platform.Failed
	}
	if mongo.IsTimeout(err) || mongo.IsNetworkError(err) {
		return platform.Unknown
	}
	var ce mongo.CommandError
	if errors.As(err, &ce) && ce.Code != 0 {
		// The server answered: NotWritablePrimary (10107) and the other
		// NotPrimaryError codes refuse before applying; so do validation
		// and authorization errors.
		if interruptedMidWrite[ce.Code] || sent > 1 {
			return platform.Unknown
		}
		return platform.Failed
	}
	// Anything else came from the driver after the command was sent (a
	// broken reply, a closed client): nobody knows whether it was applied.
	return platform.Unknown
}
