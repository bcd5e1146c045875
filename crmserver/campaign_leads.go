package crmserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/opdesk/opdesk/crmclient"
)

const (
	// leaseTime is how long a lead handed out by NextLead stays with its agent:
	// long enough to read the preview card and the script, dial, and wrap up a
	// no-answer; short enough that a crashed desktop does not hide a lead for long.
	leaseTime = 10 * time.Minute
	// skipDelay keeps a released lead out of the pool for a while, so the agent
	// who skipped it does not get it straight back.
	skipDelay = 10 * time.Minute
	// pickBatch is how many candidates one pick query returns; agents racing for
	// the same ones each take a different one from the list.
	pickBatch = 16
	// missedAfter: a callback this late and not done is "missed" on the wallboard.
	missedAfter = 15 * time.Minute
)

const leadCols = `l.id, l.campaign_id, l.phone, l.customer_id, COALESCE(c.name, l.name), COALESCE(c.name_kana, l.name_kana),
	l.time_zone, l.fields, l.status, l.attempts, l.last_result, l.last_attempt_at, l.next_at, l.callback_at,
	l.callback_scope, l.callback_agent, l.lease_agent, l.lease_until`

const leadFrom = ` FROM leads l LEFT JOIN customers c ON c.id = l.customer_id`

// leadRow is a lead as stored, with what the rules need besides the reply.
type leadRow struct {
	id         int64
	customerID sql.NullInt64
	nextAt     int64
	leaseUntil int64
	lease      string
	out        crmclient.Lead
}

func scanLead(sc interface{ Scan(...any) error }, now time.Time) (leadRow, error) {
	var (
		r                  leadRow
		l                  = &r.out
		lastAt, callbackAt sql.NullInt64
		scope              string
		attempts           int64
	)
	if err := sc.Scan(&r.id, &l.CampaignID, &l.Phone, &r.customerID, &l.Name, &l.NameKana, &l.TimeZone,
		jsonColumn{&l.Fields}, &l.Status, &attempts, &l.LastResult, &lastAt, &r.nextAt, &callbackAt,
		&scope, &l.CallbackAgent, &r.lease, &r.leaseUntil); err != nil {
		return r, err
	}
	l.ID = strconv.FormatInt(r.id, 10)
	if r.customerID.Valid {
		l.CustomerID = strconv.FormatInt(r.customerID.Int64, 10)
	}
	if l.Fields == nil {
		l.Fields = map[string]string{}
	}
	l.Attempts = int(attempts)
	l.CallbackScope = crmclient.CallbackScope(scope)
	l.LastAttemptAt, l.CallbackAt = nullTime(lastAt), nullTime(callbackAt)
	if r.nextAt > 0 && (l.Status == crmclient.LeadOpen || l.Status == crmclient.LeadCallback) {
		t := unixTime(r.nextAt)
		l.NextAttemptAt = &t
	}
	if r.lease != "" && r.leaseUntil > now.Unix() {
		t := unixTime(r.leaseUntil)
		l.LeasedTo, l.LeaseUntil = r.lease, &t
	}
	return r, nil
}

// Lead returns one lead, or ErrNotFound.
func (s *Store) Lead(ctx context.Context, id string) (crmclient.Lead, error) {
	r, err := s.leadRow(ctx, s.db, id)
	return r.out, err
}

func (s *Store) leadRow(ctx context.Context, q querier, id string) (leadRow, error) {
	n, ok := parseID(id)
	if !ok {
		return leadRow{}, fmt.Errorf("lead %q: %w", id, ErrNotFound)
	}
	r, err := scanLead(q.QueryRowContext(ctx, `SELECT `+leadCols+leadFrom+` WHERE l.id = ?`, n), s.now())
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("lead %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("lead %q: %w", id, err)
	}
	return r, nil
}

// pickTier is one step of the next-lead order.
type pickTier struct {
	status crmclient.LeadStatus
	where  string
	args   func(agent string, max int) []any
}

var pickTiers = []pickTier{
	{crmclient.LeadCallback, ` AND l.callback_scope = 'personal' AND l.callback_agent = ?`,
		func(agent string, _ int) []any { return []any{agent} }},
	{crmclient.LeadCallback, ` AND l.callback_scope = 'team'`, func(string, int) []any { return nil }},
	// Callbacks are promises and are kept whatever the count; automatic
	// retries stop at the campaign's max attempts.
	{crmclient.LeadOpen, ` AND l.attempts < ?`, func(_ string, max int) []any { return []any{max} }},
}

