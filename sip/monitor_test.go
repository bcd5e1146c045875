package sip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
)

// testMonitorHook stands in for the CRM's grant check: "ok-MODE" is a
// valid grant for MODE on the one answered call, anything else is refused.
func testMonitorHook(r MonitorRequest) (MonitorGrant, error) {
	mode, ok := strings.CutPrefix(r.Grant, "ok-")
	if !ok {
		return MonitorGrant{}, errors.New("the grant's signature does not verify")
	}
	if len(r.Calls) != 1 {
		return MonitorGrant{}, fmt.Errorf("want one answered call, the desk has %d", len(r.Calls))
	}
	return MonitorGrant{CallID: r.Calls[0], Mode: mode, Supervisor: "Sato (SV)"}, nil
}

// party is one phone of a monitor test: its events and the WAV its calls
// play into.
type party struct {
	*Phone
	ev  <-chan Event
	wav string
}

// newParty starts a phone for user whose calls send a tone of hz and play
// into a WAV; cfg brings the rest.
func newParty(t *testing.T, user string, hz int, cfg Config) *party {
	t.Helper()
	wav := filepath.Join(t.TempDir(), user+".wav")
	cfg.User, cfg.Input, cfg.Output = user, fmt.Sprintf("tone:%d", hz), "file:"+wav
	p := newLocalPhone(t, cfg)
	ev, stop := p.Subscribe(512)
	t.Cleanup(stop)
	return &party{Phone: p, ev: ev, wav: wav}
}

func (p *party) uri() string { return "sip:" + p.cfg.User + "@" + p.Addr() }

// liveSamples is what a WAV sink has written so far (the writer fixes its
// header only once a second; the samples are on disk at once).
func liveSamples(t *testing.T, path string) []int16 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(raw, []byte("data"))
	if i < 0 {
		t.Fatalf("%s has no data chunk", path)
	}
	pcm := raw[i+8:]
	out := make([]int16, len(pcm)/2)
	for k := range out {
		out[k] = int16(uint16(pcm[2*k]) | uint16(pcm[2*k+1])<<8)
	}
	return out
}

// listen lets audio flow for settle, then returns what each party's WAV
// got during the next second.
func listen(t *testing.T, parties ...*party) map[*party][]int16 {
	t.Helper()
	time.Sleep(300 * time.Millisecond) // the ramp, the rings, the jitter buffers
	marks := make([]int, len(parties))
	for i, p := range parties {
		marks[i] = len(liveSamples(t, p.wav))
	}
	time.Sleep(time.Second)
	got := map[*party][]int16{}
	for i, p := range parties {
		got[p] = liveSamples(t, p.wav)[marks[i]:]
	}
	return got
}

// hears checks that x has at least min of its energy at hz (min 0: at most
// 1 %: not heard).
func hears(t *testing.T, who string, x []int16, hz float64, min float64) {
	t.Helper()
	if len(x) < audio.SampleRate/2 {
		t.Errorf("%s: only %d samples in a second", who, len(x))
		return
	}
	share := audio.ToneShare(x, audio.SampleRate, hz)
	t.Logf("%s: %v Hz share %.3f", who, hz, share)
	switch {
	case min == 0 && share > 0.01:
		t.Errorf("%s hears %v Hz (%.3f of the energy), want nothing of it", who, hz, share)
	case min > 0 && share < min:
		t.Errorf("%s: %v Hz is %.3f of the energy, want at least %.2f", who, hz, share, min)
	}
}

// noEvent fails if ev brings an event of type typ within d.
func noEvent(t *testing.T, ev <-chan Event, typ EventType, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case e := <-ev:
			if e.Type == typ {
				t.Errorf("unexpected %s event: %+v", typ, e)
			}
		case <-timeout:
			return
		}
	}
}

// endedEvent returns the ended event of call id, failing after d.
func endedEvent(t *testing.T, ev <-chan Event, id string, d time.Duration) Event {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		e := nextEvent(t, ev, EvEnded, time.Until(deadline))
		if e.CallID == id {
			return e
		}
	}
}

// connect has the customer call the agent and the agent answer; it returns
// the call's ids on both phones.
func connect(t *testing.T, customer, agent *party) (custID, agentID string) {
	t.Helper()
	custID, err := customer.Dial(context.Background(), agent.uri())
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	in := nextEvent(t, agent.ev, EvIncoming, 3*time.Second)
	if in.SIPCallID == "" {
		t.Error("the incoming event has no SIP Call-ID")
	}
	if _, err := agent.Answer(in.CallID); err != nil {
		t.Fatalf("Answer: %v", err)
	}
	nextEvent(t, customer.ev, EvAnswered, 3*time.Second)
	return custID, in.CallID
}

