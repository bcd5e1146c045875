package outbox

import "errors"

// Sentinel errors. The UI turns them into sentences an operator understands.
var (
	// ErrPermanent is wrapped by a Sender's error when the server refused an
	// item for good (a 4xx that will never succeed). The item is parked as
	// failed: kept, listed by Failed, and sent again only after Retry.
	ErrPermanent = errors.New("the CRM refused the item permanently")

	// ErrClosed is returned by calls on an Outbox that has been closed.
	ErrClosed = errors.New("outbox is closed")

	// ErrLocked is returned by Open when another process (or another Outbox
	// in this process) already has the file open. Two senders on one file
	// would break the ordering guarantee.
	ErrLocked = errors.New("outbox is in use by another opdesk")

	// ErrNotFound is returned by Retry when no parked item has the id.
	ErrNotFound = errors.New("no such failed item in the outbox")

	// ErrInvalid is returned for a bad argument or option (an empty kind,
	// a back-off range with min > max).
	ErrInvalid = errors.New("invalid outbox argument")
)
