package ctl

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/opdesk/opdesk/sip"
)

// A status or event line printed on a terminal carries no raw control or
// bidi character, whatever the caller put in its name, and still decodes to
// the same values.
func TestEncodeEscapesControls(t *testing.T) {
	name := "\x1b]0;pwned\x07\x1b[2J山田\u202e\u009b5n\u2066x\x7f\U000e0041"
	line := encode(sip.Event{Type: sip.EvIncoming, RemoteName: name, Remote: "sip:\u0085@pbx"})
	for _, r := range string(line[:len(line)-1]) {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || unicode.Is(unicode.Cf, r) {
			t.Fatalf("%U left raw in %q", r, line)
		}
	}
	var ev sip.Event
	if err := json.Unmarshal(line, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.RemoteName != name || ev.Remote != "sip:\u0085@pbx" {
		t.Fatalf("decoded %q %q", ev.RemoteName, ev.Remote)
	}
	if !strings.Contains(string(line), `山田\u202e\u009b5n\u2066x\u007f\udb40\udc41`) {
		t.Errorf("line %s", line)
	}
	if got := string(escapeControls([]byte(`{"ok":true}`))); got != `{"ok":true}` {
		t.Errorf("plain line changed: %s", got)
	}
}
