package sip

import (
	"strings"
	"testing"

	gsip "github.com/emiago/sipgo/sip"
)

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"山田 太郎", "山田 太郎"},
		{"ﾔﾏﾀﾞ\tﾀﾛｳ", "ﾔﾏﾀﾞ ﾀﾛｳ"},
		{"evil\x1b[2J\x1b[Hname", "evilname"},
		{"title\x1b]0;pwned\x07 x", "title x"},
		{"osc-st\x1b]8;;http://x\x1b\\link", "osc-stlink"},
		{"csi8\u009b31mred", "csi8red"},
		{"bidi\u202eevil", "bidievil"},
		{"nul\x00bell\x07", "nulbell"},
		{"  padded  ", "padded"},
		{strings.Repeat("あ", 300), strings.Repeat("あ", 128)},
	}
	for _, tt := range tests {
		if got := Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCauseFromStatus(t *testing.T) {
	tests := []struct {
		code  int
		cause string
		words string
	}{
		{486, CauseBusy, "busy"},
		{603, CauseDeclined, "declined"},
		{404, CauseNotFound, "does not exist"},
		{480, CauseUnavailable, "not available"},
		{488, CauseNoCodec, "codec"},
		{407, CauseAuth, "password"},
		{503, CauseServerError, "out of service"},
		{502, CauseServerError, "502"},
		{420, CauseRejected, "420"},
	}
	for _, tt := range tests {
		cause, text := causeFromStatus(tt.code, "Reason")
		if cause != tt.cause || !strings.Contains(text, tt.words) {
			t.Errorf("%d → %q %q, want %q containing %q", tt.code, cause, text, tt.cause, tt.words)
		}
	}
}

func TestTargetURI(t *testing.T) {
	withReg := &Phone{cfg: Config{Domain: "pbx.example.com"}, domainPort: 5080}
	tests := []struct {
		p      *Phone
		target string
		want   string
		err    error
	}{
		{withReg, "03-1234-5678", "sip:0312345678@pbx.example.com:5080", nil},
		{withReg, "０９０（１２３４）５６７８", "sip:09012345678@pbx.example.com:5080", nil},
		{withReg, "０９０ー１２３４ー５６７８", "sip:09012345678@pbx.example.com:5080", nil},
		{withReg, "+81 3 1234 5678", "sip:+81312345678@pbx.example.com:5080", nil},
		{withReg, "bob", "sip:bob@pbx.example.com:5080", nil},
		{withReg, "tel:+81-3-1234-5678;phone-context=x", "sip:+81312345678@pbx.example.com:5080", nil},
		{withReg, "sip:carol@other.example.com:5070", "sip:carol@other.example.com:5070", nil},
		{withReg, "dave@example.org", "sip:dave@example.org", nil},
		{withReg, "   ", "", ErrBadTarget},
		{withReg, "bob<script>", "", ErrBadTarget},
		{&Phone{}, "0312345678", "", ErrNoRegistrar},
		{&Phone{}, "sip:bob@127.0.0.1:5070", "sip:bob@127.0.0.1:5070", nil},
	}
	for _, tt := range tests {
		u, err := tt.p.targetURI(tt.target)
		if tt.err != nil {
			if err == nil || !strings.Contains(err.Error(), tt.err.Error()) {
				t.Errorf("targetURI(%q) = %v, %v; want error %v", tt.target, u.String(), err, tt.err)
			}
			continue
		}
		if err != nil || u.String() != tt.want {
			t.Errorf("targetURI(%q) = %q, %v; want %q", tt.target, u.String(), err, tt.want)
		}
	}
}

func TestParseSipfrag(t *testing.T) {
	tests := []struct {
		body string
		code int
		ok   bool
	}{
		{"SIP/2.0 200 OK\r\n", 200, true},
		{"SIP/2.0 100 Trying", 100, true},
		{"SIP/2.0 486 Busy Here\r\nVia: x\r\n", 486, true},
		{"", 0, false},
		{"HTTP/1.1 200 OK", 0, false},
		{"SIP/2.0 abc", 0, false},
		{"SIP/2.0 999 Nope", 0, false},
	}
	for _, tt := range tests {
		code, _, ok := parseSipfrag([]byte(tt.body))
		if code != tt.code || ok != tt.ok {
			t.Errorf("parseSipfrag(%q) = %d %v, want %d %v", tt.body, code, ok, tt.code, tt.ok)
		}
	}
}

func TestCallerOf(t *testing.T) {
	req := gsip.NewRequest(gsip.INVITE, gsip.Uri{Scheme: "sip", User: "alice", Host: "pbx"})
	from := &gsip.FromHeader{DisplayName: "Trunk", Address: gsip.Uri{Scheme: "sip", User: "trunk", Host: "gw"}, Params: gsip.NewParams()}
	req.AppendHeader(from)
	u, name := callerOf(req)
	if u.User != "trunk" || name != "Trunk" {
		t.Fatalf("From only: %v %q", u.String(), name)
	}
	req.AppendHeader(gsip.NewHeader("P-Asserted-Identity", `"山田 花子" <sip:0312345678@pbx>`))
	u, name = callerOf(req)
	if u.User != "0312345678" || name != "山田 花子" {
		t.Fatalf("with PAI: %v %q", u.String(), name)
	}
}

func TestNormDigit(t *testing.T) {
	for in, want := range map[string]rune{"5": '5', "#": '#', "*": '*', "10": '*', "11": '#', "a": 'A', "D": 'D', "E": 0, "12": 0, "": 0} {
		if got := normDigit(in); got != want {
			t.Errorf("normDigit(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHubNeverBlocks(t *testing.T) {
	h := newHub()
	ch, cancel := h.subscribe(2)
	for i := 0; i < 10; i++ {
		h.publish(Event{Type: EvDTMF})
	}
	if len(ch) != 2 || h.dropped.Load() != 8 {
		t.Fatalf("buffered %d dropped %d, want 2 and 8", len(ch), h.dropped.Load())
	}
	cancel()
	cancel() // idempotent
	h.closeAll()
	h.publish(Event{Type: EvDTMF}) // no subscribers: fine
}
