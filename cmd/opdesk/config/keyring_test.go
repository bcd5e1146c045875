package config

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// fakeKeyring is a keyring with entries "service/account" → password that
// counts its lookups.
type fakeKeyring struct {
	entries map[string]string
	err     error // returned instead, when set
	calls   int
}

func (k *fakeKeyring) lookup(ctx context.Context, service, account string) (string, error) {
	k.calls++
	if k.err != nil {
		return "", k.err
	}
	pw, ok := k.entries[service+"/"+account]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return pw, nil
}

// TestKeyringPrecedence: the keyring is one more place for the password,
// below the environment and flags, and takes part in the same "higher
// source wins, same source is an error" rule as password and
// password_file. It is asked only when it wins.
func TestKeyringPrecedence(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("filepw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		doc       string
		env, args []string
		want      string // SIP password; "" with wantErr
		wantErr   string
		asked     bool // the keyring was consulted
	}{
		{name: "keyring in the file", doc: "[sip]\npassword_keyring = \"opdesk/alice\"\n", want: "ringpw", asked: true},
		{name: "keyring from the environment", env: []string{"OPDESK_SIP_PASSWORD_KEYRING=opdesk/alice"}, want: "ringpw", asked: true},
		{name: "env password beats file keyring", doc: "[sip]\npassword_keyring = \"opdesk/alice\"\n",
			env: []string{"OPDESK_SIP_PASSWORD=envpw"}, want: "envpw"},
		{name: "env password_file beats file keyring", doc: "[sip]\npassword_keyring = \"opdesk/alice\"\n",
			env: []string{"OPDESK_SIP_PASSWORD_FILE=" + pwFile}, want: "filepw"},
		{name: "env keyring beats file password_file", doc: "[sip]\npassword_file = \"" + pwFile + "\"\n",
			env: []string{"OPDESK_SIP_PASSWORD_KEYRING=opdesk/alice"}, want: "ringpw", asked: true},
		{name: "flag keyring beats env password", env: []string{"OPDESK_SIP_PASSWORD=envpw"},
			args: []string{"--sip.password_keyring=opdesk/alice"}, want: "ringpw", asked: true},
		{name: "password_file and keyring in one file", doc: "[sip]\npassword_file = \"" + pwFile + "\"\npassword_keyring = \"opdesk/alice\"\n",
			wantErr: "sip.password_keyring: sip.password_file is set too; keep one of them"},
		{name: "password and keyring in the environment",
			env:     []string{"OPDESK_SIP_PASSWORD=envpw", "OPDESK_SIP_PASSWORD_KEYRING=opdesk/alice"},
			wantErr: "environment OPDESK_SIP_PASSWORD_KEYRING: sip.password is set too; keep one of them"},
		{name: "missing entry", doc: "[sip]\npassword_keyring = \"opdesk/bob\"\n", asked: true,
			wantErr: "sip.password_keyring: the keyring has no entry opdesk/bob: store it with secret-tool store --label=opdesk service opdesk username bob"},
		{name: "not asked for a config that does not load", doc: "[sip]\npassword_keyring = \"opdesk/alice\"\nexpires = 5\n",
			wantErr: "sip.expires: must be at least"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &fakeKeyring{entries: map[string]string{"opdesk/alice": "ringpw"}}
			path := writeConfig(t, tt.doc)
			cfg, err := Load(LoadOptions{Path: path, Environ: append([]string{"HOME=/home/ann"}, tt.env...), Args: tt.args, Keyring: k.lookup})
			if (k.calls > 0) != tt.asked {
				t.Errorf("keyring asked %d times, want asked = %v", k.calls, tt.asked)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to say %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "ringpw") {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.SIP.Password.Reveal(); got != tt.want {
				t.Errorf("password = %q, want %q", got, tt.want)
			}
			if s := cfg.String(); strings.Contains(s, tt.want) {
				t.Errorf("Config.String shows the password:\n%s", s)
			}
		})
	}
}

// TestKeyringCRM: crm.password_keyring fills crm.password the same way.
func TestKeyringCRM(t *testing.T) {
	k := &fakeKeyring{entries: map[string]string{"opdesk-crm/agent1": "agent1-demo"}}
	cfg, err := Load(LoadOptions{Path: writeConfig(t, "[crm]\nuser = \"agent1\"\npassword_keyring = \"opdesk-crm/agent1\"\n"),
		Environ: []string{"HOME=/home/ann"}, Keyring: k.lookup})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CRM.Password.Reveal() != "agent1-demo" || cfg.SIP.Password != "" {
		t.Errorf("crm password %q, sip password %q", cfg.CRM.Password.Reveal(), cfg.SIP.Password.Reveal())
	}
}

