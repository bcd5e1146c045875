package crmserver

import (
	"context"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// BenchmarkLookupByPhone measures the screen-pop path end to end: crmclient over real
// HTTP on loopback, token check, phone normalisation, the database lookup, JSON both
// ways. It reports p50 and p99 latency of single lookups (the goal at 1 M customers
// is p99 ≤ 5 ms on SQLite); run it with -benchtime=2000x or more for a stable p99.
//
// By default it seeds OPDESK_BENCH_CUSTOMERS (20 000) customers into the suite's
// database (SQLite, or PostgreSQL with OPDESK_TEST_DB=postgres); test/bench/crm-lookup.sh
// runs it at 1 M on both. OPDESK_BENCH_DSN names a database seeded beforehand
// ("opdesk crm seed --customers N") instead.
func BenchmarkLookupByPhone(b *testing.B) {
	crm := benchCRM(b)
	cl := crm.client(b, "agent1")
	ctx := context.Background()
	var customers int
	if err := crm.st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&customers); err != nil {
		b.Fatal(err)
	}

	rows, err := crm.st.db.QueryContext(ctx, `SELECT e164 FROM customer_phones`)
	if err != nil {
		b.Fatal(err)
	}
	var phones []string
	for rows.Next() {
		var p string
		rows.Scan(&p)
		phones = append(phones, p)
	}
	rows.Close()
	r := rand.New(rand.NewPCG(3, 4))
	// Operators' phones show national format; normalising it is part of the cost.
	for i, p := range phones {
		phones[i] = "0" + p[3:]
	}

	var lat []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		p := phones[r.IntN(len(phones))]
		t0 := time.Now()
		found, err := cl.LookupByPhone(ctx, p)
		lat = append(lat, time.Since(t0))
		if err != nil || len(found) == 0 {
			b.Fatalf("lookup %s: %d found, %v", p, len(found), err)
		}
	}
	slices.Sort(lat)
	pct := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(customers), "customers")
}

// benchCRM is the CRM under benchmark: the pre-seeded OPDESK_BENCH_DSN database
// over real HTTP, or a freshly seeded one.
func benchCRM(b *testing.B) *testCRM {
	dsn := os.Getenv("OPDESK_BENCH_DSN")
	if dsn == "" {
		n, err := strconv.Atoi(os.Getenv("OPDESK_BENCH_CUSTOMERS"))
		if err != nil || n <= 0 {
			n = 20_000
		}
		return newTestCRM(b, n)
	}
	st, err := Open(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(st.Handler())
	b.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	return &testCRM{st: st, srv: srv}
}
