package crmserver

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// The supervisors' wallboard: one day's figures per agent, for the team and per
// interval, computed on request from what the CRM stored (agent_state and call
// events, dispositions, counters, callbacks), so that every wallboard shows the
// same numbers and one that restarts loses nothing. This file reads the rows;
// wallboard_figures.go turns them into figures.
//
// The day is read with a handful of indexed queries: the day's events as a range
// of ids (its ends found through events_at), each agent's last state before the
// day (events_kind_agent, one seek per agent), the day's dispositions by call
// start (dispositions_started), the day's counters, and the callbacks per
// campaign (leads_pick). A 50-agent day of 20 000 events takes about 0.1 s, most
// of it decoding the events' JSON (BenchmarkWallboard).

// wallboardMigration is step 6: where agents' desktops can be reached, and the
// indexes the wallboard reads through.
var wallboardMigration = migration{6, "agent SIP URIs, wallboard indexes", `
ALTER TABLE agent_states ADD COLUMN sip_uri TEXT NOT NULL DEFAULT '';
CREATE INDEX events_kind_agent ON events (kind, agent, id);
CREATE INDEX dispositions_started ON dispositions (started_at);
`}

var wallboardRoutes = []route{
	{"GET /v1/wallboard", supervisor, (*api).wallboard},
}

// defaultZone is the CRM's time zone unless WithTimeZone says otherwise: the
// centers this is made for are in Japan.
var defaultZone = func() *time.Location {
	if l, err := crmclient.LoadZone("Asia/Tokyo"); err == nil {
		return l
	}
	return time.FixedZone("Asia/Tokyo", 9*3600) // no tz database: Japan has no DST
}()

// Reading window around the day. Calls are timed by the desktop, which may
// announce them late (through its outbox) and whose calls may run past
// midnight: events stored up to lateCallEvents after the day's end are read for
// the day's calls. A call started up to callLookback before the day is read so
// that one still going is shown in progress (its time counts on its own day).
const (
	lateCallEvents = 12 * time.Hour
	callLookback   = 2 * time.Hour
)

// WithTimeZone sets the zone of the CRM's day, in which the wallboard's days run
// from midnight to midnight (default Asia/Tokyo). Nil keeps the default.
func WithTimeZone(loc *time.Location) HandlerOption {
	return func(h *api) {
		if loc != nil {
			h.zone = loc
		}
	}
}

// wallboard serves GET /v1/wallboard.
func (h *api) wallboard(w http.ResponseWriter, r *http.Request) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return invalidf("malformed query string: %v", err)
	}
	interval := crmclient.DefaultWallboardInterval
	if v := q.Get("interval"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < int(crmclient.MinWallboardInterval/time.Minute) || n > int(crmclient.MaxWallboardInterval/time.Minute) {
			return invalidf("interval must be a whole number of minutes from 5 to 60, not %q", v)
		}
		interval = time.Duration(n) * time.Minute
	}
	wb, err := h.st.Wallboard(r.Context(), q.Get("day"), interval, h.zone)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wb)
	return nil
}

// Wallboard computes the figures of day ("2025-06-18"; "" is today) in loc (nil:
// Asia/Tokyo), with interval counts every interval (whole minutes, 5 to 60). See
// crmclient.Wallboard for what each figure means.
func (s *Store) Wallboard(ctx context.Context, day string, interval time.Duration, loc *time.Location) (crmclient.Wallboard, error) {
	if loc == nil {
		loc = defaultZone
	}
	if interval < crmclient.MinWallboardInterval || interval > crmclient.MaxWallboardInterval || interval%time.Minute != 0 {
		return crmclient.Wallboard{}, invalidf("interval must be whole minutes from 5 to 60, not %v", interval)
	}
	now := s.now()
	if day == "" {
		day = now.In(loc).Format(time.DateOnly)
	}
	d, err := parseDay(day)
	if err != nil {
		return crmclient.Wallboard{}, err
	}
	start := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
	in := wallboardData{day: day, zone: loc.String(), start: start, end: start.AddDate(0, 0, 1), now: now,
		interval: interval}
	if in.agents, err = s.AgentStates(ctx); err != nil {
		return crmclient.Wallboard{}, err
	}
	if in.before, err = s.statesBefore(ctx, start); err != nil {
		return crmclient.Wallboard{}, err
	}
	if in.events, err = s.wallboardEvents(ctx, start.Add(-callLookback), in.end.Add(lateCallEvents)); err != nil {
		return crmclient.Wallboard{}, err
	}
	if in.counters, err = s.CountersOn(ctx, day); err != nil {
		return crmclient.Wallboard{}, err
	}
	camps, err := s.Campaigns(ctx, nil)
	if err != nil {
		return crmclient.Wallboard{}, err
	}
	if in.conversions, err = s.conversions(ctx, camps, start, in.end); err != nil {
		return crmclient.Wallboard{}, err
	}
	missedBefore := minTime(in.end, now.Add(-missedAfter))
	if in.missed, in.missedAll, err = s.missedCallbacks(ctx, camps, missedBefore); err != nil {
		return crmclient.Wallboard{}, err
	}
	return in.figures()
}

