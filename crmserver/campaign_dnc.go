package crmserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/opdesk/opdesk/crmclient"
)

// The do-not-call list is one list for the whole CRM: a refusal binds the
// business, whichever campaign heard it (特定商取引法 第17条 forbids soliciting
// again someone who said no). It governs outbound campaigns, which solicit:
// putting a number on it closes the open leads with that number in every
// outbound campaign, and their next-lead query also checks the list, for leads
// imported while the number was being added. Inbound campaigns are exempt: a
// callback promised on the support line answers the customer's own call, and a
// refusal of sales calls must not make the shop break that promise. The list
// importer refuses listed numbers into any campaign (a list is for calling). Leads are found
// by number through the (campaign_id, phone) index, one seek per campaign,
// rather than a second index on phone that every import would have to write.

// DNC returns the list entry for an E.164 number; DNC false when there is none.
func (s *Store) DNC(ctx context.Context, e164 string) (crmclient.DNCEntry, error) {
	e := crmclient.DNCEntry{Phone: e164}
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT kind, reason, campaign_id, added_by, added_at FROM dnc WHERE e164 = ?`, e164).
		Scan(&e.Kind, &e.Reason, &e.CampaignID, &e.AddedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return e, nil
	}
	if err != nil {
		return e, fmt.Errorf("dnc: %w", err)
	}
	t := unixTime(at)
	e.DNC, e.AddedAt = true, &t
	return e, nil
}

// AddDNC puts a number on the list on a supervisor's word. created is false
// when it was already there (and stays as it was, unless this makes a plain
// entry a refused_never_call one).
func (s *Store) AddDNC(ctx context.Context, by string, in crmclient.DNCRequest) (e crmclient.DNCEntry, created bool, err error) {
	if in.Kind == "" {
		in.Kind = crmclient.DNCDoNotCall
	}
	in.Reason = strings.TrimSpace(in.Reason)
	switch {
	case in.Kind != crmclient.DNCDoNotCall && in.Kind != crmclient.DNCRefusedNeverCall:
		return e, false, invalidf("kind must be dnc or refused_never_call, not %q", in.Kind)
	case utf8.RuneCountInString(in.Reason) > 200 || !cleanText(in.Reason):
		return e, false, invalidf("reason must be at most 200 characters of text")
	}
	if p, err := crmclient.NormalizePhone(in.Phone, ""); err != nil || p != in.Phone {
		return e, false, fmt.Errorf("phone: %w", crmclient.ErrInvalidPhone)
	}
	prev, err := s.DNC(ctx, in.Phone)
	if err != nil {
		return e, false, err
	}
	err = s.inTx(ctx, func(tx *tx) error {
		return addDNC(ctx, tx, in.Phone, in.Kind, in.Reason, "", by, s.now(), 0)
	})
	if err != nil {
		return e, false, err
	}
	e, err = s.DNC(ctx, in.Phone)
	return e, !prev.DNC, err
}

// addDNC puts a number on the list in tx (or makes an entry refused_never_call)
// and closes the open leads with that number in outbound campaigns, except lead
// exceptLead (whose own wrap-up is being recorded). Their leases are freed: an
// agent holding one must not be handed the closed lead again by NextLead, and
// an attempt on it that arrives later is refused (lease_not_held).
func addDNC(ctx context.Context, tx *tx, e164 string, kind crmclient.DNCKind, reason, campaignID, by string,
	now time.Time, exceptLead int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO dnc (e164, kind, reason, campaign_id, added_by, added_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (e164) DO UPDATE SET kind = excluded.kind, reason = excluded.reason, campaign_id = excluded.campaign_id,
			added_by = excluded.added_by, added_at = excluded.added_at
		WHERE excluded.kind = 'refused_never_call' AND dnc.kind <> 'refused_never_call'`,
		e164, kind, reason, campaignID, by, now.Unix()); err != nil {
		return fmt.Errorf("dnc add: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE leads SET status = 'dnc', lease_agent = '', lease_until = 0, updated_at = ?
		WHERE campaign_id IN (SELECT id FROM campaigns WHERE direction = 'outbound') AND phone = ?
			AND status IN ('open', 'callback') AND id <> ?`,
		now.Unix(), e164, exceptLead); err != nil {
		return fmt.Errorf("dnc add: close leads: %w", err)
	}
	return nil
}

// RemoveDNC takes a number off the list and reopens the leads the list had
// closed. A refused_never_call entry cannot be removed: ErrNeverCall.
// ErrNotFound when the number is not on the list.
func (s *Store) RemoveDNC(ctx context.Context, e164 string) error {
	return s.inTx(ctx, func(tx *tx) error {
		var kind string
		var at int64
		err := tx.QueryRowContext(ctx, `SELECT kind, added_at FROM dnc WHERE e164 = ?`, e164).Scan(&kind, &at)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s is not on the do-not-call list: %w", e164, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("dnc remove: %w", err)
		}
		if kind == string(crmclient.DNCRefusedNeverCall) {
			return refuse(ErrNeverCall, "%s refused further calls on %s and must never be called again "+
				"(特定商取引法 第17条: no re-solicitation after a refusal); the entry cannot be removed",
				e164, unixTime(at).Format(time.DateOnly))
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM dnc WHERE e164 = ?`, e164); err != nil {
			return fmt.Errorf("dnc remove: %w", err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE leads SET status = 'open', updated_at = ?
			WHERE campaign_id IN (SELECT id FROM campaigns) AND phone = ? AND status = 'dnc'`,
			s.now().Unix(), e164)
		return err
	})
}
