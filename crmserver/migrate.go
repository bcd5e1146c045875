package crmserver

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one numbered schema step. Steps are append-only: a released step is
// never edited, because databases in the field have already run it.
type migration struct {
	version int
	name    string
	sql     string
}

var migrations = []migration{
	{1, "users, sessions, agent states, customers, orders, calls", `
CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL UNIQUE,
	display_name  TEXT NOT NULL,
	role          TEXT NOT NULL CHECK (role IN ('agent', 'supervisor')),
	password_hash TEXT NOT NULL,
	campaigns     TEXT NOT NULL DEFAULT '[]'   -- JSON array of campaign ids
);
CREATE TABLE tokens (
	hash       BLOB PRIMARY KEY,               -- SHA-256 of the bearer token; the token itself is never stored
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE agent_states (
	user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	state   TEXT NOT NULL,
	reason  TEXT NOT NULL DEFAULT '',
	since   INTEGER NOT NULL
);
CREATE TABLE customers (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	name_kana  TEXT NOT NULL DEFAULT '',
	email      TEXT NOT NULL DEFAULT '',
	address    TEXT NOT NULL DEFAULT '',
	notes      TEXT NOT NULL DEFAULT '',
	search_key TEXT NOT NULL,                  -- name and kana folded for substring search (see searchKey)
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE TABLE customer_phones (
	e164        TEXT NOT NULL,
	customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	position    INTEGER NOT NULL,
	PRIMARY KEY (e164, customer_id)            -- the screen-pop lookup is one index seek
) WITHOUT ROWID;
CREATE INDEX customer_phones_customer ON customer_phones (customer_id, position);
CREATE TABLE orders (
	id           INTEGER PRIMARY KEY,
	customer_id  INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	items        TEXT NOT NULL,                -- JSON array of OrderItem: read whole, never queried into
	amount_jpy   INTEGER NOT NULL,
	status       TEXT NOT NULL CHECK (status IN ('ordered', 'shipped', 'delivered', 'cancelled', 'returned')),
	ordered_at   INTEGER NOT NULL,
	shipped_at   INTEGER,
	delivered_at INTEGER,
	subscription INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX orders_customer ON orders (customer_id, ordered_at DESC);
CREATE TABLE calls (
	id          INTEGER PRIMARY KEY,
	customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	started_at  INTEGER NOT NULL,
	agent       TEXT NOT NULL,
	direction   TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
	duration_s  INTEGER NOT NULL,
	disposition TEXT NOT NULL,
	notes       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX calls_customer ON calls (customer_id, started_at DESC);
`},
}

// migrate applies the steps the database has not seen, each in its own transaction
// together with its schema_migrations row, so a crash leaves a consistent version.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range migrations {
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			// Read inside the (immediate) transaction: two servers opening the same
			// file at once must not both apply a step.
			var cur int
			if err := tx.QueryRowContext(ctx,
				`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
				return err
			}
			if last := migrations[len(migrations)-1].version; cur > last {
				return fmt.Errorf("%w: version %d, this program knows up to %d", ErrSchemaTooNew, cur, last)
			}
			if cur >= m.version {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, s.now().Unix())
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate to %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

// SchemaVersion reports the newest migration applied to the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}
