package crmclient

import (
	"slices"
	"time"
)

// Error codes of the campaign part of the contract (see also errors.go).
const (
	// CodeNoLeads (404): the campaign has nothing to call now — every lead is
	// done, leased to someone else, waiting for its retry time or on the DNC list.
	// RetryAt tells when the next one falls due, if one ever will.
	CodeNoLeads = "no_leads"
	// CodeOutsideCallingHours (409): there are leads, but none may be called at
	// this hour; the message names the window ("calling hours are 09:00–21:00
	// Asia/Tokyo") and RetryAt tells when the first may be called.
	CodeOutsideCallingHours = "outside_calling_hours"
	// CodeLeaseNotHeld (409): the lead is not leased to the caller (never was,
	// released, or taken by a colleague after the lease ran out).
	CodeLeaseNotHeld = "lease_not_held"
	// CodeIdempotencyMismatch (409): an Idempotency-Key was reused with a
	// different request; the first request's effect stands.
	CodeIdempotencyMismatch = "idempotency_mismatch"
	// CodeNeverCall (409): the number is on the do-not-call list because the
	// customer refused further calls, and may not be taken off it.
	CodeNeverCall = "never_call"
)

// Campaign is a calling campaign: an inbound queue (support line) or an outbound
// list (telemarketing). It says what the desktop shows and enforces: the script,
// the caller ID to present, when leads may be called, how unanswered calls are
// retried, and the wrap-up form.
type Campaign struct {
	ID          string            `json:"id"` // slug, "renewal"
	Name        string            `json:"name"`
	Direction   Direction         `json:"direction"`
	ScriptID    string            `json:"script_id"` // "" when the campaign has no script
	CallerID    string            `json:"caller_id"` // E.164 for From / P-Asserted-Identity; "" = the line's own
	Window      CallingWindow     `json:"calling_window"`
	Retry       RetryPolicy       `json:"retry"`
	Disposition DispositionSchema `json:"disposition"`
}

// CallingWindow is when leads may be called, in local time of TimeZone (or of
// the lead's own zone when it has one). Start is inclusive, End exclusive; a
// window whose End is before its Start runs over midnight; "24:00" may end a
// window. OpenAt and NextOpen (window.go) read it.
type CallingWindow struct {
	Start    string `json:"start"`     // "09:00"
	End      string `json:"end"`       // "21:00"
	TimeZone string `json:"time_zone"` // IANA name, "Asia/Tokyo"
}

// String is the window as operators read it: "09:00–21:00 Asia/Tokyo".
func (w CallingWindow) String() string { return w.Start + "–" + w.End + " " + w.TimeZone }

// AttemptOutcome is how a call attempt that reached nobody ended. The dialer
// reports these on its own; a call that was answered gets a disposition instead.
type AttemptOutcome string

// Attempt outcomes.
const (
	OutcomeNoAnswer      AttemptOutcome = "no_answer"      // rang out (SIP 408/480/487 after ringing)
	OutcomeBusy          AttemptOutcome = "busy"           // 486/600
	OutcomeRejected      AttemptOutcome = "rejected"       // 603 Decline: the callee refused the call
	OutcomeUnreachable   AttemptOutcome = "unreachable"    // switched off, out of coverage
	OutcomeInvalidNumber AttemptOutcome = "invalid_number" // 404/484: no such number
)

// Valid reports whether o is one of the documented outcomes.
func (o AttemptOutcome) Valid() bool {
	switch o {
	case OutcomeNoAnswer, OutcomeBusy, OutcomeRejected, OutcomeUnreachable, OutcomeInvalidNumber:
		return true
	}
	return false
}

// RetryPolicy says when a lead whose call reached nobody is called again.
// DelaySeconds maps an outcome to the wait before the next attempt; an outcome
// that is not listed is never retried. After MaxAttempts attempts a lead is not
// called again automatically (a promised callback still is).
type RetryPolicy struct {
	MaxAttempts  int                      `json:"max_attempts"`
	DelaySeconds map[AttemptOutcome]int64 `json:"delay_seconds"`
}

// ResultFlag gives a result code a meaning the CRM acts on.
type ResultFlag string

// Result flags.
const (
	FlagSuccess  ResultFlag = "success"  // counts as a success in reports
	FlagCallback ResultFlag = "callback" // needs callback_at and callback_scope
	// FlagRefusedNeverCall: the customer refused; the number goes on the DNC list
	// for good (特定商取引法 第17条, no re-solicitation after a refusal).
	FlagRefusedNeverCall ResultFlag = "refused_never_call"
	FlagDNC              ResultFlag = "dnc"      // the number goes on the DNC list
	FlagEscalate         ResultFlag = "escalate" // needs escalate_to
)

