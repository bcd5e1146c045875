package crmserver

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// TestNextLeadDropsClosedHeldLead: a lead whose number goes on the DNC list, or
// that a colleague's wrap-up settles, while its agent's lease is live is not
// handed back to that agent by NextLead.
func TestNextLeadDropsClosedHeldLead(t *testing.T) {
	clk := newClock(seedNow)
	crm := newTestCRM(t, 0, WithClock(clk.Now))
	ctx := context.Background()
	mustCampaign(t, crm.st, testCampaign("held"))
	ids := importNumbers(t, crm.st, "held", 600, 3)
	sv := crm.client(t, "sv1")
	ann, ben := addAgent(t, crm, "ann", "held"), addAgent(t, crm, "ben", "held")

	l, err := ann.NextLead(ctx, "held")
	if err != nil || l.ID != ids[0] {
		t.Fatalf("first lead = %s, %v; want %s", l.ID, err, ids[0])
	}
	if _, err := sv.AddDNC(ctx, crmclient.DNCRequest{Phone: l.Phone, Reason: "本人申告"}); err != nil {
		t.Fatal(err)
	}
	if blocked, _ := crm.st.Lead(ctx, l.ID); blocked.Status != crmclient.LeadBlocked || blocked.LeasedTo != "" || blocked.LeaseUntil != nil {
		t.Errorf("lead after its number went on the DNC list: %s, leased to %q until %v; want dnc without a lease",
			blocked.Status, blocked.LeasedTo, blocked.LeaseUntil)
	}
	l, err = ann.NextLead(ctx, "held")
	if err != nil || l.ID != ids[1] {
		t.Fatalf("after DNC: next lead = %s, %v; want the next one, %s", l.ID, err, ids[1])
	}
	// A late attempt on the DNC'd lead (through the outbox) finds no lease.
	if _, err := ann.RecordAttempt(ctx, newKey(), ids[0], crmclient.AttemptRequest{Outcome: crmclient.OutcomeBusy}); !crmclient.HasCode(err, crmclient.CodeLeaseNotHeld) {
		t.Errorf("attempt on the DNC'd lead: %v; want lease_not_held", err)
	}

	// ben wraps up ann's lead (a call he took on it): the lead is done, and
	// ann's live lease no longer brings it back to her.
	if _, err := ben.Dispose(ctx, newKey(), crmclient.DispositionInput{CampaignID: "held", LeadID: ids[1],
		StartedAt: seedNow, Code: "no"}); err != nil {
		t.Fatal(err)
	}
	if done, _ := crm.st.Lead(ctx, ids[1]); done.Status != crmclient.LeadDone || done.LeasedTo != "ann" {
		t.Fatalf("settled lead = %s leased to %q; want done, ann's lease left alone", done.Status, done.LeasedTo)
	}
	l, err = ann.NextLead(ctx, "held")
	if err != nil || l.ID != ids[2] {
		t.Fatalf("after a colleague's wrap-up: next lead = %s, %v; want %s", l.ID, err, ids[2])
	}
	if _, err := sv.AddDNC(ctx, crmclient.DNCRequest{Phone: l.Phone}); err != nil {
		t.Fatal(err)
	}
	if l, err := ann.NextLead(ctx, "held"); !crmclient.HasCode(err, crmclient.CodeNoLeads) {
		t.Errorf("everything closed: %s, %v; want no_leads", l.ID, err)
	}
}

