package crmserver

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
	"golang.org/x/crypto/bcrypt"
)

func TestSeed(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	crm := newTestCRM(t, 2000)
	t.Logf("seeded 2000 customers in %v", time.Since(start).Round(time.Millisecond))
	db := crm.st.db

	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if n := count(`SELECT COUNT(*) FROM customers`); n != 2000 {
		t.Errorf("%d customers", n)
	}
	if n := count(`SELECT COUNT(*) FROM users`); n != len(DemoUsers) {
		t.Errorf("%d users", n)
	}
	for _, s := range []crmclient.OrderStatus{crmclient.OrderOrdered, crmclient.OrderShipped, crmclient.OrderDelivered,
		crmclient.OrderCancelled, crmclient.OrderReturned} {
		if n := count(`SELECT COUNT(*) FROM orders WHERE status = ?`, s); n < 5 {
			t.Errorf("only %d orders %s", n, s)
		}
	}
	if n := count(`SELECT COUNT(*) FROM orders WHERE subscription = 1`); n < 100 {
		t.Errorf("only %d subscription orders", n)
	}
	recent := seedNow.Add(-72 * time.Hour).Unix()
	if n := count(`SELECT COUNT(*) FROM orders WHERE status = 'shipped' AND shipped_at >= ?`, recent); n < 10 {
		t.Errorf("only %d orders shipped in the last 3 days", n)
	}
	if n := count(`SELECT COUNT(*) FROM orders WHERE (status IN ('shipped','delivered','returned')) != (shipped_at IS NOT NULL)
		OR (status IN ('delivered','returned')) != (delivered_at IS NOT NULL) OR shipped_at > ? OR delivered_at > ?`,
		seedNow.Unix(), seedNow.Unix()); n != 0 {
		t.Errorf("%d orders with dates that contradict their status", n)
	}
	if n := count(`SELECT COUNT(*) FROM (SELECT e164 FROM customer_phones GROUP BY e164 HAVING COUNT(*) = 2) AS shared`); n < 3 {
		t.Errorf("only %d shared family landlines", n)
	}
	if n := count(`SELECT COUNT(*) FROM (SELECT customer_id FROM customer_phones GROUP BY customer_id HAVING COUNT(*) >= 2) AS multi`); n < 100 {
		t.Errorf("only %d customers with several numbers", n)
	}
	for _, prefix := range []string{"+813", "+816", "+8190", "+8180"} {
		if n := count(`SELECT COUNT(*) FROM customer_phones WHERE e164 LIKE ? || '%'`, prefix); n < 50 {
			t.Errorf("only %d numbers starting %s", n, prefix)
		}
	}
	if n := count(`SELECT COUNT(*) FROM customer_phones WHERE e164 LIKE '+8131%' OR e164 LIKE '+8132%' OR e164 LIKE '+8161%' OR e164 LIKE '+8170%'`); n != 0 {
		t.Errorf("%d seeded numbers in the ranges reserved for tests", n)
	}

	rows, err := db.QueryContext(ctx, `SELECT e164 FROM customer_phones`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p string
		rows.Scan(&p)
		if got, err := crmclient.NormalizePhone(p, "JP"); err != nil || got != p {
			t.Errorf("seeded number %s is not valid E.164: %q, %v", p, got, err)
		}
	}
	rows.Close()

	if n := count(`SELECT COUNT(*) FROM calls WHERE notes LIKE '%\%%' ESCAPE '\' OR notes = ''`); n != 0 {
		t.Errorf("%d call notes unformatted or empty", n)
	}
	if n := count(`SELECT COUNT(*) FROM calls WHERE direction = 'outbound'`); n < 50 {
		t.Errorf("only %d outbound calls", n)
	}

	if err := Seed(ctx, crm.st, SeedOptions{Customers: 1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("seeding a non-empty store: %v", err)
	}
}

// TestSeedDeterministic: the same seed and Now give byte-identical data, so that a
// benchmark or a bug report can be reproduced.
func TestSeedDeterministic(t *testing.T) {
	a, b, c := seedDigest(t, 1, customerTables), seedDigest(t, 1, customerTables), seedDigest(t, 2, customerTables)
	if a != b {
		t.Error("same seed, different data")
	}
	if a == c {
		t.Error("different seeds, same data")
	}
}

// seedDigest seeds a fresh store with 300 customers (in batches of 64, so that
// batch boundaries are crossed) and hashes the rows the queries return.
func seedDigest(t *testing.T, seed uint64, queries []string) string {
	t.Helper()
	st, err := Open(context.Background(), testDSN(t), WithPasswordCost(bcrypt.MinCost))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := Seed(context.Background(), st, SeedOptions{Customers: 300, Rand: rand.New(rand.NewPCG(seed, 1)), Now: seedNow, Batch: 64}); err != nil {
		t.Fatal(err)
	}
	return tableDigest(t, st.db, queries)
}

// customerTables are the digest queries over customers, phones, orders and calls.
var customerTables = []string{
	`SELECT CAST(id AS TEXT) || name || name_kana || email || address || notes || CAST(created_at AS TEXT) FROM customers ORDER BY id`,
	`SELECT e164 || CAST(customer_id AS TEXT) || CAST(position AS TEXT) FROM customer_phones ORDER BY customer_id, position`,
	`SELECT CAST(id AS TEXT) || CAST(customer_id AS TEXT) || items || CAST(amount_jpy AS TEXT) || status || CAST(ordered_at AS TEXT) || COALESCE(CAST(shipped_at AS TEXT), '-') || COALESCE(CAST(delivered_at AS TEXT), '-') || CAST(subscription AS TEXT) FROM orders ORDER BY id`,
	`SELECT CAST(id AS TEXT) || CAST(customer_id AS TEXT) || CAST(started_at AS TEXT) || agent || direction || CAST(duration_s AS TEXT) || disposition || notes FROM calls ORDER BY id`,
}

// tableDigest hashes the rows of each query, in order.
func tableDigest(t *testing.T, db *db, queries []string) string {
	h := sha256.New()
	for _, q := range queries {
		rows, err := db.QueryContext(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			rows.Scan(&s)
			fmt.Fprintln(h, s)
		}
		rows.Close()
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// TestSeedLooksJapanese spot-checks a seeded card through the API.
func TestSeedLooksJapanese(t *testing.T) {
	crm := newTestCRM(t, 50)
	ctx := context.Background()
	cl := crm.client(t, "agent1")
	c, err := cl.GetCustomer(ctx, "1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Name, "　") || !strings.Contains(c.NameKana, "　") || !strings.HasPrefix(c.Address, "〒") || len(c.Phones) == 0 {
		t.Errorf("customer 1 = %+v", c)
	}
	for _, p := range c.Phones {
		found, err := cl.LookupByPhone(ctx, p)
		if err != nil || len(found) == 0 || !slices.Contains(customerIDs(found), "1") {
			t.Errorf("lookup of seeded %s: %v, %v", p, customerIDs(found), err)
		}
	}
}

func TestDemoCallers(t *testing.T) {
	ctx := context.Background()
	st := newTestCRM(t, 300).st
	nums, err := st.DemoCallers(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(nums) != 5 {
		t.Fatalf("got %d callers, want 5: %v", len(nums), nums)
	}
	for _, n := range nums {
		cs, err := st.LookupPhone(ctx, n)
		if err != nil || len(cs) != 1 {
			t.Fatalf("%s: %d customers (%v), want exactly 1", n, len(cs), err)
		}
	}
}
