package listimport

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmserver/listimport/listgen"
)

func TestLeadingZero(t *testing.T) {
	for _, tc := range []struct{ raw, region, want string }{
		{"9012345678", "JP", "+819012345678"}, // 090-1234-5678 stored as a number
		{"312345678", "JP", "+81312345678"},   // 03-1234-5678
		{"６６３４５６７８９", "jp", "+81663456789"},   // full-width, lower-case region
		{"09012345678", "JP", "+819012345678"},
		{"819012345678", "JP", "+819012345678"}, // 12 digits: read as it is
		{"1234567890", "JP", ""},                // 01234567890 is no number either
		{"12345678", "JP", ""},                  // 8 digits: too short to have lost a 0
		{"2025550123", "US", "+12025550123"},    // other regions are not guessed at
	} {
		got, err := normalizePhone(tc.raw, tc.region)
		if tc.want == "" {
			if !errors.Is(err, crmclient.ErrInvalidPhone) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.raw)) {
				t.Errorf("normalizePhone(%q) = %q, %v; want an error quoting the number as written", tc.raw, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("normalizePhone(%q, %s) = %q, %v; want %q", tc.raw, tc.region, got, err, tc.want)
		}
	}
}

// TestRejections imports a list with one of every kind of row and parses the
// report back.
func TestRejections(t *testing.T) {
	data := "氏名,電話番号,メモ\n" +
		"山田 太郎,03-1234-5678,ok\n" + // 2 added
		"鈴木 花子,03-123,short\n" + // 3 invalid number
		"高橋 一郎,,no number\n" + // 4 no number
		"田中 次郎,03 1234 5678,dup\n" + // 5 duplicate of line 2, written differently
		",,\n" + // 6 blank
		"伊藤 三郎,090-1111-2222,dnc\n" + // 7 on the DNC list
		"渡辺 四郎,090-2222-3333,in campaign\n" + // 8 already in the campaign
		"中村 五郎,090-4444-5555,refused\n" + // 9 the store refuses a field
		"小林 六郎,+1 202-555-0123,abroad\n" + // 10 added: a country code is honoured
		"加藤 七郎,電話なし,text\n" // 11 invalid number
	sink := newFakeSink()
	sink.dnc["+819011112222"] = true
	sink.campaign["+819022223333"] = true
	sink.refuse["+819044445555"] = "email is not an address"
	report := filepath.Join(t.TempDir(), "rejected.csv")
	sum, err := runImport(t, sink, writeFile(t, "list.csv", []byte(data)), Options{Report: report, BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{Rows: 10, Added: 2, Duplicates: 2, DNC: 1, InvalidPhones: 3, Invalid: 1, Blank: 1, Report: report}
	if sum != want {
		t.Errorf("summary\n got %+v\nwant %+v", sum, want)
	}
	recs := readReport(t, report)
	if got := recs[0]; !slices.Equal(got, []string{"line", "reason", "氏名", "電話番号", "メモ"}) {
		t.Errorf("report header %q", got)
	}
	byLine := map[string][]string{}
	for _, r := range recs[1:] {
		byLine[r[0]] = r
	}
	if len(byLine) != sum.Rejected() || len(recs)-1 != sum.Rejected() {
		t.Errorf("report has %d rows, summary says %d rejected", len(recs)-1, sum.Rejected())
	}
	for line, want := range map[string]string{
		"3":  `invalid phone number: "03-123"`,
		"4":  "no phone number",
		"5":  "duplicate of line 2",
		"7":  "on the do-not-call list",
		"8":  "already in the campaign",
		"9":  "email is not an address",
		"11": `invalid phone number: "電話なし"`,
	} {
		r, ok := byLine[line]
		if !ok {
			t.Errorf("line %s is not in the report", line)
			continue
		}
		if !strings.Contains(r[1], want) {
			t.Errorf("line %s: reason %q, want %q", line, r[1], want)
		}
	}
	// The original columns follow, untouched.
	if r := byLine["5"]; !slices.Equal(r[2:], []string{"田中 次郎", "03 1234 5678", "dup"}) {
		t.Errorf("line 5 in the report: %q", r)
	}
	if r := byLine["9"]; !slices.Equal(r[2:], []string{"中村 五郎", "090-4444-5555", "refused"}) {
		t.Errorf("line 9 in the report: %q", r)
	}
	if !slices.Equal(sink.batches, []int{3, 2}) { // lines 2 7 8 | 9 10
		t.Errorf("batches %v, want [3 2]", sink.batches)
	}
	if s := sum.String(); s != "10 rows: 2 added, 2 duplicates, 1 on the DNC list, 3 invalid numbers, 1 other invalid row, 1 blank row; report: "+report {
		t.Errorf("String() = %q", s)
	}
}

func TestSummaryString(t *testing.T) {
	s := Summary{Rows: 12345, Added: 12001, Duplicates: 300, DNC: 40, InvalidPhones: 4, Report: "list.csv.rejected.csv"}
	if got, want := s.String(), "12,345 rows: 12,001 added, 300 duplicates, 40 on the DNC list, 4 invalid numbers; report: list.csv.rejected.csv"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4321: "-4,321"} {
		if got := Commas(n); got != want {
			t.Errorf("Commas(%d) = %q, want %q", n, got, want)
		}
	}
}

// The default report sits beside the file.
func TestDefaultReportPath(t *testing.T) {
	path := writeFile(t, "list.csv", []byte("電話番号\n03-123\n"))
	sum, err := Import(context.Background(), newFakeSink(), "c1", path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Report != path+".rejected.csv" {
		t.Errorf("report %q", sum.Report)
	}
	if recs := readReport(t, sum.Report); len(recs) != 2 {
		t.Errorf("report %q", recs)
	}
}

// TestGeneratedList imports lists from listgen, whose defects are counted as they
// are made, and demands exactly those counts, in both formats.
func TestGeneratedList(t *testing.T) {
	opt := listgen.Options{Rows: 3000, Rand: rand.New(rand.NewPCG(3, 4)), InvalidRate: 0.05, DupRate: 0.03, NumberRate: 0.2}
	xlsx := filepath.Join(t.TempDir(), "gen.xlsx")
	st, err := listgen.WriteXLSX(xlsx, opt)
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	opt.Rand = rand.New(rand.NewPCG(3, 4))
	st2, err := listgen.WriteCSV(&csv, opt)
	if err != nil || st2 != st {
		t.Fatalf("CSV stats %+v, %v; xlsx %+v", st2, err, st)
	}
	for _, path := range []string{xlsx, writeFile(t, "gen.csv", []byte(csv.String()))} {
		sink := newFakeSink()
		var calls, lastDone, lastTotal int
		sum, err := runImport(t, sink, path, Options{Progress: func(done, total int) {
			calls++
			if done < lastDone {
				t.Errorf("progress went back from %d to %d", lastDone, done)
			}
			lastDone, lastTotal = done, total
		}})
		if err != nil {
			t.Fatal(err)
		}
		want := Summary{Rows: st.Rows, Added: st.Valid(), Duplicates: st.Duplicates, InvalidPhones: st.Invalid, Report: sum.Report}
		if sum != want {
			t.Errorf("%s: summary\n got %+v\nwant %+v", filepath.Base(path), sum, want)
		}
		if calls < 3 || lastDone != st.Rows || lastTotal != st.Rows {
			t.Errorf("%s: %d progress calls ending at %d/%d, want ≥3 ending at %d/%d", filepath.Base(path), calls, lastDone, lastTotal, st.Rows, st.Rows)
		}
		if len(sink.batches) != 2 || sink.batches[0] != DefaultBatchSize {
			t.Errorf("batches %v", sink.batches)
		}
	}
}

func TestSinkFailure(t *testing.T) {
	var b strings.Builder
	b.WriteString("電話番号\n")
	for i := range 10 {
		fmt.Fprintf(&b, "03-5555-%04d\n", i)
	}
	sink := newFakeSink()
	sink.failCall = 2
	sum, err := runImport(t, sink, writeFile(t, "list.csv", []byte(b.String())), Options{BatchSize: 4})
	if !errors.Is(err, errSinkDown) || !strings.Contains(err.Error(), "list.csv lines 6–9") {
		t.Fatalf("err = %v, want the sink's error naming lines 6–9", err)
	}
	// The first batch is in; the failed one was read but has no outcome: the
	// partial summary says so instead of losing it.
	// Lines 2–5 went first; 6–9 failed; 10–11 were read meanwhile.
	if sum.Added != 4 || sum.Unsent != 6 || sum.Rows != 10 {
		t.Errorf("summary %+v, want 10 rows: 4 added, 6 unsent", sum)
	}
}

func TestImportCancelled(t *testing.T) {
	var b strings.Builder
	b.WriteString("電話番号\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "03-5555-%04d\n", i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sum, err := Import(ctx, newFakeSink(), "c1", writeFile(t, "list.csv", []byte(b.String())), Options{Report: filepath.Join(t.TempDir(), "r.csv")})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	checkSum(t, sum)
	if sum.Unsent == 0 {
		t.Errorf("summary %+v: the rows read before the cancel must show as unsent", sum)
	}
}

func TestEmptyAndMissing(t *testing.T) {
	_, err := runImport(t, newFakeSink(), writeFile(t, "empty.csv", []byte("\n\n")), Options{})
	if !errors.Is(err, ErrEmpty) || !strings.Contains(err.Error(), "empty.csv") {
		t.Errorf("empty: %v", err)
	}
	_, err = runImport(t, newFakeSink(), filepath.Join(t.TempDir(), "nope.csv"), Options{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func TestBadRegion(t *testing.T) {
	_, err := runImport(t, newFakeSink(), writeFile(t, "l.csv", []byte("tel\n0312345678\n")), Options{Region: "XX"})
	if !errors.Is(err, ErrRegion) || !strings.Contains(err.Error(), `"XX"`) {
		t.Errorf("err = %v", err)
	}
}

func TestNameParts(t *testing.T) {
	sink := newFakeSink()
	_, err := runImport(t, sink, writeFile(t, "l.csv", []byte("姓,名,セイ,メイ,電話\n山田,太郎,ﾔﾏﾀﾞ,ﾀﾛｳ,03-1234-5678\n佐藤,,サトウ,,06-6345-6789\n")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.rows) != 2 || sink.rows[0].Name != "山田 太郎" || sink.rows[0].NameKana != "ヤマダ タロウ" ||
		sink.rows[1].Name != "佐藤" || sink.rows[1].NameKana != "サトウ" {
		t.Errorf("rows %+v", sink.rows)
	}
}
