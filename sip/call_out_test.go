package sip

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	gsip "github.com/emiago/sipgo/sip"
)

// optionsPhone is enough of a Phone to build INVITEs without a socket.
func optionsPhone() *Phone {
	return &Phone{
		cfg:  Config{User: "operator", DisplayName: "Op Desk"},
		aor:  gsip.Uri{Scheme: "sip", User: "operator", Host: "pbx.example.com"},
		host: "127.0.0.1",
	}
}

// TestDialOptionsHeaders: where a campaign's caller ID goes on the INVITE
// for each CallerIDHeader, and that anything but an E.164 number or a known
// header is refused before a header is built.
func TestDialOptionsHeaders(t *testing.T) {
	const pai = "<sip:+81345670000@pbx.example.com;user=phone>"
	tests := []struct {
		name     string
		o        DialOptions
		fromUser string // "" = operator with display name "Op Desk"
		pai      string
		err      string // in the error, which then wraps ErrBadCallerID
	}{
		{name: "no caller ID", o: DialOptions{}},
		{name: "header without caller ID", o: DialOptions{CallerIDHeader: "both"}},
		{name: "pai by default", o: DialOptions{CallerID: "+81345670000"}, pai: pai},
		{name: "pai", o: DialOptions{CallerID: "+81345670000", CallerIDHeader: "pai"}, pai: pai},
		{name: "from", o: DialOptions{CallerID: "+81345670000", CallerIDHeader: "from"}, fromUser: "+81345670000"},
		{name: "both", o: DialOptions{CallerID: "+81345670000", CallerIDHeader: "both"}, fromUser: "+81345670000", pai: pai},
		{name: "header in capitals", o: DialOptions{CallerID: "+14155550100", CallerIDHeader: "PAI"},
			pai: "<sip:+14155550100@pbx.example.com;user=phone>"},
		{name: "15 digits", o: DialOptions{CallerID: "+123456789012345"}, pai: "<sip:+123456789012345@pbx.example.com;user=phone>"},
		{name: "16 digits", o: DialOptions{CallerID: "+1234567890123456"}, err: `"+1234567890123456" is not a number in E.164 form`},
		{name: "no plus", o: DialOptions{CallerID: "0345670000"}, err: "write + and the country code"},
		{name: "plus alone", o: DialOptions{CallerID: "+"}, err: "E.164"},
		{name: "country code 0", o: DialOptions{CallerID: "+0345670000"}, err: "E.164"},
		{name: "dashes", o: DialOptions{CallerID: "+81-3-4567-0000"}, err: "no spaces or dashes"},
		{name: "full-width digits", o: DialOptions{CallerID: "+８１３４５６７"}, err: "E.164"},
		{name: "header injection", o: DialOptions{CallerID: "+8134\r\nVia: SIP/2.0/UDP evil"}, err: `"+8134\r\nVia: SIP/2.0/UDP evil"`},
		{name: "SIP syntax", o: DialOptions{CallerID: "+8134>;tag=x"}, err: "E.164"},
		{name: "a URI", o: DialOptions{CallerID: "sip:+81345670000@evil"}, err: "E.164"},
		{name: "unknown header", o: DialOptions{CallerID: "+81345670000", CallerIDHeader: "ppi"},
			err: `caller ID header "ppi" is not pai, from or both`},
	}
	p := optionsPhone()
	target := gsip.Uri{Scheme: "sip", User: "0312345678", Host: "pbx.example.com"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := p.outSpecFor(tt.o)
			if tt.err != "" {
				if !errors.Is(err, ErrBadCallerID) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want ErrBadCallerID containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			req := p.newInvite(target, []byte("v=0\r\n"), spec)
			from := req.From()
			wantUser, wantName := "operator", "Op Desk"
			if tt.fromUser != "" {
				wantUser, wantName = tt.fromUser, ""
			}
			if from.Address.User != wantUser || from.DisplayName != wantName || from.Address.Host != "pbx.example.com" {
				t.Errorf("From = %s, want user %q, display name %q at pbx.example.com", from.Value(), wantUser, wantName)
			}
			got := ""
			if h := req.GetHeader("P-Asserted-Identity"); h != nil {
				got = h.Value()
			}
			if got != tt.pai {
				t.Errorf("P-Asserted-Identity = %q, want %q", got, tt.pai)
			}
			// What goes on the wire parses back to the same identity.
			msg, err := gsip.ParseMessage([]byte(req.String()))
			if err != nil {
				t.Fatalf("the INVITE does not parse: %v\n%s", err, req.String())
			}
			if tt.pai != "" {
				u, _ := callerOf(msg.(*gsip.Request))
				if u.User != tt.o.CallerID {
					t.Errorf("callerOf the INVITE = %s, want user %s", u.String(), tt.o.CallerID)
				}
			}
		})
	}
}

// FuzzDialOptions: whatever caller ID is accepted, the headers it reaches
// hold only '+' and digits from it, and the INVITE parses back.
func FuzzDialOptions(f *testing.F) {
	for _, s := range []string{"+81345670000", "+1\r\nX: y", "+81>;a", "", "+" + strings.Repeat("9", 15)} {
		f.Add(s, "pai")
		f.Add(s, "both")
	}
	p := optionsPhone()
	target := gsip.Uri{Scheme: "sip", User: "0312345678", Host: "pbx.example.com"}
	f.Fuzz(func(t *testing.T, id, header string) {
		spec, err := p.outSpecFor(DialOptions{CallerID: id, CallerIDHeader: header})
		if err != nil {
			return
		}
		if strings.Trim(spec.fromUser, "+0123456789") != "" {
			t.Fatalf("From user %q from caller ID %q", spec.fromUser, id)
		}
		if spec.pai != "" && spec.pai != p.assertedIdentity(id) || strings.Trim(id, "+0123456789") != "" && (spec.pai != "" || spec.fromUser != "") {
			t.Fatalf("caller ID %q reached a header: from %q, pai %q", id, spec.fromUser, spec.pai)
		}
		if _, err := gsip.ParseMessage([]byte(p.newInvite(target, nil, spec).String())); err != nil {
			t.Fatalf("caller ID %q: INVITE does not parse: %v", id, err)
		}
	})
}

