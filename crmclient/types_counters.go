package crmclient

import "time"

// AgentCounters are one operator's figures in one campaign on one day (the
// day in the campaign's calling-window time zone). The desktop keeps them and
// sends the whole row (PUT /v1/me/counters) after each call; the values are
// absolute totals for the day, not increments, so a repeat or a retry through
// a flaky network is harmless. Supervisors read everyone's (GET /v1/counters)
// and follow changes on the event stream (EventCounters).
//
// Rates are derived by readers, never stored: the contact rate is
// Connected ÷ Dialed, the conversion rate Conversions ÷ Connected (both
// undefined, shown as "–", when the divisor is 0).
type AgentCounters struct {
	Agent       string    `json:"agent"` // set by the server: the caller
	CampaignID  string    `json:"campaign_id"`
	Day         string    `json:"day"`       // "2025-06-18"
	Dialed      int       `json:"dialed"`    // call attempts made
	Connected   int       `json:"connected"` // answered by a person
	TalkSeconds int       `json:"talk_seconds"`
	Conversions int       `json:"conversions"` // results with the success flag
	UpdatedAt   time.Time `json:"updated_at"`  // set by the server: when the figures last changed
}

// CountersList is the answer of GET /v1/counters.
type CountersList struct {
	Counters []AgentCounters `json:"counters"`
}