// dialMonitor places a monitor session from sv to agent with grant.
func dialMonitor(t *testing.T, sv, agent *party, grant string) string {
	t.Helper()
	id, err := sv.DialWith(context.Background(), agent.uri(), DialOptions{Grant: grant})
	if err != nil {
		t.Fatalf("DialWith grant %q: %v", grant, err)
	}
	return id
}

// monitorTrio is a customer (600 Hz) in a call with an agent (900 Hz) whose
// desk takes test grants, and a supervisor (1200 Hz); the call's ids on
// the customer's and the agent's phone.
func monitorTrio(t *testing.T) (customer, agent, sv *party, custID, callID string) {
	t.Helper()
	customer = newParty(t, "customer", 600, Config{})
	agent = newParty(t, "agent", 900, Config{AuthorizeMonitor: testMonitorHook,
		Record: audio.RecordAlways, RecordDir: t.TempDir()})
	sv = newParty(t, "sv", 1200, Config{})
	custID, callID = connect(t, customer, agent)
	return customer, agent, sv, custID, callID
}

func callInfo(p *Phone, id string) (CallInfo, bool) {
	for _, ci := range p.Status().Calls {
		if ci.ID == id {
			return ci, true
		}
	}
	return CallInfo{}, false
}

// TestMonitorModes: a customer (600 Hz) calls an agent (900 Hz); a
// supervisor (1200 Hz) listens, whispers and barges with grants, is
// refused a bad one, leaves without touching the call, comes back, and is
// sent away by the customer hanging up.
func TestMonitorModes(t *testing.T) {
	customer, agent, sv, custID, callID := monitorTrio(t)
	ctx := context.Background()

	svID := dialMonitor(t, sv, agent, "ok-listen")
	nextEvent(t, sv.ev, EvAnswered, 3*time.Second)
	started := nextEvent(t, agent.ev, EvMonitorStarted, 3*time.Second)
	if started.CallID != callID || started.Cause != MonitorListen || started.Text != "Sato (SV)" || started.Target == "" {
		t.Errorf("monitor_started = %+v, want call %s, mode listen, supervisor Sato (SV)", started, callID)
	}
	session := started.Target
	if ci, _ := callInfo(agent.Phone, callID); ci.Monitor == nil || ci.Monitor.Session != session || ci.Monitor.Mode != MonitorListen || ci.Monitor.IsSession {
		t.Errorf("the monitored call's info: %+v", ci.Monitor)
	}
	if ci, _ := callInfo(agent.Phone, session); ci.Monitor == nil || !ci.Monitor.IsSession || ci.Monitor.Session != callID {
		t.Errorf("the session's info: %+v", ci.Monitor)
	}
	if ci, _ := callInfo(sv.Phone, svID); ci.Monitor == nil || ci.Monitor.Mode != MonitorListen {
		t.Errorf("the supervisor's call info: %+v", ci.Monitor)
	}
	// Who hears the supervisor, mode by mode (a share of 0.2 and up: heard;
	// 0: not at all). Everybody else hears everybody else in every mode.
	for _, m := range []struct {
		mode                   string
		operatorSV, customerSV float64
	}{{MonitorListen, 0, 0}, {MonitorWhisper, 0.2, 0}, {MonitorBarge, 0.2, 0.2}} {
		if m.mode != MonitorListen {
			if err := sv.SendGrant(ctx, svID, "ok-"+m.mode); err != nil {
				t.Fatalf("SendGrant %s: %v", m.mode, err)
			}
			if ev := nextEvent(t, agent.ev, EvMonitorMode, time.Second); ev.Cause != m.mode || ev.CallID != callID {
				t.Errorf("monitor_mode = %+v, want %s on call %s", ev, m.mode, callID)
			}
			if ci, _ := callInfo(sv.Phone, svID); ci.Monitor == nil || ci.Monitor.Mode != m.mode {
				t.Errorf("the supervisor's call info after SendGrant %s: %+v", m.mode, ci.Monitor)
			}
		}
		got := listen(t, customer, agent, sv)
		hears(t, m.mode+": the supervisor", got[sv], 600, 0.2)
		hears(t, m.mode+": the supervisor", got[sv], 900, 0.2)
		hears(t, m.mode+": the operator", got[agent], 600, 0.2)
		hears(t, m.mode+": the operator", got[agent], 1200, m.operatorSV)
		hears(t, m.mode+": the customer", got[customer], 900, 0.2)
		hears(t, m.mode+": the customer", got[customer], 1200, m.customerSV)
	}

	if err := sv.SendGrant(ctx, svID, "bad"); !errors.Is(err, ErrRefused) {
		t.Errorf("SendGrant with a bad grant: %v, want ErrRefused", err)
	}
	nextEvent(t, agent.ev, EvMonitorRefused, time.Second)
	if ci, _ := callInfo(agent.Phone, callID); ci.Monitor == nil || ci.Monitor.Mode != MonitorBarge {
		t.Errorf("after a refused grant the mode is %+v, want barge still", ci.Monitor)
	}

	// The supervisor leaves: the customer call goes on, both ways.
	if _, err := sv.Hangup(svID); err != nil {
		t.Fatalf("supervisor hangup: %v", err)
	}
	if ev := nextEvent(t, agent.ev, EvMonitorEnded, 3*time.Second); ev.Cause != CauseSupervisorLeft || ev.CallID != callID {
		t.Errorf("monitor_ended = %+v, want supervisor_left on call %s", ev, callID)
	}
	before, _ := callInfo(customer.Phone, custID)
	got := listen(t, customer, agent)
	after, ok := callInfo(customer.Phone, custID)
	if !ok || after.State != "active" || after.Media.PacketsSent <= before.Media.PacketsSent ||
		after.Media.PacketsReceived <= before.Media.PacketsReceived {
		t.Errorf("the customer call after the supervisor left: %+v", after)
	}
	hears(t, "after the supervisor left: the customer", got[customer], 900, 0.5)
	hears(t, "after the supervisor left: the customer", got[customer], 1200, 0)
	hears(t, "after the supervisor left: the operator", got[agent], 600, 0.5)
	if ci, _ := callInfo(agent.Phone, callID); ci.Monitor != nil {
		t.Errorf("the call still shows a monitor: %+v", ci.Monitor)
	}

	rec := ""
	if ci, _ := callInfo(agent.Phone, callID); ci.Recording != "" {
		rec = ci.Recording
	} else {
		t.Error("the agent's call is not recorded")
	}

	// A second session ends when the customer hangs up.
	svID = dialMonitor(t, sv, agent, "ok-listen")
	nextEvent(t, agent.ev, EvMonitorStarted, 3*time.Second)
	if _, err := customer.Hangup(custID); err != nil {
		t.Fatalf("customer hangup: %v", err)
	}
	if ev := endedEvent(t, sv.ev, svID, 3*time.Second); ev.Cause != CauseRemoteHangup {
		t.Errorf("the supervisor's call ended with %+v, want a BYE from the agent's desk", ev)
	}
	if ev := nextEvent(t, agent.ev, EvMonitorEnded, 3*time.Second); ev.Cause != CauseCallEnded {
		t.Errorf("monitor_ended = %+v, want call_ended", ev)
	}
	waitFor(t, 3*time.Second, "no calls on the agent's desk", func() bool { return len(agent.Status().Calls) == 0 })

	// The recording: what the customer heard in barge is part of the call
	// (left, what the operator's side sent); the whisper never reaches it
	// (right, what was played to the operator, before the whisper).
	if rec == "" {
		return
	}
	s, _, ch, err := audio.ReadWAV(rec)
	if err != nil || ch != 2 {
		t.Fatalf("recording: %v, %d channels", err, ch)
	}
	sent := audio.ToneShare(audio.Channel(s, 2, 0), audio.SampleRate, 1200)
	played := audio.ToneShare(audio.Channel(s, 2, 1), audio.SampleRate, 1200)
	t.Logf("recording: the supervisor is %.4f of the sent side, %.4f of the played side", sent, played)
	if sent < 0.02 {
		t.Errorf("the barge is %.3f of the recording's sent side, want it recorded", sent)
	}
	if played > 0.001 {
		t.Errorf("the supervisor is %.4f of the recording's played side, want no whisper in it", played)
	}
}

