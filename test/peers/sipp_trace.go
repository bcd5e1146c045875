package peers

import (
	"os"
	"strings"
	"time"
)

// SippMessage is one SIP message from sipp's -trace_msg log.
type SippMessage struct {
	// Received is true for a message sipp received, false for one it sent.
	Received bool
	// Text is the message as on the wire, lines joined with "\n".
	Text string
	// At is when sipp logged it (its time stamp, read in local time: sipp
	// writes the machine's local clock); zero if the stamp is unreadable.
	At time.Time
}

// sippStamp is the layout of the time stamp after the line of dashes.
const sippStamp = "2006-01-02 15:04:05.000000"

// StartLine is the message's first line ("INVITE sip:... SIP/2.0",
// "SIP/2.0 200 OK").
func (m SippMessage) StartLine() string {
	line, _, _ := strings.Cut(m.Text, "\n")
	return line
}

// Method is the request's method, "" for a response.
func (m SippMessage) Method() string {
	method, _, _ := strings.Cut(m.StartLine(), " ")
	if strings.HasPrefix(method, "SIP/") {
		return ""
	}
	return method
}

// RequestUser is the user part of a request's Request-URI (the number
// dialed: "0312345678" from "INVITE sip:0312345678@host SIP/2.0"), "" for a
// response or a URI without one.
func (m SippMessage) RequestUser() string {
	f := strings.Fields(m.StartLine())
	if m.Method() == "" || len(f) < 2 {
		return ""
	}
	_, uri, _ := strings.Cut(f[1], ":")
	user, _, ok := strings.Cut(uri, "@")
	if !ok {
		return ""
	}
	return user
}

// sipCompact maps the compact header forms (RFC 3261 §7.3.3) to full names.
var sipCompact = map[string]string{
	"f": "from", "t": "to", "i": "call-id", "m": "contact", "v": "via",
	"l": "content-length", "c": "content-type", "k": "supported",
}

// Header returns the value of the first header called name (any case,
// compact forms too), "" when there is none.
func (m SippMessage) Header(name string) string {
	name = strings.ToLower(name)
	_, rest, _ := strings.Cut(m.Text, "\n")
	for _, line := range strings.Split(rest, "\n") {
		if line == "" {
			break // the body starts
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if full, ok := sipCompact[k]; ok {
			k = full
		}
		if k == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Messages parses the message trace (-trace_msg) so far, in order. sipp
// writes each message as it sends or receives it, so the trace of a call
// that has ended on both sides is complete while sipp runs on.
func (s *Sipp) Messages() []SippMessage {
	b, err := os.ReadFile(s.MessageLog())
	if err != nil {
		return nil
	}
	return parseSippTrace(string(b))
}

// parseSippTrace splits a -trace_msg log. Each message is a line of dashes
// and a time stamp, a line "UDP message received [N] bytes :" or "UDP
// message sent (N bytes):", an empty line and the message.
func parseSippTrace(log string) []SippMessage {
	var out []SippMessage
	var cur *SippMessage
	var text []string
	flush := func() {
		if cur != nil {
			cur.Text = strings.TrimRight(strings.Join(text, "\n"), "\n")
			out = append(out, *cur)
		}
		cur, text = nil, nil
	}
	lines := strings.Split(strings.ReplaceAll(log, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.HasPrefix(line, "----------") && i+2 < len(lines) && strings.Contains(lines[i+1], " message ") && lines[i+2] == "" {
			flush()
			cur = &SippMessage{Received: strings.Contains(lines[i+1], " received ")}
			stamp := strings.TrimSpace(strings.TrimLeft(line, "-"))
			if at, err := time.ParseInLocation(sippStamp, stamp, time.Local); err == nil {
				cur.At = at
			}
			i += 2
			continue
		}
		if cur != nil {
			text = append(text, line)
		}
	}
	flush()
	return out
}

// ReceivedRequests returns the requests of method (INVITE, BYE...) sipp
// received, in order, retransmissions included.
func (s *Sipp) ReceivedRequests(method string) []SippMessage {
	var out []SippMessage
	for _, m := range s.Messages() {
		if m.Received && m.Method() == method {
			out = append(out, m)
		}
	}
	return out
}
