// Package crmclient is opdesk's side of the CRM: the contract (Go types and an
// OpenAPI 3.1 document), phone-number normalisation, and a typed HTTP client.
//
// The contract exists so that a team can put its own CRM behind opdesk instead of
// the reference server (package crmserver), which implements the same document.
//
// What is hand-written, and why: the OpenAPI document (openapi/*.json, one part per
// area, merged into one document at load) is written by hand, not generated from
// the Go types or the server's routes. It is the promise made to other
// implementations, so it is reviewed as prose (descriptions, examples, limits), and a
// generator would turn every refactor of the Go code into a silent contract change.
// Drift is caught by tests instead: this package's tests check that every schema's
// properties are exactly the JSON fields of the matching Go type, and crmserver's
// tests check that the routes it registers are exactly the documented operations.
// The Go types and the client are hand-written too; the client stays small because
// it is read by people debugging a live call center, not by a code generator.
//
// Errors: every failure to reach the CRM wraps ErrUnavailable; every answer from it
// that is not 2xx is an *APIError that matches ErrUnauthorized, ErrForbidden,
// ErrNotFound, ErrInvalidPhone or ErrUnavailable through errors.Is, and RetryAt
// says when an answer like "no lead now" may change.
//
// Shared rules: CallingWindow.OpenAt and NextOpen are the one reading of a
// campaign's calling hours, used by the server to hand out leads and by the
// desktop to show when calling may resume; DialString turns a stored E.164
// number into what the PBX dials.
//
// GrantVerifier is the agent's side of monitor grants (VerifyGrant with the CRM's
// key fetched and refreshed, against the calls the phone has up, once per grant).
// Wallboard is a supervisor's day in figures, computed by the CRM.
//
// ScreenPop fetches a caller's card and, with a CardCache, shows the last known one
// while the CRM is down. OutboxSender delivers the items of the durable outbox for
// what operators type (crmclient/outbox) to the contract's idempotent routes.
package crmclient
