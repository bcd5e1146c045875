package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/test/peers"
)

// keyringBins are the programs TestKeyringSecretService needs, with the
// Debian packages that ship them.
var keyringBins = map[string]string{
	"dbus-run-session":     "dbus-daemon",
	"gnome-keyring-daemon": "gnome-keyring",
	"secret-tool":          "libsecret-tools",
}

// childConfigs names, in the environment of TestKeyringChild, the config
// files it runs opdesk doctor on (separated by the path list separator).
const childConfigs = "KEYRING_E2E_CONFIGS"

// TestKeyringSecretService: a CRM password stored with secret-tool in a real
// GNOME Keyring (a private D-Bus session, the keyring unlocked) reaches the
// CRM through crm.password_keyring: opdesk doctor logs in with it. An entry
// that is not there is reported with the command that stores it. The
// password appears in neither report.
func TestKeyringSecretService(t *testing.T) {
	for bin, pkg := range keyringBins {
		if _, err := exec.LookPath(bin); err != nil {
			msg := "PEER MISSING: " + bin + " not installed — run .ci/run or apt-get install " + pkg +
				"; the keyring is NOT tested against a real Secret Service"
			if os.Getenv(peers.EnvRequirePeers) == "1" {
				t.Fatal(msg + " (" + peers.EnvRequirePeers + "=1)")
			}
			t.Skip(msg)
		}
	}
	srv := startCRM(t)
	dir := t.TempDir()
	write := func(name, entry string) string {
		p := filepath.Join(dir, name)
		doc := quietAudio + "[crm]\nurl = \"" + srv.URL + "\"\nuser = \"agent1\"\npassword_keyring = \"" + entry + "\"\n"
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, missing := write("good.toml", "opdesk-e2e/agent1"), write("missing.toml", "opdesk-e2e/nobody")

	const pw = "agent1-demo" // the seeded user's
	// The keyring's files and sockets go to a throwaway home.
	home := t.TempDir()
	script := `echo -n unlock-pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null &&
printf %s "$KEYRING_E2E_PW" | secret-tool store --label=opdesk service opdesk-e2e username agent1 &&
exec "$0" -test.run='^TestKeyringChild$' -test.count=1`
	cmd := exec.Command("dbus-run-session", "--", "sh", "-c", script, os.Args[0])
	cmd.Env = append(testEnvWithout(os.Environ(), "DBUS_SESSION_BUS_ADDRESS", "HOME", "XDG_", "KEYRING_E2E_"),
		"HOME="+home, "XDG_RUNTIME_DIR="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"),
		"XDG_STATE_HOME="+filepath.Join(home, "state"), "KEYRING_E2E_PW="+pw,
		childConfigs+"="+good+string(os.PathListSeparator)+missing)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the keyring session failed: %v\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("the keyring session did not finish in 60 s:\n%s", out.String())
	}
	report := out.String()
	t.Logf("opdesk doctor under a private keyring:\n%s", report)
	if !strings.Contains(report, "✔ CRM: "+srv.URL+": logged in as") {
		t.Errorf("doctor did not log in to the CRM with the keyring's password")
	}
	if !strings.Contains(report, "the keyring has no entry opdesk-e2e/nobody: store it with secret-tool store --label=opdesk service opdesk-e2e username nobody") {
		t.Errorf("the missing entry is not reported with the command that stores it")
	}
	if strings.Contains(report, pw) {
		t.Errorf("the report shows the password")
	}
}

// TestKeyringChild runs opdesk doctor on each config in KEYRING_E2E_CONFIGS,
// inside TestKeyringSecretService's keyring session.
func TestKeyringChild(t *testing.T) {
	list := os.Getenv(childConfigs)
	if list == "" {
		t.Skip("only run by TestKeyringSecretService inside a D-Bus session")
	}
	for _, cfg := range filepath.SplitList(list) {
		os.Stdout.WriteString("=== doctor " + filepath.Base(cfg) + "\n")
		run([]string{"doctor", "--config", cfg}, os.Stdout, os.Stdout)
	}
}

// testEnvWithout is env less the variables named (a trailing "_" matches
// a prefix).
func testEnvWithout(env []string, names ...string) []string {
	var out []string
next:
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		for _, n := range names {
			if k == n || strings.HasSuffix(n, "_") && strings.HasPrefix(k, n) {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}