// TestKeyringSkip: commands that send no password do not touch the keyring.
func TestKeyringSkip(t *testing.T) {
	k := &fakeKeyring{err: errors.New("must not be called")}
	cfg, err := Load(LoadOptions{Path: writeConfig(t, "[sip]\npassword_keyring = \"opdesk/alice\"\n"),
		Environ: []string{"HOME=/home/ann"}, Keyring: k.lookup, SkipKeyring: true})
	if err != nil || k.calls != 0 || cfg.SIP.Password != "" {
		t.Fatalf("Load = %v; %d lookups, password %q", err, k.calls, cfg.SIP.Password.Reveal())
	}
}

// TestKeyringErrors: each way the keyring fails reads as a sentence with
// what to do, keeps its cause for errors.Is, and names the config line.
func TestKeyringErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"no bus", errNoSessionBus, "no keyring service is running (no D-Bus session bus"},
		{"no service", dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown", Body: []any{"The name org.freedesktop.secrets was not provided by any .service files"}},
			"no keyring service is running (nothing on the session bus provides the Secret Service): start gnome-keyring-daemon"},
		{"timeout", context.DeadlineExceeded, "the keyring did not answer within 3s"},
		{"locked", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), "the keyring is locked"},
		{"empty", nil, "the keyring entry opdesk/alice is empty: store the password with secret-tool store --label=opdesk service opdesk username alice"},
		{"other", errors.New("boom"), "cannot read the keyring entry opdesk/alice (boom)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &fakeKeyring{err: tt.err, entries: map[string]string{"opdesk/alice": ""}}
			path := writeConfig(t, "[sip]\nuser = \"alice\"\npassword_keyring = \"opdesk/alice\"\n")
			_, err := Load(LoadOptions{Path: path, Environ: []string{"HOME=/home/ann"}, Keyring: k.lookup})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), path+":3: sip.password_keyring: ") {
				t.Errorf("err = %v, want it to start with the config line", err)
			}
			// (dbus.Error holds a slice: not comparable, so errors.As.)
			var de dbus.Error
			if tt.err != nil && !errors.Is(err, tt.err) && !errors.As(err, &de) {
				t.Errorf("errors.Is(err, %v) = false", tt.err)
			}
			if tt.err != nil && tt.name != "other" && !strings.Contains(err.Error(), "OPDESK_SIP_PASSWORD or sip.password_file") &&
				!strings.Contains(err.Error(), "secret-tool") {
				t.Errorf("err = %v, want it to name another way to give the password", err)
			}
		})
	}
}

// TestKeyringTimeout: the lookup gets a context that ends after 3 s, and
// SecretService gives up when it ends.
func TestKeyringTimeout(t *testing.T) {
	var deadline time.Duration
	lookup := func(ctx context.Context, _, _ string) (string, error) {
		d, ok := ctx.Deadline()
		if !ok {
			t.Error("the lookup's context has no deadline")
		}
		deadline = time.Until(d)
		return "pw", nil
	}
	if _, err := Load(LoadOptions{Path: writeConfig(t, "[sip]\npassword_keyring = \"opdesk/alice\"\n"),
		Environ: []string{"HOME=/home/ann"}, Keyring: lookup}); err != nil {
		t.Fatal(err)
	}
	if deadline <= keyringTimeout-time.Second || deadline > keyringTimeout {
		t.Errorf("deadline in %v, want about %v", deadline, keyringTimeout)
	}

	// A bus that never answers: a listening socket nobody serves.
	sock := filepath.Join(t.TempDir(), "bus")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skip("no unix socket:", err)
	}
	defer ln.Close()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+sock)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = SecretService(ctx, "opdesk", "alice")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("SecretService on a silent bus = %v after %v; want DeadlineExceeded after 0.2 s", err, time.Since(start))
	}
}

// TestSecretServiceNoBus: without a session bus SecretService says so at
// once and starts none.
func TestSecretServiceNoBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	if sessionBusKnown() {
		t.Skip("this machine has a session bus under /run/user")
	}
	if _, err := SecretService(context.Background(), "opdesk", "alice"); !errors.Is(err, errNoSessionBus) {
		t.Fatalf("err = %v, want errNoSessionBus", err)
	}
}

func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{"opdesk": "opdesk", "alice@example.com": "alice@example.com",
		"my service": "'my service'", "it's": `'it'\''s'`, "": "''"} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
}
