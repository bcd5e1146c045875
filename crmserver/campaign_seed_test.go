package crmserver

import (
	"context"
	"testing"
)

// TestSeedCampaigns: the demo has both campaigns, the demo users' campaign ids
// exist, and the outbound list looks like one a few days into calling.
func TestSeedCampaigns(t *testing.T) {
	crm := newTestCRM(t, 2000)
	ctx := context.Background()
	for _, u := range DemoUsers {
		for _, id := range u.Campaigns {
			if _, err := crm.st.Campaign(ctx, id); err != nil {
				t.Errorf("%s works on campaign %s: %v", u.Name, id, err)
			}
		}
	}
	agent2 := crm.client(t, "agent2")
	for _, id := range []string{SeedInboundCampaign, SeedOutboundCampaign} {
		c, err := agent2.Campaign(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := agent2.GetScript(ctx, c.ScriptID); err != nil {
			t.Errorf("campaign %s: script %q: %v", id, c.ScriptID, err)
		}
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := crm.st.db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if n := count(`SELECT COUNT(*) FROM leads WHERE campaign_id = 'renewal'`); n != 2000/seedLeadEvery {
		t.Errorf("%d renewal leads, want %d", n, 2000/seedLeadEvery)
	}
	if n := count(`SELECT COUNT(*) FROM leads WHERE customer_id IS NULL`); n != 0 {
		t.Errorf("%d seeded leads without a customer", n)
	}
	for status, least := range map[string]int{"open": 250, "callback": 5, "done": 15, "failed": 3} {
		if n := count(`SELECT COUNT(*) FROM leads WHERE status = ?`, status); n < least {
			t.Errorf("%d leads %s, want at least %d", n, status, least)
		}
	}
	if n := count(`SELECT COUNT(*) FROM leads WHERE status = 'callback' AND callback_scope = 'personal' AND callback_agent = 'agent2'`); n == 0 {
		t.Error("no personal callback for agent2")
	}
	if n := count(`SELECT COUNT(*) FROM dnc d JOIN leads l ON l.phone = d.e164 WHERE d.kind = 'refused_never_call' AND l.last_result = 'refused'`); n == 0 {
		t.Error("no refusal on the DNC list")
	}
	if n := count(`SELECT COUNT(*) FROM leads l JOIN dnc d ON d.e164 = l.phone WHERE l.status IN ('open', 'callback')`); n != 0 {
		t.Errorf("%d callable leads on the DNC list", n)
	}
}

// TestSeedCampaignsDeterministic: the same seed gives the same leads and DNC list.
func TestSeedCampaignsDeterministic(t *testing.T) {
	queries := []string{
		`SELECT CAST(id AS TEXT) || campaign_id || phone || fields || status || CAST(attempts AS TEXT) || last_result ||
			CAST(next_at AS TEXT) || COALESCE(CAST(callback_at AS TEXT), '-') || callback_scope || callback_agent FROM leads ORDER BY id`,
		`SELECT e164 || kind || added_by || CAST(added_at AS TEXT) FROM dnc ORDER BY e164`,
		`SELECT id || spec FROM campaigns ORDER BY id`,
	}
	digest := func(seed uint64) string { return seedDigest(t, seed, queries) }
	if a, b, c := digest(1), digest(1), digest(2); a != b || a == c {
		t.Errorf("digests %s %s %s: want the first two equal and the third different", a[:8], b[:8], c[:8])
	}
}
