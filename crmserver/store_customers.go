package crmserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/opdesk/opdesk/crmclient"
)

// Limits on customer fields. They exist so that one bad import row or a stuck key
// cannot put megabytes into a card that every screen pop then downloads.
const (
	maxPhones       = 10
	maxLookupResult = 20 // a number shared by more people than this is a switchboard
	maxSearchLimit  = 200
	defSearchLimit  = 50
)

const customerCols = `c.id, c.name, c.name_kana, c.email, c.address, c.notes, c.created_at, c.updated_at`

// LookupPhone returns the customers holding an E.164 number, by id; none is not an error.
func (s *Store) LookupPhone(ctx context.Context, e164 string) ([]crmclient.Customer, error) {
	return s.queryCustomers(ctx, `SELECT `+customerCols+`
		FROM customer_phones p JOIN customers c ON c.id = p.customer_id
		WHERE p.e164 = ? ORDER BY c.id LIMIT ?`, e164, maxLookupResult)
}

// SearchCustomers returns customers whose name or kana contains query after folding
// (see searchKey), by id. The query is a bound parameter to instr, not a LIKE
// pattern, so neither SQL nor '%' and '_' in it mean anything special. Queries of two
// characters or more go through the bigram index (see search.go).
func (s *Store) SearchCustomers(ctx context.Context, query string, limit int) ([]crmclient.Customer, error) {
	q := foldSearch(query)
	if q == "" {
		return nil, invalidf("search text is empty")
	}
	if strings.IndexByte(q, 0) >= 0 {
		return nil, nil // stored text never holds NUL (validateCustomer), and PostgreSQL cannot take it
	}
	if limit <= 0 {
		limit = defSearchLimit
	}
	limit = min(limit, maxSearchLimit)
	grams := bigrams(q)
	if len(grams) == 0 { // one character: nothing to look up, and the scan stops at the first page
		return s.queryCustomers(ctx, `SELECT `+customerCols+` FROM customers c
			WHERE instr(c.search_key, ?) > 0 ORDER BY c.id LIMIT ?`, q, limit)
	}
	rare, ok, err := rarestGrams(ctx, s.db, customerGrams, grams)
	if err != nil {
		return nil, fmt.Errorf("search customers: %w", err)
	}
	if !ok {
		return []crmclient.Customer{}, nil
	}
	from, where, args := gramJoin(customerGrams, rare)
	return s.queryCustomers(ctx, `SELECT `+customerCols+` FROM `+from+` JOIN customers c ON c.id = g0.id
		WHERE `+where+` AND instr(c.search_key, ?) > 0 ORDER BY g0.id LIMIT ?`, append(args, q, limit)...)
}

// Customer returns one customer, or ErrNotFound.
func (s *Store) Customer(ctx context.Context, id string) (crmclient.Customer, error) {
	n, ok := parseID(id)
	if !ok {
		return crmclient.Customer{}, fmt.Errorf("customer %q: %w", id, ErrNotFound)
	}
	cs, err := s.queryCustomers(ctx, `SELECT `+customerCols+` FROM customers c WHERE c.id = ?`, n)
	if err != nil {
		return crmclient.Customer{}, err
	}
	if len(cs) == 0 {
		return crmclient.Customer{}, fmt.Errorf("customer %q: %w", id, ErrNotFound)
	}
	return cs[0], nil
}

// CreateCustomer validates and stores a new customer. Phones must already be E.164
// (the HTTP layer normalises them with its default region).
func (s *Store) CreateCustomer(ctx context.Context, in crmclient.CustomerInput) (crmclient.Customer, error) {
	if err := validateCustomer(&in); err != nil {
		return crmclient.Customer{}, err
	}
	var id int64
	err := s.inTx(ctx, func(tx *tx) error {
		var err error
		id, err = insertCustomer(ctx, tx, in, s.now().Unix())
		return err
	})
	if err != nil {
		return crmclient.Customer{}, fmt.Errorf("create customer: %w", err)
	}
	return s.Customer(ctx, strconv.FormatInt(id, 10))
}

