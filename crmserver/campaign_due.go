package crmserver

import (
	"context"
	"fmt"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// nextDue is the earliest time agent could get a lead of campaign c, for the
// retry_at of no_leads and outside_calling_hours: over the leads the pick tiers
// would offer agent (open leads below max attempts, team callbacks, agent's own
// personal callbacks; in outbound campaigns none on the DNC list), the time each
// falls due and its lease (anyone's) runs out, moved to the opening of its
// calling window. ok is false when no such lead exists: nothing comes back
// unless someone acts (an import, a supervisor reopening a number).
//
// It groups by zone, so the cost is one pass over the campaign's callable leads
// and one NextOpen per zone; it runs only when NextLead has nothing to give.
func (s *Store) nextDue(ctx context.Context, c crmclient.Campaign, agent string, now time.Time) (due time.Time, ok bool, err error) {
	q := `SELECT l.time_zone, MIN(CASE WHEN l.next_at > l.lease_until THEN l.next_at ELSE l.lease_until END)
		FROM leads l WHERE l.campaign_id = ? AND (l.status = 'open' AND l.attempts < ?
			OR l.status = 'callback' AND (l.callback_scope = 'team' OR l.callback_scope = 'personal' AND l.callback_agent = ?))`
	if c.Direction == crmclient.Outbound {
		q += ` AND NOT EXISTS (SELECT 1 FROM dnc d WHERE d.e164 = l.phone)`
	}
	rows, err := s.db.QueryContext(ctx, q+` GROUP BY l.time_zone`, c.ID, c.Retry.MaxAttempts, agent)
	if err != nil {
		return due, false, fmt.Errorf("next due lead: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			name string
			at   int64
		)
		if err := rows.Scan(&name, &at); err != nil {
			return due, false, fmt.Errorf("next due lead: %w", err)
		}
		t := unixTime(max(at, now.Unix()))
		if open, err := c.Window.NextOpen(t, name); err == nil && (!ok || open.Before(due)) {
			due, ok = open, true
		} // a zone the tz database dropped never opens (see zonesByWindow)
	}
	return due, ok, rows.Err()
}

// clockAt writes t for a message on the clock of loc: "15:04" on now's day
// there, "2006-01-02 15:04" on another.
func clockAt(t, now time.Time, loc *time.Location) string {
	t, now = t.In(loc), now.In(loc)
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04")
	}
	return t.Format("2006-01-02 15:04")
}