// TestNextLeadRetryAt: no_leads and outside_calling_hours say when asking again
// can succeed — a colleague's lease running out, a retry time, a callback,
// moved to the calling window's opening — and no_leads names the time.
func TestNextLeadRetryAt(t *testing.T) {
	tokyo := tokyoZone(t)
	jst := func(d, h, m int) time.Time { return time.Date(2025, 6, d, h, m, 0, 0, tokyo) }
	clk := newClock(jst(10, 18, 0)) // seedNow
	crm := newTestCRM(t, 0, WithClock(clk.Now))
	ctx := context.Background()
	mustCampaign(t, crm.st, testCampaign("due"))
	lead := importNumbers(t, crm.st, "due", 700, 1)[0]
	pat, quinn := addAgent(t, crm, "pat", "due"), addAgent(t, crm, "quinn", "due")
	sv := crm.client(t, "sv1")

	expect := func(what string, cl *crmclient.Client, code string, want time.Time, says string) {
		t.Helper()
		_, err := cl.NextLead(ctx, "due")
		status, gotCode, msg := apiCode(err)
		at, ok := crmclient.RetryAt(err)
		switch {
		case gotCode != code:
			t.Errorf("%s: %d %s %q; want %s", what, status, gotCode, msg, code)
		case want.IsZero() && ok:
			t.Errorf("%s: retry_at %s; want none", what, at)
		case !want.IsZero() && (!ok || !at.Equal(want)):
			t.Errorf("%s: retry_at %s (%v); want %s", what, at.In(tokyo), ok, want.In(tokyo))
		case !strings.Contains(msg, says):
			t.Errorf("%s: message %q does not say %q", what, msg, says)
		}
	}

	if l, err := pat.NextLead(ctx, "due"); err != nil || l.ID != lead {
		t.Fatalf("pat: %s, %v", l.ID, err)
	}
	expect("a colleague's lease", quinn, crmclient.CodeNoLeads, jst(10, 18, 10),
		"campaign due has no lead to call now; the next is due at 18:10 Asia/Tokyo")
	if _, err := pat.RecordAttempt(ctx, newKey(), lead, crmclient.AttemptRequest{Outcome: crmclient.OutcomeBusy}); err != nil {
		t.Fatal(err)
	}
	expect("a busy retry", quinn, crmclient.CodeNoLeads, jst(10, 18, 15), "due at 18:15 Asia/Tokyo")

	// A retry that falls due after 21:00 is callable when the window opens.
	clk.Set(jst(10, 19, 30))
	if _, err := pat.NextLead(ctx, "due"); err != nil {
		t.Fatal(err)
	}
	if _, err := pat.RecordAttempt(ctx, newKey(), lead, crmclient.AttemptRequest{Outcome: crmclient.OutcomeNoAnswer}); err != nil {
		t.Fatal(err)
	}
	expect("due after hours", quinn, crmclient.CodeNoLeads, jst(11, 9, 0), "the next is due at 2025-06-11 09:00 Asia/Tokyo")

	// The lead is due but the window is shut: 409, retry_at the opening.
	clk.Set(jst(10, 22, 0))
	expect("outside calling hours", quinn, crmclient.CodeOutsideCallingHours, jst(11, 9, 0),
		"calling hours are 09:00–21:00 Asia/Tokyo (it is 22:00 there now)")

	// A London lead (14:00 there, inside its window) skipped for 10 minutes
	// comes back before Tokyo's window opens.
	res, err := crm.st.ImportLeads(ctx, "due", []LeadRow{{Line: 2, Phone: testPhone(701), Fields: map[string]string{"time_zone": "Europe/London"}}})
	if err != nil || res[0].Status != LeadAdded {
		t.Fatalf("import: %+v %v", res, err)
	}
	london := res[0].LeadID
	if l, err := quinn.NextLead(ctx, "due"); err != nil || l.ID != london {
		t.Fatalf("quinn at 14:00 London: %s, %v; want the London lead", l.ID, err)
	}
	if _, err := quinn.ReleaseLead(ctx, london, "後で"); err != nil {
		t.Fatal(err)
	}
	expect("a London lead due sooner", quinn, crmclient.CodeOutsideCallingHours, jst(10, 22, 10), "calling hours are")

	// A personal callback (of a London lead, due at 14:05 there) counts for
	// its agent only.
	res, err = crm.st.ImportLeads(ctx, "due", []LeadRow{{Line: 3, Phone: testPhone(702), Fields: map[string]string{"time_zone": "Europe/London"}}})
	if err != nil || res[0].Status != LeadAdded {
		t.Fatalf("import: %+v %v", res, err)
	}
	callback := res[0].LeadID
	if _, err := crm.st.db.ExecContext(ctx, `UPDATE leads SET status = 'callback', callback_at = ?, next_at = ?,
		callback_scope = 'personal', callback_agent = 'pat' WHERE id = ?`,
		jst(10, 22, 5).Unix(), jst(10, 22, 5).Unix(), callback); err != nil {
		t.Fatal(err)
	}
	expect("pat's own callback", pat, crmclient.CodeOutsideCallingHours, jst(10, 22, 5), "calling hours are")
	expect("someone else's callback", quinn, crmclient.CodeOutsideCallingHours, jst(10, 22, 10), "calling hours are")

	// Numbers on the DNC list, leads at max attempts and others' personal
	// callbacks never come back by themselves: no retry_at.
	for _, p := range []string{testPhone(700), testPhone(701)} {
		if _, err := sv.AddDNC(ctx, crmclient.DNCRequest{Phone: p}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := crm.st.db.ExecContext(ctx, `UPDATE leads SET status = 'open', attempts = 3 WHERE id = ?`, callback); err != nil {
		t.Fatal(err)
	}
	expect("nothing will come back", quinn, crmclient.CodeNoLeads, time.Time{}, "campaign due has no lead to call now")
	_, err = quinn.NextLead(ctx, "due")
	if _, _, msg := apiCode(err); msg != "campaign due has no lead to call now" {
		t.Errorf("message without a due lead: %q", msg)
	}
	if status, _, _ := apiCode(err); status != http.StatusNotFound {
		t.Errorf("no_leads status %d", status)
	}
}
