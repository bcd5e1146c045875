package crmserver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// BenchmarkWallboard measures GET /v1/wallboard end to end (crmclient over HTTP
// on loopback) at 18:00 on a full day of a 50-agent center: about 20 000 events
// (each operator's ~65 calls with states, ACW, counters, some missed and
// abandoned calls, breaks), a disposition per call and a few callbacks. Run it
// on both databases (OPDESK_TEST_DB=postgres).
func BenchmarkWallboard(b *testing.B) {
	day := time.Date(2025, 6, 10, 0, 0, 0, 0, tokyo)
	clk := newClock(day.Add(8 * time.Hour))
	crm := newTestCRM(b, 0, WithClock(clk.Now))
	st := crm.st
	ctx := context.Background()
	mustCampaign(b, st, testCampaign("calls"))
	const agents = 50
	for i := range agents {
		if _, err := st.CreateUser(ctx, NewUser{Name: fmt.Sprintf("op%02d", i), Role: crmclient.RoleAgent,
			Password: "bench-password", Campaigns: []string{"calls"}}); err != nil {
			b.Fatal(err)
		}
	}
	n := seedWallboardDay(b, crm, clk, day, agents)
	clk.Set(day.Add(18 * time.Hour))
	sv := crm.client(b, "sv1")

	b.ReportAllocs()
	for b.Loop() {
		wb, err := sv.Wallboard(ctx, "2025-06-10", 0)
		if err != nil || wb.Team.Handled < 3000 {
			b.Fatalf("wallboard: %+v, %v", wb.Team, err)
		}
	}
	b.ReportMetric(float64(n), "events")
}

// seedWallboardDay writes a day of events for op00…op(agents-1) straight into
// the store, in time order as the CRM would have stored them, and returns how
// many.
func seedWallboardDay(b *testing.B, crm *testCRM, clk *testClock, day time.Time, agents int) int {
	b.Helper()
	type ev struct {
		at      time.Time
		kind    crmclient.EventKind
		agent   string
		ref     string
		payload any
	}
	r := rand.New(rand.NewPCG(5, 8))
	var evs []ev
	var disps [][]any
	for i := range agents {
		name := fmt.Sprintf("op%02d", i)
		state := func(at time.Time, s crmclient.Status, reason string) {
			evs = append(evs, ev{at, crmclient.EventAgentState, name, "",
				crmclient.AgentState{User: name, DisplayName: name, State: s, Reason: reason, Since: at.UTC()}})
		}
		call := func(at time.Time, kind crmclient.EventKind, id string, dir crmclient.Direction, abandoned bool) {
			evs = append(evs, ev{at, kind, name, id, crmclient.CallEvent{Agent: name, CallID: id, Direction: dir,
				Number: "+81312345678", At: at.UTC(), Abandoned: abandoned}})
		}
		t := day.Add(9*time.Hour + time.Duration(r.IntN(600))*time.Second)
		state(t, crmclient.StatusReady, "")
		calls, dialed, connected := 0, 0, 0
		for t.Before(day.Add(18 * time.Hour)) {
			t = t.Add(time.Duration(20+r.IntN(60)) * time.Second)
			id := fmt.Sprintf("%s-%d@pbx.example.jp", name, calls)
			dir := crmclient.Inbound
			if i%2 == 1 {
				dir = crmclient.Outbound
			}
			calls++
			if r.IntN(20) == 0 { // rang unanswered
				call(t, crmclient.EventCallMissed, id, dir, r.IntN(2) == 0)
				continue
			}
			call(t, crmclient.EventCallStarted, id, dir, false)
			state(t, crmclient.StatusOnCall, "")
			t = t.Add(time.Duration(120+r.IntN(300)) * time.Second)
			call(t, crmclient.EventCallEnded, id, dir, false)
			state(t, crmclient.StatusACW, "")
			disps = append(disps, []any{name, t.Add(-3 * time.Minute).Unix(), []string{"sale", "no", "no", "no"}[r.IntN(4)]})
			t = t.Add(time.Duration(30+r.IntN(90)) * time.Second)
			dialed++
			connected++
			evs = append(evs, ev{t, crmclient.EventCounters, name, "", crmclient.AgentCounters{Agent: name, CampaignID: "calls",
				Day: "2025-06-10", Dialed: dialed, Connected: connected, UpdatedAt: t.UTC()}})
			if r.IntN(15) == 0 {
				state(t, crmclient.StatusNotReady, "休憩")
				t = t.Add(10 * time.Minute)
			}
			state(t, crmclient.StatusReady, "")
		}
		state(t, crmclient.StatusNotReady, "offline")
	}
	slices.SortStableFunc(evs, func(a, b ev) int { return a.at.Compare(b.at) })

	st := crm.st
	ctx := context.Background()
	err := st.inTx(ctx, func(tx *tx) error {
		for _, e := range evs {
			clk.Set(e.at) // the time it is stored at
			if _, _, err := st.appendEvent(ctx, tx, e.kind, e.agent, e.ref, e.payload); err != nil {
				return err
			}
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO dispositions (campaign_id, direction, agent, started_at,
			duration_s, code, created_at) VALUES ('calls', 'outbound', ?, ?, 180, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, d := range disps {
			if _, err := ins.ExecContext(ctx, append(d, d[1])...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for i := range agents {
		// A personal callback for every operator, due in the morning: missed.
		in := crmclient.DispositionInput{CampaignID: "calls", Code: "later", StartedAt: day.Add(9 * time.Hour),
			Phone: testPhone(i), CallbackAt: ptr(day.Add(10 * time.Hour)), CallbackScope: crmclient.CallbackPersonal}
		u := crmclient.User{Name: fmt.Sprintf("op%02d", i), Role: crmclient.RoleAgent, Campaigns: []string{"calls"}}
		if _, err := st.Dispose(ctx, u, newKey(), in); err != nil {
			b.Fatal(err)
		}
	}
	return len(evs)
}
