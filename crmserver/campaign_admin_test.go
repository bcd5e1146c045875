package crmserver

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/opdesk/opdesk/crmclient"
)

// TestCampaignAdmin: supervisors define and change campaigns over HTTP; agents
// cannot; a bad definition is refused with the field named; the id is fixed.
func TestCampaignAdmin(t *testing.T) {
	crm := newTestCRM(t, 0)
	ctx := context.Background()
	sv, agent := crm.client(t, "sv1"), crm.client(t, "agent1")

	c := testCampaign("autumn-2026")
	got, err := sv.CreateCampaign(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if got.Window.Start != "09:00" || got.Window.TimeZone != "Asia/Tokyo" || got.Retry.MaxAttempts != 3 {
		t.Errorf("defaults not filled: window %+v, retry %+v", got.Window, got.Retry)
	}
	if _, err := sv.CreateCampaign(ctx, c); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second create: %v, want 'already exists'", err)
	}
	if _, err := agent.CreateCampaign(ctx, testCampaign("mine")); !errors.Is(err, crmclient.ErrForbidden) {
		t.Errorf("agent create: %v, want forbidden", err)
	}

	got.Name = "秋の定期便キャンペーン"
	got.Window.End = "20:00"
	upd, err := sv.UpdateCampaign(ctx, got)
	if err != nil || upd.Name != got.Name {
		t.Fatalf("update: %+v, %v", upd, err)
	}
	if back, err := sv.Campaign(ctx, "autumn-2026"); err != nil || back.Window.End != "20:00" || back.Name != "秋の定期便キャンペーン" {
		t.Errorf("after update: %+v, %v", back, err)
	}

	bad := got
	bad.Disposition.Results = append(bad.Disposition.Results, bad.Disposition.Results[0]) // a code twice
	status, code, msg := apiCode(func() error { _, err := sv.UpdateCampaign(ctx, bad); return err }())
	if status != http.StatusBadRequest || code != crmclient.CodeInvalidRequest || !strings.Contains(msg, "sale") {
		t.Errorf("duplicate code: %d %s %q; want 400 naming the code", status, code, msg)
	}
	missing := testCampaign("no-such-campaign")
	if _, err := sv.UpdateCampaign(ctx, missing); !errors.Is(err, crmclient.ErrNotFound) {
		t.Errorf("update of an unknown campaign: %v, want not found", err)
	}
	if _, err := crm.st.UpdateCampaign(ctx, "autumn-2026", testCampaign("renamed")); !errors.Is(err, ErrInvalid) {
		t.Errorf("changing the id: %v, want invalid", err)
	}
}
