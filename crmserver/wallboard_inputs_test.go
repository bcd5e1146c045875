package crmserver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// TestAgentSIPURI: an agent's desktop publishes where it can be reached with its
// state; supervisors see it in GET /v1/agents and on the stream; a state change
// without it keeps it; a URI that is not sip:/sips: is refused with a sentence.
func TestAgentSIPURI(t *testing.T) {
	crm := newTestCRM(t, 0)
	ctx := context.Background()
	agent, sv := crm.client(t, "agent1"), crm.client(t, "sv1")
	tap := tapEvents(t, false, sv, crmclient.EventsFromNow)
	tap.ready(t)

	put := func(req crmclient.AgentStateRequest) crmclient.AgentState {
		t.Helper()
		st, err := agent.PutAgentState(ctx, req)
		if err != nil {
			t.Fatalf("PutAgentState(%+v): %v", req, err)
		}
		return st
	}
	seen := func() crmclient.AgentState {
		t.Helper()
		st, err := tap.nextKind(t, 5*time.Second).AgentState()
		if err != nil {
			t.Fatal(err)
		}
		list, err := sv.Agents(ctx)
		if err != nil || list[0].User != "agent1" || list[0] != st {
			t.Fatalf("GET /v1/agents = %+v, %v; the stream said %+v", list, err, st)
		}
		return st
	}
	const uri = "sip:op1@pbx.example.com"
	if st := put(crmclient.AgentStateRequest{State: crmclient.StatusReady, SIPURI: uri}); st.SIPURI != uri {
		t.Errorf("stored %q, want %q", st.SIPURI, uri)
	}
	if st := seen(); st.SIPURI != uri {
		t.Errorf("event and list carry %q", st.SIPURI)
	}
	if st := put(crmclient.AgentStateRequest{State: crmclient.StatusOnCall}); st.SIPURI != uri {
		t.Errorf("a state change without a URI gave %q; want the stored one kept", st.SIPURI)
	}
	if st := seen(); st.SIPURI != uri || st.State != crmclient.StatusOnCall {
		t.Errorf("after a state change: %+v", st)
	}
	// A desktop that moved; the scheme is case-insensitive and stored in lower case.
	const moved = "sips:op1@10.0.0.7:5061;transport=tls"
	if st := put(crmclient.AgentStateRequest{State: crmclient.StatusReady, SIPURI: "SIPS:op1@10.0.0.7:5061;transport=tls"}); st.SIPURI != moved {
		t.Errorf("stored %q, want %q", st.SIPURI, moved)
	}
	if st := seen(); st.SIPURI != moved {
		t.Errorf("after moving: %q", st.SIPURI)
	}
	if list, _ := sv.Agents(ctx); list[1].SIPURI != "" {
		t.Errorf("agent2, who never published one, shows %q", list[1].SIPURI)
	}

	bearer := "Bearer " + agent.Token()
	for _, tc := range []struct{ uri, msg string }{
		{"http://pbx.example.com", "must be a sip: or sips: URI"},
		{"op1@pbx.example.com", "must be a sip: or sips: URI"},
		{"sip:", "must be a sip: or sips: URI"},
		{"sip:op1@", "must be a sip: or sips: URI"},
		{"sip:op1@;transport=tcp", "must be a sip: or sips: URI"},
		{"sip:op 1@pbx.example.com", "without spaces or control characters"},
		{"sip:op1@pbx.example.com\\r\\nX-Evil: 1", "without spaces or control characters"},
		{"sip:山田@pbx.example.com", "visible ASCII"},
		{"sip:" + strings.Repeat("a", 250) + "@pbx", "at most 256 bytes"},
	} {
		body := `{"state":"ready","sip_uri":"` + tc.uri + `"}`
		status, _, eb := rawCall(t, crm, "PUT", "/v1/me/state", bearer, "application/json", []byte(body))
		if status != 400 || eb.Error.Code != crmclient.CodeInvalidRequest || !strings.Contains(eb.Error.Message, tc.msg) {
			t.Errorf("sip_uri %q: %d %+v; want 400 %q", tc.uri, status, eb, tc.msg)
		}
	}
	if list, _ := sv.Agents(ctx); list[0].SIPURI != moved || list[0].State != crmclient.StatusReady {
		t.Errorf("refused requests changed the state: %+v", list[0])
	}
}