// NextLead leases the next lead of a campaign to agent for leaseTime: the
// agent's own due callbacks first, then the team's, then open leads whose time
// has come (fresh ones and due retries), oldest first. Numbers on the DNC list
// (in outbound campaigns: see campaign_dnc.go), leads at their max attempts and
// leads outside the calling window (read in the lead's own zone when it has
// one) are skipped. An agent who still holds a live lease on an open lead or
// callback of the campaign gets that lead again, so a desktop that crashed
// between asking and showing loses nothing and nobody can hoard leads by asking
// twice. A held lead that was closed meanwhile (its number went on the DNC
// list, a colleague's wrap-up settled it) is not handed back: the lease stays
// on the row but binds nothing.
//
// ErrOutsideCallingHours when leads are waiting but none may be called now;
// ErrNoLeads when nothing is left. Both carry the time asking again can
// succeed, when there is one (see nextDue).
func (s *Store) NextLead(ctx context.Context, campaignID, agent string) (crmclient.Lead, error) {
	c, err := s.Campaign(ctx, campaignID)
	if err != nil {
		return crmclient.Lead{}, err
	}
	home, err := crmclient.LoadZone(c.Window.TimeZone)
	if err != nil {
		return crmclient.Lead{}, fmt.Errorf("campaign %s: %w", c.ID, err)
	}
	now := s.now()
	var held int64
	err = s.db.QueryRowContext(ctx, `SELECT id FROM leads WHERE lease_agent = ? AND lease_agent <> ''
		AND campaign_id = ? AND lease_until > ? AND status IN ('open', 'callback') ORDER BY id LIMIT 1`,
		agent, c.ID, now.Unix()).Scan(&held)
	if err == nil {
		return s.Lead(ctx, strconv.FormatInt(held, 10))
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return crmclient.Lead{}, fmt.Errorf("next lead: %w", err)
	}

	open, closed, err := s.zonesByWindow(ctx, c, now)
	if err != nil {
		return crmclient.Lead{}, err
	}
	if len(open) > 0 {
		for _, t := range pickTiers {
			l, ok, err := s.pickFrom(ctx, c, t, open, agent, now)
			if err != nil || ok {
				return l, err
			}
		}
	}
	if len(closed) > 0 {
		for _, t := range pickTiers {
			ids, err := s.candidates(ctx, c, t, closed, agent, now, 1)
			if err != nil {
				return crmclient.Lead{}, err
			}
			if len(ids) > 0 {
				due, _, err := s.nextDue(ctx, c, agent, now)
				if err != nil {
					return crmclient.Lead{}, err
				}
				return crmclient.Lead{}, refuseUntil(ErrOutsideCallingHours, due, "calling hours are %s (it is %s there now); no lead of campaign %s may be called before then",
					c.Window, now.In(home).Format("15:04"), c.ID)
			}
		}
	}
	due, ok, err := s.nextDue(ctx, c, agent, now)
	switch {
	case err != nil:
		return crmclient.Lead{}, err
	case !ok:
		return crmclient.Lead{}, refuse(ErrNoLeads, "campaign %s has no lead to call now", c.ID)
	}
	return crmclient.Lead{}, refuseUntil(ErrNoLeads, due, "campaign %s has no lead to call now; the next is due at %s %s",
		c.ID, clockAt(due, now, home), c.Window.TimeZone)
}

