package peers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create test schemas
)

// EnvTestDB selects the database the CRM server's tests run on: unset or "sqlite"
// for a SQLite file per test, "postgres" for a schema per test in one PostgreSQL
// server started by StartPostgres. test/run runs the CRM suite both ways.
const EnvTestDB = "OPDESK_TEST_DB"

// Postgres is a throwaway PostgreSQL server: a fresh cluster in a temp dir on a
// loopback port, trust authentication, fsync off (tests, not data). Debian's
// binaries live outside PATH, under /usr/lib/postgresql/VERSION/bin.
type Postgres struct {
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
	n    atomic.Int64
}

// ErrNoPostgres: PostgreSQL's server binaries are not installed.
var ErrNoPostgres = errors.New("PostgreSQL is not installed (apt-get install postgresql)")

// postgresBin finds the newest installed PostgreSQL's bin directory.
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(dirs) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
		return "", ErrNoPostgres
	}
	sort.Slice(dirs, func(i, j int) bool { // "9" < "15" numerically
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(dirs[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(dirs[j]))))
		return vi < vj
	})
	return filepath.Dir(dirs[len(dirs)-1]), nil
}

// StartPostgres initialises and starts a cluster. PostgreSQL refuses to run as
// root, so as root the server runs as the "postgres" user the Debian package
// creates. The caller must Stop it (usually from TestMain).
func StartPostgres() (*Postgres, error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "opdesk-pg-")
	if err != nil {
		return nil, err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	p := &Postgres{dir: dir, done: make(chan struct{})}
	logPath := filepath.Join(dir, "server.log")
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "opdesk",
		"-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	l, err := net.Listen("tcp", Host+":0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p.port = l.Addr().(*net.TCPAddr).Port
	l.Close()

	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o666)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", dir, "-h", Host,
		"-p", strconv.Itoa(p.port), "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200")
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	go func() { p.cmd.Wait(); logf.Close(); close(p.done) }()

	db, err := sql.Open("pgx", p.url("postgres", ""))
	if err != nil {
		p.Stop()
		return nil, err
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			break
		}
		select {
		case <-p.done:
			err = fmt.Errorf("postgres exited: %s", tailFile(logPath, 2000))
		default:
		}
		if time.Now().After(deadline) || p.exited() {
			p.Stop()
			return nil, fmt.Errorf("postgres did not accept connections: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := db.Exec(`CREATE DATABASE opdesk`); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

func (p *Postgres) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *Postgres) url(database, schema string) string {
	u := fmt.Sprintf("postgres://opdesk@%s:%d/%s?sslmode=disable", Host, p.port, database)
	if schema != "" {
		u += "&search_path=" + schema
	}
	return u
}

// DSN is the URL of the server's "opdesk" database, public schema.
func (p *Postgres) DSN() string { return p.url("opdesk", "") }

// FreshDSN creates an empty schema and returns a URL whose search_path is that
// schema, so every test gets its own tables in one server.
func (p *Postgres) FreshDSN(t testing.TB) string {
	t.Helper()
	schema := fmt.Sprintf("t%d", p.n.Add(1))
	db, err := sql.Open("pgx", p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	return p.url("opdesk", schema)
}

// Stop stops the server and removes its files.
func (p *Postgres) Stop() {
	if p.cmd != nil && p.cmd.Process != nil && !p.exited() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT) // fast shutdown
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	os.RemoveAll(p.dir)
}

// PostgresUnavailable turns a failed StartPostgres into the same loud skip (or,
// under OPDESK_REQUIRE_PEERS=1, failure) as a missing peer binary.
func PostgresUnavailable(t testing.TB, err error) {
	t.Helper()
	msg := "PEER MISSING: PostgreSQL: " + err.Error() + " — run .ci/run; this test is NOT counted as passing"
	if os.Getenv(EnvRequirePeers) == "1" {
		t.Fatal(msg + " (" + EnvRequirePeers + "=1)")
	}
	t.Skip(msg)
}
