package crmserver

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/opdesk/opdesk/crmclient"
)

// FAQ limits. An FAQ answer is read aloud in a call, so it is short; the limits stop
// a pasted manual, not a long answer.
const (
	defFAQLimit    = 20
	maxFAQLimit    = 50
	maxFAQTerms    = 10
	maxFAQQuestion = 200
	maxFAQAnswer   = 20000
	maxFAQCategory = 50
	maxFAQTags     = 20
	maxFAQTag      = 40
)

const faqCols = `f.id, f.question, f.answer, f.tags, f.category, f.search_key, f.updated_at`

// faqKey is an entry's search key: question, answer, category and each tag folded,
// in that order, one field per separator, so that a term never matches across two.
func faqKey(in crmclient.FAQInput) string {
	parts := []string{foldSearch(in.Question), foldSearch(in.Answer), foldSearch(in.Category)}
	for _, t := range in.Tags {
		parts = append(parts, foldSearch(t))
	}
	return strings.Join(parts, searchSep)
}

// CreateFAQ validates and stores a new FAQ entry with its index rows.
func (s *Store) CreateFAQ(ctx context.Context, in crmclient.FAQInput) (crmclient.FAQEntry, error) {
	if err := validateFAQ(&in); err != nil {
		return crmclient.FAQEntry{}, err
	}
	tags, _ := json.Marshal(in.Tags)
	key := faqKey(in)
	var id int64
	err := s.inTx(ctx, func(tx *tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO faq (question, answer, tags, category, search_key, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, in.Question, in.Answer, string(tags), in.Category, key,
			s.now().Unix()).Scan(&id); err != nil {
			return err
		}
		return insertGrams(ctx, tx, faqGrams, id, bigrams(key))
	})
	if err != nil {
		return crmclient.FAQEntry{}, fmt.Errorf("create faq: %w", err)
	}
	return s.FAQ(ctx, strconv.FormatInt(id, 10))
}

