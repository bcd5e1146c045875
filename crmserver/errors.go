package crmserver

import (
	"errors"
	"fmt"
)

// Sentinel errors of the store. The HTTP layer maps them to statuses; callers that
// use the store directly (seed, import, tests) match them with errors.Is.
var (
	// ErrNotFound: no row with that id (also for ids that are not ours, such as "abc").
	ErrNotFound = errors.New("not found")
	// ErrBadCredentials: unknown user or wrong password. One error for both, so the
	// answer does not tell an attacker which user names exist.
	ErrBadCredentials = errors.New("wrong user name or password")
	// ErrUnknownToken: a bearer token that was never issued here or has expired.
	ErrUnknownToken = errors.New("unknown or expired token")
	// ErrInvalid: a value the contract does not accept. The concrete error carries
	// a message meant for the person who sent it.
	ErrInvalid = errors.New("invalid")
	// ErrUnsupportedDSN: Open was given a data source it cannot open.
	ErrUnsupportedDSN = errors.New("unsupported database")
	// ErrSchemaTooNew: the database was migrated by a newer opdesk; an older binary
	// must not write to it, because it cannot know what the newer schema means.
	ErrSchemaTooNew = errors.New("database schema is newer than this program")
)

// invalidError is a validation failure with a message for people; it matches ErrInvalid.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}
