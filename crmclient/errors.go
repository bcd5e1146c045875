package crmclient

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Sentinel errors. The UI matches them with errors.Is to pick a sentence a person
// understands ("CRM unreachable", "number not valid") instead of showing a Go error.
var (
	// ErrUnavailable wraps every failure to get an answer from the CRM at all:
	// connection refused, DNS, timeouts, and 502/503/504 from a proxy in front of it.
	// The UI shows "CRM unreachable" and keeps the last known card.
	ErrUnavailable = errors.New("crm unavailable")
	// ErrInvalidPhone is returned by NormalizePhone, and matches a server answer with
	// code invalid_phone, so one check covers both places a number can be rejected.
	ErrInvalidPhone = errors.New("invalid phone number")
	// ErrUnauthorized matches a 401: no token, an unknown or expired one, or a wrong
	// password at login. The UI sends the operator back to the login form.
	ErrUnauthorized = errors.New("not logged in to the CRM")
	// ErrForbidden matches a 403: logged in, but the role may not do this.
	ErrForbidden = errors.New("not allowed by the CRM")
	// ErrNotFound matches a 404.
	ErrNotFound = errors.New("not found in the CRM")
	// ErrBadResponse means the CRM answered 2xx with a body that is not the documented
	// JSON. It is a server bug, not an outage, so it does not match ErrUnavailable.
	ErrBadResponse = errors.New("malformed CRM response")
	// ErrInvalidWindow wraps every refusal of a calling window: times that are
	// not HH:MM, a window that starts where it ends, a time zone that is not
	// an IANA name. The message says which, in words an operator understands.
	ErrInvalidWindow = errors.New("invalid calling window")
)

// Error codes carried in {"error":{"code": …}}. They are part of the contract (the
// OpenAPI document lists them) so that a client can branch on them without parsing
// messages, which are for people and may change.
const (
	CodeInvalidJSON        = "invalid_json"        // body is not JSON, or has unknown fields or wrong types
	CodeInvalidRequest     = "invalid_request"     // JSON is fine but a value is not acceptable
	CodeInvalidPhone       = "invalid_phone"       // a phone number could not be normalised to E.164
	CodeBodyTooLarge       = "body_too_large"      // request body over the server's limit (413)
	CodeUnsupportedMedia   = "unsupported_media"   // Content-Type is not application/json (415)
	CodeUnauthorized       = "unauthorized"        // missing, unknown or expired token (401)
	CodeInvalidCredentials = "invalid_credentials" // login with a wrong user name or password (401)
	CodeForbidden          = "forbidden"           // role does not allow this (403)
	CodeNotFound           = "not_found"           // no such route or resource (404)
	CodeMethodNotAllowed   = "method_not_allowed"  // route exists, method does not (405)
	CodeInternal           = "internal"            // server fault (500); details only in the server log
	CodeUnavailable        = "unavailable"         // server overloaded or shutting down (503)
)

// ErrorBody is the JSON shape of every non-2xx answer: {"error":{"code","message"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody. RetryAt, when present, is when asking
// again can succeed: the next lead's due time with no_leads, the opening of the
// calling window with outside_calling_hours. Absent means "not before something
// changes" (a supervisor imports leads, a colleague releases one).
type ErrorDetail struct {
	Code    string     `json:"code"`
	Message string     `json:"message"`
	RetryAt *time.Time `json:"retry_at,omitempty"`
}

// APIError is a non-2xx answer from the CRM. Status is the HTTP status; Code,
// Message and RetryAt (zero when absent) come from the body (or Code and Message
// are made up from the status when a proxy answered with something that is not
// our JSON).
type APIError struct {
	Status  int
	Code    string
	Message string
	RetryAt time.Time
}

func (e *APIError) Error() string {
	return fmt.Sprintf("crm: %d %s: %s", e.Status, e.Code, e.Message)
}

// Is lets errors.Is(err, ErrNotFound) and friends work on API errors, so callers
// need not know status numbers.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrInvalidPhone:
		return e.Code == CodeInvalidPhone
	case ErrUnavailable:
		return e.Status == http.StatusBadGateway || e.Status == http.StatusServiceUnavailable ||
			e.Status == http.StatusGatewayTimeout
	}
	return false
}

// RetryAt returns when the CRM said asking again can succeed (see
// ErrorDetail.RetryAt); false when err is not an answer of the CRM or the
// answer named no time. A desktop waits until then instead of polling.
func RetryAt(err error) (time.Time, bool) {
	var ae *APIError
	if !errors.As(err, &ae) || ae.RetryAt.IsZero() {
		return time.Time{}, false
	}
	return ae.RetryAt, true
}