// zonesByWindow splits the campaign's time zones (its own, written ”, and the
// zones some leads carry) into those where the window is open now and those
// where it is closed. A zone the tz database no longer knows is in neither: its
// leads are never called (they were validated on the way in).
func (s *Store) zonesByWindow(ctx context.Context, c crmclient.Campaign, now time.Time) (open, closed []any, err error) {
	if ok, err := c.Window.OpenAt(now, ""); err != nil {
		return nil, nil, fmt.Errorf("campaign %s: %w", c.ID, err)
	} else if ok {
		open = append(open, "")
	} else {
		closed = append(closed, "")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT time_zone FROM leads WHERE campaign_id = ? AND time_zone <> ''`, c.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("lead zones: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, nil, fmt.Errorf("lead zones: %w", err)
		}
		ok, err := c.Window.OpenAt(now, name)
		if err != nil {
			continue
		}
		if ok {
			open = append(open, name)
		} else {
			closed = append(closed, name)
		}
	}
	return open, closed, rows.Err()
}

// candidates returns up to limit callable lead ids of one tier in the given zones.
func (s *Store) candidates(ctx context.Context, c crmclient.Campaign, t pickTier, zones []any, agent string,
	now time.Time, limit int) ([]int64, error) {
	q := `SELECT l.id FROM leads l WHERE l.campaign_id = ? AND l.status = ? AND l.next_at <= ? AND l.lease_until <= ?` +
		t.where + ` AND l.time_zone IN (?` + strings.Repeat(", ?", len(zones)-1) + `)`
	if c.Direction == crmclient.Outbound {
		q += ` AND NOT EXISTS (SELECT 1 FROM dnc d WHERE d.e164 = l.phone)`
	}
	q += ` ORDER BY l.next_at, l.id LIMIT ?`
	args := append([]any{c.ID, t.status, now.Unix(), now.Unix()}, t.args(agent, c.Retry.MaxAttempts)...)
	args = append(append(args, zones...), limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pick lead: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("pick lead: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// pickFrom leases the first candidate of a tier that nobody else takes first.
// The UPDATE re-checks everything the candidate query saw, under the row's
// write lock, so of two agents racing for a lead exactly one matches.
func (s *Store) pickFrom(ctx context.Context, c crmclient.Campaign, t pickTier, zones []any, agent string,
	now time.Time) (crmclient.Lead, bool, error) {
	for range 20 { // every round that loses all its races saw leads vanish; a few rounds suffice
		ids, err := s.candidates(ctx, c, t, zones, agent, now, pickBatch)
		if err != nil || len(ids) == 0 {
			return crmclient.Lead{}, false, err
		}
		for _, id := range ids {
			var got int64
			err := s.db.QueryRowContext(ctx, `UPDATE leads SET lease_agent = ?, lease_until = ?, updated_at = ?
				WHERE id = ? AND status = ? AND next_at <= ? AND lease_until <= ? RETURNING id`,
				agent, now.Add(leaseTime).Unix(), now.Unix(), id, t.status, now.Unix(), now.Unix()).Scan(&got)
			if errors.Is(err, sql.ErrNoRows) {
				continue // a colleague was faster
			}
			if err != nil {
				return crmclient.Lead{}, false, fmt.Errorf("lease lead: %w", err)
			}
			l, err := s.Lead(ctx, strconv.FormatInt(got, 10))
			return l, err == nil, err
		}
	}
	return crmclient.Lead{}, false, nil
}

// ReleaseLead gives back a lead leased to agent without calling it; it returns
// to the pool after skipDelay. ErrLeaseNotHeld when agent does not hold it.
func (s *Store) ReleaseLead(ctx context.Context, id, agent, reason string) (crmclient.Lead, error) {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > 200 || !cleanText(reason) {
		return crmclient.Lead{}, invalidf("reason must be at most 200 characters of text")
	}
	n, ok := parseID(id)
	if !ok {
		return crmclient.Lead{}, fmt.Errorf("lead %q: %w", id, ErrNotFound)
	}
	now := s.now()
	var got int64
	// A skipped lead waits skipDelay; a skipped callback keeps its promised
	// time (callback_at) for the wallboard but is not offered again at once.
	err := s.db.QueryRowContext(ctx, `UPDATE leads SET lease_agent = '', lease_until = 0, skip_reason = ?,
		next_at = CASE WHEN next_at > ? THEN next_at ELSE ? END, updated_at = ?
		WHERE id = ? AND lease_agent = ? AND status IN ('open', 'callback') RETURNING id`,
		reason, now.Add(skipDelay).Unix(), now.Add(skipDelay).Unix(), now.Unix(), n, agent).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return crmclient.Lead{}, s.notHeld(ctx, id)
	}
	if err != nil {
		return crmclient.Lead{}, fmt.Errorf("release lead: %w", err)
	}
	return s.Lead(ctx, id)
}

// notHeld explains why a lead is not the caller's: it does not exist (404), or
// it is not leased to them (409).
func (s *Store) notHeld(ctx context.Context, id string) error {
	if _, err := s.Lead(ctx, id); err != nil {
		return err
	}
	return refuse(ErrLeaseNotHeld, "lead %s is not leased to you; get a lead with POST /v1/campaigns/{id}/leads/next", id)
}

// recordAttempt applies a call attempt that reached nobody, in tx: one more
// attempt, the retry time by the campaign's rule (or no retry), the lease
// freed, and a line in the customer's history when the lead has a customer.
// The lease must be agent's: lease_agent keeps the last holder until someone
// else takes the lead, so an attempt that arrives late through the outbox is
// still accepted unless a colleague has the lead now.
func (s *Store) recordAttempt(ctx context.Context, tx *tx, id string, u crmclient.User,
	in crmclient.AttemptRequest) (crmclient.Lead, error) {
	if !in.Outcome.Valid() {
		return crmclient.Lead{}, unprocessable("outcome must be one of no_answer, busy, rejected, unreachable, invalid_number; not %q", in.Outcome)
	}
	r, err := s.leadRow(ctx, tx, id)
	if err != nil {
		return crmclient.Lead{}, err
	}
	if r.lease != u.Name {
		return crmclient.Lead{}, refuse(ErrLeaseNotHeld, "lead %s is not leased to you; get a lead with POST /v1/campaigns/{id}/leads/next", id)
	}
	if r.out.Status != crmclient.LeadOpen && r.out.Status != crmclient.LeadCallback {
		return crmclient.Lead{}, unprocessable("lead %s is %s; attempts are recorded for open leads and callbacks only", id, r.out.Status)
	}
	c, err := loadCampaign(ctx, tx, r.out.CampaignID)
	if err != nil {
		return crmclient.Lead{}, err
	}
	now := s.now()
	at := in.At
	if at.IsZero() || at.After(now) {
		at = now // a desktop clock ahead of ours must not push retries later
	}
	attempts := r.out.Attempts + 1
	status, next := r.out.Status, r.nextAt
	if delay, ok := c.Retry.DelaySeconds[in.Outcome]; !ok {
		status = crmclient.LeadFailed // rejected, unreachable, invalid number: never again
	} else {
		next = at.Unix() + delay
		if status == crmclient.LeadOpen && attempts >= c.Retry.MaxAttempts {
			status = crmclient.LeadFailed
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE leads SET attempts = ?, status = ?, next_at = ?, last_result = ?,
		last_attempt_at = ?, lease_agent = '', lease_until = 0, updated_at = ? WHERE id = ?`,
		attempts, status, next, in.Outcome, at.Unix(), now.Unix(), r.id); err != nil {
		return crmclient.Lead{}, fmt.Errorf("record attempt: %w", err)
	}
	if r.customerID.Valid {
		if _, err := tx.ExecContext(ctx, insertCallSQL, r.customerID.Int64, at.Unix(), u.DisplayName,
			crmclient.Outbound, 0, string(in.Outcome), ""); err != nil {
			return crmclient.Lead{}, fmt.Errorf("record attempt: %w", err)
		}
	}
	r, err = s.leadRow(ctx, tx, id)
	return r.out, err
}

