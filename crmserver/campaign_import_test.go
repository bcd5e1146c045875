package crmserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
	"golang.org/x/crypto/bcrypt"
)

// TestImportLeads: every outcome of a row, customers linked or created, and
// duplicates across imports.
func TestImportLeads(t *testing.T) {
	crm := newTestCRM(t, 0, WithClock(newClock(seedNow).Now))
	st, ctx := crm.st, context.Background()
	mustCampaign(t, st, testCampaign("imp"))
	known, err := st.CreateCustomer(ctx, crmclient.CustomerInput{Name: "既存　花子", Phones: []string{testPhone(700)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.AddDNC(ctx, "sv1", crmclient.DNCRequest{Phone: testPhone(701), Kind: crmclient.DNCRefusedNeverCall}); err != nil {
		t.Fatal(err)
	}
	rows := []LeadRow{
		{Line: 2, Phone: testPhone(702), Name: "新規　一郎", NameKana: "シンキ　イチロウ", Email: "ichiro@example.jp",
			Address: "〒150-0041 東京都渋谷区神南1-1-1", Fields: map[string]string{"購入回数": "3", "最終購入日": "2025-05-01"}},
		{Line: 3, Phone: testPhone(700), Name: "別名　次郎"},
		{Line: 4, Phone: testPhone(703)},
		{Line: 5, Phone: testPhone(702), Name: "重複　三郎"},
		{Line: 6, Phone: testPhone(701), Name: "拒否　四郎"},
		{Line: 7, Phone: "12345"},
		{Line: 8, Phone: testPhone(704), Name: "メール　不正", Email: "not-an-email"},
		{Line: 9, Phone: testPhone(705), Fields: map[string]string{"time_zone": "Mars/Olympus"}},
		{Line: 10, Phone: testPhone(706), Fields: map[string]string{"time_zone": "Asia/Seoul", "地域": "ソウル"}},
		{Line: 11, Phone: testPhone(707), Name: strings.Repeat("あ", 101)},
		{Line: 12, Phone: testPhone(708), Fields: map[string]string{"メモ": "a\x00b"}},
	}
	res, err := st.ImportLeads(ctx, "imp", rows)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ status, reason string }{
		{LeadAdded, ""}, {LeadAdded, ""}, {LeadAdded, ""},
		{LeadDuplicate, "same number as line 2"},
		{LeadDNC, "is on the do-not-call list (refused_never_call)"},
		{LeadInvalid, `"12345"`},
		{LeadInvalid, "email"},
		{LeadInvalid, `time zone "Mars/Olympus"`},
		{LeadAdded, ""},
		{LeadInvalid, "name is 101 characters"},
		{LeadInvalid, "column メモ"},
	}
	if len(res) != len(rows) {
		t.Fatalf("%d results for %d rows", len(res), len(rows))
	}
	for i, w := range want {
		r := res[i]
		if r.Line != rows[i].Line || r.Status != w.status || !strings.Contains(r.Reason, w.reason) ||
			(r.Status == LeadAdded) != (r.LeadID != "") || r.Status != LeadAdded && r.Reason == "" {
			t.Errorf("line %d: %+v; want %s %q", rows[i].Line, r, w.status, w.reason)
		}
	}

	l, err := st.Lead(ctx, res[0].LeadID)
	if err != nil || l.Name != "新規　一郎" || l.NameKana != "シンキ　イチロウ" || l.CustomerID == "" || l.Status != crmclient.LeadOpen ||
		l.Fields["購入回数"] != "3" || l.Fields["最終購入日"] != "2025-05-01" || l.Phone != testPhone(702) || l.Attempts != 0 {
		t.Errorf("lead of line 2 = %+v, %v", l, err)
	}
	if cs, _ := st.LookupPhone(ctx, testPhone(702)); len(cs) != 1 || cs[0].ID != l.CustomerID || cs[0].Email != "ichiro@example.jp" {
		t.Errorf("new customer = %+v", cs)
	}
	if l, _ := st.Lead(ctx, res[1].LeadID); l.CustomerID != known.ID || l.Name != "既存　花子" {
		t.Errorf("line 3 should link to the existing customer %s: %+v", known.ID, l)
	}
	if cs, _ := st.LookupPhone(ctx, testPhone(700)); len(cs) != 1 {
		t.Errorf("line 3 created a second customer: %+v", cs)
	}
	if l, _ := st.Lead(ctx, res[2].LeadID); l.CustomerID != "" || l.Name != "" {
		t.Errorf("a nameless row made a customer: %+v", l)
	}
	if l, _ := st.Lead(ctx, res[8].LeadID); l.TimeZone != "Asia/Seoul" || l.Fields["地域"] != "ソウル" || l.Fields["time_zone"] != "" {
		t.Errorf("zone lead = %+v", l)
	}

	res, err = st.ImportLeads(ctx, "imp", rows[:3])
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != LeadDuplicate || !strings.Contains(r.Reason, "campaign imp already has a lead for +8131") {
			t.Errorf("second import: %+v", r)
		}
	}
	if _, err := st.ImportLeads(ctx, "nope", rows); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown campaign: %v", err)
	}
	if res, err := st.ImportLeads(ctx, "imp", nil); err != nil || len(res) != 0 {
		t.Errorf("no rows: %v %v", res, err)
	}
}

