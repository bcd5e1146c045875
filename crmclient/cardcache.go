package crmclient

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, as in the outbox
)

// CardCache is the desktop's memory of recent screen-pop cards, so that the last
// known card of a caller shows while the CRM is down. It is a SQLite file (mode
// 0600: it holds customers' data) under the state directory, bounded in entries
// and in age: a card older than the maximum age is neither returned nor kept,
// because personal data should not linger on a home PC longer than it helps.
//
// Errors on Put are swallowed by ScreenPop: the cache is an aid, never a reason
// for a screen pop to fail. It is safe for concurrent use.
type CardCache struct {
	db     *sql.DB
	max    int
	maxAge time.Duration
	now    func() time.Time
}

// CardCacheOptions bound the cache (zero values mean the defaults).
type CardCacheOptions struct {
	MaxEntries int           // default 5000 numbers
	MaxAge     time.Duration // default 30 days
	Now        func() time.Time
}

// OpenCardCache opens or creates the cache file at path.
func OpenCardCache(path string, opt CardCacheOptions) (*CardCache, error) {
	if opt.MaxEntries <= 0 {
		opt.MaxEntries = 5000
	}
	if opt.MaxAge <= 0 {
		opt.MaxAge = 30 * 24 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("card cache: %w", err)
	}
	// Create the file ourselves so that it is 0600 from the first byte.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("card cache: %w", err)
	}
	f.Close()
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(2000)")
	q.Add("_pragma", "journal_mode(WAL)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("card cache %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; cards are small
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS cards (
		e164       TEXT PRIMARY KEY,
		card       TEXT NOT NULL,
		fetched_at INTEGER NOT NULL
	) WITHOUT ROWID`); err != nil {
		db.Close()
		return nil, fmt.Errorf("card cache %s: %w", path, err)
	}
	return &CardCache{db: db, max: opt.MaxEntries, maxAge: opt.MaxAge, now: opt.Now}, nil
}

// Close closes the file.
func (c *CardCache) Close() error { return c.db.Close() }

// Put remembers card under its phone number, then drops expired cards and the
// oldest beyond the entry limit.
func (c *CardCache) Put(ctx context.Context, card Card) error {
	b, err := json.Marshal(card)
	if err != nil {
		return err
	}
	if _, err := c.db.ExecContext(ctx, `INSERT INTO cards (e164, card, fetched_at) VALUES (?, ?, ?)
		ON CONFLICT (e164) DO UPDATE SET card = excluded.card, fetched_at = excluded.fetched_at`,
		card.Phone, string(b), card.FetchedAt.Unix()); err != nil {
		return fmt.Errorf("card cache: %w", err)
	}
	_, err = c.db.ExecContext(ctx, `DELETE FROM cards WHERE fetched_at < ? OR e164 IN
		(SELECT e164 FROM cards ORDER BY fetched_at DESC LIMIT -1 OFFSET ?)`,
		c.now().Add(-c.maxAge).Unix(), c.max)
	return err
}

// Get returns the last card for an E.164 number, if there is one young enough.
func (c *CardCache) Get(ctx context.Context, e164 string) (Card, bool) {
	var s string
	err := c.db.QueryRowContext(ctx, `SELECT card FROM cards WHERE e164 = ? AND fetched_at >= ?`,
		e164, c.now().Add(-c.maxAge).Unix()).Scan(&s)
	if err != nil {
		return Card{}, false
	}
	var card Card
	if json.Unmarshal([]byte(s), &card) != nil {
		return Card{}, false
	}
	return card, true
}
