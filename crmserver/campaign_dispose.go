package crmserver

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/opdesk/opdesk/crmclient"
)

// Dispose stores the wrap-up of a call for user u once per key (see
// idempotent and dispose). Go callers (tests, tools) use it; the HTTP handler
// uses disposeRaw to replay the stored bytes.
func (s *Store) Dispose(ctx context.Context, u crmclient.User, key string, in crmclient.DispositionInput) (crmclient.Disposition, error) {
	_, body, err := s.disposeRaw(ctx, u, key, in)
	if err != nil {
		return crmclient.Disposition{}, err
	}
	var d crmclient.Disposition
	err = json.Unmarshal(body, &d)
	return d, err
}

func (s *Store) disposeRaw(ctx context.Context, u crmclient.User, key string, in crmclient.DispositionInput) (int, []byte, error) {
	if !validKey(key) {
		return 0, nil, invalidf("the Idempotency-Key header is required: 1–200 printable ASCII characters, e.g. a UUID")
	}
	return s.idempotent(ctx, key, u.Name, "POST /v1/dispositions", in, func(tx *tx) (int, any, error) {
		d, err := s.dispose(ctx, tx, u, in)
		return http.StatusCreated, d, err
	})
}

// dispose validates a wrap-up against its campaign's form and applies it in tx:
// a line in the customer's call history (when the customer is known: given,
// the lead's, or the only customer with the number), the lead's attempts,
// status and callback with its lease freed (a callback without a lead creates
// one, so the next-lead order delivers it), and the DNC list when the result
// says so. A lead without lead_id is found by campaign and phone.
//
// It never refuses for lease reasons: a wrap-up reports a call that happened,
// and may arrive through the outbox long after the lease ran out.
func (s *Store) dispose(ctx context.Context, tx *tx, u crmclient.User, in crmclient.DispositionInput) (crmclient.Disposition, error) {
	c, err := loadCampaign(ctx, tx, in.CampaignID)
	if errors.Is(err, ErrNotFound) {
		return crmclient.Disposition{}, unprocessable("campaign_id: there is no campaign %q", in.CampaignID)
	}
	if err != nil {
		return crmclient.Disposition{}, err
	}
	res, ok := c.Disposition.Result(in.Code)
	if !ok {
		codes := make([]string, len(c.Disposition.Results))
		for i, r := range c.Disposition.Results {
			codes[i] = r.Code
		}
		return crmclient.Disposition{}, unprocessable("code %q is not a result of campaign %s; use one of %s",
			in.Code, c.ID, strings.Join(codes, ", "))
	}
	if in.Direction == "" {
		in.Direction = c.Direction
	}
	switch {
	case !in.Direction.Valid():
		return crmclient.Disposition{}, unprocessable("direction must be inbound or outbound, not %q", in.Direction)
	case in.StartedAt.IsZero():
		return crmclient.Disposition{}, unprocessable("started_at is required: when the call began")
	case in.DurationSeconds < 0 || in.DurationSeconds > 24*3600:
		return crmclient.Disposition{}, unprocessable("duration_seconds must be 0–86400, not %d", in.DurationSeconds)
	case utf8.RuneCountInString(in.Notes) > 10000 || !cleanText(in.Notes):
		return crmclient.Disposition{}, unprocessable("notes must be at most 10000 characters of text")
	case len(in.CallID) > 256 || !cleanText(in.CallID):
		return crmclient.Disposition{}, unprocessable("call_id must be at most 256 bytes")
	case utf8.RuneCountInString(in.EscalateTo) > 100 || !cleanText(in.EscalateTo):
		return crmclient.Disposition{}, unprocessable("escalate_to must be at most 100 characters")
	}
	fields, err := validateFields(c, res.Code, in.Fields)
	if err != nil {
		return crmclient.Disposition{}, err
	}
	phone := in.Phone
	if phone != "" {
		if e, err := crmclient.NormalizePhone(phone, ""); err != nil || e != phone {
			return crmclient.Disposition{}, unprocessable("phone %q must be an E.164 number such as +81312345678", phone)
		}
	}

	var lead *leadRow
	if in.LeadID != "" {
		r, err := s.leadRow(ctx, tx, in.LeadID)
		if errors.Is(err, ErrNotFound) {
			return crmclient.Disposition{}, unprocessable("lead_id: there is no lead %q", in.LeadID)
		}
		if err != nil {
			return crmclient.Disposition{}, err
		}
		if r.out.CampaignID != c.ID {
			return crmclient.Disposition{}, unprocessable("lead_id: lead %s belongs to campaign %s, not %s", in.LeadID, r.out.CampaignID, c.ID)
		}
		lead = &r
		if phone == "" {
			phone = r.out.Phone
		}
	} else if phone != "" {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM leads WHERE campaign_id = ? AND phone = ?`, c.ID, phone).Scan(&id)
		if err == nil {
			r, err := s.leadRow(ctx, tx, strconv.FormatInt(id, 10))
			if err != nil {
				return crmclient.Disposition{}, err
			}
			lead = &r
		} else if !errors.Is(err, sql.ErrNoRows) {
			return crmclient.Disposition{}, err
		}
	}

	var customer int64
	switch {
	case in.CustomerID != "":
		id, ok := parseID(in.CustomerID)
		if ok {
			err = tx.QueryRowContext(ctx, `SELECT id FROM customers WHERE id = ?`, id).Scan(&customer)
		}
		if !ok || errors.Is(err, sql.ErrNoRows) {
			return crmclient.Disposition{}, unprocessable("customer_id: there is no customer %q", in.CustomerID)
		}
		if err != nil {
			return crmclient.Disposition{}, err
		}
	case lead != nil && lead.customerID.Valid:
		customer = lead.customerID.Int64
	case phone != "":
		// Only a number that belongs to exactly one customer says who it was; a
		// family landline does not.
		ids, err := queryIDs(ctx, tx, `SELECT customer_id FROM customer_phones WHERE e164 = ? ORDER BY customer_id LIMIT 2`, phone)
		if err != nil {
			return crmclient.Disposition{}, err
		}
		if len(ids) == 1 {
			customer = ids[0]
		}
	}
	if phone == "" && customer != 0 {
		err := tx.QueryRowContext(ctx, `SELECT e164 FROM customer_phones WHERE customer_id = ? ORDER BY position LIMIT 1`,
			customer).Scan(&phone)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return crmclient.Disposition{}, err
		}
	}

	callback := res.Has(crmclient.FlagCallback)
	never := res.Has(crmclient.FlagRefusedNeverCall)
	toDNC := never || res.Has(crmclient.FlagDNC)
	switch {
	case callback && in.CallbackAt == nil:
		return crmclient.Disposition{}, unprocessable("callback_at is required for result %s (%s)", res.Code, res.LabelJA)
	case callback && in.CallbackScope != crmclient.CallbackPersonal && in.CallbackScope != crmclient.CallbackTeam:
		return crmclient.Disposition{}, unprocessable("callback_scope must be personal or team for result %s, not %q", res.Code, in.CallbackScope)
	case callback && !in.CallbackAt.After(in.StartedAt):
		return crmclient.Disposition{}, unprocessable("callback_at must be after the call's started_at")
	case callback && phone == "":
		return crmclient.Disposition{}, unprocessable("phone is required for result %s: a callback needs a number to call", res.Code)
	case !callback && (in.CallbackAt != nil || in.CallbackScope != ""):
		return crmclient.Disposition{}, unprocessable("callback_at and callback_scope are only for results with a callback; %s has none", res.Code)
	case res.Has(crmclient.FlagEscalate) && strings.TrimSpace(in.EscalateTo) == "":
		return crmclient.Disposition{}, unprocessable("escalate_to is required for result %s: who takes the case over", res.Code)
	case !res.Has(crmclient.FlagEscalate) && in.EscalateTo != "":
		return crmclient.Disposition{}, unprocessable("escalate_to is only for results that escalate; %s does not", res.Code)
	case toDNC && phone == "":
		return crmclient.Disposition{}, unprocessable("phone is required for result %s: it puts the number on the do-not-call list", res.Code)
	}

	now := s.now()
	d := crmclient.Disposition{CampaignID: c.ID, Phone: phone, CallID: in.CallID, Direction: in.Direction,
		Agent: u.Name, StartedAt: in.StartedAt.UTC().Truncate(time.Second), DurationSeconds: in.DurationSeconds,
		Code: res.Code, Fields: fields, Notes: in.Notes, CallbackScope: in.CallbackScope, EscalateTo: in.EscalateTo,
		DNCAdded: toDNC, CreatedAt: unixTime(now.Unix())}
	if callback {
		t := in.CallbackAt.UTC().Truncate(time.Second)
		d.CallbackAt = &t
	}
	var entry sql.NullInt64
	if customer != 0 {
		d.CustomerID = strconv.FormatInt(customer, 10)
		var id int64
		if err := tx.QueryRowContext(ctx, insertCallSQL+` RETURNING id`, customer, d.StartedAt.Unix(), u.DisplayName,
			d.Direction, d.DurationSeconds, d.Code, d.Notes).Scan(&id); err != nil {
			return d, fmt.Errorf("dispose: history: %w", err)
		}
		entry = sql.NullInt64{Int64: id, Valid: true}
		d.CallEntryID = strconv.FormatInt(id, 10)
	}

	var leadID sql.NullInt64
	if lead != nil || callback {
		id, err := s.settleLead(ctx, tx, c, lead, d, customer, u.Name, now)
		if err != nil {
			return d, err
		}
		leadID = sql.NullInt64{Int64: id, Valid: true}
		d.LeadID = strconv.FormatInt(id, 10)
	}
	if toDNC {
		kind := crmclient.DNCDoNotCall
		if never {
			kind = crmclient.DNCRefusedNeverCall
		}
		if err := addDNC(ctx, tx, phone, kind, res.LabelJA, c.ID, u.Name, now, leadID.Int64); err != nil {
			return d, err
		}
	}
	fj, _ := json.Marshal(fields)
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO dispositions (campaign_id, lead_id, customer_id, call_entry_id, phone,
		call_id, direction, agent, started_at, duration_s, code, fields, notes, callback_at, callback_scope, escalate_to,
		dnc_added, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.ID, leadID, nullID(customer), entry, phone, d.CallID, d.Direction, d.Agent, d.StartedAt.Unix(),
		d.DurationSeconds, d.Code, string(fj), d.Notes, optUnix(d.CallbackAt), d.CallbackScope, d.EscalateTo,
		boolInt(toDNC), now.Unix()).Scan(&id); err != nil {
		return d, fmt.Errorf("dispose: %w", err)
	}
	d.ID = strconv.FormatInt(id, 10)
	return d, nil
}

// settleLead records a wrap-up on its lead (creating one for a callback that has
// none) and returns the lead's id. The lease is freed if it was the agent's or
// has run out; a colleague's live lease is left alone.
func (s *Store) settleLead(ctx context.Context, tx *tx, c crmclient.Campaign, lead *leadRow, d crmclient.Disposition,
	customer int64, agent string, now time.Time) (int64, error) {
	status, next := crmclient.LeadDone, int64(0)
	var cbAt any
	scope, cbAgent := "", ""
	if d.CallbackAt != nil {
		status, next, cbAt = crmclient.LeadCallback, d.CallbackAt.Unix(), d.CallbackAt.Unix()
		scope, cbAgent = string(d.CallbackScope), agent
	}
	if lead == nil {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO leads (campaign_id, phone, customer_id, status, attempts,
			last_result, last_attempt_at, next_at, callback_at, callback_scope, callback_agent, created_at, updated_at)
			VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (campaign_id, phone) DO UPDATE SET status = excluded.status, attempts = leads.attempts + 1,
				last_result = excluded.last_result, last_attempt_at = excluded.last_attempt_at, next_at = excluded.next_at,
				callback_at = excluded.callback_at, callback_scope = excluded.callback_scope,
				callback_agent = excluded.callback_agent, updated_at = excluded.updated_at
			RETURNING id`, c.ID, d.Phone, nullID(customer), status, d.Code, d.StartedAt.Unix(), next, cbAt, scope, cbAgent,
			now.Unix(), now.Unix()).Scan(&id)
		if err != nil {
			return 0, fmt.Errorf("dispose: callback lead: %w", err)
		}
		return id, nil
	}
	// SET expressions all read the row as it was, so the two CASEs agree.
	_, err := tx.ExecContext(ctx, `UPDATE leads SET attempts = attempts + 1, status = ?, last_result = ?,
		last_attempt_at = ?, next_at = ?, callback_at = ?, callback_scope = ?, callback_agent = ?,
		lease_agent = CASE WHEN lease_agent = ? OR lease_until <= ? THEN '' ELSE lease_agent END,
		lease_until = CASE WHEN lease_agent = ? OR lease_until <= ? THEN 0 ELSE lease_until END,
		customer_id = COALESCE(customer_id, ?), updated_at = ? WHERE id = ?`,
		status, d.Code, d.StartedAt.Unix(), next, cbAt, scope, cbAgent, agent, now.Unix(), agent, now.Unix(),
		nullID(customer), now.Unix(), lead.id)
	if err != nil {
		return 0, fmt.Errorf("dispose: lead: %w", err)
	}
	return lead.id, nil
}

