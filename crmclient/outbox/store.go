package outbox

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Row states.
const (
	statePending = 0
	stateFailed  = 1
)

// schema is idempotent. AUTOINCREMENT keeps ids growing across deletions and
// restarts, so "FIFO by id" is also FIFO across process lifetimes.
const schema = `
CREATE TABLE IF NOT EXISTS items (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	key        TEXT    NOT NULL UNIQUE,
	kind       TEXT    NOT NULL,
	body       BLOB    NOT NULL,
	created    INTEGER NOT NULL, -- unix nanoseconds
	attempts   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT    NOT NULL DEFAULT '',
	state      INTEGER NOT NULL DEFAULT 0 -- 0 pending, 1 failed (parked)
);
CREATE INDEX IF NOT EXISTS items_state_id ON items(state, id);
CREATE TABLE IF NOT EXISTS counters (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
);
INSERT OR IGNORE INTO counters(name, value) VALUES ('sent', 0);
`

const itemColumns = `id, key, kind, body, created, attempts, last_error`

// openDB creates the file 0600 (SQLite gives the -wal and -shm files the
// same mode) and opens it in WAL mode with synchronous=FULL: a committed
// transaction has been fsynced, so it survives kill -9 and power loss.
func openDB(path string) (*sql.DB, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, err
		}
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	// A plain path (no "file:" prefix): the driver cuts the query off at
	// the first '?', which Open has ruled out in path.
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	// One connection: the outbox's statements are short, and serialising
	// them in-process means they never contend for SQLite's write lock.
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanItem(s scanner) (Item, error) {
	var it Item
	var created int64
	if err := s.Scan(&it.ID, &it.Key, &it.Kind, &it.Body, &created, &it.Attempts, &it.LastError); err != nil {
		return Item{}, err
	}
	it.Created = time.Unix(0, created)
	return it, nil
}

// insert stores it (whose Key, Kind and Created are set) and returns its id.
// If an item with the same key is already queued, that item is returned.
func insert(ctx context.Context, db *sql.DB, it Item) (Item, error) {
	body := it.Body
	if body == nil {
		body = []byte{}
	}
	err := db.QueryRowContext(ctx,
		`INSERT INTO items(key, kind, body, created) VALUES (?, ?, ?, ?)
		 ON CONFLICT(key) DO NOTHING RETURNING id`,
		it.Key, it.Kind, body, it.Created.UnixNano()).Scan(&it.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return scanItem(db.QueryRowContext(ctx,
			`SELECT `+itemColumns+` FROM items WHERE key = ?`, it.Key))
	}
	if err != nil {
		return Item{}, err
	}
	return it, nil
}

// head returns the oldest pending item; ok is false when none is pending.
func head(ctx context.Context, db *sql.DB) (it Item, ok bool, err error) {
	it, err = scanItem(db.QueryRowContext(ctx,
		`SELECT `+itemColumns+` FROM items WHERE state = ? ORDER BY id LIMIT 1`, statePending))
	if errors.Is(err, sql.ErrNoRows) {
		return Item{}, false, nil
	}
	return it, err == nil, err
}

// markSent deletes an acknowledged item and counts it, in one transaction.
func markSent(ctx context.Context, db *sql.DB, id int64) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM items WHERE id = ?`, id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE counters SET value = value + 1 WHERE name = 'sent'`); err != nil {
		return err
	}
	return tx.Commit()
}

// markAttempt records a failed attempt; park also moves the item to failed.
func markAttempt(ctx context.Context, db *sql.DB, id int64, msg string, park bool) error {
	state := statePending
	if park {
		state = stateFailed
	}
	_, err := db.ExecContext(ctx,
		`UPDATE items SET attempts = attempts + 1, last_error = ?, state = ? WHERE id = ?`,
		msg, state, id)
	return err
}

// requeue moves a parked item back to pending.
func requeue(ctx context.Context, db *sql.DB, id int64) error {
	res, err := db.ExecContext(ctx,
		`UPDATE items SET state = ? WHERE id = ? AND state = ?`, statePending, id, stateFailed)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

func failedItems(ctx context.Context, db *sql.DB) ([]Item, error) {
	rows, err := db.QueryContext(ctx,
		`SELECT `+itemColumns+` FROM items WHERE state = ? ORDER BY id`, stateFailed)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

type counts struct {
	pending, failed int
	oldest          time.Time
	sent            uint64
}

func count(ctx context.Context, db *sql.DB) (counts, error) {
	var c counts
	var oldest sql.NullInt64
	err := db.QueryRowContext(ctx, `
		SELECT COALESCE(SUM(state = 0), 0), COALESCE(SUM(state = 1), 0),
		       MIN(CASE WHEN state = 0 THEN created END),
		       (SELECT value FROM counters WHERE name = 'sent')
		FROM items`).Scan(&c.pending, &c.failed, &oldest, &c.sent)
	if err != nil {
		return counts{}, err
	}
	if oldest.Valid {
		c.oldest = time.Unix(0, oldest.Int64)
	}
	return c, nil
}

// newKey returns a random (version 4) UUID.
func newKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("outbox: idempotency key: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:]), nil
}
