package peers

import (
	"testing"
	"time"
)

// TestParseSippTrace reads a -trace_msg log as sipp 3.6 writes it.
func TestParseSippTrace(t *testing.T) {
	dashes := "----------------------------------------------- 2026-12-05 07:24:41.725480\n"
	log := dashes + "UDP message received [514] bytes :\n\n" +
		"INVITE sip:+81312345678@127.0.0.1:5060 SIP/2.0\r\n" +
		"f: <sip:+81345670000@127.0.0.1>;tag=a\r\n" +
		"P-Asserted-Identity: <sip:+81345670000@127.0.0.1;user=phone>\r\n" +
		"Content-Length: 10\r\n\r\nv=0\r\nx: y\r\n\n" +
		dashes + "UDP message sent (313 bytes):\n\n" +
		"SIP/2.0 180 Ringing\r\nFrom: <sip:a@b>;tag=a\r\n\r\n\n"
	ms := parseSippTrace(log)
	if len(ms) != 2 {
		t.Fatalf("%d messages: %+v", len(ms), ms)
	}
	inv, ring := ms[0], ms[1]
	if !inv.Received || inv.Method() != "INVITE" || inv.RequestUser() != "+81312345678" {
		t.Errorf("INVITE: received %v method %q user %q", inv.Received, inv.Method(), inv.RequestUser())
	}
	if got := inv.Header("from"); got != "<sip:+81345670000@127.0.0.1>;tag=a" {
		t.Errorf("From (compact f:) = %q", got)
	}
	if got := inv.Header("P-Asserted-Identity"); got != "<sip:+81345670000@127.0.0.1;user=phone>" {
		t.Errorf("P-Asserted-Identity = %q", got)
	}
	if got := inv.Header("x"); got != "" {
		t.Errorf("a body line read as header x: %q", got)
	}
	if ring.Received || ring.Method() != "" || ring.RequestUser() != "" || ring.StartLine() != "SIP/2.0 180 Ringing" {
		t.Errorf("180: %+v", ring)
	}
	if want := time.Date(2026, 12, 5, 7, 24, 41, 725480000, time.Local); !inv.At.Equal(want) {
		t.Errorf("time stamp %v, want %v", inv.At, want)
	}
}
