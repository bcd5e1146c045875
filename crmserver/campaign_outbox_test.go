package crmserver

import (
	"context"
	"encoding/json"
	"path/filepath"
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