// validateFields checks a wrap-up's fields against the campaign's form and
// returns them without nulls. Messages name the field as fields.NAME.
func validateFields(c crmclient.Campaign, code string, in map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(in))
	form := make(map[string]crmclient.FormField, len(c.Disposition.Fields))
	for _, f := range c.Disposition.Fields {
		form[f.Name] = f
	}
	for name, v := range in {
		f, ok := form[name]
		if !ok {
			return nil, unprocessable("fields.%s is not a field of campaign %s's form", name, c.ID)
		}
		if s, ok := v.(string); v == nil || ok && strings.TrimSpace(s) == "" {
			continue // an empty form field is an absent one
		}
		if err := checkField(f, v); err != nil {
			return nil, err
		}
		out[name] = v
	}
	for _, f := range c.Disposition.Fields {
		if _, ok := out[f.Name]; !ok && f.Required && f.AppliesTo(code) {
			return nil, unprocessable("fields.%s (%s) is required for result %s", f.Name, f.LabelJA, code)
		}
	}
	return out, nil
}

func checkField(f crmclient.FormField, v any) error {
	s, isStr := v.(string)
	switch f.Type {
	case crmclient.FieldText:
		if !isStr || utf8.RuneCountInString(s) > 2000 || !cleanText(s) {
			return unprocessable("fields.%s must be text of at most 2000 characters", f.Name)
		}
	case crmclient.FieldNumber:
		n, ok := v.(float64)
		if !ok || math.IsInf(n, 0) || math.IsNaN(n) {
			return unprocessable("fields.%s must be a number", f.Name)
		}
	case crmclient.FieldDate:
		if _, err := time.Parse(time.DateOnly, s); !isStr || err != nil {
			return unprocessable("fields.%s must be a date like 2025-06-20", f.Name)
		}
	case crmclient.FieldDateTime:
		if _, err := time.Parse(time.RFC3339, s); !isStr || err != nil {
			return unprocessable("fields.%s must be a date and time like 2025-06-20T14:00:00+09:00", f.Name)
		}
	case crmclient.FieldChoice:
		if !isStr || !slices.Contains(f.Choices, s) {
			return unprocessable("fields.%s must be one of %s", f.Name, strings.Join(f.Choices, ", "))
		}
	case crmclient.FieldBool:
		if _, ok := v.(bool); !ok {
			return unprocessable("fields.%s must be true or false", f.Name)
		}
	}
	return nil
}

