package crmserver

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/opdesk/opdesk/crmclient"
)

// LeadRow is one call-list row ready to become a lead: the importer has mapped the
// columns, trimmed the text and normalised the phone to E.164. Line is the row's
// line (CSV) or row number (XLSX) in the file, for the report.
type LeadRow struct {
	Line     int
	Phone    string            // E.164
	Name     string            // may be empty: the lead is then just a number
	NameKana string            // reading, katakana or hiragana
	Email    string            //
	Address  string            //
	Notes    string            //
	Fields   map[string]string // unmapped columns, kept on the lead for the preview card
}

// Lead import outcomes, one per row.
const (
	LeadAdded     = "added"     // a new lead (and, if no customer had the number, a new customer)
	LeadDuplicate = "duplicate" // the campaign already has a lead with this number
	LeadDNC       = "dnc"       // the number is on the do-not-call list
	LeadInvalid   = "invalid"   // a field the store refuses (validateCustomer's message in Reason)
)

// LeadResult is what became of one LeadRow.
type LeadResult struct {
	Line   int
	Status string // one of the Lead* outcomes
	Reason string // for people, for every status but LeadAdded
	LeadID string // for LeadAdded
}

// ImportLeads adds rows to a campaign in one transaction per call: a number the
// campaign already has or that is on the DNC list is reported, not added; a row
// whose number matches an existing customer links to that customer (the first by
// id), otherwise a customer is created from the row. Results are in row order.
// The caller batches (a few thousand rows per call keeps transactions short).
// Any error other than a row's own fails the whole call and adds nothing.
//
// A row without a name creates no customer: the lead is just a number, and the
// preview card shows the number (a customer named after a number would pollute
// name search and screen pops with people nobody knows). Its wrap-up still
// goes to the dispositions table; it reaches a customer's call history once a
// customer has the number. A row whose Fields hold "time_zone" (an IANA name)
// is called in that zone's hours; the key is taken out of the fields.
//
// The rows are checked on every core, the numbers looked up per batch with a
// few IN queries (DNC list, the campaign's leads, customer_phones) instead of
// per row, and the inserts use prepared statements, leads a hundred per
// statement, so 100 000 rows take seconds on SQLite (BenchmarkImportLeads).
// Rows are inserted in phone order, so two imports running at once on
// PostgreSQL take the unique-index locks in the same order and cannot
// deadlock; a number that a concurrent import added first is reported as a
// duplicate (and a customer created for it in this batch is removed again).
func (s *Store) ImportLeads(ctx context.Context, campaignID string, rows []LeadRow) ([]LeadResult, error) {
	c, err := s.Campaign(ctx, campaignID)
	if err != nil {
		return nil, fmt.Errorf("import leads: %w", err)
	}
	out := make([]LeadResult, len(rows))
	checked := checkRows(rows)
	type job struct {
		leadJobData
		i      int
		custID int64
		linked bool // an existing customer has the number
	}
	jobs := make([]job, 0, len(rows))
	seen := make(map[string]int, len(rows))
	for i, r := range rows {
		out[i] = LeadResult{Line: r.Line}
		j := checked[i]
		if j.err != nil {
			out[i].Status, out[i].Reason = LeadInvalid, j.err.Error()
			continue
		}
		if line, dup := seen[j.phone]; dup {
			out[i].Status, out[i].Reason = LeadDuplicate, fmt.Sprintf("same number as line %d", line)
			continue
		}
		seen[j.phone] = r.Line
		jobs = append(jobs, job{leadJobData: j, i: i})
	}
	phones := make([]any, len(jobs))
	for k, j := range jobs {
		phones[k] = j.phone
	}
	now := s.now().Unix()
	dupReason := func(phone string) string { return fmt.Sprintf("campaign %s already has a lead for %s", c.ID, phone) }
	err = s.inTx(ctx, func(tx *tx) error {
		dnc, err := inPhones(ctx, tx, `SELECT e164, kind FROM dnc WHERE e164 IN `, nil, phones)
		if err != nil {
			return err
		}
		have, err := inPhones(ctx, tx, `SELECT phone, '' FROM leads WHERE campaign_id = ? AND phone IN `, []any{c.ID}, phones)
		if err != nil {
			return err
		}
		cust, err := inPhones(ctx, tx, `SELECT e164, CAST(MIN(customer_id) AS TEXT) FROM customer_phones WHERE e164 IN `,
			nil, phones, ` GROUP BY e164`)
		if err != nil {
			return err
		}
		todo := jobs[:0:0]
		for _, j := range jobs {
			res := &out[j.i]
			if kind, ok := dnc[j.phone]; ok {
				res.Status, res.Reason = LeadDNC, fmt.Sprintf("%s is on the do-not-call list (%s)", j.phone, kind)
				continue
			}
			if _, ok := have[j.phone]; ok {
				res.Status, res.Reason = LeadDuplicate, dupReason(j.phone)
				continue
			}
			if id, ok := cust[j.phone]; ok {
				j.custID, _ = strconv.ParseInt(id, 10, 64)
				j.linked = true
			}
			todo = append(todo, j)
		}
		sort.Slice(todo, func(a, b int) bool { return todo[a].phone < todo[b].phone })
		custs, err := newCustomerBatch(ctx, tx)
		if err != nil {
			return err
		}
		defer custs.close()
		leads := newLeadBatch(tx, c.ID, now)
		defer leads.close()
		for start := 0; start < len(todo); start += leadChunk {
			part := todo[start:min(start+leadChunk, len(todo))]
			rows := make([]leadValues, len(part))
			for k := range part {
				j := &part[k]
				if !j.linked && j.named {
					if j.custID, err = custs.insert(ctx, j.in, now); err != nil {
						return fmt.Errorf("line %d: %w", out[j.i].Line, err)
					}
				}
				rows[k] = leadValues{j.phone, nullID(j.custID), j.in.Name, j.in.NameKana, j.tz, j.fields}
			}
			ids, err := leads.insert(ctx, rows)
			if err != nil {
				return err
			}
			for _, j := range part {
				res := &out[j.i]
				id, ok := ids[j.phone]
				if ok {
					res.Status, res.LeadID = LeadAdded, strconv.FormatInt(id, 10)
					continue
				}
				// A concurrent import added the number first; the customer
				// made for it here goes again.
				res.Status, res.Reason = LeadDuplicate, dupReason(j.phone)
				if !j.linked && j.named {
					if _, err := tx.ExecContext(ctx, `DELETE FROM customers WHERE id = ?`, j.custID); err != nil {
						return err
					}
				}
			}
		}
		return custs.flush(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("import leads into %s: %w", c.ID, err)
	}
	return out, nil
}

// leadChunk is the number of leads per INSERT statement: one statement per
// hundred rows instead of per row cuts the driver's per-statement work, well
// below both databases' limits on bound parameters (6 per row).
const leadChunk = 100

// leadValues are the per-row values of a new lead.
type leadValues struct {
	phone    string
	customer any // int64 or nil
	name     string
	kana     string
	tz       string
	fields   string
}

// leadBatch inserts leads many rows per statement and reports which numbers
// were added (a number the campaign already has is skipped by ON CONFLICT).
type leadBatch struct {
	tx       *tx
	campaign string
	now      int64
	full     *sql.Stmt // prepared for leadChunk rows
}

func newLeadBatch(tx *tx, campaign string, now int64) *leadBatch {
	return &leadBatch{tx: tx, campaign: campaign, now: now}
}

func leadInsertSQL(n int) string {
	return `INSERT INTO leads (campaign_id, phone, customer_id, name, name_kana, time_zone, fields, status, next_at,
		created_at, updated_at) VALUES ` + strings.TrimSuffix(strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, 'open', 0, ?, ?), `, n), ", ") +
		` ON CONFLICT (campaign_id, phone) DO NOTHING RETURNING id, phone`
}

// insert adds rows and returns the new leads' ids by phone.
func (b *leadBatch) insert(ctx context.Context, rows []leadValues) (map[string]int64, error) {
	args := make([]any, 0, 9*len(rows))
	for _, r := range rows {
		args = append(args, b.campaign, r.phone, r.customer, r.name, r.kana, r.tz, r.fields, b.now, b.now)
	}
	var (
		res *sql.Rows
		err error
	)
	if len(rows) == leadChunk {
		if b.full == nil {
			if b.full, err = b.tx.PrepareContext(ctx, leadInsertSQL(leadChunk)); err != nil {
				return nil, err
			}
		}
		res, err = b.full.QueryContext(ctx, args...)
	} else {
		res, err = b.tx.QueryContext(ctx, leadInsertSQL(len(rows)), args...)
	}
	if err != nil {
		return nil, err
	}
	defer res.Close()
	ids := make(map[string]int64, len(rows))
	for res.Next() {
		var id int64
		var phone string
		if err := res.Scan(&id, &phone); err != nil {
			return nil, err
		}
		ids[phone] = id
	}
	return ids, res.Err()
}

func (b *leadBatch) close() {
	if b.full != nil {
		b.full.Close()
	}
}

// customerBatch creates customers exactly as insertCustomer does — the row, its
// search-index rows, its phones — through statements prepared once per batch
// (and the index rows buffered, as the seed does). insertCustomer runs two
// unprepared statements per customer plus the index insert, and preparing them
// is most of an import's time; 100 000 rows took about 18 s of CPU that way.
// TestImportCreatesCustomersLikeCreateCustomer compares the two paths table by
// table, so a change to insertCustomer that this misses fails a test.
type customerBatch struct {
	cust, phone *sql.Stmt
	grams       *gramBuffer
}

func newCustomerBatch(ctx context.Context, tx *tx) (*customerBatch, error) {
	b := &customerBatch{grams: newGramBuffer(customerGrams, tx)}
	var err error
	if b.cust, err = tx.PrepareContext(ctx, `INSERT INTO customers
		(name, name_kana, email, address, notes, search_key, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`); err != nil {
		return nil, err
	}
	if b.phone, err = tx.PrepareContext(ctx, `INSERT INTO customer_phones (e164, customer_id, position) VALUES (?, ?, ?)`); err != nil {
		b.cust.Close()
		return nil, err
	}
	return b, nil
}

// insert writes a customer validated by validateCustomer and returns its id.
func (b *customerBatch) insert(ctx context.Context, in crmclient.CustomerInput, now int64) (int64, error) {
	key := searchKey(in.Name, in.NameKana)
	var id int64
	if err := b.cust.QueryRowContext(ctx, in.Name, in.NameKana, in.Email, in.Address, in.Notes, key, now, now).Scan(&id); err != nil {
		return 0, err
	}
	if err := b.grams.add(ctx, id, bigrams(key)); err != nil {
		return 0, err
	}
	for i, p := range in.Phones {
		if _, err := b.phone.ExecContext(ctx, p, id, i); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// flush writes the buffered index rows; call it before the transaction commits.
func (b *customerBatch) flush(ctx context.Context) error { return b.grams.flush(ctx) }

func (b *customerBatch) close() {
	b.cust.Close()
	b.phone.Close()
}

// leadJobData is a validated row (or its err).
type leadJobData struct {
	phone, tz, fields string
	in                crmclient.CustomerInput
	named             bool
	err               error
}

// checkRows validates rows with leadJob on every core: parsing phone numbers is
// the import's largest cost outside the database, and needs no lock.
func checkRows(rows []LeadRow) []leadJobData {
	out := make([]leadJobData, len(rows))
	workers := min(runtime.GOMAXPROCS(0), 1+len(rows)/500)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(rows); i += workers {
				out[i], out[i].err = leadJob(rows[i])
			}
		}()
	}
	wg.Wait()
	return out
}

// Limits on a lead's extra columns: a spreadsheet with hundreds of columns or
// a pasted document in a cell is a mistake to report, not data for a card.
const (
	maxLeadFields     = 50
	maxLeadFieldKey   = 64
	maxLeadFieldValue = 1000
)

// leadJob validates one row: the customer fields as validateCustomer does when
// the row has a name, the phone number always, the extra fields' sizes, and the
// optional time zone.
func leadJob(r LeadRow) (leadJobData, error) {
	j := leadJobData{in: crmclient.CustomerInput{Name: r.Name, NameKana: r.NameKana, Email: r.Email,
		Address: r.Address, Notes: r.Notes, Phones: []string{r.Phone}}}
	if strings.TrimSpace(r.Name) != "" {
		if err := validateCustomer(&j.in); err != nil {
			return j, errors.New(strings.TrimPrefix(err.Error(), "phones[0]: "))
		}
		j.named = true
		j.phone = j.in.Phones[0]
	} else {
		p, err := crmclient.NormalizePhone(r.Phone, "")
		if err != nil {
			return j, err
		}
		j.phone = p
		j.in = crmclient.CustomerInput{}
	}
	if len(r.Fields) > maxLeadFields {
		return j, fmt.Errorf("%d extra columns; at most %d are kept per lead", len(r.Fields), maxLeadFields)
	}
	fields := make(map[string]string, len(r.Fields))
	for k, v := range r.Fields {
		switch {
		case k == "" || utf8.RuneCountInString(k) > maxLeadFieldKey || !cleanText(k):
			return j, fmt.Errorf("column name %q must be 1–%d characters of text", k, maxLeadFieldKey)
		case utf8.RuneCountInString(v) > maxLeadFieldValue || !cleanText(v):
			return j, fmt.Errorf("column %s must be at most %d characters of text", k, maxLeadFieldValue)
		case k == "time_zone":
			if v = strings.TrimSpace(v); v != "" {
				if _, err := crmclient.LoadZone(v); err != nil {
					return j, err
				}
				j.tz = v
			}
			continue
		}
		fields[k] = v
	}
	b, _ := json.Marshal(fields)
	j.fields = string(b)
	return j, nil
}

// inPhones runs "query (?, ?, …) tail" over phones in chunks (SQLite and
// PostgreSQL both limit bound parameters) and returns the first column mapped
// to the second.
func inPhones(ctx context.Context, tx *tx, query string, pre, phones []any, tail ...string) (map[string]string, error) {
	const chunk = 500
	out := map[string]string{}
	for start := 0; start < len(phones); start += chunk {
		part := phones[start:min(start+chunk, len(phones))]
		q := query + `(?` + strings.Repeat(", ?", len(part)-1) + `)` + strings.Join(tail, "")
		rows, err := tx.QueryContext(ctx, q, append(append([]any{}, pre...), part...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return nil, err
			}
			out[k] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