// UpdateFAQ replaces every field of an FAQ entry.
func (s *Store) UpdateFAQ(ctx context.Context, id string, in crmclient.FAQInput) (crmclient.FAQEntry, error) {
	n, ok := parseID(id)
	if !ok {
		return crmclient.FAQEntry{}, fmt.Errorf("faq %q: %w", id, ErrNotFound)
	}
	if err := validateFAQ(&in); err != nil {
		return crmclient.FAQEntry{}, err
	}
	tags, _ := json.Marshal(in.Tags)
	key := faqKey(in)
	err := s.inTx(ctx, func(tx *tx) error {
		var oldKey string // locked first, as in UpdateCustomer
		if err := tx.QueryRowContext(ctx, `UPDATE faq SET search_key = search_key WHERE id = ? RETURNING search_key`,
			n).Scan(&oldKey); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("faq %q: %w", id, ErrNotFound)
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE faq SET question = ?, answer = ?, tags = ?, category = ?,
			search_key = ?, updated_at = ? WHERE id = ?`, in.Question, in.Answer, string(tags), in.Category, key,
			s.now().Unix(), n); err != nil {
			return err
		}
		return reindex(ctx, tx, faqGrams, n, oldKey, key)
	})
	if err != nil {
		return crmclient.FAQEntry{}, fmt.Errorf("update faq: %w", err)
	}
	return s.FAQ(ctx, id)
}

// FAQ returns one entry, or ErrNotFound.
func (s *Store) FAQ(ctx context.Context, id string) (crmclient.FAQEntry, error) {
	n, ok := parseID(id)
	if ok {
		list, err := s.queryFAQ(ctx, `SELECT `+faqCols+` FROM faq f WHERE f.id = ?`, n)
		if err != nil {
			return crmclient.FAQEntry{}, err
		}
		if len(list) == 1 {
			return list[0].FAQEntry, nil
		}
	}
	return crmclient.FAQEntry{}, fmt.Errorf("faq %q: %w", id, ErrNotFound)
}

// SearchFAQ is search as you type over the FAQ. The query is split on spaces (any
// width) into terms, each folded like customer search; an entry matches when every
// term is a substring of its question, answer, category or one of its tags. Terms
// of two characters or more narrow the candidates through the bigram index; all
// terms are then checked on the folded fields. Entries are ranked by how many terms
// their question holds, then how many their answer holds, then by id.
//
// An empty query lists the first entries by id: the FAQ's own order, in which the
// seed puts the questions asked most (an operator opening the FAQ pane sees them
// before typing anything).
func (s *Store) SearchFAQ(ctx context.Context, query string, limit int) ([]crmclient.FAQEntry, error) {
	if limit <= 0 {
		limit = defFAQLimit
	}
	limit = min(limit, maxFAQLimit)
	var terms []string
	for _, f := range strings.Fields(query) {
		if t := foldSearch(f); t != "" && !slices.Contains(terms, t) {
			terms = append(terms, t)
		}
	}
	if len(terms) > maxFAQTerms {
		return nil, invalidf("at most %d search terms", maxFAQTerms)
	}
	out := []crmclient.FAQEntry{}
	if len(terms) == 0 {
		list, err := s.queryFAQ(ctx, `SELECT `+faqCols+` FROM faq f ORDER BY f.id LIMIT ?`, limit)
		for _, e := range list {
			out = append(out, e.FAQEntry)
		}
		return out, err
	}
	if slices.ContainsFunc(terms, func(t string) bool { return strings.IndexByte(t, 0) >= 0 }) {
		return out, nil // stored text never holds NUL
	}
	var grams []string
	for _, t := range terms {
		for _, g := range bigrams(t) {
			if !slices.Contains(grams, g) {
				grams = append(grams, g)
			}
		}
	}
	var cands []faqRow
	var err error
	if len(grams) == 0 { // only 1-character terms: check every entry (the FAQ is small)
		cands, err = s.queryFAQ(ctx, `SELECT `+faqCols+` FROM faq f`)
	} else {
		args := make([]any, 0, len(grams)+1)
		for _, g := range grams {
			args = append(args, g)
		}
		args = append(args, len(grams))
		cands, err = s.queryFAQ(ctx, `SELECT `+faqCols+` FROM faq f WHERE f.id IN (
			SELECT id FROM faq_grams WHERE gram IN (?`+strings.Repeat(`, ?`, len(grams)-1)+`)
			GROUP BY id HAVING COUNT(*) = ?)`, args...)
	}
	if err != nil {
		return nil, err
	}
	type hit struct {
		e            crmclient.FAQEntry
		id, inQ, inA int64
	}
	var hits []hit
	for _, c := range cands {
		fields := strings.Split(c.key, searchSep)
		h := hit{e: c.FAQEntry, id: c.id}
		all := true
		for _, t := range terms {
			switch {
			case strings.Contains(fields[0], t):
				h.inQ++
			case len(fields) > 1 && strings.Contains(fields[1], t):
				h.inA++
			case !slices.ContainsFunc(fields[min(2, len(fields)):], func(f string) bool { return strings.Contains(f, t) }):
				all = false
			}
		}
		if all {
			hits = append(hits, h)
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		return cmp.Or(cmp.Compare(b.inQ, a.inQ), cmp.Compare(b.inA, a.inA), cmp.Compare(a.id, b.id))
	})
	for _, h := range hits[:min(len(hits), limit)] {
		out = append(out, h.e)
	}
	return out, nil
}

// faqRow is an entry with what search needs beside it.
type faqRow struct {
	crmclient.FAQEntry
	id  int64
	key string
}

func (s *Store) queryFAQ(ctx context.Context, query string, args ...any) ([]faqRow, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("faq: %w", err)
	}
	defer rows.Close()
	var out []faqRow
	for rows.Next() {
		var r faqRow
		var updated int64
		if err := rows.Scan(&r.id, &r.Question, &r.Answer, jsonColumn{&r.Tags}, &r.Category, &r.key, &updated); err != nil {
			return nil, fmt.Errorf("faq: %w", err)
		}
		r.ID, r.UpdatedAt = strconv.FormatInt(r.id, 10), unixTime(updated)
		if r.Tags == nil {
			r.Tags = []string{}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// validateFAQ trims fields, drops empty and duplicate tags and checks limits.
func validateFAQ(in *crmclient.FAQInput) error {
	in.Question = strings.TrimSpace(in.Question)
	in.Answer = strings.TrimSpace(in.Answer)
	in.Category = strings.TrimSpace(in.Category)
	tags := []string{}
	for _, t := range in.Tags {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	in.Tags = tags
	if in.Question == "" || in.Answer == "" {
		return invalidf("question and answer are required")
	}
	if len(in.Tags) > maxFAQTags {
		return invalidf("at most %d tags", maxFAQTags)
	}
	if err := checkText("question", in.Question, maxFAQQuestion); err != nil {
		return err
	}
	if err := checkText("answer", in.Answer, maxFAQAnswer); err != nil {
		return err
	}
	if err := checkText("category", in.Category, maxFAQCategory); err != nil {
		return err
	}
	for i, t := range in.Tags {
		if err := checkText(fmt.Sprintf("tags[%d]", i), t, maxFAQTag); err != nil {
			return err
		}
	}
	return nil
}

// checkText refuses text the store cannot keep (invalid UTF-8, NUL, which
// PostgreSQL rejects) or that is longer than max characters.
func checkText(field, v string, max int) error {
	if !utf8.ValidString(v) {
		return invalidf("%s is not valid UTF-8", field)
	}
	if strings.IndexByte(v, 0) >= 0 {
		return invalidf("%s contains a NUL character", field)
	}
	if n := utf8.RuneCountInString(v); n > max {
		return invalidf("%s is %d characters; at most %d are allowed", field, n, max)
	}
	return nil
}