// nullID stores 0 as NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// queryIDs runs a query of one integer column.
func queryIDs(ctx context.Context, q querier, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// RecordAttempt applies a call attempt that reached nobody, once per key (see
// recordAttempt).
func (s *Store) RecordAttempt(ctx context.Context, u crmclient.User, key, leadID string, in crmclient.AttemptRequest) (crmclient.Lead, error) {
	_, body, err := s.attemptRaw(ctx, u, key, leadID, in)
	if err != nil {
		return crmclient.Lead{}, err
	}
	var l crmclient.Lead
	err = json.Unmarshal(body, &l)
	return l, err
}

func (s *Store) attemptRaw(ctx context.Context, u crmclient.User, key, leadID string, in crmclient.AttemptRequest) (int, []byte, error) {
	if !validKey(key) {
		return 0, nil, invalidf("the Idempotency-Key header is required: 1–200 printable ASCII characters, e.g. a UUID")
	}
	req := struct {
		Lead string                   `json:"lead"`
		In   crmclient.AttemptRequest `json:"in"`
	}{leadID, in}
	return s.idempotent(ctx, key, u.Name, "POST /v1/leads/{id}/attempts", req, func(tx *tx) (int, any, error) {
		l, err := s.recordAttempt(ctx, tx, leadID, u, in)
		return http.StatusOK, l, err
	})
}
