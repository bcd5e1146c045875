package crmserver

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// scanSearch is the reference answer: the instr scan the index replaces.
func scanSearch(t testing.TB, st *Store, q string, limit int) []string {
	t.Helper()
	cs, err := st.queryCustomers(context.Background(), `SELECT `+customerCols+` FROM customers c
		WHERE instr(c.search_key, ?) > 0 ORDER BY c.id LIMIT ?`, foldSearch(q), limit)
	if err != nil {
		t.Fatal(err)
	}
	return customerIDs(cs)
}

// TestSearchIndexMatchesScan: over seeded customers, the bigram index answers
// exactly what the full scan answers, for surnames, readings, given names, random
// substrings of real keys, strings that straddle the name/reading boundary and
// strings that occur nowhere.
func TestSearchIndexMatchesScan(t *testing.T) {
	crm := newTestCRM(t, 3000)
	ctx := context.Background()
	queries := []string{"佐藤", "さとう", "サトウ", "ｻﾄｳ", "藤", "佐々木", "ようこ", "陽子", "佐藤陽子", "佐藤 陽子",
		"サトウヨウコ", "ト", "ウ", "子", "イチ", "木村", "キム", "林", "ハヤシ", "山", "ヤマ", "存在しない", "ンイ", "藤サ"}
	rows, err := crm.st.db.QueryContext(ctx, `SELECT search_key FROM customers ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for rows.Next() {
		var k string
		rows.Scan(&k)
		keys = append(keys, k)
	}
	rows.Close()
	r := rand.New(rand.NewPCG(5, 6))
	for range 150 {
		k := []rune(keys[r.IntN(len(keys))])
		i := r.IntN(len(k) - 1)
		n := 2 + r.IntN(4)
		queries = append(queries, strings.ReplaceAll(string(k[i:min(len(k), i+n)]), searchSep, "")) // some straddle the separator
	}
	for _, q := range queries {
		for _, limit := range []int{5, maxSearchLimit} {
			got, err := crm.st.SearchCustomers(ctx, q, limit)
			if err != nil {
				t.Fatalf("%q: %v", q, err)
			}
			if want := scanSearch(t, crm.st, q, limit); !slices.Equal(customerIDs(got), want) {
				t.Errorf("SearchCustomers(%q, %d) = %v, scan says %v", q, limit, customerIDs(got), want)
			}
		}
	}
	// The common surname has more matches than a page: the index must page by id too.
	if got := scanSearch(t, crm.st, "佐藤", maxSearchLimit); len(got) < 20 {
		t.Errorf("only %d 佐藤 among 3000 customers: the test proves little", len(got))
	}
}

// TestSearchJapanese: what operators type finds what is stored, over HTTP.
func TestSearchJapanese(t *testing.T) {
	crm := newTestCRM(t, 500)
	ctx := context.Background()
	agent := crm.client(t, "agent1")
	mk := func(name, kana string) string {
		c, err := agent.CreateCustomer(ctx, crmclient.CustomerInput{Name: name, NameKana: kana})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	igarashi := mk("五十嵐　涼子", "イガラシ　リョウコ")
	smith := mk("Smith　Anna", "スミス　アンナ")
	wide := mk("ＡＬＥＸ　渡会", "アレックス　ワタライ")
	odd := mk("株式会社ABC_100%", "カブシキガイシャ　エービーシー")
	quote := mk("O'Neil　早苗", "オニール　サナエ")
	sato := mk("佐藤　一葉", "サトウ　カズハ")

	for _, tt := range []struct {
		q    string
		want []string // nil: none; otherwise exactly these among the fixtures (seeded rows may add more)
	}{
		{"いがらし", []string{igarashi}},       // hiragana query, katakana reading
		{"ｲｶﾞﾗｼ", []string{igarashi}},      // half-width kana with a separate dakuten
		{"ｲｶﾞﾗｼ ﾘｮｳｺ", []string{igarashi}}, // and a space
		{"五十嵐涼子", []string{igarashi}},
		{"ＳＭＩＴＨ", []string{smith}}, // full-width query, half-width name
		{"anna", []string{smith}},
		{"alex", []string{wide}}, // half-width query, full-width name
		{"Ａｌｅｘ", []string{wide}},
		{"c_1", []string{odd}}, // _ is a character, not a LIKE wildcard
		{"0%", []string{odd}},
		{"%", []string{odd}},
		{"_", []string{odd}},
		{"a%c", nil},
		{"o'n", []string{quote}},
		{"'", []string{quote}},
		{"一葉", []string{sato}},
		{"涼子イガ", nil}, // name's end + reading's start: never one field
		{"ョウコ五", nil},
	} {
		got, err := agent.SearchCustomers(ctx, tt.q)
		if err != nil {
			t.Fatalf("%q: %v", tt.q, err)
		}
		var ids []string
		for _, id := range customerIDs(got) {
			if slices.Contains([]string{igarashi, smith, wide, odd, quote, sato}, id) {
				ids = append(ids, id)
			}
		}
		if !slices.Equal(ids, tt.want) {
			t.Errorf("SearchCustomers(%q) fixtures = %v, want %v", tt.q, ids, tt.want)
		}
		if tt.want == nil && len(got) != 0 {
			t.Errorf("SearchCustomers(%q) = %d rows, want none", tt.q, len(got))
		}
	}

	// 佐藤 (two characters, the commonest surname): a full page, all of them 佐藤.
	got, err := crm.st.SearchCustomers(ctx, "佐藤", maxSearchLimit)
	if err != nil || len(got) < 2 {
		t.Fatalf("佐藤: %d, %v", len(got), err)
	}
	for _, c := range got {
		if !strings.Contains(foldSearch(c.Name), "佐藤") {
			t.Errorf("%s matched 佐藤", c.Name)
		}
	}
	if ids := customerIDs(got); !slices.Contains(ids, sato) || !slices.IsSortedFunc(ids, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	}) {
		t.Errorf("佐藤: %v misses %s or is not by id", ids, sato)
	}
}

// gramsOf reads a document's index rows.
func gramsOf(t testing.TB, st *Store, table gramTable, id string) []string {
	t.Helper()
	rows, err := st.db.QueryContext(context.Background(), `SELECT gram FROM `+string(table)+` WHERE id = ? ORDER BY gram`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var g string
		rows.Scan(&g)
		out = append(out, g)
	}
	return out
}

func sortedGrams(key string) []string {
	g := bigrams(key)
	slices.Sort(g)
	return g
}

// TestSearchIndexFollowsUpdates: renaming a customer moves its index rows, so the
// old name no longer finds it and the new one does.
func TestSearchIndexFollowsUpdates(t *testing.T) {
	crm := newTestCRM(t, 0)
	ctx := context.Background()
	agent := crm.client(t, "agent1")
	c, err := agent.CreateCustomer(ctx, crmclient.CustomerInput{Name: "勅使河原　美和", NameKana: "テシガワラ　ミワ"})
	if err != nil {
		t.Fatal(err)
	}
	if g := gramsOf(t, crm.st, customerGrams, c.ID); !slices.Equal(g, sortedGrams(searchKey(c.Name, c.NameKana))) {
		t.Errorf("index rows after create: %v", g)
	}
	if _, err := agent.UpdateCustomer(ctx, c.ID, crmclient.CustomerInput{Name: "勅使河原　美和子", NameKana: "テシガハラ　ミワコ"}); err != nil {
		t.Fatal(err)
	}
	if g := gramsOf(t, crm.st, customerGrams, c.ID); !slices.Equal(g, sortedGrams(searchKey("勅使河原　美和子", "テシガハラ　ミワコ"))) {
		t.Errorf("index rows after update: %v", g)
	}
	for q, n := range map[string]int{"テシガワラ": 0, "しがはら": 1, "美和子": 1, "ワコ": 1} {
		if got, err := agent.SearchCustomers(ctx, q); err != nil || len(got) != n {
			t.Errorf("after rename, %q finds %d, %v; want %d", q, len(got), err, n)
		}
	}
	if _, err := agent.UpdateCustomer(ctx, "999999", crmclient.CustomerInput{Name: "x"}); !errors.Is(err, crmclient.ErrNotFound) {
		t.Errorf("update unknown: %v", err)
	}
}

// TestSearchBackfill: the migration's SQL indexes existing customers exactly as
// bigrams does in Go, on either database (character-based substr and length).
func TestSearchBackfill(t *testing.T) {
	crm := newTestCRM(t, 300)
	ctx := context.Background()
	agent := crm.client(t, "agent1")
	for _, in := range []crmclient.CustomerInput{{Name: "林"}, {Name: "Ｘ", NameKana: "ｴｯｸｽ"}, {Name: "さくら", NameKana: "サクラ"}} {
		if _, err := agent.CreateCustomer(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	all := func() map[string]bool {
		rows, err := crm.st.db.QueryContext(ctx, `SELECT gram, id FROM customer_grams`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[string]bool{}
		for rows.Next() {
			var g string
			var id int64
			rows.Scan(&g, &id)
			m[g+"/"+strconv.FormatInt(id, 10)] = true
		}
		return m
	}
	before := all()
	if len(before) < 300*5 {
		t.Fatalf("only %d index rows for 303 customers", len(before))
	}
	if _, err := crm.st.db.ExecContext(ctx, `DELETE FROM customer_grams`); err != nil {
		t.Fatal(err)
	}
	if _, err := crm.st.db.ExecContext(ctx, customerGramsBackfill); err != nil {
		t.Fatal(err)
	}
	after := all()
	for k := range before {
		if !after[k] {
			t.Errorf("backfill misses %s", k)
		}
	}
	for k := range after {
		if !before[k] {
			t.Errorf("backfill adds %s", k)
		}
	}
}

// benchCustomers is the store size for the search and hint benchmarks:
// OPDESK_BENCH_CUSTOMERS, default 20 000 (the reported numbers use 100 000).
func benchCustomers() int {
	if v, err := strconv.Atoi(os.Getenv("OPDESK_BENCH_CUSTOMERS")); err == nil && v > 0 {
		return v
	}
	return 20_000
}

// BenchmarkSearchCustomers measures name search in the store, by query shape: a
// 2-character surname with thousands of matches, its reading typed in hiragana, a
// full name, a given name's reading, a query that matches nothing, and a single
// kana (the scan path). "scan" runs the instr scan the index replaced, for comparison.
func BenchmarkSearchCustomers(b *testing.B) {
	n := benchCustomers()
	crm := newTestCRM(b, n)
	ctx := context.Background()
	for _, q := range []string{"佐藤", "さとう", "佐藤陽子", "ようこ", "存在しない", "サ"} {
		b.Run(q, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := crm.st.SearchCustomers(ctx, q, defSearchLimit); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "customers")
		})
		b.Run("scan/"+q, func(b *testing.B) {
			for b.Loop() {
				scanSearch(b, crm.st, q, defSearchLimit)
			}
		})
	}
	b.Run("http-mix", func(b *testing.B) {
		cl := crm.client(b, "agent1")
		qs := []string{"佐藤", "すずき", "タナカ", "陽子", "ゆみこ", "山田太郎", "イトウケンイチ", "存在しない"}
		var lat []time.Duration
		i := 0
		for b.Loop() {
			t0 := time.Now()
			if _, err := cl.SearchCustomers(ctx, qs[i%len(qs)]); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
			i++
		}
		reportLatency(b, lat)
	})
}

// reportLatency adds p50 and p99 in milliseconds.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	pct := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkSeed measures Seed with OPDESK_BENCH_CUSTOMERS customers: with it, the
// cost the search index adds to seeding (and, per row, to imports).
func BenchmarkSeed(b *testing.B) {
	n := benchCustomers()
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		st, err := Open(ctx, testDSN(b))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		if err := Seed(ctx, st, SeedOptions{Customers: n, Rand: rand.New(rand.NewPCG(7, 11)), Now: seedNow}); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(t0).Seconds(), "s/seed")
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n), "customers")
}