// TestMonitorRefused: a bad grant, a desk without the hook and a second
// supervisor on a monitored call are refused (403, 403, 486) without
// ringing or an incoming call, and the call goes on.
func TestMonitorRefused(t *testing.T) {
	_, agent, sv, _, callID := monitorTrio(t)
	ctx := context.Background()

	svID := dialMonitor(t, sv, agent, "bad")
	if ev := endedEvent(t, sv.ev, svID, 3*time.Second); ev.Code != 403 {
		t.Errorf("the supervisor's call ended with %+v, want 403", ev)
	}
	if ev := nextEvent(t, agent.ev, EvMonitorRefused, time.Second); ev.Remote == "" || ev.Text == "" {
		t.Errorf("monitor_refused = %+v, want the From and the reason", ev)
	}
	if n := len(agent.Status().Calls); n != 1 {
		t.Errorf("the agent's desk has %d calls, want the customer's only", n)
	}

	// A second supervisor while the first is on: 486.
	first := dialMonitor(t, sv, agent, "ok-listen")
	nextEvent(t, agent.ev, EvMonitorStarted, 3*time.Second)
	second := dialMonitor(t, sv, agent, "ok-whisper")
	if ev := endedEvent(t, sv.ev, second, 3*time.Second); ev.Code != 486 {
		t.Errorf("the second supervisor got %d, want 486", ev.Code)
	}
	if ci, _ := callInfo(agent.Phone, callID); ci.Monitor == nil || ci.Monitor.Mode != MonitorListen {
		t.Errorf("the first session was disturbed: %+v", ci.Monitor)
	}
	if err := sv.SendGrant(ctx, first, "ok-shout"); !errors.Is(err, ErrRefused) {
		t.Errorf("SendGrant for an unknown mode: %v, want ErrRefused", err)
	}
	if _, err := sv.Hangup(first); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, agent.ev, EvMonitorEnded, 3*time.Second)

	// A desk without the hook refuses every session.
	// (Another customer: two active calls on one phone share its level
	// meters, which only one media clock may update.)
	plain := newParty(t, "plain", 900, Config{})
	connect(t, newParty(t, "customer2", 700, Config{}), plain)
	id := dialMonitor(t, sv, plain, "ok-listen")
	if ev := endedEvent(t, sv.ev, id, 3*time.Second); ev.Code != 403 {
		t.Errorf("a desk without AuthorizeMonitor answered %+v, want 403", ev)
	}
	// Neither desk rang for a monitor session.
	noEvent(t, agent.ev, EvIncoming, 200*time.Millisecond)
	noEvent(t, plain.ev, EvIncoming, 200*time.Millisecond)
	if err := sv.SendGrant(ctx, "", "x y"); !errors.Is(err, ErrBadGrant) {
		t.Errorf("SendGrant with a space: %v, want ErrBadGrant", err)
	}
}

