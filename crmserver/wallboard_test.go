package crmserver

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// tokyo is the wallboard's default zone.
var tokyo = func() *time.Location {
	l, err := crmclient.LoadZone("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	return l
}()

// wbAt is h:m:s on 2025-06-10 in Tokyo (the day under test); negative hours
// are on the day before.
func wbAt(h, m, s int) time.Time { return time.Date(2025, 6, 10, h, m, s, 0, tokyo) }

// wbFloor drives a hand-built day: each step sets the CRM's clock, then acts.
type wbFloor struct {
	t   *testing.T
	crm *testCRM
	clk *testClock
}

func (f *wbFloor) state(cl *crmclient.Client, at time.Time, st crmclient.Status, reason string) {
	f.t.Helper()
	f.clk.Set(at)
	if _, err := cl.PutAgentState(context.Background(), crmclient.AgentStateRequest{State: st, Reason: reason}); err != nil {
		f.t.Fatalf("state %s at %v: %v", st, at, err)
	}
}

func (f *wbFloor) call(cl *crmclient.Client, at time.Time, phase crmclient.CallPhase, id string, dir crmclient.Direction, abandoned bool) {
	f.t.Helper()
	f.clk.Set(at)
	if _, err := cl.PostCallEvent(context.Background(), crmclient.CallEventRequest{Event: phase, CallID: id + "@pc33.example.jp",
		Direction: dir, Number: "03-1234-5678", At: at, Abandoned: abandoned}); err != nil {
		f.t.Fatalf("call %s %s at %v: %v", id, phase, at, err)
	}
}

func (f *wbFloor) dispose(cl *crmclient.Client, in crmclient.DispositionInput) {
	f.t.Helper()
	if _, err := cl.Dispose(context.Background(), newKey(), in); err != nil {
		f.t.Fatalf("dispose %s %s: %v", in.CampaignID, in.Code, err)
	}
}

// newWallboardFloor is a CRM whose clock stands at 09:00 on the day before the
// day under test, with an inbound campaign "desk" (result order: success), two
// outbound ones "calls" and "calls2" (testCampaign), and three more agents: ann
// (desk), bo (desk, calls, calls2) and ken (no campaign, never logs in), beside
// the seeded agent1, agent2 and supervisor sv1.
func newWallboardFloor(t *testing.T) (f *wbFloor, ann, bo, sv *crmclient.Client) {
	clk := newClock(wbAt(-15, 0, 0))
	crm := newTestCRM(t, 0, WithClock(clk.Now), WithTokenTTL(72*time.Hour)) // the logins last the two days
	mustCampaign(t, crm.st, crmclient.Campaign{ID: "desk", Name: "受付", Direction: crmclient.Inbound,
		Disposition: crmclient.DispositionSchema{Results: []crmclient.ResultCode{
			{Code: "order", Label: "Order", LabelJA: "注文", Flags: []crmclient.ResultFlag{crmclient.FlagSuccess}},
			{Code: "faq", Label: "Question", LabelJA: "問い合わせ"},
		}}})
	mustCampaign(t, crm.st, testCampaign("calls"))
	mustCampaign(t, crm.st, testCampaign("calls2"))
	ann, bo = addAgent(t, crm, "ann", "desk"), addAgent(t, crm, "bo", "desk", "calls", "calls2")
	addAgent(t, crm, "ken")
	return &wbFloor{t: t, crm: crm, clk: clk}, ann, bo, crm.client(t, "sv1")
}

// TestWallboard: a hand-built day of two operators — states across midnight,
// inbound calls answered, one rung out at one desk and answered at another, one
// abandoned, outbound calls, a call never announced ended, after-call work,
// dispositions with and without success, counters in two campaigns and
// callbacks missed or not yet — gives exactly the figures worked out by hand,
// for today and for the day before.
func TestWallboard(t *testing.T) {
	f, ann, bo, sv := newWallboardFloor(t)
	ctx := context.Background()
	const (
		in  = crmclient.Inbound
		out = crmclient.Outbound
	)
	started, ended, missed := crmclient.CallStarted, crmclient.CallEnded, crmclient.CallMissed

	// The day before: bo logs in late and makes a call that runs past midnight.
	f.state(bo, wbAt(-1, 30, 0), crmclient.StatusReady, "")
	f.call(bo, wbAt(-1, 50, 0), started, "P", out, false)
	f.call(bo, wbAt(0, 10, 0), ended, "P", out, false)
	f.state(bo, wbAt(0, 30, 0), crmclient.StatusNotReady, "offline")

	f.clk.Set(wbAt(9, 0, 0))
	if _, err := ann.PutAgentState(ctx, crmclient.AgentStateRequest{State: crmclient.StatusReady,
		SIPURI: "sip:ann@pbx.example.com"}); err != nil {
		t.Fatal(err)
	}
	f.state(bo, wbAt(9, 0, 0), crmclient.StatusReady, "")
	f.call(ann, wbAt(9, 10, 0), started, "A1", in, false)
	f.state(ann, wbAt(9, 10, 0), crmclient.StatusOnCall, "")
	f.call(ann, wbAt(9, 15, 0), ended, "A1", in, false)
	f.state(ann, wbAt(9, 15, 0), crmclient.StatusACW, "")
	f.state(ann, wbAt(9, 17, 0), crmclient.StatusReady, "")
	f.call(ann, wbAt(9, 20, 0), missed, "X", in, false)  // rang out at ann's desk…
	f.call(bo, wbAt(9, 20, 30), started, "X", in, false) // …and bo took it
	f.state(bo, wbAt(9, 20, 30), crmclient.StatusOnCall, "")
	f.call(bo, wbAt(9, 26, 30), ended, "X", in, false)
	f.state(bo, wbAt(9, 26, 30), crmclient.StatusACW, "")
	f.state(bo, wbAt(9, 30, 0), crmclient.StatusReady, "")
	f.call(ann, wbAt(9, 40, 0), missed, "Y", in, true)  // the caller hung up
	f.call(sv, wbAt(9, 45, 0), started, "S", in, false) // a supervisor's call counts nowhere
	f.state(sv, wbAt(9, 45, 0), crmclient.StatusOnCall, "")
	f.state(ann, wbAt(10, 0, 0), crmclient.StatusNotReady, "休憩")
	f.call(bo, wbAt(10, 0, 0), started, "O1", out, false)
	f.state(bo, wbAt(10, 0, 0), crmclient.StatusOnCall, "")
	f.call(bo, wbAt(10, 4, 0), ended, "O1", out, false)
	f.state(bo, wbAt(10, 4, 0), crmclient.StatusACW, "")
	f.state(bo, wbAt(10, 5, 0), crmclient.StatusReady, "")
	f.call(bo, wbAt(10, 10, 0), started, "O2", out, false) // never announced ended…
	f.state(bo, wbAt(10, 10, 0), crmclient.StatusOnCall, "")
	f.state(bo, wbAt(10, 20, 0), crmclient.StatusNotReady, "offline") // …over when bo logs out
	f.state(ann, wbAt(10, 30, 0), crmclient.StatusReady, "")
	f.call(ann, wbAt(11, 50, 0), started, "A2", in, false) // still going at noon
	f.state(ann, wbAt(11, 50, 0), crmclient.StatusOnCall, "")

	f.clk.Set(wbAt(12, 0, 0))
	disp := func(campaign, code string, at time.Time) crmclient.DispositionInput {
		return crmclient.DispositionInput{CampaignID: campaign, Code: code, StartedAt: at, DurationSeconds: 60,
			Phone: testPhone(int(at.Unix() % 1000))}
	}
	f.dispose(ann, disp("desk", "order", wbAt(9, 10, 0)))
	f.dispose(bo, disp("desk", "faq", wbAt(9, 20, 30)))
	sale := disp("calls", "sale", wbAt(10, 0, 0))
	sale.Fields = map[string]any{"plan": "毎月"}
	f.dispose(bo, sale)
	sale.StartedAt, sale.Phone = wbAt(-1, 50, 0), testPhone(900) // the day before's call
	f.dispose(bo, sale)
	for i, cb := range []struct {
		due   time.Time
		scope crmclient.CallbackScope
	}{
		{wbAt(10, 30, 0), crmclient.CallbackPersonal}, // missed: bo's
		{wbAt(11, 0, 0), crmclient.CallbackTeam},      // missed: the team's
		{wbAt(11, 50, 0), crmclient.CallbackPersonal}, // 10 minutes late: not yet missed
	} {
		in := disp("calls2", "later", wbAt(10, 6, 0))
		in.Phone, in.CallbackAt, in.CallbackScope = testPhone(100+i), &cb.due, cb.scope
		f.dispose(bo, in)
	}
	for _, c := range []crmclient.AgentCounters{
		{CampaignID: "calls", Day: "2025-06-10", Dialed: 10, Connected: 4, Conversions: 1},
		{CampaignID: "calls2", Day: "2025-06-10", Dialed: 5, Connected: 1},
		{CampaignID: "calls", Day: "2025-06-09", Dialed: 3, Connected: 1},
	} {
		if _, err := bo.PutCounters(ctx, c); err != nil {
			t.Fatal(err)
		}
	}

	wb, err := sv.Wallboard(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if wb.Day != "2025-06-10" || wb.TimeZone != "Asia/Tokyo" || !wb.GeneratedAt.Equal(wbAt(12, 0, 0)) {
		t.Errorf("wallboard of %s in %s at %v", wb.Day, wb.TimeZone, wb.GeneratedAt)
	}
	var names []string
	for _, a := range wb.Agents {
		names = append(names, a.Agent)
	}
	if strings.Join(names, " ") != "agent1 agent2 ann bo ken" {
		t.Fatalf("agents %v; want every agent by name, no supervisor", names)
	}
	zero := func(i int) crmclient.AgentFigures {
		a := wb.Agents[i]
		return crmclient.AgentFigures{Agent: a.Agent, DisplayName: a.DisplayName, State: a.State}
	}
	for _, i := range []int{0, 1, 4} {
		if wb.Agents[i] != zero(i) || wb.Agents[i].State.State != crmclient.StatusNotReady {
			t.Errorf("%s, who never logged in: %+v", wb.Agents[i].Agent, wb.Agents[i])
		}
	}

	a := wb.Agents[2]
	wantCall := crmclient.CallEvent{Agent: "ann", CallID: "A2@pc33.example.jp", Direction: in, Number: "+81312345678",
		At: wbAt(11, 50, 0).UTC()}
	if a.Call == nil || *a.Call != wantCall {
		t.Errorf("ann's call in progress = %+v; want %+v", a.Call, wantCall)
	}
	if a.State.State != crmclient.StatusOnCall || a.State.SIPURI != "sip:ann@pbx.example.com" || a.DisplayName != "担当 ann" {
		t.Errorf("ann's state = %+v, %q", a.State, a.DisplayName)
	}
	a.Call, a.State = nil, crmclient.AgentState{}
	// ann: 9:00–12:00 logged in, 30 min of it on a break; calls A1 (5 min, 2 min
	// of ACW) and A2 (10 min so far).
	wantAnn := crmclient.AgentFigures{Agent: "ann", DisplayName: "担当 ann", Handled: 2, TalkSeconds: 900, ACWSeconds: 120,
		AHTSeconds: 510, Conversions: 1, StaffedSeconds: 3 * 3600}
	if a != wantAnn {
		t.Errorf("ann = %+v\nwant %+v", a, wantAnn)
	}
	b := wb.Agents[3]
	if b.Call != nil || b.State.State != crmclient.StatusNotReady || b.State.Reason != "offline" {
		t.Errorf("bo, logged out: call %+v, state %+v", b.Call, b.State)
	}
	b.State = crmclient.AgentState{}
	// bo: ready from the day before until 00:30 (30 min), then 9:00–10:20;
	// calls X (6 min + 3.5 min ACW), O1 (4 min + 1 min ACW) and O2 (10 min,
	// ended by logging out); P started the day before.
	wantBo := crmclient.AgentFigures{Agent: "bo", DisplayName: "担当 bo", Handled: 3, TalkSeconds: 1200, ACWSeconds: 270,
		AHTSeconds: 490, Conversions: 1, Dialed: 15, Connected: 5, StaffedSeconds: 1800 + 80*60, MissedCallbacks: 1}
	if b != wantBo {
		t.Errorf("bo = %+v\nwant %+v", b, wantBo)
	}

	// Offered: A1, X (once, though it rang at two desks), Y, A2; S was a
	// supervisor's. Available time: all of bo's staffed time, ann's but the break.
	wantTeam := crmclient.TeamFigures{Offered: 4, Answered: 3, Abandoned: 1, Handled: 5, AnswerRate: 0.75, AbandonRate: 0.25,
		AHTSeconds: 498, Occupancy: 2490.0 / (9000 + 6600), CallsPerHour: 5 * 3600.0 / (10800 + 6600), ContactRate: 5.0 / 15,
		Conversion: 2.0 / 5, MissedCallbacks: 2}
	if wb.Team != wantTeam {
		t.Errorf("team = %+v\nwant %+v", wb.Team, wantTeam)
	}

	// Intervals: from 00:00 (P's end is the day's first event) to noon.
	if len(wb.Intervals) != 48 || !wb.Intervals[0].Start.Equal(wbAt(0, 0, 0)) || !wb.Intervals[47].Start.Equal(wbAt(11, 45, 0)) {
		t.Fatalf("%d intervals from %v", len(wb.Intervals), wb.Intervals[0].Start)
	}
	busy := map[string]crmclient.IntervalCount{}
	for _, iv := range wb.Intervals {
		if iv.Offered+iv.Handled > 0 {
			busy[iv.Start.In(tokyo).Format("15:04")] = iv
		}
	}
	want := map[string][2]int{"09:00": {1, 1}, "09:15": {1, 1}, "09:30": {1, 0}, "10:00": {0, 2}, "11:45": {1, 1}}
	if len(busy) != len(want) {
		t.Errorf("busy intervals %v; want %v", busy, want)
	}
	for k, w := range want {
		if iv := busy[k]; iv.Offered != w[0] || iv.Handled != w[1] {
			t.Errorf("interval %s = %+v; want offered %d, handled %d", k, iv, w[0], w[1])
		}
	}

	// The day before, hourly: bo's half hour and the call that ran past
	// midnight, whose talk time counts whole on the day it started. The
	// callbacks were due the next day, so none is missed on this one.
	prev, err := sv.Wallboard(ctx, "2025-06-09", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b = prev.Agents[3]
	b.State = crmclient.AgentState{}
	wantBo = crmclient.AgentFigures{Agent: "bo", DisplayName: "担当 bo", Handled: 1, TalkSeconds: 1200, AHTSeconds: 1200,
		Conversions: 1, Dialed: 3, Connected: 1, StaffedSeconds: 1800}
	if b != wantBo || prev.Agents[2].Handled != 0 || prev.Agents[2].StaffedSeconds != 0 {
		t.Errorf("bo the day before = %+v\nwant %+v; ann %+v", b, wantBo, prev.Agents[2])
	}
	wantTeam = crmclient.TeamFigures{Handled: 1, AHTSeconds: 1200, Occupancy: 1200.0 / 1800, CallsPerHour: 2, ContactRate: 1.0 / 3,
		Conversion: 1}
	if prev.Team != wantTeam {
		t.Errorf("team the day before = %+v\nwant %+v", prev.Team, wantTeam)
	}
	if len(prev.Intervals) != 1 || !prev.Intervals[0].Start.Equal(wbAt(-1, 0, 0)) || prev.Intervals[0].Handled != 1 {
		t.Errorf("intervals the day before = %+v; want one from 23:00 with the call", prev.Intervals)
	}

	// A day with nothing yet: zeros and no intervals, not an error.
	next, err := sv.Wallboard(ctx, "2025-06-11", 0)
	if err != nil || len(next.Intervals) != 0 || next.Intervals == nil || next.Team.Handled != 0 || next.Agents[2].Call != nil {
		t.Errorf("tomorrow = %+v, %v", next, err)
	}
}

// TestWallboardZone: WithTimeZone moves the day's bounds.
func TestWallboardZone(t *testing.T) {
	utc := time.UTC
	clk := newClock(time.Date(2025, 6, 10, 1, 0, 0, 0, utc)) // 10:00 in Tokyo, 01:00 in UTC
	crm := newTestCRMWith(t, 0, []HandlerOption{WithTimeZone(utc)}, WithClock(clk.Now))
	agent := crm.client(t, "agent1")
	if _, err := agent.PutAgentState(context.Background(), crmclient.AgentStateRequest{State: crmclient.StatusReady}); err != nil {
		t.Fatal(err)
	}
	clk.Add(30 * time.Minute)
	wb, err := crm.client(t, "sv1").Wallboard(context.Background(), "", 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if wb.Day != "2025-06-10" || wb.TimeZone != "UTC" || wb.Agents[0].StaffedSeconds != 1800 ||
		len(wb.Intervals) != 1 || !wb.Intervals[0].Start.Equal(time.Date(2025, 6, 10, 1, 0, 0, 0, utc)) {
		t.Errorf("wallboard in UTC = %+v", wb)
	}
}

// TestWallboardRefusals: supervisors only; the day and interval are checked.
func TestWallboardRefusals(t *testing.T) {
	crm := newTestCRM(t, 0)
	ctx := context.Background()
	if _, err := crm.client(t, "agent1").Wallboard(ctx, "", 0); !errors.Is(err, crmclient.ErrForbidden) {
		t.Errorf("an agent's wallboard: %v; want ErrForbidden", err)
	}
	bearer := "Bearer " + crm.client(t, "sv1").Token()
	for _, tc := range []struct{ query, msg string }{
		{"?day=10/06/2025", "day must be a date such as 2025-06-18"},
		{"?interval=4", "interval must be a whole number of minutes from 5 to 60"},
		{"?interval=61", "from 5 to 60"},
		{"?interval=15m", "from 5 to 60"},
		{"?day=2025-06-10;x", "malformed query string"},
	} {
		status, _, eb := rawCall(t, crm, "GET", "/v1/wallboard"+tc.query, bearer, "", nil)
		if status != http.StatusBadRequest || eb.Error.Code != crmclient.CodeInvalidRequest || !strings.Contains(eb.Error.Message, tc.msg) {
			t.Errorf("%s: %d %+v; want 400 %q", tc.query, status, eb, tc.msg)
		}
	}
	if _, err := crm.st.Wallboard(ctx, "", 90*time.Second, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Store.Wallboard with 90 s intervals: %v", err)
	}
}
