package crmserver

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Search: substring match on folded text, made fast by a bigram index.
//
// Folding. searchKey folds text so that the ways people type a Japanese name meet in
// one form: full-width and half-width letters and katakana are unified (NFKC, which
// also joins a half-width ﾞ to its kana: ｼﾞ → ジ), hiragana becomes katakana
// (readings are stored in katakana, operators often type hiragana), Latin letters are
// lower-cased, and all spaces go (names are written "佐藤　陽子", "佐藤 陽子" and
// "佐藤陽子"). A document's key is its folded fields joined by a separator (U+001F)
// that folding never produces, so a query cannot match across two fields.
//
// Matching. A query matches when it is a substring of the key (instr): Japanese has
// no spaces between words, so there is nothing to tokenize on, and an operator types
// any part of a name or a reading.
//
// The index. instr alone scans every row. Each document's folded fields are cut into
// bigrams (every 2 consecutive characters, never across a field boundary) stored as
// rows (gram, id) of a plain table with the primary key (gram, id). A query of n ≥ 2
// characters contains n-1 bigrams, and every document containing the query contains
// all of them, so the ids that hold the query's rarest few bigrams are a superset of
// the answer; instr on the key then removes the false positives (the bigrams occur,
// but not next to each other). Because the primary key orders each gram's ids,
// walking the rarest gram's ids in order and probing the others by key returns the
// first page by id without reading the rest. A 1-character query has no bigram and
// falls back to the scan with LIMIT, which stops at the first page; single kana
// match a large share of all rows, so the scan ends quickly.
//
// Why not FTS5 with the trigram tokenizer: a trigram index cannot answer a query
// shorter than 3 characters, and the commonest Japanese surnames (佐藤, 鈴木, 田中)
// and many given names (陽子, 一郎) are 2; FTS5 also exists only in SQLite, and the
// CRM must give the same answers on PostgreSQL, whose pg_trgm is word-oriented (it
// splits on non-alphanumerics and depends on the locale's idea of a letter) and is
// weak on CJK text. A table of bigrams is plain SQL: identical on both, updated in
// the same transaction as the row, and easy to reason about. Its cost is size: a
// customer adds about 10 rows (name and reading), an FAQ entry a few hundred.
//
// The gram tables carry no foreign key (a cascade would need a second index on id):
// rows are replaced by the code that writes the document, and a row whose document
// is gone is harmless, since every query joins back to the documents.

// searchSep separates fields in a search key; foldSearch removes it from text.
const searchSep = "\x1f"

// searchKey is a customer's key: folded name and reading.
func searchKey(name, kana string) string {
	return foldSearch(name) + searchSep + foldSearch(kana)
}

// foldSearch applies the searchKey folding to one string (also used on queries).
func foldSearch(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || r == '\x1f':
			continue
		case r >= 'ぁ' && r <= 'ゖ', r == 'ゝ' || r == 'ゞ':
			r += 'ァ' - 'ぁ' // hiragana → katakana: the blocks are parallel
		default:
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// bigrams returns the distinct 2-character substrings of a search key, none spanning
// a field separator, in first-seen order.
func bigrams(key string) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.Split(key, searchSep) {
		rs := []rune(f)
		for i := 0; i+1 < len(rs); i++ {
			g := string(rs[i : i+2])
			if !seen[g] {
				seen[g] = true
				out = append(out, g)
			}
		}
	}
	return out
}

// gramTable names an index table; only the constants below exist, so the name is
// safe to put into SQL text.
type gramTable string

const (
	customerGrams gramTable = "customer_grams"
	faqGrams      gramTable = "faq_grams"
)

// insertGrams writes the index rows of one document.
func insertGrams(ctx context.Context, tx *tx, t gramTable, id int64, grams []string) error {
	w := newGramBuffer(t, tx)
	_ = w.add(ctx, id, grams)
	return w.flush(ctx)
}

// deleteGrams removes index rows of one document, each by its primary key.
func deleteGrams(ctx context.Context, tx *tx, t gramTable, id int64, grams []string) error {
	for _, g := range grams {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+string(t)+` WHERE gram = ? AND id = ?`, g, id); err != nil {
			return err
		}
	}
	return nil
}

// reindex moves a document's index rows from the grams of oldKey to those of newKey,
// touching only the rows that differ (an edit of the address leaves the name's alone).
func reindex(ctx context.Context, tx *tx, t gramTable, id int64, oldKey, newKey string) error {
	oldG, newG := bigrams(oldKey), bigrams(newKey)
	inOld := make(map[string]bool, len(oldG))
	for _, g := range oldG {
		inOld[g] = true
	}
	var add []string
	for _, g := range newG {
		if !inOld[g] {
			add = append(add, g)
		}
		delete(inOld, g)
	}
	var del []string
	for _, g := range oldG {
		if inOld[g] {
			del = append(del, g)
		}
	}
	if err := deleteGrams(ctx, tx, t, id, del); err != nil {
		return err
	}
	return insertGrams(ctx, tx, t, id, add)
}

// gramRow is one index row.
type gramRow struct {
	gram string
	id   int64
}

// gramBuffer collects index rows (one document's, or a whole seed or import batch's) and
// writes them in (gram, id) order, so that inserts walk the primary key's B-tree
// from left to right instead of jumping around it: the difference between seconds
// and tens of seconds for the million rows of 100 000 customers.
//
// How rows are sent differs by database, for speed only. PostgreSQL is across a
// socket, so rows go gramChunk to a statement. SQLite is a function call away, so a
// prepared one-row INSERT costs little, while a statement that writes several rows
// and could fail half-way makes SQLite keep a statement journal (a temporary file)
// to undo that statement alone: measured, that file's writes were a third of the
// seed's time.
type gramBuffer struct {
	t    gramTable
	tx   *tx
	rows []gramRow
}

