package secrets

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoSecretsInArtifacts reads everything the run collected in
// OPDESK_TEST_ARTIFACTS and fails on every line that holds a recorded
// password or token. It must run after the packages that collect (test/run
// runs it last). A set variable with nothing recorded or nothing to scan
// means the harness is broken, and fails too.
func TestNoSecretsInArtifacts(t *testing.T) {
	dir := Dir()
	if dir == "" {
		t.Skip("!!! " + EnvArtifacts + " is not set: NOT checking logs and ctl output for passwords and tokens (test/run sets it) !!!")
	}
	secrets, err := readSecrets(filepath.Join(dir, SecretsFile))
	if err != nil {
		t.Fatalf("the harness recorded no secrets to look for (%v): artifact collection is broken", err)
	}
	files, bytesScanned := 0, 0
	var hits []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() == SecretsFile {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		bytesScanned += len(data)
		rel, _ := filepath.Rel(dir, p)
		hits = append(hits, findSecrets(rel, data, secrets)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 || bytesScanned == 0 {
		t.Fatalf("%s holds %d files, %d bytes: nothing to scan, so artifact collection is broken", dir, files, bytesScanned)
	}
	t.Logf("scanned %d files (%d bytes) for %d secrets", files, bytesScanned, len(secrets))
	if len(hits) > 0 {
		t.Errorf("%d lines hold a password or token:\n%s", len(hits), strings.Join(hits, "\n"))
	}
}

// readSecrets reads the secrets file; an empty or missing one is an error.
func readSecrets(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s is empty", path)
	}
	return out, nil
}

// findSecrets returns "file:line: …" for every line of data holding one of
// secrets as a whole word: not directly between letters, digits or '_', so
// that the test password "secret" is found in "password=secret" but not in
// "Secret Service" or "secrets". A secret is shown by its first two
// characters and length only: the report is an artifact too.
func findSecrets(name string, data []byte, secrets []string) []string {
	var hits []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		for _, s := range secrets {
			if containsWord(line, []byte(s)) {
				hits = append(hits, fmt.Sprintf("%s:%d: holds %s", name, n, mask(s)))
			}
		}
	}
	if err := sc.Err(); err != nil {
		hits = append(hits, fmt.Sprintf("%s: cannot be read line by line: %v", name, err))
	}
	return hits
}

func containsWord(line, s []byte) bool {
	for off := 0; ; {
		i := bytes.Index(line[off:], s)
		if i < 0 {
			return false
		}
		start, end := off+i, off+i+len(s)
		if (start == 0 || !wordByte(line[start-1])) && (end == len(line) || !wordByte(line[end])) {
			return true
		}
		off = start + 1
	}
}

func wordByte(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func mask(s string) string {
	r := []rune(s)
	return fmt.Sprintf("%q… (%d characters)", string(r[:min(2, len(r))]), len(r))
}

// TestFindSecrets checks the matcher itself, with or without artifacts.
func TestFindSecrets(t *testing.T) {
	data := []byte("level=INFO msg=start config=\"password = \\\"***\\\"\"\n" +
		"Secret Service is not running; 3 secrets\n" +
		"level=WARN msg=oops password=secret\n" +
		"Authorization: Bearer tok-ABC_123\n" +
		"xtok-ABC_123 is part of a longer word\n")
	got := findSecrets("opdesk.log", data, []string{"secret", "tok-ABC_123", "unused-pw"})
	want := []string{`opdesk.log:3: holds "se"… (6 characters)`, `opdesk.log:4: holds "to"… (11 characters)`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findSecrets:\n got %q\nwant %q", got, want)
	}
}

// TestRecordAndSave: the collection functions write where the check reads.
func TestRecordAndSave(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvArtifacts, dir)
	Record(t, "pw-one", "", "pw-one", "pw-two")
	Save(t, "stderr", []byte("no secrets here\n"))
	Append(t, "ctl", "status: ok\n")
	Append(t, "ctl", "leak pw-two\n")
	got, err := readSecrets(filepath.Join(dir, SecretsFile))
	if err != nil || strings.Join(got, ",") != "pw-one,pw-two" {
		t.Fatalf("secrets = %q, %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Fatalf("artifacts: %v; want secrets.txt, one saved file, one appended file", entries)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".ctl.") {
			data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			if hits := findSecrets(e.Name(), data, got); len(hits) != 1 || !strings.Contains(hits[0], ":2: ") {
				t.Errorf("hits in the ctl output: %q", hits)
			}
		}
	}
}
