package crmserver

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// idempotencyTTL is how long a key and its answer are kept. An outbox item can
// wait for days (a desktop left off over a holiday); a month covers that.
const idempotencyTTL = 30 * 24 * time.Hour

// idempotent runs fn at most once per key. The key, a digest of who sent what
// to which route, and fn's answer are stored in the same transaction as fn's
// effect, so a crash leaves either both or neither. A repeat of the same
// request gets the stored status and body byte for byte; the same key with a
// different request is ErrIdempotencyMismatch. A request that fails (a
// validation error) stores nothing and may be corrected and sent again with
// the same key.
//
// Two concurrent requests with one key serialise on the key's row: SQLite's
// write lock, or PostgreSQL's unique index, which makes the second INSERT wait
// for the first transaction and then see its row.
func (s *Store) idempotent(ctx context.Context, key, user, route string, req any,
	fn func(tx *tx) (int, any, error)) (status int, body []byte, err error) {
	canon, err := json.Marshal(req)
	if err != nil {
		return 0, nil, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", user, route)
	h.Write(canon)
	digest := hex.EncodeToString(h.Sum(nil))
	err = s.inTx(ctx, func(tx *tx) error {
		now := s.now()
		var k string
		err := tx.QueryRowContext(ctx, `INSERT INTO idempotency_keys (idem_key, user_name, request, status, response, created_at)
			VALUES (?, ?, ?, 0, '', ?) ON CONFLICT (idem_key) DO NOTHING RETURNING idem_key`,
			key, user, digest, now.Unix()).Scan(&k)
		if errors.Is(err, sql.ErrNoRows) {
			var prev, resp string
			if err := tx.QueryRowContext(ctx, `SELECT request, status, response FROM idempotency_keys WHERE idem_key = ?`,
				key).Scan(&prev, &status, &resp); err != nil {
				return err
			}
			if prev != digest {
				return refuse(ErrIdempotencyMismatch, "Idempotency-Key %q was already used for a different request; "+
					"the first one was applied and this one was not (use a new key for a new request)", key)
			}
			body = []byte(resp)
			return nil
		}
		if err != nil {
			return err
		}
		st, v, err := fn(tx)
		if err != nil {
			return err
		}
		if body, err = json.Marshal(v); err != nil {
			return err
		}
		status = st
		if _, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET status = ?, response = ? WHERE idem_key = ?`,
			status, string(body), key); err != nil {
			return err
		}
		if rand.IntN(256) == 0 { // sweep now and then; no goroutine to own
			_, err = tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, now.Add(-idempotencyTTL).Unix())
		}
		return err
	})
	return status, body, err
}

// validKey checks an Idempotency-Key: 1–200 printable ASCII characters (a UUID
// from the outbox, usually).
func validKey(k string) bool {
	if k == "" || len(k) > 200 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}
