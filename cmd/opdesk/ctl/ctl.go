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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

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
	return append(escapeControls(b), '\n')
}

// escapeControls writes the control and format characters that JSON leaves
// as they are — DEL, the C1 controls (U+0085, U+009B: CSI to many
// terminals), bidi overrides and isolates and other Unicode format
// characters — as \uXXXX escapes. The JSON means the same to a script, and
// `opdesk ctl status` printed on a terminal cannot be made to rewrite it by
// a caller's display name. Such characters only ever occur inside strings.
func escapeControls(b []byte) []byte {
	if bytes.IndexFunc(b, needsEscape) < 0 {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for len(b) > 0 {
		i := bytes.IndexFunc(b, needsEscape)
		if i < 0 {
			return append(out, b...)
		}
		r, n := utf8.DecodeRune(b[i:])
		out = append(out, b[:i]...)
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		b = b[i+n:]
	}
	return out
}

func needsEscape(r rune) bool {
	return r == 0x7f || (r >= 0x80 && r <= 0x9f) || unicode.Is(unicode.Cf, r)
}