// TestDialWithRingTimeout: two phones on loopback. The callee rings and is
// never answered; the caller's per-call RingTimeout (not the phone's 60 s)
// ends the call with cause no_answer and Rang set, and the callee sees the
// campaign's caller ID from the P-Asserted-Identity.
func TestDialWithRingTimeout(t *testing.T) {
	callee := newLocalPhone(t, Config{User: "customer"})
	caller := newLocalPhone(t, Config{User: "operator", DisplayName: "Op"})
	calleeEv, stopCallee := callee.Subscribe(64)
	defer stopCallee()
	ev, stop := caller.Subscribe(64)
	defer stop()

	const ring = 700 * time.Millisecond
	start := time.Now()
	id, err := caller.DialWith(context.Background(), "sip:customer@"+callee.Addr(),
		DialOptions{CallerID: "+81345670000", RingTimeout: ring})
	if err != nil {
		t.Fatal(err)
	}
	in := nextEvent(t, calleeEv, EvIncoming, 5*time.Second)
	if want := "sip:+81345670000@127.0.0.1;user=phone"; in.Remote != want {
		t.Errorf("callee sees %q, want %q", in.Remote, want)
	}
	nextEvent(t, ev, EvRinging, 5*time.Second)
	end := nextEvent(t, ev, EvEnded, 10*time.Second)
	took := time.Since(start)
	if end.CallID != id || end.Cause != CauseNoAnswer || !end.Rang || end.Text != "no answer after 700ms" {
		t.Errorf("ended %+v, want call %s, cause no_answer, rang, \"no answer after 700ms\"", end, id)
	}
	if took < ring || took > ring+3*time.Second {
		t.Errorf("ended after %s, want about %s", took, ring)
	}
	if ce := nextEvent(t, calleeEv, EvEnded, 5*time.Second); ce.Cause != CauseRemoteCancel {
		t.Errorf("callee ended %+v, want remote_cancelled", ce)
	}
	if _, err := caller.DialWith(context.Background(), "sip:customer@"+callee.Addr(),
		DialOptions{CallerID: "+81 3 4567 0000"}); !errors.Is(err, ErrBadCallerID) {
		t.Errorf("bad caller ID: err = %v, want ErrBadCallerID", err)
	}
	if n := len(caller.Status().Calls); n != 0 {
		t.Errorf("%d calls after a refused DialWith", n)
	}
}

// fakeUAS answers every INVITE on a loopback UDP socket with the given
// responses, written back to back; it ignores everything else (the ACKs).
func fakeUAS(t *testing.T, codes ...int) string {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	reasons := map[int]string{180: "Ringing", 183: "Session Progress", 480: "Temporarily Unavailable", 486: "Busy Here"}
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			msg, err := gsip.ParseMessage(append([]byte(nil), buf[:n]...))
			req, ok := msg.(*gsip.Request)
			if err != nil || !ok || !req.IsInvite() {
				continue
			}
			tag := gsip.GenerateTagN(8)
			var out [][]byte
			for _, code := range codes {
				res := gsip.NewResponseFromRequest(req, code, reasons[code], nil)
				res.To().Params.Add("tag", tag)
				out = append(out, []byte(res.String()))
			}
			for _, b := range out {
				_, _ = conn.WriteTo(b, from)
			}
		}
	}()
	return conn.LocalAddr().String()
}

// TestRangFromTheWire: a 180 directly followed by a 480 (a phone that rings
// and rejects at once) always ends with Rang set, although sipgo drops the
// 180 whenever it handles the 480 first, so EvRinging may be missing; a 480
// alone ends with Rang unset and no EvRinging.
func TestRangFromTheWire(t *testing.T) {
	caller := newLocalPhone(t, Config{User: "operator"})
	ev, stop := caller.Subscribe(256)
	defer stop()
	for _, tc := range []struct {
		name  string
		codes []int
		calls int
		rang  bool
	}{
		{"180 then 480", []int{180, 480}, 20, true},
		{"183 then 486", []int{183, 486}, 5, true},
		{"480 alone", []int{480}, 5, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeUAS(t, tc.codes...)
			final := tc.codes[len(tc.codes)-1]
			ringing := 0
			for range tc.calls {
				id, err := caller.Dial(context.Background(), "sip:lead@"+addr)
				if err != nil {
					t.Fatal(err)
				}
				for {
					var e Event
					select {
					case e = <-ev:
					case <-time.After(10 * time.Second):
						t.Fatalf("call %s: no event within 10 s", id)
					}
					if e.CallID != id {
						continue
					}
					if e.Type == EvRinging || e.Type == EvEarlyMedia {
						ringing++
					}
					if e.Type != EvEnded {
						continue
					}
					if e.Code != final || e.Rang != tc.rang {
						t.Errorf("ended %+v, want code %d, rang %v", e, final, tc.rang)
					}
					break
				}
			}
			t.Logf("%d of %d calls published a ringing event before ending", ringing, tc.calls)
			if !tc.rang && ringing != 0 {
				t.Errorf("%d ringing events without a 180", ringing)
			}
		})
	}
}
