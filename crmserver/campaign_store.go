package crmserver

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/opdesk/opdesk/crmclient"
)

// Campaign defaults, as a Japanese outbound center would set them: calls between
// 09:00 and 21:00 Tokyo time (the hours consumer-affairs guidance treats as
// acceptable for telemarketing), an unanswered call retried after 2 hours, a busy
// line after 15 minutes, three attempts at most.
var (
	defaultWindow = crmclient.CallingWindow{Start: "09:00", End: "21:00", TimeZone: "Asia/Tokyo"}
	defaultRetry  = crmclient.RetryPolicy{MaxAttempts: 3, DelaySeconds: map[crmclient.AttemptOutcome]int64{
		crmclient.OutcomeNoAnswer: 2 * 3600,
		crmclient.OutcomeBusy:     15 * 60,
	}}
)

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// CreateCampaign validates a campaign, fills the defaults (calling window,
// retry rules) and stores it (POST /v1/campaigns, and seed data).
func (s *Store) CreateCampaign(ctx context.Context, c crmclient.Campaign) (crmclient.Campaign, error) {
	if err := validateCampaign(&c); err != nil {
		return crmclient.Campaign{}, err
	}
	spec, err := json.Marshal(c)
	if err != nil {
		return crmclient.Campaign{}, fmt.Errorf("create campaign %s: %w", c.ID, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO campaigns (id, direction, spec, created_at) VALUES (?, ?, ?, ?)`,
		c.ID, c.Direction, string(spec), s.now().Unix())
	if isUniqueViolation(err) {
		return crmclient.Campaign{}, invalidf("campaign %s already exists", c.ID)
	}
	if err != nil {
		return crmclient.Campaign{}, fmt.Errorf("create campaign %s: %w", c.ID, err)
	}
	return c, nil
}

// UpdateCampaign replaces a campaign's definition (PUT /v1/campaigns/{id}). Its
// leads, dispositions and callbacks stay: result codes already recorded keep
// their meaning in history even if the new schema drops them.
func (s *Store) UpdateCampaign(ctx context.Context, id string, c crmclient.Campaign) (crmclient.Campaign, error) {
	if c.ID == "" {
		c.ID = id
	}
	if c.ID != id {
		return crmclient.Campaign{}, invalidf("the body's id %q differs from the campaign %q in the URL; ids cannot be changed", c.ID, id)
	}
	if err := validateCampaign(&c); err != nil {
		return crmclient.Campaign{}, err
	}
	spec, err := json.Marshal(c)
	if err != nil {
		return crmclient.Campaign{}, fmt.Errorf("update campaign %s: %w", id, err)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE campaigns SET direction = ?, spec = ? WHERE id = ?`,
		c.Direction, string(spec), id)
	if err != nil {
		return crmclient.Campaign{}, fmt.Errorf("update campaign %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return crmclient.Campaign{}, fmt.Errorf("campaign %q: %w", id, ErrNotFound)
	}
	return c, nil
}

// Campaign returns one campaign, or ErrNotFound.
func (s *Store) Campaign(ctx context.Context, id string) (crmclient.Campaign, error) {
	return loadCampaign(ctx, s.db, id)
}

// querier is what both the pool and a transaction offer.
type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

func loadCampaign(ctx context.Context, q querier, id string) (crmclient.Campaign, error) {
	var c crmclient.Campaign
	err := q.QueryRowContext(ctx, `SELECT spec FROM campaigns WHERE id = ?`, id).Scan(jsonColumn{&c})
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("campaign %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("campaign %q: %w", id, err)
	}
	return c, nil
}

// Campaigns lists campaigns by id: all of them when ids is nil, else those named.
func (s *Store) Campaigns(ctx context.Context, ids []string) ([]crmclient.Campaign, error) {
	q, args := `SELECT spec FROM campaigns ORDER BY id`, []any(nil)
	if ids != nil {
		if len(ids) == 0 {
			return []crmclient.Campaign{}, nil
		}
		q = `SELECT spec FROM campaigns WHERE id IN (?` + strings.Repeat(", ?", len(ids)-1) + `) ORDER BY id`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("campaigns: %w", err)
	}
	defer rows.Close()
	out := []crmclient.Campaign{}
	for rows.Next() {
		var c crmclient.Campaign
		if err := rows.Scan(jsonColumn{&c}); err != nil {
			return nil, fmt.Errorf("campaigns: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// validateCampaign checks a campaign and fills its defaults.
func validateCampaign(c *crmclient.Campaign) error {
	c.Name = strings.TrimSpace(c.Name)
	switch {
	case !slugRE.MatchString(c.ID):
		return invalidf("campaign id %q must be 1–64 lower-case letters, digits, '-' or '_'", c.ID)
	case c.Name == "" || utf8.RuneCountInString(c.Name) > 100 || !cleanText(c.Name):
		return invalidf("campaign name must be 1–100 characters of text")
	case !c.Direction.Valid():
		return invalidf("campaign direction must be inbound or outbound, not %q", c.Direction)
	case len(c.ScriptID) > 64 || !cleanText(c.ScriptID):
		return invalidf("script_id is too long")
	}
	if c.CallerID != "" {
		e, err := crmclient.NormalizePhone(c.CallerID, "")
		if err != nil || e != c.CallerID {
			return invalidf("caller_id %q must be an E.164 number such as +81312345678", c.CallerID)
		}
	}
	if c.Window == (crmclient.CallingWindow{}) {
		c.Window = defaultWindow
	}
	if c.Window.TimeZone == "" {
		c.Window.TimeZone = defaultWindow.TimeZone
	}
	if err := c.Window.Validate(); err != nil {
		return invalidf("%v", err) // the window's own words: "calling window …", "time zone …"
	}
	if c.Retry.MaxAttempts == 0 {
		c.Retry.MaxAttempts = defaultRetry.MaxAttempts
	}
	if c.Retry.DelaySeconds == nil {
		c.Retry.DelaySeconds = maps.Clone(defaultRetry.DelaySeconds)
	}
	if c.Retry.MaxAttempts < 1 || c.Retry.MaxAttempts > 100 {
		return invalidf("max_attempts must be 1–100, not %d", c.Retry.MaxAttempts)
	}
	for o, d := range c.Retry.DelaySeconds {
		if !o.Valid() {
			return invalidf("retry delay for unknown outcome %q", o)
		}
		if d < 60 || d > 30*24*3600 {
			return invalidf("retry delay for %s must be 60 s to 30 days, not %d s", o, d)
		}
	}
	return validateSchema(&c.Disposition)
}

var knownFlags = []crmclient.ResultFlag{crmclient.FlagSuccess, crmclient.FlagCallback,
	crmclient.FlagRefusedNeverCall, crmclient.FlagDNC, crmclient.FlagEscalate}

func validateSchema(s *crmclient.DispositionSchema) error {
	if len(s.Results) == 0 {
		return invalidf("a campaign needs at least one result code")
	}
	codes := map[string]bool{}
	for i := range s.Results {
		r := &s.Results[i]
		switch {
		case r.Code == "" || len(r.Code) > 64 || strings.ContainsAny(r.Code, " \t\r\n") || !cleanText(r.Code):
			return invalidf("result code %q must be 1–64 characters without spaces", r.Code)
		case codes[r.Code]:
			return invalidf("result code %s is listed twice", r.Code)
		case r.Label == "" || r.LabelJA == "":
			return invalidf("result code %s needs label and label_ja", r.Code)
		}
		codes[r.Code] = true
		if r.Flags == nil {
			r.Flags = []crmclient.ResultFlag{}
		}
		for _, f := range r.Flags {
			if !slices.Contains(knownFlags, f) {
				return invalidf("result code %s has unknown flag %q", r.Code, f)
			}
		}
	}
	if s.Fields == nil {
		s.Fields = []crmclient.FormField{}
	}
	names := map[string]bool{}
	for _, f := range s.Fields {
		switch {
		case f.Name == "" || len(f.Name) > 64 || !cleanText(f.Name):
			return invalidf("form field name %q must be 1–64 characters", f.Name)
		case names[f.Name]:
			return invalidf("form field %s is listed twice", f.Name)
		case f.Label == "" || f.LabelJA == "":
			return invalidf("form field %s needs label and label_ja", f.Name)
		}
		names[f.Name] = true
		switch f.Type {
		case crmclient.FieldChoice:
			if len(f.Choices) == 0 {
				return invalidf("form field %s is a choice without choices", f.Name)
			}
		case crmclient.FieldText, crmclient.FieldNumber, crmclient.FieldDate, crmclient.FieldDateTime, crmclient.FieldBool:
			if len(f.Choices) != 0 {
				return invalidf("form field %s has choices but is of type %s", f.Name, f.Type)
			}
		default:
			return invalidf("form field %s has unknown type %q", f.Name, f.Type)
		}
		for _, c := range f.Codes {
			if !codes[c] {
				return invalidf("form field %s names unknown result code %s", f.Name, c)
			}
		}
	}
	return nil
}

// cleanText reports whether s is valid UTF-8 without NUL (which PostgreSQL cannot store).
func cleanText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }
