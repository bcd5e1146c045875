package crmserver

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// eventTap runs Events or FollowEvents on a goroutine and hands the events to the
// test through a channel. stop cancels it and waits, so that the test server's
// Close never waits for an open stream.
type eventTap struct {
	ch     chan crmclient.Event
	cancel context.CancelFunc
	done   chan error
}

func tapEvents(t *testing.T, follow bool, cl *crmclient.Client, after int64) *eventTap {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tap := &eventTap{ch: make(chan crmclient.Event, 1000), cancel: cancel, done: make(chan error, 1)}
	fn := func(e crmclient.Event) error {
		tap.ch <- e
		return nil
	}
	go func() {
		if follow {
			tap.done <- cl.FollowEvents(ctx, after, fn)
		} else {
			tap.done <- cl.Events(ctx, after, fn)
		}
	}()
	t.Cleanup(func() { tap.stop(t) })
	return tap
}

func (tap *eventTap) stop(t *testing.T) error {
	t.Helper()
	tap.cancel()
	select {
	case err := <-tap.done:
		tap.done <- err // for a second stop
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("the event stream did not stop within 5 s of its context")
		return nil
	}
}

// next waits for the next event, failing after d.
func (tap *eventTap) next(t *testing.T, d time.Duration) crmclient.Event {
	t.Helper()
	select {
	case e := <-tap.ch:
		return e
	case err := <-tap.done:
		tap.done <- err
		t.Fatalf("stream ended: %v", err)
	case <-time.After(d):
		t.Fatalf("no event within %v", d)
	}
	return crmclient.Event{}
}

// nextKind skips EventReady messages.
func (tap *eventTap) nextKind(t *testing.T, d time.Duration) crmclient.Event {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		e := tap.next(t, time.Until(deadline))
		if e.Kind != crmclient.EventReady {
			return e
		}
	}
}

func (tap *eventTap) ready(t *testing.T) crmclient.StreamReady {
	t.Helper()
	e := tap.next(t, 5*time.Second)
	r, err := e.Ready()
	if err != nil {
		t.Fatalf("first message %s %s: %v", e.Kind, e.Data, err)
	}
	return r
}

// TestEventStream: a supervisor sees an agent's state change and calls, pushed at
// once (the latency is measured and logged; a bound of 1 s is asserted, the aim
// being well under 100 ms — see BenchmarkEventLatency).
func TestEventStream(t *testing.T) {
	crm := newTestCRM(t, 0)
	ctx := context.Background()
	sv := crm.client(t, "sv1")
	agent := crm.client(t, "agent1")
	tap := tapEvents(t, false, sv, crmclient.EventsFromNow)
	r := tap.ready(t)

	start := time.Now()
	stored, err := agent.PutAgentState(ctx, crmclient.AgentStateRequest{State: crmclient.StatusNotReady, Reason: "休憩"})
	if err != nil {
		t.Fatal(err)
	}
	e := tap.nextKind(t, 5*time.Second)
	latency := time.Since(start)
	t.Logf("state change → supervisor's stream: %v (PUT included)", latency)
	if latency > time.Second {
		t.Errorf("event took %v to arrive, want < 1 s", latency)
	}
	st, err := e.AgentState()
	if err != nil || e.ID <= r.After || st != stored {
		t.Fatalf("event %d (after %d) %s = %+v, %v; want %+v", e.ID, r.After, e.Kind, st, err, stored)
	}

	at := time.Date(2025, 6, 10, 9, 30, 0, 0, time.UTC)
	call := crmclient.CallEventRequest{Event: crmclient.CallStarted, CallID: "a84b4c76e66710@pc33.example.jp",
		Direction: crmclient.Inbound, Number: "03-1234-5678", CustomerID: "42", At: at}
	ack, err := agent.PostCallEvent(ctx, call)
	if err != nil || ack.Duplicate || ack.EventID <= e.ID {
		t.Fatalf("PostCallEvent = %+v, %v", ack, err)
	}
	again, err := agent.PostCallEvent(ctx, call) // a retry
	if err != nil || !again.Duplicate || again.EventID != ack.EventID {
		t.Fatalf("repeated PostCallEvent = %+v, %v; want duplicate of %d", again, err, ack.EventID)
	}
	call.Event, call.Number = crmclient.CallEnded, "anonymous"
	end, err := agent.PostCallEvent(ctx, call)
	if err != nil {
		t.Fatal(err)
	}

	e = tap.nextKind(t, 5*time.Second)
	c, err := e.Call()
	want := crmclient.CallEvent{Agent: "agent1", CallID: call.CallID, Direction: crmclient.Inbound,
		Number: "+81312345678", CustomerID: "42", At: at}
	if err != nil || e.Kind != crmclient.EventCallStarted || e.ID != ack.EventID || c != want {
		t.Fatalf("event %d %s = %+v, %v; want %d %+v", e.ID, e.Kind, c, err, ack.EventID, want)
	}
	e = tap.nextKind(t, 5*time.Second) // the retry made no event of its own
	c, _ = e.Call()
	if e.Kind != crmclient.EventCallEnded || e.ID != end.EventID || c.Number != "anonymous" {
		t.Fatalf("event %d %s = %+v; want call_ended %d with the number as sent", e.ID, e.Kind, c, end.EventID)
	}
	if err := tap.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Events after cancel = %v, want context.Canceled", err)
	}
}

// TestEventStreamResume: a stream resumes after Last-Event-ID or ?after=, with
// exactly the later events, and starts at the newest event without either.
func TestEventStreamResume(t *testing.T) {
	crm := newTestCRM(t, 0)
	ctx := context.Background()
	sv := crm.client(t, "sv1")
	agent := crm.client(t, "agent1")
	states := []crmclient.AgentStateRequest{{State: crmclient.StatusReady}, {State: crmclient.StatusOnCall},
		{State: crmclient.StatusACW}, {State: crmclient.StatusNotReady, Reason: "研修"}}
	var ids []int64
	for _, s := range states {
		if _, err := agent.PutAgentState(ctx, s); err != nil {
			t.Fatal(err)
		}
		evs, err := crm.st.eventsAfter(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, evs[len(evs)-1].id)
	}

	tap := tapEvents(t, false, sv, ids[1]) // sent as Last-Event-ID
	if r := tap.ready(t); r.After != ids[1] {
		t.Errorf("ready after %d, want %d", r.After, ids[1])
	}
	for i, want := range ids[2:] {
		e := tap.nextKind(t, 5*time.Second)
		st, _ := e.AgentState()
		if e.ID != want || st.State != states[i+2].State {
			t.Errorf("resumed event %d: %d %s, want %d %s", i, e.ID, st.State, want, states[i+2].State)
		}
	}
	tap.stop(t)

	// ?after= (EventSource's first connection has no header), and the header
	// winning over it.
	for _, tc := range []struct {
		query, header string
		first         int64
	}{{"?after=0", "", ids[0]}, {"?after=0", "2", 3}, {"", "", 0}} {
		lines := rawStream(t, crm, sv.Token(), tc.query, tc.header, 400*time.Millisecond)
		got := int64(0)
		for _, l := range lines {
			if id, ok := strings.CutPrefix(l, "id: "); ok {
				got = parseEventID(t, id)
				break
			}
		}
		if got != tc.first {
			t.Errorf("query %q Last-Event-ID %q: first id %d, want %d\n%s", tc.query, tc.header, got, tc.first, strings.Join(lines, "\n"))
		}
	}

	status, _, eb := rawCall(t, crm, "GET", "/v1/events?after=-1", "Bearer "+sv.Token(), "", nil)
	if status != 400 || !strings.Contains(eb.Error.Message, "after") {
		t.Errorf("after=-1: %d %+v", status, eb)
	}
}

