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

// TestCounters: an operator stores the day's totals per campaign, reads them
// back, and a supervisor lists everyone's and sees each change on the stream.
func TestCounters(t *testing.T) {
	clk := newClock(seedNow) // 18:00 on 2025-06-10 in Tokyo
	crm := newTestCRM(t, 0, WithClock(clk.Now))
	ctx := context.Background()
	mustCampaign(t, crm.st, testCampaign("calls"))
	rei, sho := addAgent(t, crm, "rei", "renewal", "calls"), addAgent(t, crm, "sho", "calls")
	sv := crm.client(t, "sv1")
	tap := tapEvents(t, false, sv, crmclient.EventsFromNow)
	tap.ready(t)

	zero, err := rei.MyCounters(ctx, "renewal", "")
	if want := (crmclient.AgentCounters{Agent: "rei", CampaignID: "renewal", Day: "2025-06-10"}); err != nil || zero != want {
		t.Fatalf("before anything was stored: %+v, %v; want %+v", zero, err, want)
	}
	in := crmclient.AgentCounters{CampaignID: "renewal", Day: "2025-06-10", Dialed: 40, Connected: 12, TalkSeconds: 2400, Conversions: 3}
	got, err := rei.PutCounters(ctx, in)
	want := in
	want.Agent, want.UpdatedAt = "rei", seedNow
	if err != nil || got != want {
		t.Fatalf("PutCounters = %+v, %v; want %+v", got, err, want)
	}
	if e := tap.nextKind(t, 5*time.Second); e.Kind != crmclient.EventCounters {
		t.Fatalf("event %s %s; want counters", e.Kind, e.Data)
	} else if c, err := e.Counters(); err != nil || c != want {
		t.Errorf("counters event = %+v, %v; want %+v", c, err, want)
	}
	if mine, err := rei.MyCounters(ctx, "renewal", "2025-06-10"); err != nil || mine != want {
		t.Errorf("MyCounters = %+v, %v; want %+v", mine, err, want)
	}

	// The same totals again (a retry) change nothing, not even updated_at.
	clk.Add(time.Minute)
	if again, err := rei.PutCounters(ctx, in); err != nil || again != want {
		t.Errorf("repeat = %+v, %v; want the stored row %+v", again, err, want)
	}
	in.Dialed, in.Connected, in.Agent = 41, 13, "rei" // sending one's own name back is fine
	want.Dialed, want.Connected, want.UpdatedAt = 41, 13, seedNow.Add(time.Minute)
	if got, err := rei.PutCounters(ctx, in); err != nil || got != want {
		t.Errorf("update = %+v, %v; want %+v", got, err, want)
	}
	if e := tap.nextKind(t, 5*time.Second); e.Kind != crmclient.EventCounters {
		t.Fatalf("event %s; want counters", e.Kind)
	} else if c, _ := e.Counters(); c != want {
		t.Errorf("event after the repeat and the update = %+v; want only the update %+v", c, want)
	}
	other := crmclient.AgentCounters{CampaignID: "calls", Day: "2025-06-11", Dialed: 5} // tomorrow in Tokyo: allowed
	if _, err := rei.PutCounters(ctx, other); err != nil {
		t.Fatal(err)
	}
	other.Day = "2025-06-10"
	if _, err := sho.PutCounters(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, err := rei.PutCounters(ctx, crmclient.AgentCounters{CampaignID: "calls", Day: "2025-06-10", Dialed: 1}); err != nil {
		t.Fatal(err)
	}

	list, err := sv.Counters(ctx, "2025-06-10")
	var names []string
	for _, c := range list {
		names = append(names, c.Agent+"/"+c.CampaignID)
	}
	if err != nil || strings.Join(names, " ") != "rei/calls rei/renewal sho/calls" || list[1] != want {
		t.Errorf("Counters = %v %+v, %v; want rei/calls rei/renewal sho/calls", names, list, err)
	}
	if list, err := sv.Counters(ctx, "2025-06-09"); err != nil || list == nil || len(list) != 0 {
		t.Errorf("a day without rows: %+v, %v; want an empty list", list, err)
	}
	if _, err := rei.Counters(ctx, "2025-06-10"); !errors.Is(err, crmclient.ErrForbidden) {
		t.Errorf("agent listing everyone's counters: %v; want ErrForbidden", err)
	}
	for _, day := range []string{"", "2025-6-10", "yesterday"} {
		if _, err := sv.Counters(ctx, day); !hasStatus(err, http.StatusBadRequest, "day must be a date") {
			t.Errorf("Counters(%q): %v; want 400 naming the day", day, err)
		}
	}
	if _, err := sho.MyCounters(ctx, "renewal", ""); !errors.Is(err, crmclient.ErrForbidden) {
		t.Errorf("MyCounters of an unassigned campaign: %v", err)
	}
	if _, err := sv.MyCounters(ctx, "nope", ""); !errors.Is(err, crmclient.ErrNotFound) {
		t.Errorf("MyCounters of an unknown campaign: %v", err)
	}
	if _, err := rei.MyCounters(ctx, "calls", "June"); !hasStatus(err, http.StatusBadRequest, "day must be a date") {
		t.Errorf("MyCounters with a bad day: %v", err)
	}
}

// TestCountersRefused: figures that cannot be true, a day far from today in the
// campaign's zone, and campaigns the caller does not work on are refused with a
// sentence that says why.
func TestCountersRefused(t *testing.T) {
	// 01:00 on 11 June in Tokyo, still 10 June in UTC: the day is Tokyo's.
	clk := newClock(time.Date(2025, 6, 10, 16, 0, 0, 0, time.UTC))
	crm := newTestCRM(t, 0, WithClock(clk.Now))
	ctx := context.Background()
	cl := addAgent(t, crm, "kai", "renewal")
	sv := crm.client(t, "sv1")
	ok := crmclient.AgentCounters{CampaignID: "renewal", Day: "2025-06-11", Dialed: 10, Connected: 5, TalkSeconds: 300, Conversions: 1}
	for _, tt := range []struct {
		name   string
		cl     *crmclient.Client
		edit   func(*crmclient.AgentCounters)
		status int
		says   string
	}{
		{"yesterday in Tokyo", cl, func(c *crmclient.AgentCounters) { c.Day = "2025-06-10" }, 200, ""},
		{"tomorrow in Tokyo", cl, func(c *crmclient.AgentCounters) { c.Day = "2025-06-12" }, 200, ""},
		{"two days ago in Tokyo", cl, func(c *crmclient.AgentCounters) { c.Day = "2025-06-09" }, 422,
			"day 2025-06-09 is not within a day of today in Asia/Tokyo (2025-06-11)"},
		{"far future", cl, func(c *crmclient.AgentCounters) { c.Day = "2099-01-01" }, 422, "not within a day of today"},
		{"no day", cl, func(c *crmclient.AgentCounters) { c.Day = "" }, 422, `day must be a date such as 2025-06-18, not ""`},
		{"bad day", cl, func(c *crmclient.AgentCounters) { c.Day = "2025-06-31" }, 422, "day must be a date"},
		{"negative", cl, func(c *crmclient.AgentCounters) { c.TalkSeconds = -1 }, 422, "cannot be negative"},
		{"too many dials", cl, func(c *crmclient.AgentCounters) { c.Dialed = 10001 }, 422, "dialed must be at most 10000 a day"},
		{"too much talk", cl, func(c *crmclient.AgentCounters) { c.TalkSeconds = 90001 }, 422, "talk_seconds must be at most 90000"},
		{"connected > dialed", cl, func(c *crmclient.AgentCounters) { c.Connected = 11 }, 422, "connected (11) cannot be more than dialed (10)"},
		{"conversions > connected", cl, func(c *crmclient.AgentCounters) { c.Conversions = 6 }, 422,
			"conversions (6) cannot be more than connected (5)"},
		{"someone else's row", cl, func(c *crmclient.AgentCounters) { c.Agent = "agent2" }, 422,
			`agent is set by the server; send it empty or as kai, not "agent2"`},
		{"not assigned", cl, func(c *crmclient.AgentCounters) { c.CampaignID = "inbound" }, 403,
			"you are not assigned to campaign inbound"},
		{"unknown campaign, agent", cl, func(c *crmclient.AgentCounters) { c.CampaignID = "nope" }, 403,
			"you are not assigned to campaign nope"},
		{"unknown campaign, supervisor", sv, func(c *crmclient.AgentCounters) { c.CampaignID = "nope" }, 422,
			`campaign_id: there is no campaign "nope"`},
	} {
		in := ok
		tt.edit(&in)
		_, err := tt.cl.PutCounters(ctx, in)
		if tt.status == 200 && err != nil || tt.status != 200 && !hasStatus(err, tt.status, tt.says) {
			t.Errorf("%s: %v; want %d %q", tt.name, err, tt.status, tt.says)
		}
	}
}

// hasStatus reports whether err is a CRM answer with status whose message
// contains says.
func hasStatus(err error, status int, says string) bool {
	got, _, msg := apiCode(err)
	return got == status && strings.Contains(msg, says)
}