// eventIDAt is the id of the first event stored at or after t (one more than the
// newest when there is none). Events are written in id order, each with the
// time of its write (see appendEvent), so the events stored in [a, b) are those
// with ids in [eventIDAt(a), eventIDAt(b)): a range of the primary key, read in
// order without a sort.
func (s *Store) eventIDAt(ctx context.Context, t time.Time) (int64, error) {
	// One seek in events_at; MIN(id) … WHERE at >= ? walks the primary key
	// instead, the whole table when t is after the newest event.
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM events WHERE at >= ? ORDER BY at, id LIMIT 1`, t.Unix()).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("wallboard: %w", err)
	}
	last, err := s.lastEventID(ctx)
	if err != nil {
		return 0, fmt.Errorf("wallboard: %w", err)
	}
	return last + 1, nil
}

// statesBefore returns each agent's last agent_state event before start: their
// state when the day began.
func (s *Store) statesBefore(ctx context.Context, start time.Time) (map[string]crmclient.AgentState, error) {
	first, err := s.eventIDAt(ctx, start)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT u.name, (SELECT e.payload FROM events e
		WHERE e.kind = 'agent_state' AND e.agent = u.name AND e.id < ? ORDER BY e.id DESC LIMIT 1)
		FROM users u WHERE u.role = 'agent'`, first)
	if err != nil {
		return nil, fmt.Errorf("wallboard: %w", err)
	}
	defer rows.Close()
	out := map[string]crmclient.AgentState{}
	for rows.Next() {
		var (
			name    string
			payload sql.NullString
		)
		if err := rows.Scan(&name, &payload); err != nil {
			return nil, fmt.Errorf("wallboard: %w", err)
		}
		if !payload.Valid {
			continue
		}
		var st crmclient.AgentState
		if err := json.Unmarshal([]byte(payload.String), &st); err != nil {
			return nil, fmt.Errorf("wallboard: agent_state of %s: %w", name, err)
		}
		out[name] = st
	}
	return out, rows.Err()
}

// wallboardEvents reads the agent_state and call events stored in [from, to), in
// id order.
func (s *Store) wallboardEvents(ctx context.Context, from, to time.Time) ([]dayEvent, error) {
	lo, err := s.eventIDAt(ctx, from)
	if err != nil {
		return nil, err
	}
	hi, err := s.eventIDAt(ctx, to)
	if err != nil {
		return nil, err
	}
	// The kinds are picked here, not in SQL: with "kind IN (…)" SQLite's planner
	// prefers events_kind_agent and then sorts the day by id, three times slower
	// than walking the primary key.
	rows, err := s.db.QueryContext(ctx, `SELECT at, kind, agent, payload FROM events
		WHERE id >= ? AND id < ? ORDER BY id`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("wallboard: %w", err)
	}
	defer rows.Close()
	out := make([]dayEvent, 0, hi-lo)
	var payload sql.RawBytes // valid until the next Next: decoded at once
	for rows.Next() {
		var e dayEvent
		var at int64
		if err := rows.Scan(&at, &e.kind, &e.agent, &payload); err != nil {
			return nil, fmt.Errorf("wallboard: %w", err)
		}
		switch e.kind {
		case crmclient.EventAgentState, crmclient.EventCallEnded, crmclient.EventCallMissed:
		case crmclient.EventCallStarted:
			e.raw = bytes.Clone(payload)
		default:
			continue
		}
		e.at = unixTime(at)
		if err := json.Unmarshal(payload, &e.f); err != nil {
			return nil, fmt.Errorf("wallboard: %s event of %s: %w", e.kind, e.agent, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// conversions counts, per agent, the dispositions of calls started in [from, to)
// whose result has the success flag in its campaign.
func (s *Store) conversions(ctx context.Context, camps []crmclient.Campaign, from, to time.Time) (map[string]int, error) {
	success := map[[2]string]bool{} // campaign, code
	for _, c := range camps {
		for _, r := range c.Disposition.Results {
			if r.Has(crmclient.FlagSuccess) {
				success[[2]string{c.ID, r.Code}] = true
			}
		}
	}
	out := map[string]int{}
	if len(success) == 0 {
		return out, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT agent, campaign_id, code, COUNT(*) FROM dispositions
		WHERE started_at >= ? AND started_at < ? GROUP BY agent, campaign_id, code`, from.Unix(), to.Unix())
	if err != nil {
		return nil, fmt.Errorf("wallboard: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			agent, campaign, code string
			n                     int
		)
		if err := rows.Scan(&agent, &campaign, &code, &n); err != nil {
			return nil, fmt.Errorf("wallboard: %w", err)
		}
		if success[[2]string{campaign, code}] {
			out[agent] += n
		}
	}
	return out, rows.Err()
}

// missedCallbacks counts the callbacks not made and due before before: the
// personal ones per agent who promised them, and all of them.
func (s *Store) missedCallbacks(ctx context.Context, camps []crmclient.Campaign, before time.Time) (map[string]int, int, error) {
	out := map[string]int{}
	if len(camps) == 0 {
		return out, 0, nil
	}
	// Naming every campaign lets the query walk leads_pick (campaign, status)
	// instead of every lead.
	args := make([]any, 0, len(camps)+1)
	for _, c := range camps {
		args = append(args, c.ID)
	}
	args = append(args, before.Unix())
	rows, err := s.db.QueryContext(ctx, `SELECT callback_scope, callback_agent, COUNT(*) FROM leads
		WHERE campaign_id IN (?`+strings.Repeat(", ?", len(camps)-1)+`) AND status = 'callback' AND callback_at < ?
		GROUP BY callback_scope, callback_agent`, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("wallboard: %w", err)
	}
	defer rows.Close()
	all := 0
	for rows.Next() {
		var (
			scope, agent string
			n            int
		)
		if err := rows.Scan(&scope, &agent, &n); err != nil {
			return nil, 0, fmt.Errorf("wallboard: %w", err)
		}
		all += n
		if crmclient.CallbackScope(scope) == crmclient.CallbackPersonal {
			out[agent] += n
		}
	}
	return out, all, rows.Err()
}