func parseEventID(t *testing.T, s string) int64 {
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("event id %q", s)
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// rawStream reads GET /v1/events as an EventSource would, for d, and returns its
// lines.
func rawStream(t *testing.T, crm *testCRM, token, query, lastID string, d time.Duration) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", crm.srv.URL+"/v1/events"+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := crm.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" ||
		resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET /v1/events: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// TestEventStreamHeartbeat: a quiet stream sends a comment at the configured
// interval, and says so in its ready message.
func TestEventStreamHeartbeat(t *testing.T) {
	crm := newTestCRMWith(t, 0, []HandlerOption{WithEventHeartbeat(50 * time.Millisecond)})
	sv := crm.client(t, "sv1")
	lines := rawStream(t, crm, sv.Token(), "", "", 500*time.Millisecond)
	if len(lines) < 3 || lines[0] != "event: ready" || lines[1] != `data: {"after":0,"heartbeat_ms":50}` || lines[2] != "" {
		t.Fatalf("stream does not open with ready: %q", lines)
	}
	beats := 0
	for _, l := range lines {
		if l == ": heartbeat" {
			beats++
		}
	}
	if beats < 4 || beats > 11 {
		t.Errorf("%d heartbeats in 500 ms at 50 ms", beats)
	}
}

// TestEventStreamAgentsRefused: agents may not watch the floor or hand out grants,
// and FollowEvents gives up on a refusal instead of retrying for ever.
func TestEventStreamAgentsRefused(t *testing.T) {
	crm := newTestCRM(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	agent := crm.client(t, "agent1")
	noop := func(crmclient.Event) error { return nil }
	if err := agent.Events(ctx, 0, noop); !errors.Is(err, crmclient.ErrForbidden) {
		t.Errorf("agent Events = %v, want ErrForbidden", err)
	}
	if err := agent.FollowEvents(ctx, 0, noop); !errors.Is(err, crmclient.ErrForbidden) || ctx.Err() != nil {
		t.Errorf("agent FollowEvents = %v (ctx %v), want ErrForbidden at once", err, ctx.Err())
	}
	_, err := agent.CreateMonitorGrant(ctx, crmclient.GrantRequest{Agent: "agent2", CallID: "x@y", Mode: crmclient.MonitorListen})
	if !errors.Is(err, crmclient.ErrForbidden) {
		t.Errorf("agent CreateMonitorGrant = %v, want ErrForbidden", err)
	}
	anon, _ := crmclient.New(crm.srv.URL, crmclient.WithHTTPClient(crm.srv.Client()))
	if err := anon.FollowEvents(ctx, 0, noop); !errors.Is(err, crmclient.ErrUnauthorized) {
		t.Errorf("anonymous FollowEvents = %v, want ErrUnauthorized", err)
	}
}

// TestEventStreamEndsOnShutdown: http.Server.Shutdown does not wait for open
// streams: they end at once and the client reports the CRM gone.
func TestEventStreamEndsOnShutdown(t *testing.T) {
	crm := newTestCRM(t, 0)
	srv, url := serveReal(t, crm.st.Handler())
	sv := loginAt(t, url, "sv1", "")
	tap := tapEvents(t, false, sv, crmclient.EventsFromNow)
	tap.ready(t)
	tap2 := tapEvents(t, false, loginAt(t, url, "sv1", ""), crmclient.EventsFromNow) // two streams, one hook
	tap2.ready(t)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v after %v", err, time.Since(start))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Shutdown took %v with open streams", d)
	}
	for _, tp := range []*eventTap{tap, tap2} {
		select {
		case err := <-tp.done:
			tp.done <- err
			if !errors.Is(err, crmclient.ErrUnavailable) {
				t.Errorf("Events after shutdown = %v, want ErrUnavailable", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the client did not notice the shutdown")
		}
	}
}

// TestEventStreamOutlivesServerTimeouts: the http.Server's ReadTimeout and
// WriteTimeout, meant for ordinary requests, do not cut a stream.
func TestEventStreamOutlivesServerTimeouts(t *testing.T) {
	crm := newTestCRM(t, 0)
	h := crm.st.Handler(WithEventHeartbeat(50 * time.Millisecond))
	_, url := serveReal(t, h, func(srv *http.Server) {
		srv.ReadTimeout, srv.WriteTimeout = 200*time.Millisecond, 300*time.Millisecond
	})
	sv := loginAt(t, url, "sv1", "")
	tap := tapEvents(t, false, sv, crmclient.EventsFromNow)
	tap.ready(t)
	time.Sleep(time.Second)
	agent := loginAt(t, url, "agent1", "")
	if _, err := agent.PutAgentState(context.Background(), crmclient.AgentStateRequest{State: crmclient.StatusReady}); err != nil {
		t.Fatal(err)
	}
	if e := tap.nextKind(t, 5*time.Second); e.Kind != crmclient.EventAgentState {
		t.Errorf("after 1 s: %s", e.Kind)
	}
}

// TestEventStreamPollsTheTable: an event written by another process (no
// in-process wake-up) still reaches the stream, within the poll interval.
func TestEventStreamPollsTheTable(t *testing.T) {
	crm := newTestCRM(t, 0)
	sv := crm.client(t, "sv1")
	tap := tapEvents(t, false, sv, crmclient.EventsFromNow)
	tap.ready(t)
	ctx := context.Background()
	start := time.Now()
	err := crm.st.inTx(ctx, func(tx *tx) error { // what another server's SetAgentState writes, without our bell
		_, _, err := crm.st.appendEvent(ctx, tx, crmclient.EventAgentState, "agent2",
			"", crmclient.AgentState{User: "agent2", DisplayName: "鈴木 一郎", State: crmclient.StatusReady, Since: seedNow})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e := tap.nextKind(t, 5*time.Second)
	if st, _ := e.AgentState(); st.User != "agent2" {
		t.Errorf("event %+v", st)
	}
	if d := time.Since(start); d > defaultEventPoll+time.Second {
		t.Errorf("polled event took %v", d)
	}
}

// BenchmarkEventLatency: from an agent's PUT /v1/me/state to the event arriving
// on a supervisor's stream, over real HTTP.
func BenchmarkEventLatency(b *testing.B) {
	crm := newTestCRM(b, 0)
	sv := crm.client(b, "sv1")
	agent := crm.client(b, "agent1")
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan crmclient.Event, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = sv.Events(ctx, crmclient.EventsFromNow, func(e crmclient.Event) error { ch <- e; return nil })
	}()
	defer func() { cancel(); <-done }()
	<-ch // ready
	states := []crmclient.Status{crmclient.StatusReady, crmclient.StatusOnCall}
	for i := 0; b.Loop(); i++ {
		if _, err := agent.PutAgentState(ctx, crmclient.AgentStateRequest{State: states[i%2]}); err != nil {
			b.Fatal(err)
		}
		<-ch
	}
}
