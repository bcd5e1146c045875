package crmserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// TestCampaignAccess: agents see and touch only their campaigns, on every route;
// supervisors see all.
func TestCampaignAccess(t *testing.T) {
	crm := newTestCRM(t, 200, WithClock(newClock(seedNow).Now))
	ctx := context.Background()
	agent1, agent2, sv := crm.client(t, "agent1"), crm.client(t, "agent2"), crm.client(t, "sv1")

	ids := func(cs []crmclient.Campaign) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tt := range []struct {
		cl   *crmclient.Client
		want []string
	}{{agent1, []string{"inbound"}}, {agent2, []string{"inbound", "renewal"}}, {sv, []string{"inbound", "renewal"}}} {
		list, err := tt.cl.Campaigns(ctx)
		if err != nil || !slices.Equal(ids(list), tt.want) {
			t.Errorf("Campaigns = %v, %v; want %v", ids(list), err, tt.want)
		}
	}

	c, err := agent2.Campaign(ctx, "renewal")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "定期便 乗り換えキャンペーン" || c.Direction != crmclient.Outbound || c.Window.String() != "09:00–21:00 Asia/Tokyo" ||
		c.Retry.MaxAttempts != 3 || c.Retry.DelaySeconds[crmclient.OutcomeNoAnswer] != 7200 ||
		c.Retry.DelaySeconds[crmclient.OutcomeBusy] != 900 || len(c.Retry.DelaySeconds) != 2 {
		t.Errorf("renewal = %+v", c)
	}
	if r, ok := c.Disposition.Result("refused"); !ok || !r.Has(crmclient.FlagRefusedNeverCall) || r.LabelJA != "今後の勧誘お断り" {
		t.Errorf("renewal has no refused_never_call result: %+v", c.Disposition.Results)
	}

	lead, err := agent2.NextLead(ctx, "renewal")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := func(what string, err error) {
		t.Helper()
		status, code, msg := apiCode(err)
		if status != 403 || code != crmclient.CodeForbidden || msg != "you are not assigned to campaign renewal" {
			t.Errorf("%s: %d %s %q; want 403 forbidden naming the campaign", what, status, code, msg)
		}
	}
	_, err = agent1.Campaign(ctx, "renewal")
	forbidden("GET campaign", err)
	_, err = agent1.NextLead(ctx, "renewal")
	forbidden("next lead", err)
	_, err = agent1.ReleaseLead(ctx, lead.ID, "")
	forbidden("release", err)
	_, err = agent1.RecordAttempt(ctx, newKey(), lead.ID, crmclient.AttemptRequest{Outcome: crmclient.OutcomeBusy})
	forbidden("attempt", err)
	_, err = agent1.Dispose(ctx, newKey(), crmclient.DispositionInput{CampaignID: "renewal", LeadID: lead.ID,
		StartedAt: seedNow, Code: "not_interested"})
	forbidden("disposition", err)
	// Unknown campaigns look the same to an agent, and are 404 to a supervisor.
	if status, _, msg := apiCode(func() error { _, err := agent1.Campaign(ctx, "secret"); return err }()); status != 403 ||
		!strings.Contains(msg, "secret") {
		t.Errorf("agent, unknown campaign: %d %q", status, msg)
	}
	if _, err := sv.Campaign(ctx, "nope"); !errors.Is(err, crmclient.ErrNotFound) {
		t.Errorf("supervisor, unknown campaign: %v", err)
	}
	if _, err := sv.NextLead(ctx, "nope"); !errors.Is(err, crmclient.ErrNotFound) || crmclient.HasCode(err, crmclient.CodeNoLeads) {
		t.Errorf("supervisor, next lead of unknown campaign: %v", err)
	}
	// The lease is agent2's: the supervisor may see the lead but not settle it.
	if _, err := sv.ReleaseLead(ctx, lead.ID, "x"); !crmclient.HasCode(err, crmclient.CodeLeaseNotHeld) {
		t.Errorf("release of someone else's lead: %v", err)
	}
	if _, err := agent2.ReleaseLead(ctx, "999999", ""); !errors.Is(err, crmclient.ErrNotFound) {
		t.Errorf("release of unknown lead: %v", err)
	}
}

