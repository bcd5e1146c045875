package sip

import (
	"fmt"
	"time"
)

// CallState is where a call is in its life. States only move forward, except
// Active ⇄ Held.
type CallState int

// Call states.
const (
	StateDialing  CallState = iota // outbound INVITE sent, nothing heard yet
	StateIncoming                  // inbound INVITE ringing here
	StateRinging                   // outbound: the far end is ringing (180)
	StateEarly                     // outbound: early media (183 with SDP)
	StateActive                    // answered, audio both ways
	StateHeld                      // on hold (by us)
	StateEnded
)

func (s CallState) String() string {
	switch s {
	case StateDialing:
		return "dialing"
	case StateIncoming:
		return "incoming"
	case StateRinging:
		return "ringing"
	case StateEarly:
		return "early"
	case StateActive:
		return "active"
	case StateHeld:
		return "held"
	case StateEnded:
		return "ended"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// established reports whether the call has been answered and not ended.
func (s CallState) established() bool { return s == StateActive || s == StateHeld }

// Direction of a call.
type Direction int

// Directions.
const (
	Outbound Direction = iota
	Inbound
)

func (d Direction) String() string {
	if d == Inbound {
		return "inbound"
	}
	return "outbound"
}

// CallInfo is a snapshot of one call, as a plain value.
type CallInfo struct {
	ID          string        `json:"id"`
	SIPCallID   string        `json:"sip_call_id,omitempty"`
	State       string        `json:"state"`
	Direction   string        `json:"direction"`
	Remote      string        `json:"remote"`
	RemoteName  string        `json:"remote_name,omitempty"`
	Codec       string        `json:"codec,omitempty"`
	SRTP        string        `json:"srtp,omitempty"` // the SRTP suite ("AEAD_AES_128_GCM"...), "" for plain RTP
	Duration    time.Duration `json:"-"`
	DurationSec float64       `json:"duration"`
	Held        bool          `json:"held,omitempty"`
	RemoteHeld  bool          `json:"remote_held,omitempty"`
	Muted       bool          `json:"muted,omitempty"`
	Media       *MediaInfo    `json:"media,omitempty"`
	// Recording is the file the call is being recorded to, "" when it is not.
	Recording string `json:"recording,omitempty"`
	// Monitor is set on a call a supervisor monitors, on the monitor
	// session itself (IsSession) and, on the supervisor's phone, on a call
	// placed with a grant once the agent's phone answered it (Mode only).
	Monitor *MonitorInfo `json:"monitor,omitempty"`
}

// MediaInfo is the RTP side of a call.
type MediaInfo struct {
	Local           string  `json:"local"`
	Remote          string  `json:"remote"`
	PacketsSent     uint64  `json:"packets_sent"`
	PacketsReceived uint64  `json:"packets_received"`
	Lost            int64   `json:"lost"`
	JitterMs        float64 `json:"jitter_ms"`
	// RTCP: reports sent and received, and what the other side reported
	// about our stream.
	RTCPSent           uint64  `json:"rtcp_sent"`
	RTCPReceived       uint64  `json:"rtcp_received"`
	RemoteLossFraction float64 `json:"remote_loss_fraction"`
	RemoteJitterMs     float64 `json:"remote_jitter_ms"`
	RTTMs              float64 `json:"rtt_ms,omitempty"`
	// SRTPAuthFailures counts packets dropped for failing SRTP
	// authentication (forged, altered, or plain RTP on an SRTP call).
	SRTPAuthFailures uint64 `json:"srtp_auth_failures,omitempty"`
	// LocalDirection and RemoteDirection are the SDP directions negotiated
	// last (sendrecv, sendonly, recvonly, inactive).
	LocalDirection  string `json:"local_direction,omitempty"`
	RemoteDirection string `json:"remote_direction,omitempty"`
}

// RegState is the registration state.
type RegState string

// Registration states.
const (
	RegNone         RegState = "none" // no registrar configured
	RegRegistering  RegState = "registering"
	RegRegistered   RegState = "registered"
	RegFailed       RegState = "failed"
	RegUnregistered RegState = "unregistered"
)

// Status is a snapshot of the phone.
type Status struct {
	Registration RegState    `json:"registration"`
	Registrar    string      `json:"registrar,omitempty"`
	AOR          string      `json:"aor"`
	Contact      string      `json:"contact"`
	Expires      int         `json:"expires,omitempty"`
	LastError    string      `json:"last_error,omitempty"`
	Muted        bool        `json:"muted"`
	Calls        []CallInfo  `json:"calls"`
	Audio        AudioStatus `json:"audio"`
}
