package crmclient

import (
	"encoding/json"
	"fmt"
	"time"
)

// EventKind names a message on the supervisors' event stream (GET /v1/events); it
// is the SSE "event:" field.
type EventKind string

// Event kinds. Every kind but EventReady is stored on the server, carries an id and
// is delivered again after a reconnect that resumes from an earlier id.
const (
	// EventReady is the first message of every connection, without an id: the
	// stream now delivers every event after StreamReady.After. A wallboard reads
	// GET /v1/agents after it and applies the later agent_state events over that
	// list; each carries the whole state, so one the list already shows is
	// harmless.
	EventReady EventKind = "ready"
	// EventAgentState carries an AgentState: an agent changed state.
	EventAgentState EventKind = "agent_state"
	// EventCallStarted and EventCallEnded carry a CallEvent, as the agent's
	// desktop announced it with POST /v1/me/calls.
	EventCallStarted EventKind = "call_started"
	EventCallEnded   EventKind = "call_ended"
	// EventCallMissed carries a CallEvent: a call rang at the agent's desktop
	// and was not answered (CallEvent.Abandoned: the caller hung up while it
	// rang).
	EventCallMissed EventKind = "call_missed"
	// EventMonitorGranted carries a MonitorGranted: a supervisor obtained a grant
	// to listen to, whisper to or barge into an agent's call (an audit trail of
	// who listened to whom).
	EventMonitorGranted EventKind = "monitor_granted"
	// EventCounters carries an AgentCounters: an operator's figures in a
	// campaign changed (PUT /v1/me/counters). Each carries the whole row for
	// its agent, campaign and day, so a wallboard replaces what it shows.
	EventCounters EventKind = "counters"
)

// Event is one message of the event stream. ID grows with every stored event and is
// what a reconnect resumes after (0 for EventReady). Data is the JSON of the kind's
// payload; decode it with the method named after the kind.
type Event struct {
	ID   int64
	Kind EventKind
	Data json.RawMessage
}

// StreamReady is the data of EventReady.
type StreamReady struct {
	After int64 `json:"after"` // the stream delivers events with ids above this
	// HeartbeatMS is how often the server writes a comment line when there is no
	// event; a client gives the connection up after three of them in silence.
	HeartbeatMS int64 `json:"heartbeat_ms"`
}

// Ready decodes the data of an EventReady.
func (e Event) Ready() (StreamReady, error) {
	var v StreamReady
	return v, e.decode(EventReady, &v)
}

// AgentState decodes the data of an EventAgentState.
func (e Event) AgentState() (AgentState, error) {
	var v AgentState
	return v, e.decode(EventAgentState, &v)
}

// Call decodes the data of an EventCallStarted, EventCallEnded or
// EventCallMissed.
func (e Event) Call() (CallEvent, error) {
	var v CallEvent
	switch e.Kind {
	case EventCallEnded, EventCallMissed:
		return v, e.decode(e.Kind, &v)
	}
	return v, e.decode(EventCallStarted, &v)
}

// MonitorGranted decodes the data of an EventMonitorGranted.
func (e Event) MonitorGranted() (MonitorGranted, error) {
	var v MonitorGranted
	return v, e.decode(EventMonitorGranted, &v)
}

// Counters decodes the data of an EventCounters.
func (e Event) Counters() (AgentCounters, error) {
	var v AgentCounters
	return v, e.decode(EventCounters, &v)
}

func (e Event) decode(want EventKind, dst any) error {
	if e.Kind != want {
		return fmt.Errorf("event %d is %s, not %s", e.ID, e.Kind, want)
	}
	if err := json.Unmarshal(e.Data, dst); err != nil {
		return fmt.Errorf("%w: event %d (%s): %v", ErrBadResponse, e.ID, e.Kind, err)
	}
	return nil
}

// CallPhase says which end of a call a desktop announces, or that it rang
// unanswered.
type CallPhase string

// Call phases.
const (
	CallStarted CallPhase = "started" // answered or connected (not ringing)
	CallEnded   CallPhase = "ended"
	// CallMissed: the call rang and was not answered. With Abandoned the
	// caller hung up while it rang; without, the operator declined it or it
	// rang out (the PBX then offers it elsewhere). The wallboard's answer and
	// abandon rates count these.
	CallMissed CallPhase = "missed"
)

// CallEventRequest is the body of POST /v1/me/calls: the desktop announces that one
// of its calls started, ended or was missed, so that supervisors see it live. CallID
// is the SIP Call-ID, which is also what monitor grants and recordings name the call
// by. Number is E.164 when the desktop could normalise it, else as received
// ("anonymous", an extension). At is when it happened on the desktop; the zero time
// means "now" on the server. Abandoned is only for CallMissed: true when the caller
// hung up while it rang, false when it was declined or rang out.
type CallEventRequest struct {
	Event      CallPhase `json:"event"`
	CallID     string    `json:"call_id"`
	Direction  Direction `json:"direction"`
	Number     string    `json:"number"`
	CustomerID string    `json:"customer_id,omitempty"`
	CampaignID string    `json:"campaign_id,omitempty"`
	At         time.Time `json:"at"`
	Abandoned  bool      `json:"abandoned,omitempty"`
}