// TestCallMissed: a desktop announces a call that rang unanswered, abandoned or
// not; supervisors see call_missed, which Event.Call decodes; a retry stores one
// event; abandoned is refused with the other phases.
func TestCallMissed(t *testing.T) {
	crm := newTestCRM(t, 0)
	ctx := context.Background()
	agent, sv := crm.client(t, "agent1"), crm.client(t, "sv1")
	tap := tapEvents(t, false, sv, crmclient.EventsFromNow)
	tap.ready(t)

	at := time.Date(2025, 6, 10, 9, 30, 0, 0, time.UTC)
	req := crmclient.CallEventRequest{Event: crmclient.CallMissed, CallID: "ring-1@pc33.example.jp",
		Direction: crmclient.Inbound, Number: "03-1234-5678", At: at, Abandoned: true}
	ack, err := agent.PostCallEvent(ctx, req)
	if err != nil || ack.Duplicate {
		t.Fatalf("PostCallEvent(missed) = %+v, %v", ack, err)
	}
	if again, err := agent.PostCallEvent(ctx, req); err != nil || !again.Duplicate || again.EventID != ack.EventID {
		t.Errorf("a retry = %+v, %v; want a duplicate of %d", again, err, ack.EventID)
	}
	req.CallID, req.Abandoned = "ring-2@pc33.example.jp", false // declined, or rang out
	if _, err := agent.PostCallEvent(ctx, req); err != nil {
		t.Fatal(err)
	}
	for i, want := range []crmclient.CallEvent{
		{Agent: "agent1", CallID: "ring-1@pc33.example.jp", Direction: crmclient.Inbound, Number: "+81312345678", At: at, Abandoned: true},
		{Agent: "agent1", CallID: "ring-2@pc33.example.jp", Direction: crmclient.Inbound, Number: "+81312345678", At: at},
	} {
		e := tap.nextKind(t, 5*time.Second)
		c, err := e.Call()
		if e.Kind != crmclient.EventCallMissed || err != nil || c != want {
			t.Errorf("event %d: %s %+v, %v; want call_missed %+v", i, e.Kind, c, err, want)
		}
		if i == 1 && strings.Contains(string(e.Data), "abandoned") {
			t.Errorf("a call not abandoned says so: %s", e.Data)
		}
	}

	bearer := "Bearer " + agent.Token()
	for _, tc := range []struct{ body, msg string }{
		{`{"event":"started","call_id":"x@y","direction":"inbound","abandoned":true}`, "abandoned is only for missed calls"},
		{`{"event":"ended","call_id":"x@y","direction":"inbound","abandoned":true}`, "abandoned is only for missed calls"},
		{`{"event":"ringing","call_id":"x@y","direction":"inbound"}`, "event must be started, ended or missed"},
	} {
		status, _, eb := rawCall(t, crm, "POST", "/v1/me/calls", bearer, "application/json", []byte(tc.body))
		if status != 400 || !strings.Contains(eb.Error.Message, tc.msg) {
			t.Errorf("%s: %d %+v; want 400 %q", tc.body, status, eb, tc.msg)
		}
	}
}

// FuzzCheckSIPURI: whatever a desktop sends, what is stored is a sip: or sips:
// URI of visible ASCII within the bound, and checking it again changes nothing.
func FuzzCheckSIPURI(f *testing.F) {
	for _, s := range []string{"", "sip:op1@pbx.example.com", "SIPS:op1@10.0.0.7:5061;transport=tls", "sip:@x", "sip:a@;b",
		"tel:+81312345678", "sip:op1@pbx\r\n", "sip:山田@pbx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := checkSIPURI(in)
		if err != nil || in == "" {
			if out != "" {
				t.Fatalf("checkSIPURI(%q) = %q, %v", in, out, err)
			}
			return
		}
		if !strings.HasPrefix(out, "sip:") && !strings.HasPrefix(out, "sips:") || len(out) > crmclient.MaxSIPURI ||
			!strings.EqualFold(out, in) {
			t.Fatalf("checkSIPURI(%q) accepted %q", in, out)
		}
		for i := 0; i < len(out); i++ {
			if out[i] <= ' ' || out[i] > '~' {
				t.Fatalf("checkSIPURI(%q) accepted byte %#x", in, out[i])
			}
		}
		if again, err := checkSIPURI(out); err != nil || again != out {
			t.Fatalf("checkSIPURI(%q) = %q, %v; not stable", out, again, err)
		}
	})
}
