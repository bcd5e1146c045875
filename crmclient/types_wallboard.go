package crmclient

import "time"

// Wallboard is the answer of GET /v1/wallboard: a supervisor's figures of one
// day, computed by the CRM from what it stored that day (agent states, call
// events, dispositions, counters, callbacks), so every wallboard shows the same
// numbers and a restarted one loses nothing.
//
// The day runs from midnight to midnight in the CRM's time zone (TimeZone). Time
// figures are clipped to the day and to GeneratedAt; a call counts on the day it
// started (its talk time whole, even past midnight). Events are kept 7 days, so
// an older day shows only dispositions and counters. Every rate is 0 when its
// divisor is 0.
//
// Calls are the desktops' announcements (POST /v1/me/calls), timed by the
// desktop's clock: a call is answered when it started, and offered when it
// started or was missed. A call is counted once by its SIP Call-ID however many
// desktops it rang (a call one operator let ring out and another answered is one
// offered, answered call). Only agents' events count; supervisors' do not.
type Wallboard struct {
	Day         string    `json:"day"`          // "2025-06-18"
	TimeZone    string    `json:"time_zone"`    // "Asia/Tokyo"
	GeneratedAt time.Time `json:"generated_at"` // the CRM's clock when it computed this
	// Agents are every user with the agent role (not supervisors), by name.
	Agents []AgentFigures `json:"agents"`
	Team   TeamFigures    `json:"team"`
	// Intervals cover the day from the interval holding its first event to
	// GeneratedAt (the day's end for a past day), oldest first; empty when the
	// day has no event.
	Intervals []IntervalCount `json:"intervals"`
}

// AgentFigures are one operator's figures on the wallboard's day.
type AgentFigures struct {
	Agent       string     `json:"agent"`
	DisplayName string     `json:"display_name"`
	State       AgentState `json:"state"` // now, whatever the day
	// Call is the call in progress: announced started and not yet ended (only
	// when the day is today). A call the desktop never announced ended stops
	// being in progress when its operator goes not_ready "offline".
	Call *CallEvent `json:"call,omitempty"`
	// Handled: calls answered (inbound) or connected (outbound) that started on
	// the day.
	Handled int `json:"handled"`
	// TalkSeconds: from start to end of those calls, hold included; a call not
	// yet ended counts until now.
	TalkSeconds int `json:"talk_seconds"`
	// ACWSeconds: time in the acw state (after-call work).
	ACWSeconds int `json:"acw_seconds"`
	// AHTSeconds, the average handle time: (talk + acw) ÷ handled, rounded.
	AHTSeconds int `json:"aht_seconds"`
	// Conversions: dispositions of calls started on the day whose result has
	// the success flag.
	Conversions int `json:"conversions"`
	// Dialed and Connected are the operator's counters (PUT /v1/me/counters)
	// of the day, summed over campaigns.
	Dialed    int `json:"dialed"`
	Connected int `json:"connected"`
	// StaffedSeconds: time logged in, i.e. in ready, on_call, acw, or
	// not_ready with any reason but "offline".
	StaffedSeconds int `json:"staffed_seconds"`
	// MissedCallbacks: the operator's personal callbacks, due by the day's end,
	// still not made now and more than 15 minutes late.
	MissedCallbacks int `json:"missed_callbacks"`
}

// TeamFigures are the whole floor's figures on the wallboard's day: the sums
// and rates over Wallboard.Agents.
type TeamFigures struct {
	// Offered: inbound calls that started or were missed. Answered: those
	// that started. Abandoned: those missed with the caller hanging up while
	// it rang, and never answered.
	Offered   int `json:"offered"`
	Answered  int `json:"answered"`
	Abandoned int `json:"abandoned"`
	// Handled: the agents' Handled summed (both directions; a call two
	// operators handled counts twice).
	Handled int `json:"handled"`
	// AnswerRate: answered ÷ offered. AbandonRate: abandoned ÷ offered.
	AnswerRate  float64 `json:"answer_rate"`
	AbandonRate float64 `json:"abandon_rate"`
	// AHTSeconds: (talk + acw) ÷ handled over the whole team, rounded.
	AHTSeconds int `json:"aht_seconds"`
	// Occupancy: (talk + acw) ÷ time in ready, on_call and acw; at most 1.
	Occupancy float64 `json:"occupancy"`
	// CallsPerHour: handled ÷ staffed hours.
	CallsPerHour float64 `json:"calls_per_hour"`
	// ContactRate: connected ÷ dialed, from the counters.
	ContactRate float64 `json:"contact_rate"`
	// Conversion: conversions ÷ handled.
	Conversion float64 `json:"conversion"`
	// MissedCallbacks: every callback, personal or team, due by the day's end,
	// still not made now and more than 15 minutes late.
	MissedCallbacks int `json:"missed_callbacks"`
}

// IntervalCount is one interval of the wallboard's day: inbound calls offered
// (counted in the interval the call first rang or started) and calls handled
// (counted in the interval they started) in [Start, Start + interval).
type IntervalCount struct {
	Start   time.Time `json:"start"`
	Offered int       `json:"offered"`
	Handled int       `json:"handled"`
}
