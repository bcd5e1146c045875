package crmserver

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// Sentinel errors of campaigns, leads and dispositions. Go callers match them
// with errors.Is; the HTTP layer answers each with its status and code.
var (
	// ErrNoLeads: nothing in the campaign can be called now.
	ErrNoLeads = errors.New("no leads to call")
	// ErrOutsideCallingHours: leads are waiting, but not one may be called at this hour.
	ErrOutsideCallingHours = errors.New("outside calling hours")
	// ErrLeaseNotHeld: the lead is not leased to the caller.
	ErrLeaseNotHeld = errors.New("lead is not leased to you")
	// ErrIdempotencyMismatch: an idempotency key reused with a different request.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
	// ErrNeverCall: a refused-never-call number cannot leave the DNC list.
	ErrNeverCall = errors.New("number refused further calls")
	// ErrNotAssigned: an agent asked about a campaign they do not work on.
	ErrNotAssigned = errors.New("not assigned to the campaign")
)

// ruleError is a refusal with a message for people. It matches its sentinel
// (and ErrInvalid when it is a validation failure, status 422). The HTTP layer
// answers it with its status and code (handler_json.go fail), and with
// retry_at when retryAt is set.
type ruleError struct {
	kind    error
	status  int
	code    string
	msg     string
	retryAt time.Time // when asking again can succeed; zero: not known
}

func (e *ruleError) Error() string { return e.msg }

func (e *ruleError) Is(target error) bool {
	return target == e.kind || e.kind == nil && target == ErrInvalid
}

func refuse(kind error, format string, args ...any) error {
	return refuseUntil(kind, time.Time{}, format, args...)
}

// refuseUntil is refuse with the time asking again can succeed (zero: unknown).
func refuseUntil(kind error, retryAt time.Time, format string, args ...any) error {
	e := &ruleError{kind: kind, msg: fmt.Sprintf(format, args...), retryAt: retryAt}
	switch kind {
	case ErrNoLeads:
		e.status, e.code = http.StatusNotFound, crmclient.CodeNoLeads
	case ErrOutsideCallingHours:
		e.status, e.code = http.StatusConflict, crmclient.CodeOutsideCallingHours
	case ErrLeaseNotHeld:
		e.status, e.code = http.StatusConflict, crmclient.CodeLeaseNotHeld
	case ErrIdempotencyMismatch:
		e.status, e.code = http.StatusConflict, crmclient.CodeIdempotencyMismatch
	case ErrNeverCall:
		e.status, e.code = http.StatusConflict, crmclient.CodeNeverCall
	case ErrNotAssigned:
		e.status, e.code = http.StatusForbidden, crmclient.CodeForbidden
	default:
		panic("refuse: unknown kind")
	}
	return e
}

// unprocessable is a request that decodes but breaks the campaign's rules (its
// wrap-up form, its lead): 422 with a message that names the field.
func unprocessable(format string, args ...any) error {
	return &ruleError{status: http.StatusUnprocessableEntity, code: crmclient.CodeInvalidRequest,
		msg: fmt.Sprintf(format, args...)}
}