// CallEvent is the data of EventCallStarted, EventCallEnded and EventCallMissed.
// Abandoned is set only on a missed call whose caller hung up while it rang.
type CallEvent struct {
	Agent      string    `json:"agent"`
	CallID     string    `json:"call_id"`
	Direction  Direction `json:"direction"`
	Number     string    `json:"number"`
	CustomerID string    `json:"customer_id,omitempty"`
	CampaignID string    `json:"campaign_id,omitempty"`
	At         time.Time `json:"at"`
	Abandoned  bool      `json:"abandoned,omitempty"`
}

// CallEventAck is the answer of POST /v1/me/calls. The same phase of the same call
// announced twice (a retry) is stored once: the second answer has Duplicate set and
// the first one's EventID.
type CallEventAck struct {
	EventID   int64 `json:"event_id"`
	Duplicate bool  `json:"duplicate"`
}

// MonitorMode is what a supervisor does on an agent's call.
type MonitorMode string

// Monitor modes.
const (
	MonitorListen  MonitorMode = "listen"  // hear both parties; nobody hears the supervisor
	MonitorWhisper MonitorMode = "whisper" // the agent hears the supervisor, the customer does not
	MonitorBarge   MonitorMode = "barge"   // everybody hears everybody
)

// Valid reports whether m is one of the documented modes.
func (m MonitorMode) Valid() bool {
	return m == MonitorListen || m == MonitorWhisper || m == MonitorBarge
}

// MonitorKey is the answer of GET /v1/monitor/key: the public half of the key the
// CRM signs monitor grants with. PublicKey is standard base64 of the 32-byte
// Ed25519 key; KeyID is MonitorKeyID of it.
type MonitorKey struct {
	PublicKey string `json:"public_key"`
	KeyID     string `json:"key_id"`
}

// GrantRequest is the body of POST /v1/monitor/grants.
type GrantRequest struct {
	Agent  string      `json:"agent"`
	CallID string      `json:"call_id"`
	Mode   MonitorMode `json:"mode"`
}

// Grant is the answer of POST /v1/monitor/grants: a compact signed token (see
// GrantClaims and VerifyGrant) that the supervisor's desktop puts in its monitor
// INVITE to the agent's desktop, and when it stops being accepted.
type Grant struct {
	Grant     string    `json:"grant"`
	ExpiresAt time.Time `json:"expires_at"`
}

// GrantClaims is what a grant says. IssuedAt and ExpiresAt are Unix seconds, at
// most MaxGrantTTL apart. ID is 128 random bits (base64url) for replay detection.
type GrantClaims struct {
	ID         string      `json:"id"`
	KeyID      string      `json:"key_id"`
	Supervisor string      `json:"supervisor"`
	Agent      string      `json:"agent"`
	CallID     string      `json:"call_id"`
	Mode       MonitorMode `json:"mode"`
	IssuedAt   int64       `json:"iat"`
	ExpiresAt  int64       `json:"exp"`
}

// MonitorGranted is the data of EventMonitorGranted. It names the grant by its id;
// the token itself is never put on the stream.
type MonitorGranted struct {
	GrantID    string      `json:"grant_id"`
	Supervisor string      `json:"supervisor"`
	Agent      string      `json:"agent"`
	CallID     string      `json:"call_id"`
	Mode       MonitorMode `json:"mode"`
	ExpiresAt  time.Time   `json:"expires_at"`
}

// MaxRecordingBytes is the largest call recording the CRM accepts (200 MiB: over
// three hours of 8 kHz 16-bit mono WAV).
const MaxRecordingBytes = 200 << 20

// Recording is one uploaded call recording. SHA256 is the hex digest of the file,
// so a reviewer can show the audio was not altered after the call.
type Recording struct {
	ID         string    `json:"id"`
	CallID     string    `json:"call_id"`
	CustomerID string    `json:"customer_id,omitempty"`
	Agent      string    `json:"agent"`
	Bytes      int64     `json:"bytes"`
	SHA256     string    `json:"sha256"`
	CreatedAt  time.Time `json:"created_at"`
}

// RecordingList is the answer of GET /v1/recordings.
type RecordingList struct {
	Recordings []Recording `json:"recordings"`
}

// RecordingItem is the Body of an outbox item of kind recording: which file to
// upload for which call. The file must stay until the item is sent.
type RecordingItem struct {
	Path       string `json:"path"`
	CallID     string `json:"call_id"`
	CustomerID string `json:"customer_id,omitempty"`
}