// TestImportLeadsConcurrent: importers running at once on one campaign add each
// number once and create one customer per number.
func TestImportLeadsConcurrent(t *testing.T) {
	st, err := Open(context.Background(), testDSN(t), WithPasswordCost(bcrypt.MinCost))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	mustCampaign(t, st, testCampaign("race"))
	const n, importers = 1200, 4
	rows := make([]LeadRow, n)
	for i := range rows {
		rows[i] = LeadRow{Line: i + 1, Phone: testPhone(10_000 + i)}
		if i%2 == 0 {
			rows[i].Name = fmt.Sprintf("同時　%d", i)
		}
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		added = map[int]int{}
	)
	for k := range importers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each importer sends the list in its own batch order.
			for b := range 4 {
				part := rows[((b+k)%4)*n/4 : ((b+k)%4+1)*n/4]
				res, err := st.ImportLeads(ctx, "race", part)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, r := range res {
					if r.Status == LeadAdded {
						added[r.Line]++
					} else if r.Status != LeadDuplicate {
						t.Errorf("line %d: %+v", r.Line, r)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(added) != n {
		t.Errorf("%d rows added, want %d", len(added), n)
	}
	for line, k := range added {
		if k != 1 {
			t.Errorf("line %d added %d times", line, k)
		}
	}
	var leads, customers, phones int
	st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM leads WHERE campaign_id = 'race'`).Scan(&leads)
	st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&customers)
	st.db.QueryRowContext(ctx, `SELECT COUNT(DISTINCT e164) FROM customer_phones`).Scan(&phones)
	if leads != n || customers != n/2 || phones != n/2 {
		t.Errorf("%d leads, %d customers, %d numbers; want %d, %d, %d", leads, customers, phones, n, n/2, n/2)
	}
}

// BenchmarkImportLeads imports 100 000 named rows (each creates a customer: the
// slowest case) in batches of 2000, as the list importer does, into a fresh
// store per iteration. The goal on SQLite is well under 15 s per 100 000.
func BenchmarkImportLeads(b *testing.B) {
	const rowsN, batch = 100_000, 2000
	ctx := context.Background()
	rows := make([]LeadRow, rowsN)
	for i := range rows {
		rows[i] = LeadRow{Line: i + 2, Phone: fmt.Sprintf("+8190%08d", 10_000_000+i), Name: "見込　" + fmt.Sprint(i),
			NameKana: "ミコミ", Fields: map[string]string{"購入回数": "2", "最終購入日": "2025-04-01"}}
	}
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st, err := Open(ctx, testDSN(b))
		if err != nil {
			b.Fatal(err)
		}
		mustCampaign(b, st, testCampaign("bench"))
		b.StartTimer()
		t0 := time.Now()
		for start := 0; start < rowsN; start += batch {
			res, err := st.ImportLeads(ctx, "bench", rows[start:min(start+batch, rowsN)])
			if err != nil {
				b.Fatal(err)
			}
			if res[0].Status != LeadAdded {
				b.Fatalf("%+v", res[0])
			}
		}
		total += time.Since(t0)
		b.StopTimer()
		st.Close()
	}
	b.ReportMetric(float64(rowsN)*float64(b.N)/total.Seconds(), "rows/s")
	b.ReportMetric(total.Seconds()/float64(b.N), "s/100k")
}

// TestImportCreatesCustomersLikeCreateCustomer: the import's batched customer
// writer (customerBatch) leaves exactly what insertCustomer leaves, in every
// table, so the two cannot drift apart unnoticed when insertCustomer grows.
func TestImportCreatesCustomersLikeCreateCustomer(t *testing.T) {
	st, err := Open(context.Background(), testDSN(t), WithPasswordCost(bcrypt.MinCost))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	mustCampaign(t, st, testCampaign("same"))
	listQ := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if onPostgres() {
		listQ = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	counts := func() map[string]int {
		t.Helper()
		rows, err := st.db.QueryContext(ctx, listQ)
		if err != nil {
			t.Fatal(err)
		}
		var tables []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			tables = append(tables, n)
		}
		rows.Close()
		out := map[string]int{}
		for _, tb := range tables {
			var n int
			if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+tb).Scan(&n); err != nil {
				t.Fatal(err)
			}
			out[tb] = n
		}
		return out
	}
	in := crmclient.CustomerInput{Name: "比較　花子", NameKana: "ヒカク　ハナコ", Email: "hanako@example.jp",
		Address: "〒160-0022 東京都新宿区新宿1-2-3", Notes: "リストから", Phones: []string{testPhone(800)}}
	c0 := counts()
	made, err := st.CreateCustomer(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	c1 := counts()
	res, err := st.ImportLeads(ctx, "same", []LeadRow{{Line: 1, Phone: testPhone(801), Name: in.Name, NameKana: in.NameKana,
		Email: in.Email, Address: in.Address, Notes: in.Notes}})
	if err != nil || res[0].Status != LeadAdded {
		t.Fatalf("%+v %v", res, err)
	}
	c2 := counts()
	for tb := range c2 {
		want := c1[tb] - c0[tb]
		if tb == "leads" {
			want++
		}
		if got := c2[tb] - c1[tb]; got != want {
			t.Errorf("table %s: CreateCustomer added %d rows, the import %d (leads aside)", tb, c1[tb]-c0[tb], got)
		}
	}
	imported, _ := st.Lead(ctx, res[0].LeadID)
	a, _ := st.Customer(ctx, made.ID)
	b, _ := st.Customer(ctx, imported.CustomerID)
	a.ID, b.ID, a.Phones, b.Phones = "", "", nil, nil
	if a.Name == "" || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("CreateCustomer made %+v, the import %+v", a, b)
	}
	for _, q := range []string{"比較", "ひかく", "ハナコ", "花子"} {
		found, err := st.SearchCustomers(ctx, q, 10)
		if err != nil || len(found) != 2 {
			t.Errorf("search %q finds %d (%v), want both customers", q, len(found), err)
		}
	}
}