// DispositionSchema is a campaign's wrap-up form: the result codes the operator
// picks from and the fields they fill in.
type DispositionSchema struct {
	Results []ResultCode `json:"results"`
	Fields  []FormField  `json:"fields"`
}

// Result returns the result code named code.
func (s DispositionSchema) Result(code string) (ResultCode, bool) {
	for _, r := range s.Results {
		if r.Code == code {
			return r, true
		}
	}
	return ResultCode{}, false
}

// ResultCode is one choice of the wrap-up form's result.
type ResultCode struct {
	Code    string       `json:"code"` // stable id, stored in the call history
	Label   string       `json:"label"`
	LabelJA string       `json:"label_ja"`
	Flags   []ResultFlag `json:"flags"`
}

// Has reports whether the result carries flag f.
func (r ResultCode) Has(f ResultFlag) bool { return slices.Contains(r.Flags, f) }

// FieldType is the kind of value a form field takes, and its JSON form.
type FieldType string

// Field types.
const (
	FieldText     FieldType = "text"     // a string
	FieldNumber   FieldType = "number"   // a JSON number
	FieldDate     FieldType = "date"     // "2025-06-20"
	FieldDateTime FieldType = "datetime" // RFC 3339
	FieldChoice   FieldType = "choice"   // one of Choices
	FieldBool     FieldType = "bool"     // true or false
)

// FormField is one field of the wrap-up form. When Codes is not empty the field
// belongs to those result codes only (the form shows it, and Required applies,
// only when one of them is picked).
type FormField struct {
	Name     string    `json:"name"`
	Label    string    `json:"label"`
	LabelJA  string    `json:"label_ja"`
	Type     FieldType `json:"type"`
	Required bool      `json:"required"`
	Choices  []string  `json:"choices,omitempty"`
	Codes    []string  `json:"codes,omitempty"`
}

// AppliesTo reports whether the field belongs to the form for result code.
func (f FormField) AppliesTo(code string) bool {
	return len(f.Codes) == 0 || slices.Contains(f.Codes, code)
}

// LeadStatus is where a lead is in its campaign.
type LeadStatus string

// Lead statuses.
const (
	LeadOpen     LeadStatus = "open"     // to be called (fresh, or waiting for its retry time)
	LeadCallback LeadStatus = "callback" // a callback was promised (callback_at)
	LeadDone     LeadStatus = "done"     // a final result was recorded
	LeadFailed   LeadStatus = "failed"   // attempts used up, or the number cannot be reached
	LeadBlocked  LeadStatus = "dnc"      // the number went on the DNC list
)

// CallbackScope says who should make a promised callback.
type CallbackScope string

// Callback scopes.
const (
	CallbackPersonal CallbackScope = "personal" // the operator who promised it
	CallbackTeam     CallbackScope = "team"     // anyone on the campaign
)

// Lead is one number to call in a campaign, with what the preview card shows.
// LeaseUntil is set on a lead handed out by NextLead: until then no colleague
// gets it.
type Lead struct {
	ID            string            `json:"id"`
	CampaignID    string            `json:"campaign_id"`
	Phone         string            `json:"phone"`                 // E.164
	CustomerID    string            `json:"customer_id,omitempty"` // "" when the number belongs to no customer
	Name          string            `json:"name"`                  // the customer's name, else the name on the list
	NameKana      string            `json:"name_kana"`
	Status        LeadStatus        `json:"status"`
	Attempts      int               `json:"attempts"`
	LastResult    string            `json:"last_result,omitempty"` // a result code or an AttemptOutcome
	LastAttemptAt *time.Time        `json:"last_attempt_at,omitempty"`
	NextAttemptAt *time.Time        `json:"next_attempt_at,omitempty"`
	CallbackAt    *time.Time        `json:"callback_at,omitempty"`
	CallbackScope CallbackScope     `json:"callback_scope,omitempty"`
	CallbackAgent string            `json:"callback_agent,omitempty"` // user who promised it
	TimeZone      string            `json:"time_zone,omitempty"`      // the lead's own zone, if not the campaign's
	Fields        map[string]string `json:"fields"`                   // the list's extra columns
	LeasedTo      string            `json:"leased_to,omitempty"`
	LeaseUntil    *time.Time        `json:"lease_until,omitempty"`
}

// ReleaseRequest is the body of POST /v1/leads/{id}/release: the operator skips
// the lead, which goes back to the pool for later.
type ReleaseRequest struct {
	Reason string `json:"reason"`
}

