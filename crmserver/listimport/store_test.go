package listimport

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmserver"
	"github.com/opdesk/opdesk/crmserver/listimport/listgen"
	"github.com/opdesk/opdesk/test/peers"
	"golang.org/x/crypto/bcrypt"
)

// The store test runs on SQLite, and on PostgreSQL too when OPDESK_TEST_DB=postgres
// (test/run's second pass over ./crmserver/...). The server starts only if a test
// asks for it.
var (
	pgOnce sync.Once
	pg     *peers.Postgres
	pgErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pg != nil {
		pg.Stop()
	}
	os.Exit(code)
}

// storeDSN returns a fresh database for t and the database/sql driver and DSN to
// read it directly.
func storeDSN(t *testing.T) (dsn, driver, sqlDSN string) {
	t.Helper()
	if os.Getenv(peers.EnvTestDB) != "postgres" {
		p := filepath.Join(t.TempDir(), "crm.db")
		return "sqlite:" + p, "sqlite", p
	}
	pgOnce.Do(func() { pg, pgErr = peers.StartPostgres() })
	if pgErr != nil {
		peers.PostgresUnavailable(t, pgErr)
	}
	d := pg.FreshDSN(t)
	return d, "pgx", d
}

// TestImportIntoStore imports a generated list into a seeded store twice: the
// first time every distinct valid number is added or refused with a reason, the
// second time nothing is added.
func TestImportIntoStore(t *testing.T) {
	ctx := context.Background()
	dsn, driver, sqlDSN := storeDSN(t)
	st, err := crmserver.Open(ctx, dsn, crmserver.WithPasswordCost(bcrypt.MinCost))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = crmserver.Seed(ctx, st, crmserver.SeedOptions{Customers: 30, Rand: rand.New(rand.NewPCG(5, 6)),
		Now: time.Date(2025, 6, 10, 9, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(driver, sqlDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	campaign := firstCampaign(t, db)
	leadsBefore := countLeads(t, db, campaign)

	var b strings.Builder
	gen, err := listgen.WriteCSV(&b, listgen.Options{Rows: 600, Rand: rand.New(rand.NewPCG(7, 8)), InvalidRate: 0.05, DupRate: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	// A number on the DNC list must be refused. It is put there with SQL so that
	// this test depends on the store's schema, not on its Go API beyond ImportLeads.
	dnc := "+81355550199"
	q := `INSERT INTO dnc (e164, kind, reason, campaign_id, added_by, added_at) VALUES (?, 'dnc', 'test', '', 'sv1', 0)`
	if driver == "pgx" {
		q = strings.Replace(q, "?", "$1", 1)
	}
	if _, err := db.Exec(q, dnc); err == nil {
		fmt.Fprintf(&b, "DNC 太郎,ディーエヌシー タロウ,03-5555-0199,,,,\n")
		gen.Rows++
	} else {
		dnc = ""
		t.Logf("cannot add a DNC number (%v): the DNC outcome is not exercised", err)
	}
	path := writeFile(t, "list.csv", []byte(b.String()))

	first, err := Import(ctx, st, campaign, path, Options{BatchSize: 250})
	checkSum(t, first)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first import into %s: %s", campaign, first)
	if first.Rows != gen.Rows || first.InvalidPhones != gen.Invalid || first.Added == 0 {
		t.Errorf("first import %+v; generated %+v", first, gen)
	}
	// Each distinct valid number is added, or refused by the store for a reason.
	valid := gen.Valid()
	if dnc != "" {
		valid-- // counted in Rows, not a number listgen made
		if first.DNC == 0 {
			t.Errorf("the DNC number %s was not refused: %+v", dnc, first)
		}
	}
	if got := first.Added + first.DNC + first.Invalid + (first.Duplicates - gen.Duplicates); got != valid+min(1, len(dnc)) {
		t.Errorf("first import accounts for %d distinct valid numbers, the list has %d", got, valid+min(1, len(dnc)))
	}
	if after := countLeads(t, db, campaign); after != leadsBefore+first.Added {
		t.Errorf("campaign has %d leads after adding %d to %d", after, first.Added, leadsBefore)
	}

	second, err := Import(ctx, st, campaign, path, Options{})
	checkSum(t, second)
	if err != nil {
		t.Fatal(err)
	}
	if second.Added != 0 || second.Duplicates < first.Added+gen.Duplicates {
		t.Errorf("second import of the same list: %+v (first: %+v)", second, first)
	}
	recs := readReport(t, second.Report)
	if len(recs)-1 != second.Rejected() {
		t.Errorf("report has %d rows, %d rejected", len(recs)-1, second.Rejected())
	}
}

// firstCampaign reads a campaign id that the seed created.
func firstCampaign(t *testing.T, db *sql.DB) string {
	t.Helper()
	var id string
	if err := db.QueryRow(`SELECT id FROM campaigns ORDER BY id LIMIT 1`).Scan(&id); err != nil {
		t.Fatalf("the seed made no campaign to import into: %v", err)
	}
	return id
}

func countLeads(t *testing.T, db *sql.DB, campaign string) int {
	t.Helper()
	var n int
	q := `SELECT COUNT(*) FROM leads WHERE campaign_id = ?`
	if fmt.Sprintf("%T", db.Driver()) != "*sqlite.Driver" {
		q = `SELECT COUNT(*) FROM leads WHERE campaign_id = $1`
	}
	if err := db.QueryRow(q, campaign).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
