package crmserver

import (
	"context"
	"fmt"
)

// migration is one numbered schema step. Steps are append-only: a released step is
// never edited, because databases in the field have already run it.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations are applied in this order; each area of the CRM owns its steps.
var migrations = []migration{migration1, contentMigration, campaignMigration, eventMigration, countersMigration,
	wallboardMigration}

var migration1 = migration{1, "users, sessions, agent states, customers, orders, calls", `
CREATE TABLE users (
	id            {{pk}},
	name          TEXT NOT NULL UNIQUE,
	display_name  TEXT NOT NULL,
	role          TEXT NOT NULL CHECK (role IN ('agent', 'supervisor')),
	password_hash TEXT NOT NULL,
	campaigns     TEXT NOT NULL DEFAULT '[]'   -- JSON array of campaign ids
);
CREATE TABLE tokens (
	hash       {{blob}} PRIMARY KEY,               -- SHA-256 of the bearer token; the token itself is never stored
	user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	expires_at BIGINT NOT NULL
) {{without_rowid}};
CREATE TABLE agent_states (
	user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	state   TEXT NOT NULL,
	reason  TEXT NOT NULL DEFAULT '',
	since   BIGINT NOT NULL
);
CREATE TABLE customers (
	id         {{pk}},
	name       TEXT NOT NULL,
	name_kana  TEXT NOT NULL DEFAULT '',
	email      TEXT NOT NULL DEFAULT '',
	address    TEXT NOT NULL DEFAULT '',
	notes      TEXT NOT NULL DEFAULT '',
	search_key TEXT NOT NULL,                  -- name and kana folded for substring search (see searchKey)
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE TABLE customer_phones (
	e164        TEXT NOT NULL,
	customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	position    BIGINT NOT NULL,
	PRIMARY KEY (e164, customer_id)            -- the screen-pop lookup is one index seek
) {{without_rowid}};
CREATE INDEX customer_phones_customer ON customer_phones (customer_id, position);
CREATE TABLE orders (
	id           {{pk}},
	customer_id  BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	items        TEXT NOT NULL,                -- JSON array of OrderItem: read whole, never queried into
	amount_jpy   BIGINT NOT NULL,
	status       TEXT NOT NULL CHECK (status IN ('ordered', 'shipped', 'delivered', 'cancelled', 'returned')),
	ordered_at   BIGINT NOT NULL,
	shipped_at   BIGINT,
	delivered_at BIGINT,
	subscription BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX orders_customer ON orders (customer_id, ordered_at DESC);
CREATE TABLE calls (
	id          {{pk}},
	customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	started_at  BIGINT NOT NULL,
	agent       TEXT NOT NULL,
	direction   TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
	duration_s  BIGINT NOT NULL,
	disposition TEXT NOT NULL,
	notes       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX calls_customer ON calls (customer_id, started_at DESC);
`}

// migrate applies the steps the database has not seen, each in its own transaction
// together with its schema_migrations row, so a crash leaves a consistent version.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    BIGINT PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if s.db.d == postgresDialect {
		// SQLite's instr(haystack, needle), which the queries use for substring
		// search, under PostgreSQL's name for it.
		if _, err := s.db.ExecContext(ctx, `CREATE OR REPLACE FUNCTION instr(text, text) RETURNS integer
			LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT strpos($1, $2)'`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	for _, m := range migrations {
		err := s.inTx(ctx, func(tx *tx) error {
			if s.db.d == postgresDialect {
				// SQLite's BEGIN IMMEDIATE already serialises this transaction
				// against another server starting on the same database.
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7367)`); err != nil {
					return err
				}
			}
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
			if _, err := tx.ExecContext(ctx, s.db.d.schemaSQL(m.sql)); err != nil {
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