// TestNextLeadConcurrent: many agents pulling at once never get the same lead,
// and every lead is handed out.
func TestNextLeadConcurrent(t *testing.T) {
	crm := newTestCRM(t, 0, WithClock(newClock(seedNow).Now))
	mustCampaign(t, crm.st, testCampaign("blitz"))
	const leads, agents = 200, 8
	want := importNumbers(t, crm.st, "blitz", 0, leads)
	clients := make([]*crmclient.Client, agents)
	for i := range clients {
		clients[i] = addAgent(t, crm, fmt.Sprintf("cc%d", i), "blitz")
	}

	var (
		mu   sync.Mutex
		got  = map[string]string{} // lead → agent
		dups []string
		wg   sync.WaitGroup
	)
	errs := make(chan error, agents)
	for i, cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for {
				l, err := cl.NextLead(ctx, "blitz")
				if crmclient.HasCode(err, crmclient.CodeNoLeads) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if prev, ok := got[l.ID]; ok {
					dups = append(dups, fmt.Sprintf("lead %s to %s and cc%d", l.ID, prev, i))
				}
				got[l.ID] = fmt.Sprintf("cc%d", i)
				mu.Unlock()
				if l.LeasedTo != fmt.Sprintf("cc%d", i) || l.LeaseUntil == nil || !l.LeaseUntil.Equal(seedNow.Add(leaseTime)) {
					errs <- fmt.Errorf("lead %s: leased to %q until %v", l.ID, l.LeasedTo, l.LeaseUntil)
					return
				}
				// invalid_number is never retried, so the lead leaves the pool.
				if _, err := cl.RecordAttempt(ctx, newKey(), l.ID, crmclient.AttemptRequest{Outcome: crmclient.OutcomeInvalidNumber}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(dups) > 0 {
		t.Fatalf("%d leads handed out twice: %v", len(dups), dups[:min(5, len(dups))])
	}
	if len(got) != leads {
		t.Errorf("%d distinct leads handed out, want %d", len(got), leads)
	}
	for _, id := range want {
		if _, ok := got[id]; !ok {
			t.Errorf("lead %s never handed out", id)
			break
		}
	}
	per := map[string]int{}
	for _, a := range got {
		per[a]++
	}
	t.Logf("leads per agent: %v", per)
}

// TestNextLeadOrder: personal callbacks, then team callbacks, then fresh leads;
// DNC numbers, leads at max attempts and leads not yet due are skipped; asking
// again while holding a lease returns the held lead.
func TestNextLeadOrder(t *testing.T) {
	clk := newClock(seedNow)
	crm := newTestCRM(t, 0, WithClock(clk.Now))
	ctx := context.Background()
	mustCampaign(t, crm.st, testCampaign("order"))
	ids := importNumbers(t, crm.st, "order", 100, 6)
	fresh, personal, team, blocked, spent, later := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]
	now := seedNow.Unix()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := crm.st.db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE leads SET status = 'callback', callback_at = ?, next_at = ?, callback_scope = 'personal', callback_agent = 'bob' WHERE id = ?`,
		now-60, now-60, personal)
	exec(`UPDATE leads SET status = 'callback', callback_at = ?, next_at = ?, callback_scope = 'team', callback_agent = 'carol' WHERE id = ?`,
		now-30, now-30, team)
	exec(`UPDATE leads SET attempts = 3 WHERE id = ?`, spent)
	exec(`UPDATE leads SET next_at = ? WHERE id = ?`, now+3600, later)
	sv := crm.client(t, "sv1")
	if _, err := sv.AddDNC(ctx, crmclient.DNCRequest{Phone: testPhone(103), Reason: "本人申告"}); err != nil {
		t.Fatal(err)
	}
	var blockedLead crmclient.Lead
	if blockedLead, _ = crm.st.Lead(ctx, blocked); blockedLead.Status != crmclient.LeadBlocked {
		t.Errorf("lead of a DNC number is %s, want dnc", blockedLead.Status)
	}

	alice, bob, carol, dave := addAgent(t, crm, "alice", "order"), addAgent(t, crm, "bob", "order"),
		addAgent(t, crm, "carol", "order"), addAgent(t, crm, "dave", "order")
	next := func(cl *crmclient.Client, want string) crmclient.Lead {
		t.Helper()
		l, err := cl.NextLead(ctx, "order")
		if err != nil || l.ID != want {
			t.Fatalf("next lead = %s, %v; want %s", l.ID, err, want)
		}
		return l
	}
	// carol's personal callbacks: none; the team's callback comes before fresh leads.
	next(carol, team)
	l := next(bob, personal)
	if l.Status != crmclient.LeadCallback || l.CallbackScope != crmclient.CallbackPersonal || l.CallbackAgent != "bob" ||
		l.CallbackAt == nil || l.CallbackAt.Unix() != now-60 || l.Phone != testPhone(101) || l.Fields == nil {
		t.Errorf("personal callback lead = %+v", l)
	}
	next(bob, personal) // still holding it: the same lead
	next(alice, fresh)
	if _, err := dave.NextLead(ctx, "order"); !crmclient.HasCode(err, crmclient.CodeNoLeads) || !errors.Is(err, crmclient.ErrNotFound) {
		t.Fatalf("dave: %v, want no_leads", err)
	}
	clk.Add(time.Hour)
	// The leases of carol, bob and alice ran out, and "later" is due: the
	// personal callback is still bob's only, so dave gets the team callback.
	next(dave, team)
	next(bob, personal)
	next(alice, fresh)
	next(carol, later)

	// A skipped lead comes back after skipDelay, not at once.
	for _, settle := range []struct {
		cl *crmclient.Client
		id string
	}{{dave, team}, {bob, personal}, {alice, fresh}} {
		if _, err := settle.cl.RecordAttempt(ctx, newKey(), settle.id, crmclient.AttemptRequest{Outcome: crmclient.OutcomeRejected}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := carol.ReleaseLead(ctx, later, "お客様都合"); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.ReleaseLead(ctx, later, ""); !crmclient.HasCode(err, crmclient.CodeLeaseNotHeld) {
		t.Errorf("second release: %v", err)
	}
	if _, err := carol.NextLead(ctx, "order"); !crmclient.HasCode(err, crmclient.CodeNoLeads) {
		t.Errorf("right after skipping: %v", err)
	}
	clk.Add(skipDelay)
	next(carol, later)
}

// TestCallingWindow: outside the campaign's hours nothing is handed out and the
// answer names the window; a lead with its own time zone follows its own hours.
func TestCallingWindow(t *testing.T) {
	night := time.Date(2025, 6, 10, 13, 30, 0, 0, time.UTC) // 22:30 in Tokyo, 14:30 in London
	clk := newClock(night)
	crm := newTestCRM(t, 0, WithClock(clk.Now))
	ctx := context.Background()
	mustCampaign(t, crm.st, testCampaign("window"))
	tokyo := importNumbers(t, crm.st, "window", 200, 1)[0]
	res, err := crm.st.ImportLeads(ctx, "window", []LeadRow{{Line: 2, Phone: testPhone(201), Fields: map[string]string{"time_zone": "Europe/London"}}})
	if err != nil || res[0].Status != LeadAdded {
		t.Fatalf("import: %+v %v", res, err)
	}
	london := res[0].LeadID
	cl := addAgent(t, crm, "nightowl", "window")

	l, err := cl.NextLead(ctx, "window")
	if err != nil || l.ID != london || l.TimeZone != "Europe/London" {
		t.Fatalf("at 22:30 Tokyo / 14:30 London: %+v, %v; want the London lead", l, err)
	}
	if _, err := cl.RecordAttempt(ctx, newKey(), london, crmclient.AttemptRequest{Outcome: crmclient.OutcomeRejected}); err != nil {
		t.Fatal(err)
	}
	_, err = cl.NextLead(ctx, "window")
	status, code, msg := apiCode(err)
	if status != http.StatusConflict || code != crmclient.CodeOutsideCallingHours ||
		!strings.Contains(msg, "calling hours are 09:00–21:00 Asia/Tokyo") || !strings.Contains(msg, "22:30") {
		t.Fatalf("at 22:30 Tokyo: %d %s %q; want 409 outside_calling_hours naming the window", status, code, msg)
	}
	for _, tt := range []struct {
		at time.Time
		ok bool
	}{
		{time.Date(2025, 6, 10, 23, 59, 0, 0, time.UTC), false}, // 08:59
		{time.Date(2025, 6, 11, 0, 0, 0, 0, time.UTC), true},    // 09:00
		{time.Date(2025, 6, 11, 12, 0, 0, 0, time.UTC), false},  // 21:00
		{time.Date(2025, 6, 11, 11, 59, 0, 0, time.UTC), true},  // 20:59
	} {
		clk.Set(tt.at)
		cl := addAgent(t, crm, fmt.Sprintf("w%d", tt.at.Unix()), "window") // a fresh agent: no lease of their own
		l, err := cl.NextLead(ctx, "window")
		if tt.ok != (err == nil) || tt.ok && l.ID != tokyo || !tt.ok && !crmclient.HasCode(err, crmclient.CodeOutsideCallingHours) {
			t.Errorf("at %s Tokyo: %s, %v", tt.at.In(tokyoZone(t)).Format("15:04"), l.ID, err)
		}
		if err == nil {
			if _, err := cl.ReleaseLead(ctx, l.ID, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Nothing waiting at all is no_leads, whatever the hour.
	mustCampaign(t, crm.st, testCampaign("empty"))
	if _, err := crm.client(t, "sv1").NextLead(ctx, "empty"); !crmclient.HasCode(err, crmclient.CodeNoLeads) {
		t.Errorf("empty campaign: %v", err)
	}
}

func tokyoZone(t *testing.T) *time.Location {
	l, err := crmclient.LoadZone("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestRetryScheduling: attempts schedule the next try by the campaign's rules,
// free the lease, stop at max attempts, go into the customer's history, and are
// idempotent.
func TestRetryScheduling(t *testing.T) {
	clk := newClock(seedNow)
	crm := newTestCRM(t, 0, WithClock(clk.Now))
	ctx := context.Background()
	mustCampaign(t, crm.st, testCampaign("retry"))
	res, err := crm.st.ImportLeads(ctx, "retry", []LeadRow{
		{Line: 1, Phone: testPhone(300), Name: "架電　太郎", NameKana: "カデン　タロウ"},
		{Line: 2, Phone: testPhone(301)},
	})
	if err != nil || res[0].Status != LeadAdded || res[1].Status != LeadAdded {
		t.Fatalf("import: %+v, %v", res, err)
	}
	id, other := res[0].LeadID, res[1].LeadID
	cl := addAgent(t, crm, "retrier", "retry")
	other2 := addAgent(t, crm, "other", "retry")

	lead, err := cl.NextLead(ctx, "retry")
	if err != nil || lead.ID != id || lead.Name != "架電　太郎" || lead.CustomerID == "" {
		t.Fatalf("next = %+v, %v", lead, err)
	}
	// other gets the second lead and gives it up for good.
	if l, err := other2.NextLead(ctx, "retry"); err != nil || l.ID != other {
		t.Fatalf("other: %+v %v", l, err)
	}
	if _, err := cl.RecordAttempt(ctx, newKey(), other, crmclient.AttemptRequest{Outcome: crmclient.OutcomeBusy}); !crmclient.HasCode(err, crmclient.CodeLeaseNotHeld) {
		t.Errorf("attempt on a colleague's lead: %v", err)
	}
	if l, err := other2.RecordAttempt(ctx, newKey(), other, crmclient.AttemptRequest{Outcome: crmclient.OutcomeUnreachable}); err != nil ||
		l.Status != crmclient.LeadFailed || l.NextAttemptAt != nil {
		t.Errorf("unreachable: %+v %v; want failed for good", l, err)
	}

	at := seedNow.Add(-time.Minute)
	key := newKey()
	l, err := cl.RecordAttempt(ctx, key, id, crmclient.AttemptRequest{Outcome: crmclient.OutcomeNoAnswer, At: at})
	if err != nil {
		t.Fatal(err)
	}
	if l.Attempts != 1 || l.Status != crmclient.LeadOpen || l.LastResult != "no_answer" || l.LeasedTo != "" ||
		l.NextAttemptAt == nil || !l.NextAttemptAt.Equal(at.Add(2*time.Hour)) || !l.LastAttemptAt.Equal(at) {
		t.Errorf("after no_answer: %+v", l)
	}
	// The same attempt again (the outbox after a lost reply) changes nothing.
	again, err := cl.RecordAttempt(ctx, key, id, crmclient.AttemptRequest{Outcome: crmclient.OutcomeNoAnswer, At: at})
	if err != nil || again.Attempts != 1 || !again.NextAttemptAt.Equal(*l.NextAttemptAt) {
		t.Errorf("repeat: %+v, %v", again, err)
	}
	_, err = cl.RecordAttempt(ctx, key, id, crmclient.AttemptRequest{Outcome: crmclient.OutcomeBusy, At: at})
	if status, code, _ := apiCode(err); status != 409 || code != crmclient.CodeIdempotencyMismatch {
		t.Errorf("same key, other body: %v", err)
	}
	// The lease is gone: another attempt without leasing again is refused.
	if _, err := cl.RecordAttempt(ctx, newKey(), id, crmclient.AttemptRequest{Outcome: crmclient.OutcomeBusy}); !crmclient.HasCode(err, crmclient.CodeLeaseNotHeld) {
		t.Errorf("attempt after the lease was freed: %v", err)
	}
	if _, err := cl.NextLead(ctx, "retry"); !crmclient.HasCode(err, crmclient.CodeNoLeads) {
		t.Errorf("before the retry time: %v", err)
	}
	clk.Set(at.Add(2 * time.Hour))
	if l, err := cl.NextLead(ctx, "retry"); err != nil || l.ID != id {
		t.Fatalf("at the retry time: %+v, %v", l, err)
	}
	l, err = cl.RecordAttempt(ctx, newKey(), id, crmclient.AttemptRequest{Outcome: crmclient.OutcomeBusy})
	if err != nil || l.Attempts != 2 || !l.NextAttemptAt.Equal(clk.Now().Add(15*time.Minute)) {
		t.Errorf("after busy: %+v, %v", l, err)
	}
	clk.Add(15 * time.Minute)
	if _, err := cl.NextLead(ctx, "retry"); err != nil {
		t.Fatal(err)
	}
	l, err = cl.RecordAttempt(ctx, newKey(), id, crmclient.AttemptRequest{Outcome: crmclient.OutcomeNoAnswer})
	if err != nil || l.Attempts != 3 || l.Status != crmclient.LeadFailed {
		t.Errorf("third attempt: %+v, %v; want failed at max attempts", l, err)
	}
	clk.Add(3 * time.Hour)
	if _, err := cl.NextLead(ctx, "retry"); !crmclient.HasCode(err, crmclient.CodeNoLeads) {
		t.Errorf("after max attempts: %v", err)
	}
	hist, err := cl.CallHistory(ctx, lead.CustomerID)
	if err != nil || len(hist) != 3 || hist[0].Disposition != "no_answer" || hist[1].Disposition != "busy" ||
		hist[0].Agent != "担当 retrier" || hist[0].Direction != crmclient.Outbound {
		t.Errorf("history = %+v, %v; want the 3 attempts", hist, err)
	}
	if _, err := cl.RecordAttempt(ctx, newKey(), id, crmclient.AttemptRequest{Outcome: "hung_up"}); err == nil {
		t.Error("unknown outcome accepted")
	}
}