// AttemptRequest is the body of POST /v1/leads/{id}/attempts: a call that
// reached nobody. At is when the call was made (zero: now).
type AttemptRequest struct {
	Outcome AttemptOutcome `json:"outcome"`
	At      time.Time      `json:"at"`
}

// DNCKind says why a number is on the do-not-call list.
type DNCKind string

// DNC kinds.
const (
	DNCDoNotCall DNCKind = "dnc" // asked not to be called, wrong number, added by a supervisor
	// DNCRefusedNeverCall: refused further solicitation. Permanent by law
	// (特定商取引法 第17条): it cannot be removed.
	DNCRefusedNeverCall DNCKind = "refused_never_call"
)

// DNCEntry answers "may this number be called?". When DNC is false only Phone
// is set.
type DNCEntry struct {
	DNC        bool       `json:"dnc"`
	Phone      string     `json:"phone"` // E.164
	Kind       DNCKind    `json:"kind,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	CampaignID string     `json:"campaign_id,omitempty"` // the campaign whose disposition added it
	AddedBy    string     `json:"added_by,omitempty"`
	AddedAt    *time.Time `json:"added_at,omitempty"`
}

// DNCRequest is the body of POST /v1/dnc. Kind defaults to dnc.
type DNCRequest struct {
	Phone  string  `json:"phone"`
	Kind   DNCKind `json:"kind,omitempty"`
	Reason string  `json:"reason"`
}

// DispositionInput is the wrap-up of one call, the body of POST /v1/dispositions
// (sent with an Idempotency-Key, normally through the outbox). LeadID is empty
// for inbound calls; Phone is empty when the caller withheld their number.
type DispositionInput struct {
	CampaignID      string         `json:"campaign_id"`
	LeadID          string         `json:"lead_id,omitempty"`
	CustomerID      string         `json:"customer_id,omitempty"`
	Phone           string         `json:"phone,omitempty"`
	CallID          string         `json:"call_id,omitempty"`   // SIP Call-ID, to find the recording
	Direction       Direction      `json:"direction,omitempty"` // default: the campaign's
	StartedAt       time.Time      `json:"started_at"`
	DurationSeconds int            `json:"duration_seconds"`
	Code            string         `json:"code"`
	Fields          map[string]any `json:"fields,omitempty"`
	Notes           string         `json:"notes,omitempty"`
	CallbackAt      *time.Time     `json:"callback_at,omitempty"`
	CallbackScope   CallbackScope  `json:"callback_scope,omitempty"`
	EscalateTo      string         `json:"escalate_to,omitempty"`
}

// Disposition is a stored wrap-up, the answer of POST /v1/dispositions.
// CallEntryID is the row it added to the customer's call history, if a customer
// was known; DNCAdded says the number went on the DNC list.
type Disposition struct {
	ID              string         `json:"id"`
	CampaignID      string         `json:"campaign_id"`
	LeadID          string         `json:"lead_id,omitempty"`
	CustomerID      string         `json:"customer_id,omitempty"`
	CallEntryID     string         `json:"call_entry_id,omitempty"`
	Phone           string         `json:"phone,omitempty"`
	CallID          string         `json:"call_id,omitempty"`
	Direction       Direction      `json:"direction"`
	Agent           string         `json:"agent"`
	StartedAt       time.Time      `json:"started_at"`
	DurationSeconds int            `json:"duration_seconds"`
	Code            string         `json:"code"`
	Fields          map[string]any `json:"fields"`
	Notes           string         `json:"notes"`
	CallbackAt      *time.Time     `json:"callback_at,omitempty"`
	CallbackScope   CallbackScope  `json:"callback_scope,omitempty"`
	EscalateTo      string         `json:"escalate_to,omitempty"`
	DNCAdded        bool           `json:"dnc_added"`
	CreatedAt       time.Time      `json:"created_at"`
}

// Callback is a promised call back, not yet made. Missed means it was due more
// than 15 minutes ago.
type Callback struct {
	LeadID     string        `json:"lead_id"`
	CampaignID string        `json:"campaign_id"`
	Phone      string        `json:"phone"`
	CustomerID string        `json:"customer_id,omitempty"`
	Name       string        `json:"name"`
	Agent      string        `json:"agent"` // who promised it
	Scope      CallbackScope `json:"scope"`
	DueAt      time.Time     `json:"due_at"`
	Missed     bool          `json:"missed"`
	LastResult string        `json:"last_result"`
}

// List envelopes of the campaign part.
type (
	// CampaignList is the answer of GET /v1/campaigns.
	CampaignList struct {
		Campaigns []Campaign `json:"campaigns"`
	}
	// CallbackList is the answer of GET /v1/callbacks.
	CallbackList struct {
		Callbacks []Callback `json:"callbacks"`
	}
)
