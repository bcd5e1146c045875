package crmserver

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/opdesk/opdesk/test/peers"
)

// The suite runs on SQLite by default and on PostgreSQL with OPDESK_TEST_DB=postgres
// (test/run does both): every test that opens a store asks testDSN for one.
var (
	pg    *peers.Postgres
	pgErr error
)

func TestMain(m *testing.M) {
	if os.Getenv(peers.EnvTestDB) == "postgres" {
		pg, pgErr = peers.StartPostgres()
		if pgErr != nil {
			fmt.Fprintln(os.Stderr, "crmserver tests: PostgreSQL did not start:", pgErr)
		}
	}
	code := m.Run()
	if pg != nil {
		pg.Stop()
	}
	os.Exit(code)
}

// onPostgres reports whether this run of the suite is on PostgreSQL.
func onPostgres() bool { return os.Getenv(peers.EnvTestDB) == "postgres" }

// testDSN returns a fresh, empty database for one test: a SQLite file in the
// test's temp dir, or a new schema in the shared PostgreSQL server.
func testDSN(t testing.TB) string {
	t.Helper()
	if !onPostgres() {
		return "sqlite:" + filepath.Join(t.TempDir(), "crm.db")
	}
	if pg == nil {
		peers.PostgresUnavailable(t, pgErr)
	}
	return pg.FreshDSN(t)
}

// sqliteOnly skips a test of SQLite-specific behaviour (pragmas, the file) in the
// PostgreSQL run; the SQLite run of the same suite covers it.
func sqliteOnly(t testing.TB) {
	t.Helper()
	if onPostgres() {
		t.Skip("checks SQLite itself; runs in the SQLite pass of the suite")
	}
}
