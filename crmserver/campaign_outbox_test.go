package crmserver

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmclient/outbox"
)

// TestOutboxToCRM: the desktop's outbox delivers wrap-ups and call logs through
// crmclient's sender to the real server exactly once, and parks what the server
// refuses for good.
func TestOutboxToCRM(t *testing.T) {
	crm := newTestCRM(t, 0, WithClock(newClock(seedNow).Now))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	agent := addAgent(t, crm, "outboxer", "inbound")
	fx := addFixtures(t, agent)
	send := agent.OutboxSender()
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "outbox.db"), send, outbox.WithBackoff(5*time.Millisecond, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close(ctx)

	put := func(kind string, v any) outbox.Item {
		t.Helper()
		b, _ := json.Marshal(v)
		it, err := ob.Put(ctx, kind, b)
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	wrap := put(outbox.KindDisposition, crmclient.DispositionInput{CampaignID: "inbound", CustomerID: fx.solo.ID,
		Phone: "+81312345678", StartedAt: seedNow.Add(-10 * time.Minute), DurationSeconds: 300, Code: "change",
		Fields: map[string]any{"new_date": "2025-06-20"}, Notes: "お届け日を6/20に変更"})
	put(outbox.KindCallLog, crmclient.DispositionInput{Phone: "+81312345678", StartedAt: seedNow.Add(-2 * time.Minute),
		Code: "other", Notes: "無言電話"})
	bad := put(outbox.KindDisposition, crmclient.DispositionInput{CampaignID: "inbound", StartedAt: seedNow, Code: "no_such_code"})
	if err := ob.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	hist, err := agent.CallHistory(ctx, fx.solo.ID)
	if err != nil || len(hist) != 2 || hist[0].Disposition != "other" || hist[1].Disposition != "change" {
		t.Fatalf("history after flush = %+v, %v", hist, err)
	}
	failed := ob.Failed()
	if len(failed) != 1 || failed[0].ID != bad.ID {
		t.Errorf("parked items = %+v; want the one with the unknown code", failed)
	}
	// A crash between the server's answer and the outbox's delete sends the
	// item again after restart: the key makes that a no-op.
	if err := send(ctx, wrap); err != nil {
		t.Fatal(err)
	}
	if hist, _ := agent.CallHistory(ctx, fx.solo.ID); len(hist) != 2 {
		t.Errorf("%d history lines after a resend, want 2", len(hist))
	}
}

// TestOutboxAttemptsToCRM: an attempt queued in the desktop's outbox reaches
// the real server once, however often it is sent; the server's refusals and
// bodies that do not decode are parked.
func TestOutboxAttemptsToCRM(t *testing.T) {
	crm := newTestCRM(t, 0, WithClock(newClock(seedNow).Now))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mustCampaign(t, crm.st, testCampaign("obx"))
	ids := importNumbers(t, crm.st, "obx", 800, 2)
	agent := addAgent(t, crm, "dialer", "obx")
	send := agent.OutboxSender()
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "outbox.db"), send, outbox.WithBackoff(5*time.Millisecond, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close(ctx)
	put := func(body []byte) outbox.Item {
		t.Helper()
		it, err := ob.Put(ctx, outbox.KindAttempt, body)
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	item := func(a crmclient.AttemptItem) []byte {
		b, _ := json.Marshal(a)
		return b
	}

	if l, err := agent.NextLead(ctx, "obx"); err != nil || l.ID != ids[0] {
		t.Fatalf("next lead = %s, %v", l.ID, err)
	}
	at := seedNow.Add(-time.Minute)
	good := put(item(crmclient.AttemptItem{LeadID: ids[0], Outcome: crmclient.OutcomeNoAnswer, At: at}))
	refused := put(item(crmclient.AttemptItem{LeadID: ids[1], Outcome: crmclient.OutcomeBusy, At: at})) // not leased: 409
	unknown := put(item(crmclient.AttemptItem{LeadID: ids[0], Outcome: "hung_up", At: at}))
	malformed := put([]byte(`{"lead_id":"` + ids[0] + `","outcome":"busy","extra":true}`))
	if err := ob.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := crm.st.Lead(ctx, ids[0])
	if err != nil || l.Attempts != 1 || l.LastResult != "no_answer" || l.LeasedTo != "" ||
		l.NextAttemptAt == nil || !l.NextAttemptAt.Equal(at.Add(2*time.Hour)) {
		t.Fatalf("lead after the outbox = %+v, %v; want one no_answer at %s", l, err, at)
	}
	var parked []int64
	for _, it := range ob.Failed() {
		parked = append(parked, it.ID)
	}
	if want := []int64{refused.ID, unknown.ID, malformed.ID}; !slices.Equal(parked, want) {
		t.Errorf("parked items %v; want %v (not leased, unknown outcome, unknown field)", parked, want)
	}
	// Sent again after a crash between the answer and the delete: a no-op.
	if err := send(ctx, good); err != nil {
		t.Fatal(err)
	}
	if l, _ := crm.st.Lead(ctx, ids[0]); l.Attempts != 1 {
		t.Errorf("%d attempts after a resend, want 1", l.Attempts)
	}
}
