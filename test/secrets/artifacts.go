// Package secrets checks that no password or token configured in a test run
// shows up in what opdesk wrote during it: its log files, stderr, the
// output of opdesk ctl, the desktop's screen, the CRM server's output.
//
// The e2e harness collects those into the directory named by
// OPDESK_TEST_ARTIFACTS (test/run sets it) with [Save], [SaveFile] and
// [Append], and notes every password it configured and every CRM token
// issued during the run with [Record] (the CRM's tokens through
// [RecordingProxy], which sees them on the wire: the CRM stores only their
// hashes). TestNoSecretsInArtifacts, run after the other packages, reads
// it all back and fails on any secret it finds, naming file and line.
//
// Without OPDESK_TEST_ARTIFACTS every function here does nothing.
package secrets

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// EnvArtifacts names the directory artifacts are collected in.
const EnvArtifacts = "OPDESK_TEST_ARTIFACTS"

// SecretsFile is the file in the artifacts directory that lists the
// secrets, one per line. It is the one file the check does not scan.
const SecretsFile = "secrets.txt"

// Dir is the artifacts directory, "" when artifacts are not collected.
func Dir() string { return os.Getenv(EnvArtifacts) }

var (
	mu      sync.Mutex // serialises writes from one test process
	counter atomic.Int64
	seen    sync.Map // secrets already recorded by this process
)

// Record notes secrets the test configured or saw issued. Empty strings are
// ignored, and each secret is written once per process. Several test
// processes may append at once: each line is one small O_APPEND write.
func Record(t testing.TB, secrets ...string) {
	if err := record(secrets...); err != nil {
		t.Errorf("recording a secret for the artifact check: %v", err)
	}
}

func record(secrets ...string) error {
	dir := Dir()
	if dir == "" {
		return nil
	}
	for _, s := range secrets {
		if s = strings.TrimSpace(s); s == "" || strings.ContainsAny(s, "\r\n") {
			continue
		}
		if _, dup := seen.LoadOrStore(s, true); dup {
			continue
		}
		if err := appendFile(filepath.Join(dir, SecretsFile), []byte(s+"\n")); err != nil {
			return err
		}
	}
	return nil
}

// Save writes data as an artifact of the current test, named after the
// test, name and a number unique to this process.
func Save(t testing.TB, name string, data []byte) {
	dir := Dir()
	if dir == "" {
		return
	}
	p := filepath.Join(dir, fmt.Sprintf("%s.%s.%d-%d.txt", fileSafe(t.Name()), fileSafe(name), os.Getpid(), counter.Add(1)))
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Errorf("saving artifact: %v", err)
	}
}

// SaveFile saves a copy of the file at path (a log file) as an artifact. A
// file that does not exist is skipped: the program never wrote one.
func SaveFile(t testing.TB, name, path string) {
	if Dir() == "" {
		return
	}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Errorf("saving artifact %s: %v", path, err)
		return
	}
	Save(t, name, data)
}

// Append adds text to the artifact name of the current test (one file per
// test and name in this process), for output that comes piece by piece,
// such as one opdesk ctl command after another.
func Append(t testing.TB, name, text string) {
	dir := Dir()
	if dir == "" {
		return
	}
	p := filepath.Join(dir, fmt.Sprintf("%s.%s.%d.txt", fileSafe(t.Name()), fileSafe(name), os.Getpid()))
	if err := appendFile(p, []byte(text)); err != nil {
		t.Errorf("saving artifact: %v", err)
	}
}

func appendFile(p string, b []byte) error {
	mu.Lock()
	defer mu.Unlock()
	f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// fileSafe keeps a file name part to letters, digits, '-' and '.'.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '.' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '_'
	}, s)
}