// insertCustomer writes a validated customer (see validateCustomer) and its phones
// in tx and returns the new id. Every path that creates customers goes through it
// (HTTP, import), so whatever a customer row needs beside it is written here.
func insertCustomer(ctx context.Context, tx *tx, in crmclient.CustomerInput, now int64) (int64, error) {
	var id int64
	key := searchKey(in.Name, in.NameKana)
	if err := tx.QueryRowContext(ctx, `INSERT INTO customers
		(name, name_kana, email, address, notes, search_key, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		in.Name, in.NameKana, in.Email, in.Address, in.Notes, key, now, now,
	).Scan(&id); err != nil {
		return 0, err
	}
	if err := insertGrams(ctx, tx, customerGrams, id, bigrams(key)); err != nil { // the search index (search.go)
		return 0, err
	}
	return id, insertPhones(ctx, tx, id, in.Phones)
}

// UpdateCustomer replaces every editable field of a customer, phones included.
func (s *Store) UpdateCustomer(ctx context.Context, id string, in crmclient.CustomerInput) (crmclient.Customer, error) {
	n, ok := parseID(id)
	if !ok {
		return crmclient.Customer{}, fmt.Errorf("customer %q: %w", id, ErrNotFound)
	}
	if err := validateCustomer(&in); err != nil {
		return crmclient.Customer{}, err
	}
	err := s.inTx(ctx, func(tx *tx) error {
		// The old key says which index rows to drop. A plain SELECT could read a key
		// that a concurrent update is replacing (PostgreSQL, read committed); this
		// UPDATE takes the row lock first and returns the key as it is after any
		// update it waited for. (SQLite's immediate transaction serialises anyway.)
		var oldKey string
		if err := tx.QueryRowContext(ctx, `UPDATE customers SET search_key = search_key WHERE id = ?
			RETURNING search_key`, n).Scan(&oldKey); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("customer %q: %w", id, ErrNotFound)
			}
			return err
		}
		key := searchKey(in.Name, in.NameKana)
		res, err := tx.ExecContext(ctx, `UPDATE customers SET name = ?, name_kana = ?, email = ?, address = ?,
			notes = ?, search_key = ?, updated_at = ? WHERE id = ?`,
			in.Name, in.NameKana, in.Email, in.Address, in.Notes, key, s.now().Unix(), n)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return fmt.Errorf("customer %q: %w", id, ErrNotFound)
		}
		if err := reindex(ctx, tx, customerGrams, n, oldKey, key); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM customer_phones WHERE customer_id = ?`, n); err != nil {
			return err
		}
		return insertPhones(ctx, tx, n, in.Phones)
	})
	if err != nil {
		return crmclient.Customer{}, fmt.Errorf("update customer: %w", err)
	}
	return s.Customer(ctx, id)
}

func insertPhones(ctx context.Context, tx *tx, id int64, phones []string) error {
	for i, p := range phones {
		if _, err := tx.ExecContext(ctx, `INSERT INTO customer_phones (e164, customer_id, position) VALUES (?, ?, ?)`,
			p, id, i); err != nil {
			return err
		}
	}
	return nil
}

// validateCustomer trims fields, drops duplicate phones and checks limits.
func validateCustomer(in *crmclient.CustomerInput) error {
	in.Name = strings.TrimSpace(in.Name)
	in.NameKana = strings.TrimSpace(in.NameKana)
	in.Email = strings.TrimSpace(in.Email)
	in.Address = strings.TrimSpace(in.Address)
	for _, f := range []struct {
		name, val string
		max       int
	}{{"name", in.Name, 100}, {"name_kana", in.NameKana, 100}, {"email", in.Email, 254},
		{"address", in.Address, 300}, {"notes", in.Notes, 10000}} {
		if !utf8.ValidString(f.val) {
			return invalidf("%s is not valid UTF-8", f.name)
		}
		if strings.IndexByte(f.val, 0) >= 0 {
			return invalidf("%s contains a NUL character", f.name)
		}
		if n := utf8.RuneCountInString(f.val); n > f.max {
			return invalidf("%s is %d characters; at most %d are allowed", f.name, n, f.max)
		}
	}
	if in.Name == "" {
		return invalidf("name is required")
	}
	if in.Email != "" {
		if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email {
			return invalidf("email %q is not an address like name@example.jp", in.Email)
		}
	}
	if len(in.Phones) > maxPhones {
		return invalidf("at most %d phone numbers per customer", maxPhones)
	}
	seen := make(map[string]bool, len(in.Phones))
	phones := make([]string, 0, len(in.Phones))
	for i, p := range in.Phones {
		// Callers pass E.164 already; checking again keeps bad rows out of the
		// table whoever the caller is (HTTP, seed, import).
		p, err := crmclient.NormalizePhone(p, "")
		if err != nil {
			return fmt.Errorf("phones[%d]: %w", i, err)
		}
		if !seen[p] {
			seen[p] = true
			phones = append(phones, p)
		}
	}
	in.Phones = phones
	return nil
}

// queryCustomers runs a query selecting customerCols and attaches each customer's
// phones with one more query.
func (s *Store) queryCustomers(ctx context.Context, query string, args ...any) ([]crmclient.Customer, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("customers: %w", err)
	}
	defer rows.Close()
	out := []crmclient.Customer{}
	byID := map[int64]int{}
	for rows.Next() {
		var c crmclient.Customer
		var id, created, updated int64
		if err := rows.Scan(&id, &c.Name, &c.NameKana, &c.Email, &c.Address, &c.Notes, &created, &updated); err != nil {
			return nil, fmt.Errorf("customers: %w", err)
		}
		c.ID = strconv.FormatInt(id, 10)
		c.CreatedAt, c.UpdatedAt = unixTime(created), unixTime(updated)
		c.Phones = []string{}
		byID[id] = len(out)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("customers: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]any, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	prow, err := s.db.QueryContext(ctx, `SELECT customer_id, e164 FROM customer_phones
		WHERE customer_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY customer_id, position`, ids...)
	if err != nil {
		return nil, fmt.Errorf("customer phones: %w", err)
	}
	defer prow.Close()
	for prow.Next() {
		var id int64
		var p string
		if err := prow.Scan(&id, &p); err != nil {
			return nil, fmt.Errorf("customer phones: %w", err)
		}
		c := &out[byID[id]]
		c.Phones = append(c.Phones, p)
	}
	return out, prow.Err()
}

// parseID accepts the decimal ids this server issues; anything else cannot exist.
func parseID(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && n > 0
}

// isNotFound is errors.Is(err, ErrNotFound), named for the handlers' switch.
func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