// Callbacks lists promised callbacks not yet made, due first: for an agent,
// their own and their campaigns' team callbacks; for a supervisor, everyone's.
// missedOnly keeps those more than missedAfter late.
func (s *Store) Callbacks(ctx context.Context, u crmclient.User, missedOnly bool) ([]crmclient.Callback, error) {
	now := s.now()
	missedBefore := now.Add(-missedAfter).Unix()
	q := `SELECT l.id, l.campaign_id, l.phone, l.customer_id, COALESCE(c.name, l.name), l.callback_agent,
		l.callback_scope, l.callback_at, l.last_result` + leadFrom + ` WHERE l.status = 'callback'`
	var args []any
	if u.Role != crmclient.RoleSupervisor {
		if len(u.Campaigns) == 0 {
			return []crmclient.Callback{}, nil
		}
		q += ` AND l.campaign_id IN (?` + strings.Repeat(", ?", len(u.Campaigns)-1) + `)
			AND (l.callback_scope = 'team' OR l.callback_agent = ?)`
		for _, id := range u.Campaigns {
			args = append(args, id)
		}
		args = append(args, u.Name)
	}
	if missedOnly {
		q += ` AND l.callback_at < ?`
		args = append(args, missedBefore)
	}
	q += ` ORDER BY l.callback_at, l.id LIMIT 500`
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("callbacks: %w", err)
	}
	defer rows.Close()
	out := []crmclient.Callback{}
	for rows.Next() {
		var (
			cb       crmclient.Callback
			id, due  int64
			customer sql.NullInt64
			scope    string
		)
		if err := rows.Scan(&id, &cb.CampaignID, &cb.Phone, &customer, &cb.Name, &cb.Agent, &scope, &due,
			&cb.LastResult); err != nil {
			return nil, fmt.Errorf("callbacks: %w", err)
		}
		cb.LeadID = strconv.FormatInt(id, 10)
		if customer.Valid {
			cb.CustomerID = strconv.FormatInt(customer.Int64, 10)
		}
		cb.Scope, cb.DueAt, cb.Missed = crmclient.CallbackScope(scope), unixTime(due), due < missedBefore
		out = append(out, cb)
	}
	return out, rows.Err()
}
