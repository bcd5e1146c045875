package main

import (
	"bytes"
	"context"
	"database/sql"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmserver"
	"github.com/opdesk/opdesk/crmserver/listimport"
	"github.com/opdesk/opdesk/crmserver/listimport/listgen"
	"golang.org/x/crypto/bcrypt"
)

// addAll is a store that adds every row it is given.
type addAll struct{ rows int }

func (a *addAll) ImportLeads(ctx context.Context, campaignID string, rows []crmserver.LeadRow) ([]crmserver.LeadResult, error) {
	out := make([]crmserver.LeadResult, len(rows))
	for i, r := range rows {
		out[i] = crmserver.LeadResult{Line: r.Line, Status: crmserver.LeadAdded, LeadID: "1"}
	}
	a.rows += len(rows)
	return out, nil
}

func writeList(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCRMImportUsage(t *testing.T) {
	list := writeList(t, "list.csv", "電話番号\n03-1234-5678\n")
	db := "sqlite:" + filepath.Join(t.TempDir(), "crm.db")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "give exactly one file"},
		{[]string{"--campaign", "c1", "--db", db}, 2, "give exactly one file"},
		{[]string{list, list, "--campaign", "c1"}, 2, "give exactly one file"},
		{[]string{list, "--db", db}, 2, "--campaign is required"},
		{[]string{list, "--campaign", "c1", "--map", "mobile=C"}, 2, `unknown field "mobile"`},
		{[]string{list, "--bogus"}, 2, "flag provided but not defined: -bogus"},
	} {
		var stdout, stderr bytes.Buffer
		code := runCRMImport(tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
		if stdout.Len() > 0 {
			t.Errorf("%q: printed %q on stdout", tc.args, stdout.String())
		}
	}
}

func TestCRMImportFailures(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "crm.db")
	missing := filepath.Join(t.TempDir(), "nope.csv")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{missing, "--campaign", "c1", "--db", db}, "opdesk crm import: cannot read " + missing + ": no such file or directory\n"},
		{"unclosed quote", []string{writeList(t, "cut.csv", "電話番号,氏名\n03-1234-5678,\"山田\n"), "--campaign", "c1", "--db", db},
			"cut.csv line 2: malformed file: a quoted field"},
		{"random bytes", []string{writeList(t, "list.xlsx", "\x01\x02garbage\xff"), "--campaign", "c1", "--db", db},
			"opdesk crm import: list.xlsx: malformed file: not an Excel workbook"},
		{"no phone column", []string{writeList(t, "x.csv", "氏名,住所\n山田,東京\n"), "--campaign", "c1", "--db", db},
			`no phone number column among the headers "氏名", "住所"`},
		{"bad region", []string{writeList(t, "y.csv", "tel\n0312345678\n"), "--campaign", "c1", "--db", db, "--region", "ZZ"},
			`unknown phone region "ZZ"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runCRMImport(tc.args, &stdout, &stderr); code != 1 {
				t.Errorf("exit %d, want 1; stderr %q", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr %q, want %q", stderr.String(), tc.want)
			}
			if strings.Contains(stderr.String(), "panic") || strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("want one line on stderr, got %q", stderr.String())
			}
		})
	}
}

// TestImportListOutput checks what a person sees: the column map and progress on
// stderr (plain lines, since a buffer is no terminal) and the summary on stdout.
func TestImportListOutput(t *testing.T) {
	var b strings.Builder
	gen, err := listgen.WriteCSV(&b, listgen.Options{Rows: 5000, Rand: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	list := writeList(t, "list.csv", b.String())
	report := filepath.Join(t.TempDir(), "rejected.csv")
	var stdout, stderr bytes.Buffer
	sink := &addAll{}
	code := importList(context.Background(), sink, list, "c1", listimport.Options{Report: report}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	want := regexp.MustCompile(`^5,000 rows: [0-9,]+ added, [0-9,]+ duplicates, 0 on the DNC list, [0-9,]+ invalid numbers; report: ` + regexp.QuoteMeta(report) + "\n$")
	if !want.MatchString(stdout.String()) {
		t.Errorf("stdout %q", stdout.String())
	}
	if sink.rows != gen.Valid() {
		t.Errorf("store got %d rows, want %d", sink.rows, gen.Valid())
	}
	for _, w := range []string{
		"list.csv: CSV, UTF-8, comma-separated; header on line 1: phone=電話番号 (C), name=氏名 (A), kana=フリガナ (B), email=メールアドレス (D), address=住所 (E), notes=備考 (F); kept as fields: 会員ランク\n",
		"import: 500 of 5,000 rows (10%)\n",
		"import: 5,000 of 5,000 rows (100%)\n",
	} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("stderr does not have %q:\n%s", w, stderr.String())
		}
	}
}

func TestProgressBarTerminal(t *testing.T) {
	var out bytes.Buffer
	clock := time.Unix(0, 0)
	p := &progressBar{w: &out, tty: true, width: 10, now: func() time.Time { return clock }}
	p.update(10, 100)
	p.update(20, 100) // within 100 ms: not drawn
	clock = clock.Add(time.Second)
	p.update(50, 100)
	p.update(100, 100) // the end is always drawn
	p.finish()
	want := "\r[#---------]  10%  10 / 100 rows" +
		"\r[#####-----]  50%  50 / 100 rows" +
		"\r[##########] 100%  100 / 100 rows\n"
	if out.String() != want {
		t.Errorf("got  %q\nwant %q", out.String(), want)
	}
}

// TestCRMImportIntoStore runs the command against a seeded SQLite store, once the
// store can import leads.
func TestCRMImportIntoStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "crm.db")
	st, err := crmserver.Open(ctx, "sqlite:"+path, crmserver.WithPasswordCost(bcrypt.MinCost))
	if err != nil {
		t.Fatal(err)
	}
	err = crmserver.Seed(ctx, st, crmserver.SeedOptions{Customers: 20, Rand: rand.New(rand.NewPCG(1, 2)), Now: time.Date(2025, 6, 10, 9, 0, 0, 0, time.UTC)})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var campaign string
	err = db.QueryRow(`SELECT CAST(id AS TEXT) FROM campaigns ORDER BY id LIMIT 1`).Scan(&campaign)
	db.Close()
	if err != nil {
		t.Fatalf("the seed made no campaign: %v", err)
	}
	list := writeList(t, "list.csv", "氏名,電話番号\n山田 太郎,03-5555-0101\n鈴木 花子,9055550202\n高橋,03-123\n")
	var stdout, stderr bytes.Buffer
	if code := runCRMImport([]string{list, "--campaign", "no-such-campaign", "--db", "sqlite:" + path}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), `opdesk crm import: there is no campaign "no-such-campaign" in this database; nothing was imported`) {
		t.Errorf("unknown campaign: exit %d, stderr %q", code, stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	code := runCRMImport([]string{list, "--campaign", campaign, "--db", "sqlite:" + path}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if want := "3 rows: 2 added, 0 duplicates, 0 on the DNC list, 1 invalid number; report: " + list + ".rejected.csv\n"; stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	stdout.Reset()
	stderr.Reset()
	if code := runCRMImport([]string{list, "--campaign", campaign, "--db", "sqlite:" + path}, &stdout, &stderr); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "3 rows: 0 added, 2 duplicates") {
		t.Errorf("second run: %q", stdout.String())
	}
}
