package crmserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// Per-operator, per-campaign daily counters. The desktop counts its own calls
// and sends the day's totals after each one; the CRM keeps the last row per
// (agent, campaign, day) and tells supervisors on the event stream. Totals
// rather than increments make a retry harmless and a lost request heal with
// the next one, at the price that two desktops of one operator in one campaign
// would overwrite each other (an operator has one desktop).
//
// The day is the campaign's calling-window day, so a Tokyo campaign's day
// ends at midnight in Tokyo wherever the server runs.

var countersMigration = migration{5, "agent counters", `
CREATE TABLE agent_counters (
	agent        TEXT NOT NULL,
	campaign_id  TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	day          TEXT NOT NULL,                -- "2025-06-18" in the campaign's calling-window zone
	dialed       BIGINT NOT NULL,
	connected    BIGINT NOT NULL,
	talk_seconds BIGINT NOT NULL,
	conversions  BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL,
	PRIMARY KEY (agent, campaign_id, day)
) {{without_rowid}};
CREATE INDEX agent_counters_day ON agent_counters (day, agent, campaign_id);
`}

var counterRoutes = []route{
	{"GET /v1/me/counters", anyUser, (*api).myCounters},
	{"PUT /v1/me/counters", anyUser, (*api).putCounters},
	{"GET /v1/counters", supervisor, (*api).listCounters},
}

// Bounds of one day's counters: far above what one operator does, low enough
// that a desktop bug is refused rather than shown on the wallboard.
const (
	maxDialed      = 10000     // one attempt every 9 s for 24 h
	maxTalkSeconds = 25 * 3600 // the longest local day (a fall-back day)
)

// PutCounters stores agent's figures for a campaign and day, replacing the row
// (see AgentCounters). When they changed, the row and a counters event are
// written in one transaction; a repeat of the stored figures writes nothing
// and answers the stored row.
func (s *Store) PutCounters(ctx context.Context, agent string, in crmclient.AgentCounters) (crmclient.AgentCounters, error) {
	if in.Agent != "" && in.Agent != agent {
		return in, unprocessable("agent is set by the server; send it empty or as %s, not %q", agent, in.Agent)
	}
	in.Agent, in.UpdatedAt = agent, time.Time{}
	now := s.now()
	c, err := loadCampaign(ctx, s.db, in.CampaignID)
	if errors.Is(err, ErrNotFound) {
		return in, unprocessable("campaign_id: there is no campaign %q", in.CampaignID)
	}
	if err != nil {
		return in, err
	}
	if err := checkCounterDay(c, in.Day, now); err != nil {
		return in, err
	}
	switch {
	case in.Dialed < 0 || in.Connected < 0 || in.TalkSeconds < 0 || in.Conversions < 0:
		return in, unprocessable("counters cannot be negative")
	case in.Dialed > maxDialed:
		return in, unprocessable("dialed must be at most %d a day, not %d", maxDialed, in.Dialed)
	case in.TalkSeconds > maxTalkSeconds:
		return in, unprocessable("talk_seconds must be at most %d (25 hours), not %d", maxTalkSeconds, in.TalkSeconds)
	case in.Connected > in.Dialed:
		return in, unprocessable("connected (%d) cannot be more than dialed (%d)", in.Connected, in.Dialed)
	case in.Conversions > in.Connected:
		return in, unprocessable("conversions (%d) cannot be more than connected (%d)", in.Conversions, in.Connected)
	}
	changed := false
	err = s.inTx(ctx, func(tx *tx) error {
		old, found, err := counterRow(ctx, tx, agent, in.CampaignID, in.Day)
		if err != nil {
			return err
		}
		if found && sameCounts(old, in) {
			in = old
			return nil
		}
		in.UpdatedAt, changed = now.Truncate(time.Second).UTC(), true
		if _, err := tx.ExecContext(ctx, `INSERT INTO agent_counters (agent, campaign_id, day, dialed, connected,
			talk_seconds, conversions, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (agent, campaign_id, day) DO UPDATE SET dialed = excluded.dialed, connected = excluded.connected,
				talk_seconds = excluded.talk_seconds, conversions = excluded.conversions, updated_at = excluded.updated_at`,
			agent, in.CampaignID, in.Day, in.Dialed, in.Connected, in.TalkSeconds, in.Conversions, in.UpdatedAt.Unix()); err != nil {
			return err
		}
		_, _, err = s.appendEvent(ctx, tx, crmclient.EventCounters, agent, "", in)
		return err
	})
	if err != nil {
		return crmclient.AgentCounters{}, fmt.Errorf("put counters: %w", err)
	}
	if changed {
		eventBell.ring()
	}
	return in, nil
}