// TestAuthorizeMonitor: what the phone refuses around the hook's answer.
func TestAuthorizeMonitor(t *testing.T) {
	grantFor := func(g MonitorGrant, err error) func(MonitorRequest) (MonitorGrant, error) {
		return func(MonitorRequest) (MonitorGrant, error) { return g, err }
	}
	for _, c := range []struct {
		name  string
		hook  func(MonitorRequest) (MonitorGrant, error)
		grant string
		text  string
	}{
		{"no hook", nil, "ok-listen", "not enabled"},
		{"hook refuses", grantFor(MonitorGrant{}, errors.New("expired")), "x", "refused: expired"},
		{"not a token", testMonitorHook, "ok listen", "not plain text"},
		{"a call that is not answered here", grantFor(MonitorGrant{CallID: "elsewhere", Mode: MonitorListen}, nil), "x", "no answered call"},
	} {
		p := &Phone{cfg: Config{AuthorizeMonitor: c.hook}, calls: map[string]*call{}, log: slog.New(slog.DiscardHandler)}
		_, _, r := p.authorizeMonitor(c.grant, "sip:sv@example.com")
		if r == nil || r.code != 403 || !strings.Contains(r.text, c.text) {
			t.Errorf("%s: refusal %+v, want 403 saying %q", c.name, r, c.text)
		}
	}
}

// FuzzCheckGrant: a grant that passes can go into a header or a body as it
// is: no line breaks, spaces or control characters, and not too long.
func FuzzCheckGrant(f *testing.F) {
	for _, s := range []string{"ok-listen", "eyJhbGciOiJFZERTQSJ9.e30.sig", "a\r\nVia: x", "", " x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, g string) {
		if checkGrant(g) != nil {
			return
		}
		if len(g) == 0 || len(g) > maxGrantLen || strings.ContainsAny(g, " \t\r\n\x00") {
			t.Errorf("checkGrant accepted %q", g)
		}
	})
}
