package crmserver

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
	"golang.org/x/crypto/bcrypt"
)

func TestOpenMigrations(t *testing.T) {
	ctx := context.Background()
	dsn := testDSN(t)
	if !onPostgres() {
		dsn = "sqlite:" + filepath.Join(t.TempDir(), "sub", "crm.db") // the directory is created
	}
	for range 2 { // the second open finds everything applied
		st, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		v, err := st.SchemaVersion(ctx)
		if err != nil || v != migrations[len(migrations)-1].version {
			t.Fatalf("schema version %d, %v; want %d", v, err, migrations[len(migrations)-1].version)
		}
		if !onPostgres() {
			var mode string
			if err := st.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
				t.Errorf("journal_mode = %q, %v", mode, err)
			}
			var busy int
			if err := st.db.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil || busy < 1000 {
				t.Errorf("busy_timeout = %d, %v", busy, err)
			}
		}
		st.Close()
	}

	st, _ := Open(ctx, dsn)
	if _, err := st.db.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (99, 'from the future', 0)`); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := Open(ctx, dsn); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("open newer schema: %v, want ErrSchemaTooNew", err)
	}
}

func TestOpenRejectsDSN(t *testing.T) {
	for _, dsn := range []string{"", "sqlite:", "mysql://localhost/crm", "postgres://%zz", "/tmp/crm.db"} {
		if _, err := Open(context.Background(), dsn); !errors.Is(err, ErrUnsupportedDSN) {
			t.Errorf("Open(%q) = %v, want ErrUnsupportedDSN", dsn, err)
		}
	}
}

// TestTokens: only the token's hash is stored, and an expired token is refused.
func TestTokens(t *testing.T) {
	var now atomic.Int64
	now.Store(seedNow.Unix())
	clock := func() time.Time { return time.Unix(now.Load(), 0) }
	crm := newTestCRM(t, 0, WithClock(clock), WithTokenTTL(time.Hour))
	ctx := context.Background()
	cl := crm.client(t, "agent2")

	var n int
	if err := crm.st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE hash = ?`, cl.Token()).Scan(&n); err != nil || n != 0 {
		t.Errorf("token stored in clear (%d rows, %v)", n, err)
	}
	var hash string
	if err := crm.st.db.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE name = 'agent2'`).Scan(&hash); err != nil ||
		bcrypt.CompareHashAndPassword([]byte(hash), []byte("agent2-demo")) != nil {
		t.Errorf("password not stored as bcrypt: %v", err)
	}

	if _, err := cl.Me(ctx); err != nil {
		t.Fatal(err)
	}
	now.Add(int64(time.Hour/time.Second) + 1)
	if _, err := cl.Me(ctx); !errors.Is(err, crmclient.ErrUnauthorized) {
		t.Errorf("expired token: %v, want ErrUnauthorized", err)
	}
	cl2 := crm.client(t, "agent2") // the new login also sweeps the expired token
	if err := crm.st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d tokens after sweep, %v", n, err)
	}
	if _, err := cl2.Me(ctx); err != nil {
		t.Error(err)
	}
}

func TestCreateUserValidates(t *testing.T) {
	crm := newTestCRM(t, 0)
	ctx := context.Background()
	for _, u := range []NewUser{
		{Name: "", Role: crmclient.RoleAgent, Password: "long-enough"},
		{Name: "a b", Role: crmclient.RoleAgent, Password: "long-enough"},
		{Name: "x", Role: "admin", Password: "long-enough"},
		{Name: "x", Role: crmclient.RoleAgent, Password: "short"},
	} {
		if _, err := crm.st.CreateUser(ctx, u); !errors.Is(err, ErrInvalid) {
			t.Errorf("CreateUser(%+v) = %v, want ErrInvalid", u, err)
		}
	}
	if _, err := crm.st.CreateUser(ctx, DemoUsers[0]); err == nil {
		t.Error("duplicate user name accepted")
	}
}

func TestFoldSearch(t *testing.T) {
	for in, want := range map[string]string{
		"佐藤　陽子":   "佐藤陽子",
		"さとう ようこ": "サトウヨウコ",
		"ｻﾄｳ ﾖｳｺ": "サトウヨウコ",
		"ｶﾞｯｺｳ":   "ガッコウ",
		"ＡＢＣ abc": "abcabc",
		"ゞ":       "ヾ",
	} {
		if got := foldSearch(in); got != want {
			t.Errorf("foldSearch(%q) = %q, want %q", in, got, want)
		}
	}
}