// MyCounters returns agent's figures for a campaign on day ("" = today in the
// campaign's zone): zeros when none were stored. ErrNotFound for an unknown
// campaign.
func (s *Store) MyCounters(ctx context.Context, agent, campaignID, day string) (crmclient.AgentCounters, error) {
	c, err := loadCampaign(ctx, s.db, campaignID)
	if err != nil {
		return crmclient.AgentCounters{}, err
	}
	if day == "" {
		loc, err := crmclient.LoadZone(c.Window.TimeZone)
		if err != nil {
			return crmclient.AgentCounters{}, fmt.Errorf("campaign %s: %w", c.ID, err)
		}
		day = s.now().In(loc).Format(time.DateOnly)
	} else if _, err := parseDay(day); err != nil {
		return crmclient.AgentCounters{}, err
	}
	row, found, err := counterRow(ctx, s.db, agent, c.ID, day)
	if err != nil || found {
		return row, err
	}
	return crmclient.AgentCounters{Agent: agent, CampaignID: c.ID, Day: day}, nil
}

// CountersOn lists every stored row of day, by agent and campaign.
func (s *Store) CountersOn(ctx context.Context, day string) ([]crmclient.AgentCounters, error) {
	if _, err := parseDay(day); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+counterCols+` FROM agent_counters WHERE day = ?
		ORDER BY agent, campaign_id`, day)
	if err != nil {
		return nil, fmt.Errorf("counters: %w", err)
	}
	defer rows.Close()
	out := []crmclient.AgentCounters{}
	for rows.Next() {
		c, err := scanCounters(rows)
		if err != nil {
			return nil, fmt.Errorf("counters: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

const counterCols = `agent, campaign_id, day, dialed, connected, talk_seconds, conversions, updated_at`

func scanCounters(sc interface{ Scan(...any) error }) (crmclient.AgentCounters, error) {
	var (
		c  crmclient.AgentCounters
		up int64
	)
	err := sc.Scan(&c.Agent, &c.CampaignID, &c.Day, &c.Dialed, &c.Connected, &c.TalkSeconds, &c.Conversions, &up)
	c.UpdatedAt = unixTime(up)
	return c, err
}

func counterRow(ctx context.Context, q querier, agent, campaignID, day string) (crmclient.AgentCounters, bool, error) {
	c, err := scanCounters(q.QueryRowContext(ctx, `SELECT `+counterCols+` FROM agent_counters
		WHERE agent = ? AND campaign_id = ? AND day = ?`, agent, campaignID, day))
	if errors.Is(err, sql.ErrNoRows) {
		return crmclient.AgentCounters{}, false, nil
	}
	if err != nil {
		return crmclient.AgentCounters{}, false, fmt.Errorf("counters: %w", err)
	}
	return c, true, nil
}

func sameCounts(a, b crmclient.AgentCounters) bool {
	return a.Dialed == b.Dialed && a.Connected == b.Connected && a.TalkSeconds == b.TalkSeconds &&
		a.Conversions == b.Conversions
}

// parseDay reads a day "2025-06-18".
func parseDay(day string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return d, invalidf("day must be a date such as 2025-06-18, not %q", day)
	}
	return d, nil
}

// checkCounterDay accepts yesterday, today and tomorrow in the campaign's zone:
// a desktop whose clock or zone is a little off still lands, while a row for a
// day long gone (a desktop clock years off) cannot rewrite history.
func checkCounterDay(c crmclient.Campaign, day string, now time.Time) error {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return unprocessable("day must be a date such as 2025-06-18, not %q", day)
	}
	loc, err := crmclient.LoadZone(c.Window.TimeZone)
	if err != nil {
		return fmt.Errorf("campaign %s: %w", c.ID, err)
	}
	y, m, dd := now.In(loc).Date()
	today := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
	if diff := d.Sub(today); diff < -24*time.Hour || diff > 24*time.Hour {
		return unprocessable("day %s is not within a day of today in %s (%s)", day, c.Window.TimeZone,
			today.Format(time.DateOnly))
	}
	return nil
}

func (h *api) putCounters(w http.ResponseWriter, r *http.Request) error {
	var in crmclient.AgentCounters
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	p := principalFrom(r.Context())
	if err := assigned(p, in.CampaignID); err != nil {
		return err
	}
	out, err := h.st.PutCounters(r.Context(), p.user.Name, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *api) myCounters(w http.ResponseWriter, r *http.Request) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return invalidf("malformed query string: %v", err)
	}
	campaign := q.Get("campaign")
	if campaign == "" {
		return invalidf("the query parameter campaign is required")
	}
	p := principalFrom(r.Context())
	if err := assigned(p, campaign); err != nil {
		return err
	}
	out, err := h.st.MyCounters(r.Context(), p.user.Name, campaign, q.Get("day"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *api) listCounters(w http.ResponseWriter, r *http.Request) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return invalidf("malformed query string: %v", err)
	}
	list, err := h.st.CountersOn(r.Context(), q.Get("day"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, crmclient.CountersList{Counters: list})
	return nil
}