func newGramBuffer(t gramTable, tx *tx) *gramBuffer { return &gramBuffer{t: t, tx: tx} }

// add buffers a document's rows. It writes nothing yet and returns no error today;
// the signature leaves room for writing out early should a batch ever grow large.
func (w *gramBuffer) add(_ context.Context, id int64, grams []string) error {
	for _, g := range grams {
		w.rows = append(w.rows, gramRow{g, id})
	}
	return nil
}

// flush writes what has been added; call it before the transaction commits.
func (w *gramBuffer) flush(ctx context.Context) error {
	rows := w.rows
	w.rows = nil
	if len(rows) == 0 {
		return nil
	}
	slices.SortFunc(rows, func(a, b gramRow) int {
		return cmp.Or(strings.Compare(a.gram, b.gram), cmp.Compare(a.id, b.id))
	})
	per := gramChunk
	if w.tx.d == sqliteDialect {
		per = 1
	}
	var stmt *sql.Stmt
	defer func() {
		if stmt != nil {
			stmt.Close()
		}
	}()
	args := make([]any, 0, 2*per)
	for len(rows) > 0 {
		n := min(len(rows), per)
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, r.gram, r.id)
		}
		var err error
		switch {
		case n == per && len(rows) > n: // more full statements follow: prepare once
			if stmt == nil {
				if stmt, err = w.tx.PrepareContext(ctx, gramInsertSQL(w.t, per)); err != nil {
					return err
				}
			}
			_, err = stmt.ExecContext(ctx, args...)
		case n == per && stmt != nil:
			_, err = stmt.ExecContext(ctx, args...)
		default:
			_, err = w.tx.ExecContext(ctx, gramInsertSQL(w.t, n), args...)
		}
		if err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// gramChunk is the number of rows per INSERT on PostgreSQL: few round trips, far
// below its limit on bound parameters.
const gramChunk = 200

func gramInsertSQL(t gramTable, rows int) string {
	// DO NOTHING: a row left by a document that is gone (see above) may hold the
	// same (gram, id) when SQLite hands out the freed id again.
	return `INSERT INTO ` + string(t) + ` (gram, id) VALUES (?, ?)` + strings.Repeat(`, (?, ?)`, rows-1) +
		` ON CONFLICT (gram, id) DO NOTHING`
}

// Query planning limits. Of a query's bigrams, at most maxCountGrams (spread over
// the query) are counted, and the rarest maxProbeGrams are joined: three rare grams
// already cut the candidates to a handful, and instr checks the rest. Counting stops
// at gramCountCap rows, so a very common gram costs no more than that; it is then
// simply "common" and never the first choice.
const (
	maxCountGrams = 12
	maxProbeGrams = 3
	gramCountCap  = 1000
)

// rarestGrams returns up to maxProbeGrams of the query's bigrams, rarest first, or
// nil with ok=false when one of them occurs nowhere (no document can match).
func rarestGrams(ctx context.Context, d *db, t gramTable, grams []string) (rare []string, ok bool, err error) {
	if len(grams) == 1 { // nothing to choose; an absent gram simply finds nothing
		return grams, true, nil
	}
	if len(grams) > maxCountGrams { // a long query: any spread-out subset is a valid filter
		pick := make([]string, 0, maxCountGrams)
		for i := range maxCountGrams {
			pick = append(pick, grams[i*(len(grams)-1)/(maxCountGrams-1)])
		}
		grams = pick
	}
	// One round trip: a capped count per gram.
	var q strings.Builder
	args := make([]any, 0, 2*len(grams))
	for i, g := range grams {
		if i > 0 {
			q.WriteString(" UNION ALL ")
		}
		q.WriteString(`SELECT CAST(? AS TEXT) AS gram, (SELECT COUNT(*) FROM (SELECT 1 FROM ` + string(t) +
			` WHERE gram = ? LIMIT ` + strconv.Itoa(gramCountCap) + `) AS g) AS n`)
		args = append(args, g, g)
	}
	rows, err := d.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	type gc struct {
		g string
		n int
	}
	var counts []gc
	for rows.Next() {
		var c gc
		if err := rows.Scan(&c.g, &c.n); err != nil {
			return nil, false, err
		}
		if c.n == 0 {
			return nil, false, rows.Err()
		}
		counts = append(counts, c)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	slices.SortStableFunc(counts, func(a, b gc) int { return a.n - b.n }) // ties keep the query's order
	for _, c := range counts[:min(len(counts), maxProbeGrams)] {
		rare = append(rare, c.g)
	}
	return rare, true, nil
}

// gramJoin returns the FROM/WHERE text and arguments that restrict alias g0.id to
// ids holding every gram: the first (rarest) drives the walk in id order, the others
// are probed by primary key.
func gramJoin(t gramTable, grams []string) (from, where string, args []any) {
	var b strings.Builder
	b.WriteString(string(t) + ` g0`)
	for i, g := range grams[1:] {
		a := "g" + strconv.Itoa(i+1)
		b.WriteString(` JOIN ` + string(t) + ` ` + a + ` ON ` + a + `.gram = ? AND ` + a + `.id = g0.id`)
		args = append(args, g)
	}
	args = append(args, grams[0])
	return b.String(), `g0.gram = ?`, args
}
