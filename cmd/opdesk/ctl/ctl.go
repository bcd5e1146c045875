// Package ctl is opdesk's control socket: a Unix socket over which
// `opdesk ctl …`, scripts and CRM click-to-call drive a running opdesk.
//
// The protocol is one JSON object per line. A client sends one request
//
//	{"cmd":"dial","args":["0312345678"]}
//
// and reads one reply
//
//	{"ok":true,"call":"1"}            or   {"ok":false,"error":"no such call"}
//
// except for "events", which is answered with {"ok":true} and then one
// event object per line until the client closes the connection. "status"
// replies {"ok":true,"status":{…}}. Commands: status, dial TARGET,
// answer [ID], hangup [ID], hold [ID], resume [ID], mute, unmute,
// dtmf DIGITS [ID], transfer TARGET [ID], transfer --attended ID1 ID2, events.
package ctl

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/opdesk/opdesk/sip"
)

// Phone is what the control socket drives (sip.Phone satisfies it).
type Phone interface {
	Status() sip.Status
	Dial(ctx context.Context, target string) (string, error)
	Answer(id string) (string, error)
	Hangup(id string) (string, error)
	Hold(id string) (string, error)
	Resume(id string) (string, error)
	SetMuted(bool)
	SendDTMF(id, digits string) (string, error)
	Transfer(id, target string) (string, error)
	AttendedTransfer(id, with string) (string, error)
	Record(id string, on bool) (string, error)
	Subscribe(buf int) (<-chan sip.Event, func())
}

// AudioSwitcher is implemented by a Phone whose sound card can be changed
// while it runs ("device INPUT [OUTPUT]").
type AudioSwitcher interface {
	SwitchAudio(input, output string) error
}

// Request is one command.
type Request struct {
	Cmd  string   `json:"cmd"`
	Args []string `json:"args,omitempty"`
}

// Reply answers a request.
type Reply struct {
	OK     bool        `json:"ok"`
	Error  string      `json:"error,omitempty"`
	Call   string      `json:"call,omitempty"`
	Status *sip.Status `json:"status,omitempty"`
}

// Sentinel errors.
var (
	ErrUsage      = errors.New("usage")
	ErrNotRunning = errors.New("opdesk is not running (no control socket)")
	ErrProtocol   = errors.New("bad reply from opdesk")
)

// maxLine bounds one request line; anything longer is refused.
const maxLine = 64 << 10

func encode(v any) []byte {
	b, _ := json.Marshal(v)
	return append(b, '\n')
}
