package sip

import (
	"sync"
	"sync/atomic"
	"time"
)

// EventType names what happened. The names are the ones printed by
// `opdesk ctl events`, so they are part of the documented protocol.
type EventType string

// Event types.
const (
	EvRegistered         EventType = "registered"
	EvUnregistered       EventType = "unregistered"
	EvRegistrationFailed EventType = "registration_failed"
	EvIncoming           EventType = "incoming"
	EvDialing            EventType = "dialing"
	EvRinging            EventType = "ringing"
	EvEarlyMedia         EventType = "early_media"
	EvAnswered           EventType = "answered"
	EvHeld               EventType = "held"
	EvResumed            EventType = "resumed"
	EvRemoteHeld         EventType = "remote_held"
	EvRemoteResumed      EventType = "remote_resumed"
	EvDTMF               EventType = "dtmf"
	EvTransferring       EventType = "transferring"
	EvTransferred        EventType = "transferred"
	EvTransferFailed     EventType = "transfer_failed"
	EvReferred           EventType = "referred"
	EvMuted              EventType = "muted"
	EvUnmuted            EventType = "unmuted"
	EvEnded              EventType = "ended"
	EvWarning            EventType = "warning"

	// Monitor sessions (monitor.go), on the agent's phone. CallID is the
	// monitored call's id, Target the session's, Text the supervisor,
	// Remote the supervisor's URI.
	EvMonitorStarted EventType = "monitor_started" // Cause: the mode
	EvMonitorMode    EventType = "monitor_mode"    // Cause: the new mode
	EvMonitorEnded   EventType = "monitor_ended"   // Cause: who ended it or why (supervisor_left, call_ended, local_hangup, shutdown)
	// EvMonitorRefused: a monitor INVITE or grant INFO was refused.
	// Remote: its From; Code: the response; Text: the reason in words, for
	// the log (the desktop does not disturb the operator with it).
	EvMonitorRefused EventType = "monitor_refused"
)

// Event is one thing that happened, as a plain value.
type Event struct {
	Type   EventType `json:"event"`
	Time   time.Time `json:"time"`
	CallID string    `json:"call,omitempty"`
	// SIPCallID is the call's SIP Call-ID (on call events, and on monitor
	// events the monitored call's): what a monitor grant names.
	SIPCallID string `json:"sip_call_id,omitempty"`
	// Remote is the other party's URI; RemoteName its display name, stripped
	// of control characters.
	Remote     string `json:"remote,omitempty"`
	RemoteName string `json:"remote_name,omitempty"`
	Direction  string `json:"direction,omitempty"`
	Digit      string `json:"digit,omitempty"`
	// Code is the SIP status code behind the event, when there is one.
	Code int `json:"code,omitempty"`
	// Cause is a short machine word ("busy", "no_answer", "remote_hangup").
	Cause string `json:"cause,omitempty"`
	// Text says what happened in words an operator understands.
	Text string `json:"text,omitempty"`
	// Target is the transfer target or a related call id.
	Target string `json:"target,omitempty"`
	// Rang, on the ended event of an outbound call, says the far end was
	// alerted: a 180 Ringing or 183 Session Progress came before the final
	// response. With cause no_answer, busy, unavailable or cancelled it
	// tells "rang and nobody answered" from "never rang" (an unreachable
	// phone, a number that rejects at once). Use it rather than looking for
	// EvRinging or EvEarlyMedia before EvEnded: a slow subscriber loses
	// events, and sipgo may deliver a 180 after the final response that
	// followed it and then drop it, so no EvRinging is published; Rang is
	// taken from the wire and holds either way.
	Rang bool `json:"rang,omitempty"`
}

// hub fans events out to subscribers without ever blocking the sender.
type hub struct {
	mu      sync.Mutex
	subs    map[int]chan Event
	next    int
	dropped atomic.Uint64
}

func newHub() *hub { return &hub{subs: map[int]chan Event{}} }

func (h *hub) publish(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range h.subs {
		select {
		case ch <- ev:
		default:
			h.dropped.Add(1)
		}
	}
}

func (h *hub) subscribe(buf int) (<-chan Event, func()) {
	if buf <= 0 {
		buf = 64
	}
	ch := make(chan Event, buf)
	h.mu.Lock()
	id := h.next
	h.next++
	h.subs[id] = ch
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if _, ok := h.subs[id]; ok {
				delete(h.subs, id)
				close(ch)
			}
		})
	}
}

// closeAll ends every subscription (the phone is closing).
func (h *hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, ch := range h.subs {
		delete(h.subs, id)
		close(ch)
	}
}
