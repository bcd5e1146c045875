package crmserver

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver (pure Go, no cgo)
)

// Store is the CRM's data: users and sessions, agent states, customers, orders and
// call history. It is safe for concurrent use.
type Store struct {
	db       *sql.DB
	now      func() time.Time
	pwCost   int
	tokenTTL time.Duration
}

// StoreOption configures a Store.
type StoreOption func(*Store)

// WithClock replaces time.Now, for tests of token expiry and agent-state times.
func WithClock(now func() time.Time) StoreOption { return func(s *Store) { s.now = now } }

// WithPasswordCost sets the bcrypt cost for new passwords (default bcrypt.DefaultCost).
// Tests lower it; production must not, since it is what makes a stolen database
// slow to crack.
func WithPasswordCost(cost int) StoreOption { return func(s *Store) { s.pwCost = cost } }

// WithTokenTTL sets how long a login lasts (default 12 h: one long shift).
func WithTokenTTL(d time.Duration) StoreOption { return func(s *Store) { s.tokenTTL = d } }

// Open opens (creating if needed) the database named by dsn and applies pending
// migrations. Only "sqlite:PATH" is supported in this version.
//
// SQLite runs in WAL mode so that screen-pop reads never wait for a writer, with a
// busy timeout so that concurrent writers queue instead of failing with SQLITE_BUSY,
// and BEGIN IMMEDIATE so that a read-then-write transaction cannot deadlock on lock
// upgrade.
func Open(ctx context.Context, dsn string, opts ...StoreOption) (*Store, error) {
	path, ok := strings.CutPrefix(dsn, "sqlite:")
	if !ok || path == "" {
		return nil, fmt.Errorf("open %q: %w (want sqlite:PATH)", dsn, ErrUnsupportedDSN)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)") // durable at checkpoints; WAL keeps the file consistent
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// A handful of connections: readers run in parallel under WAL, writers
	// serialise in SQLite anyway, and the machine is small.
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)

	s := &Store{db: db, now: time.Now, pwCost: bcrypt.DefaultCost, tokenTTL: 12 * time.Hour}
	for _, o := range opts {
		o(s)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// unixTime turns a stored Unix-seconds column into a UTC time; the UI converts to
// the operator's zone.
func unixTime(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// nullTime turns a nullable Unix-seconds column into an optional time.
func nullTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := unixTime(v.Int64)
	return &t
}
