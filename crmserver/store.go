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
)

// Store is the CRM's data: users and sessions, agent states, customers, orders and
// call history. It is safe for concurrent use.
type Store struct {
	db       *db
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

// Open opens the database named by dsn and applies pending migrations:
// "sqlite:PATH" (created if needed) or a PostgreSQL URL "postgres://user@host/db"
// (the database must exist; the schema is created in the first schema of the
// connection's search_path).
//
// SQLite runs in WAL mode so that screen-pop reads never wait for a writer, with a
// busy timeout so that concurrent writers queue instead of failing with SQLITE_BUSY,
// and BEGIN IMMEDIATE so that a read-then-write transaction cannot deadlock on lock
// upgrade.
func Open(ctx context.Context, dsn string, opts ...StoreOption) (*Store, error) {
	pool, d, name, err := openPool(dsn)
	if err != nil {
		return nil, err
	}
	s := &Store{db: &db{pool: pool, d: d}, now: time.Now, pwCost: bcrypt.DefaultCost, tokenTTL: 12 * time.Hour}
	for _, o := range opts {
		o(s)
	}
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return s, nil
}

// openPool opens the connection pool for dsn. name is what error messages call the
// database: the file, or the URL without its password.
func openPool(dsn string) (pool *sql.DB, d dialect, name string, err error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if _, perr := url.Parse(dsn); perr != nil {
			return nil, 0, "", fmt.Errorf("open postgres: %w: the URL does not parse", ErrUnsupportedDSN)
		}
		name = RedactDSN(dsn)
		pool, err = sql.Open("pgx", dsn)
		if err != nil {
			return nil, 0, "", fmt.Errorf("open %s: %w", name, err)
		}
		pool.SetMaxOpenConns(16)
		pool.SetMaxIdleConns(16)
		pool.SetConnMaxIdleTime(5 * time.Minute)
		return pool, postgresDialect, name, nil
	}
	path, ok := strings.CutPrefix(dsn, "sqlite:")
	if !ok || path == "" {
		return nil, 0, "", fmt.Errorf("open %q: %w (want sqlite:PATH or postgres://…)", dsn, ErrUnsupportedDSN)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, 0, "", fmt.Errorf("open %s: %w", path, err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)") // durable at checkpoints; WAL keeps the file consistent
	q.Add("_pragma", "foreign_keys(1)")
	// Statement journals in memory, not temp files: every INSERT that may fail a
	// constraint half-way keeps one, and on disk that is a write syscall per page
	// touched — a fifth of a list import's time.
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Set("_txlock", "immediate")
	pool, err = sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, 0, "", fmt.Errorf("open %s: %w", path, err)
	}
	// A handful of connections: readers run in parallel under WAL, writers
	// serialise in SQLite anyway, and the machine is small.
	pool.SetMaxOpenConns(8)
	pool.SetMaxIdleConns(8)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	return pool, sqliteDialect, path, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(*tx) error) error {
	t, err := s.db.pool.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(&tx{tx: t, d: s.db.d}); err != nil {
		_ = t.Rollback()
		return err
	}
	return t.Commit()
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

// syncIDs moves PostgreSQL's id sequences past rows inserted with explicit ids (seed
// data), so that the next INSERT without an id does not collide. SQLite takes the
// next rowid from the table itself and needs nothing.
func (s *Store) syncIDs(ctx context.Context, tables ...string) error {
	if s.db.d != postgresDialect {
		return nil
	}
	for _, t := range tables {
		if _, err := s.db.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'),
			(SELECT COALESCE(MAX(id), 0) + 1 FROM `+t+`), false)`); err != nil {
			return fmt.Errorf("sync %s ids: %w", t, err)
		}
	}
	return nil
}

// RedactDSN returns dsn fit for logs and messages: a PostgreSQL URL with its
// password replaced by "xxxxx"; anything else unchanged.
func RedactDSN(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			return u.Redacted()
		}
		return "postgres://(unparsable URL)"
	}
	return dsn
}
