package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/test/peers"
)

// callerIDPhone is an in-process sip.Phone registered on k as user, with
// its event subscription; both end with the test.
func callerIDPhone(t *testing.T, k *peers.Kamailio, user string) (*sip.Phone, <-chan sip.Event) {
	t.Helper()
	ph, err := sip.New(sip.Config{User: user, Password: password, Registrar: k.URI(),
		Listen: "127.0.0.1:0", RTPPortMin: 40000, RTPPortMax: 44999})
	if err != nil {
		t.Fatal(err)
	}
	ev, stop := ph.Subscribe(256)
	t.Cleanup(func() {
		stop()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ph.Close(ctx)
	})
	deadline := time.Now().Add(10 * time.Second)
	for ph.Status().Registration != sip.RegRegistered {
		if time.Now().After(deadline) {
			t.Fatalf("%s not registered: %+v", user, ph.Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ph, ev
}

// callerIDEvent returns call id's next event of type typ, failing on its
// end event (unless that is what is waited for) or after d.
func callerIDEvent(t *testing.T, ch <-chan sip.Event, id string, typ sip.EventType, d time.Duration) sip.Event {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev := <-ch:
			if ev.CallID != id {
				continue
			}
			if ev.Type == typ {
				return ev
			}
			if ev.Type == sip.EvEnded {
				t.Fatalf("call %s ended while waiting for %s: %+v", id, typ, ev)
			}
		case <-timeout:
			t.Fatalf("call %s: no %s within %s", id, typ, d)
		}
	}
}

// TestCallerID: an operator's phone presents a campaign's caller ID on
// calls that Kamailio routes to a gateway (a sipp UAS serving call after
// call): in a P-Asserted-Identity header, as the From user, or both, as
// the gateway's message trace shows; each call is answered and ended by
// the far end normally.
func TestCallerID(t *testing.T) {
	gw := peers.StartSipp(t, peers.SippOptions{Scenario: "uas_answer_bye", Args: []string{"-m", "1000"}})
	k := peers.StartKamailio(t, peers.KamailioOptions{Routes: []peers.Route{{Prefix: "0", Target: gw.Addr()}}})
	ph, events := callerIDPhone(t, k, "operator")
	const callerID = "+81345670000"
	pai := "<sip:" + callerID + "@" + k.Domain + ";user=phone>"
	tests := []struct {
		header   string
		number   string
		pai      string // the P-Asserted-Identity the gateway gets, "" for none
		fromUser string
	}{
		{sip.CallerIDPAI, "0312345670", pai, "operator"},
		{sip.CallerIDFrom, "0312345671", "", callerID},
		{sip.CallerIDBoth, "0312345672", pai, callerID},
	}
	for _, tt := range tests {
		id, err := ph.DialWith(context.Background(), tt.number, sip.DialOptions{CallerID: callerID, CallerIDHeader: tt.header})
		if err != nil {
			t.Fatal(err)
		}
		callerIDEvent(t, events, id, sip.EvAnswered, 10*time.Second)
		end := callerIDEvent(t, events, id, sip.EvEnded, 10*time.Second)
		if end.Cause != sip.CauseRemoteHangup || !end.Rang {
			t.Errorf("%s: ended %+v, want remote_hangup after ringing", tt.header, end)
		}
	}
	if err := gw.Quit(ctxT(t, 20*time.Second)); err != nil {
		t.Fatalf("gateway: %v", err)
	}
	byNumber := map[string]peers.SippMessage{}
	for _, m := range gw.ReceivedRequests("INVITE") {
		byNumber[m.RequestUser()] = m
	}
	for _, tt := range tests {
		m, ok := byNumber[tt.number]
		if !ok {
			t.Errorf("%s: the gateway got no INVITE for %s (got %d INVITEs)", tt.header, tt.number, len(byNumber))
			continue
		}
		if got := m.Header("P-Asserted-Identity"); got != tt.pai {
			t.Errorf("%s: P-Asserted-Identity %q, want %q", tt.header, got, tt.pai)
		}
		from := m.Header("From")
		if !strings.Contains(from, "<sip:"+tt.fromUser+"@"+k.Domain+">") {
			t.Errorf("%s: From %q, want user %s", tt.header, from, tt.fromUser)
		}
	}
}

// TestRingTimeoutPerCall: DialWith's RingTimeout ends a call that rings
// (sipp uas_ring_cancel) after about that long with cause no_answer and
// Rang set, through Kamailio's CANCEL; a busy and a declining gateway end
// the call at once, with their causes and Rang unset (they never rang); a
// gateway that plays early media and then gives up (183, 480) ends it as
// unavailable with Rang set.
func TestRingTimeoutPerCall(t *testing.T) {
	ring := peers.StartSipp(t, peers.SippOptions{Scenario: "uas_ring_cancel"})
	busy := peers.StartSipp(t, peers.SippOptions{Scenario: "uas_busy"})
	decline := peers.StartSipp(t, peers.SippOptions{Scenario: "uas_decline"})
	early := peers.StartSipp(t, peers.SippOptions{Scenario: "uas_bye_early"})
	k := peers.StartKamailio(t, peers.KamailioOptions{Routes: []peers.Route{
		{Prefix: "05", Target: ring.Addr()},
		{Prefix: "06", Target: busy.Addr()},
		{Prefix: "07", Target: decline.Addr()},
		{Prefix: "08", Target: early.Addr()},
	}})
	ph, events := callerIDPhone(t, k, "operator")
	const timeout = 2 * time.Second
	tests := []struct {
		number string
		sipp   *peers.Sipp
		ring   time.Duration
		cause  string
		code   int
		rang   bool
	}{
		{"0512345678", ring, timeout, sip.CauseNoAnswer, 0, true},
		{"0612345678", busy, timeout, sip.CauseBusy, 486, false},
		{"0712345678", decline, timeout, sip.CauseDeclined, 603, false},
		{"0812345678", early, 10 * time.Second, sip.CauseUnavailable, 480, true},
	}
	for _, tt := range tests {
		start := time.Now()
		id, err := ph.DialWith(context.Background(), tt.number, sip.DialOptions{CallerID: "+81345670000", RingTimeout: tt.ring})
		if err != nil {
			t.Fatal(err)
		}
		end := callerIDEvent(t, events, id, sip.EvEnded, 15*time.Second)
		took := time.Since(start)
		t.Logf("%s: %s %d rang=%v after %s: %s", tt.number, end.Cause, end.Code, end.Rang, took.Round(time.Millisecond), end.Text)
		if end.Cause != tt.cause || end.Code != tt.code || end.Rang != tt.rang {
			t.Errorf("%s: ended %+v, want cause %s, code %d, rang %v", tt.number, end, tt.cause, tt.code, tt.rang)
		}
		if tt.cause == sip.CauseNoAnswer && (took < timeout || took > timeout+2*time.Second) {
			t.Errorf("%s: no answer after %s, want about %s", tt.number, took, timeout)
		}
		if tt.cause != sip.CauseNoAnswer && took > tt.ring {
			t.Errorf("%s: ended after %s, want before the %s ring timeout", tt.number, took, tt.ring)
		}
		if err := tt.sipp.Wait(ctxT(t, 15*time.Second)); err != nil {
			t.Errorf("%s: %v", tt.number, err)
		}
	}
}
