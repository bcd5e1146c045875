package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/opdesk/opdesk/cmd/opdesk/ctl"
	"github.com/opdesk/opdesk/sip"
)

// fakePhone is a ctl.Phone that records what it is asked to dial.
type fakePhone struct {
	mu      sync.Mutex
	dialed  []string
	status  sip.Status
	dialErr error
}

func (f *fakePhone) Status() sip.Status { return f.status }
func (f *fakePhone) Dial(_ context.Context, target string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dialErr != nil {
		return "", f.dialErr
	}
	f.dialed = append(f.dialed, target)
	return "7", nil
}
func (f *fakePhone) Dialed() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.dialed...)
}
func (f *fakePhone) Answer(string) (string, error)                   { return "", nil }
func (f *fakePhone) Hangup(string) (string, error)                   { return "", nil }
func (f *fakePhone) Hold(string) (string, error)                     { return "", nil }
func (f *fakePhone) Resume(string) (string, error)                   { return "", nil }
func (f *fakePhone) SetMuted(bool)                                   {}
func (f *fakePhone) SendDTMF(string, string) (string, error)         { return "", nil }
func (f *fakePhone) Transfer(string, string) (string, error)         { return "", nil }
func (f *fakePhone) AttendedTransfer(string, string) (string, error) { return "", nil }
func (f *fakePhone) Record(string, bool) (string, error)             { return "", nil }
func (f *fakePhone) Subscribe(int) (<-chan sip.Event, func()) {
	return make(chan sip.Event), func() {}
}

// testEnv is an environment with a home of its own: no user config file,
// state and sockets under the test's temp dir.
func testEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	home := t.TempDir()
	run, err := os.MkdirTemp("", "odr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(run) })
	return append([]string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "cfg"),
		"XDG_STATE_HOME=" + filepath.Join(home, "state"), "XDG_RUNTIME_DIR=" + run}, extra...)
}

// startCtl serves a fake phone on a control socket and returns its path.
func startCtl(t *testing.T, ph ctl.Phone) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "odc")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ctl.sock")
	srv, err := ctl.Listen(path, ph, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		os.RemoveAll(dir)
	})
	return path
}

func TestOpenParseLinks(t *testing.T) {
	long := "tel:" + strings.Repeat("1", 3000)
	for _, tc := range []struct {
		link, dial, ext string
	}{
		{"tel:+81-3-1234-5678", "+81312345678", ""},
		{"tel:+1-201-555-0123;ext=1234", "+12015550123", "1234"},
		{"tel:03(1234)5678", "0312345678", ""},
		{"tel:03.1234.5678", "0312345678", ""},
		{"tel:7042;phone-context=example.com", "7042", ""},
		{"tel:0312345678;phone-context=+81", "0312345678", ""},
		{"tel:+81312345678;phone-context=+44;isub=12", "+81312345678", ""},
		{"TEL:%2B81%203%201234%205678", "+81312345678", ""},
		{"tel://0120-123-456", "0120123456", ""},
		{"tel:*21%23", "*21#", ""},
		{"  tel:110  ", "110", ""},
		{"sip:alice@example.com", "sip:alice@example.com", ""},
		{"sip:alice@example.com:5070;transport=tcp?Subject=hi&Route=%3Csip:evil.example%3E", "sip:alice@example.com:5070", ""},
		{"sip:alice@example.com;maddr=evil.example;lr", "sip:alice@example.com", ""},
		{"SIPS:Bob@[2001:db8::1]:5061", "sips:Bob@[2001:db8::1]:5061", ""},
		{"sip:+81312345678;phone-context=+81@pbx.example.com;user=phone", "sip:+81312345678@pbx.example.com", ""},
		{"sip:pbx.example.com", "sip:pbx.example.com", ""},
		{"sip:1001@192.168.1.10", "sip:1001@192.168.1.10", ""},
	} {
		got, err := parseCallURL(tc.link)
		if err != nil {
			t.Errorf("parseCallURL(%q): %v", tc.link, err)
			continue
		}
		if got.Dial != tc.dial || got.Ext != tc.ext {
			t.Errorf("parseCallURL(%q) = %+v, want dial %q ext %q", tc.link, got, tc.dial, tc.ext)
		}
	}
	for _, link := range []string{
		"", "0312345678", "http://example.com/", "javascript:alert(1)", "callto:alice",
		"tel:", "tel:+", "tel:abc", "tel:;ext=1", "tel:+81-3-1234-5678%0d%0aVia: evil",
		"tel:123\n456", "tel:123\r", "tel:1%00", "tel:1%zz", "tel:+1234567890123456",
		"tel:123;ext=12a", "tel:123;phone-context=ev%20il", "tel:+81\u202e123", long,
		"sip:", "sip:alice@", "sip:@example.com", "sip:alice@exa mple.com", "sip:alice:secret@example.com",
		"sip:al%0d%0aice@example.com", "sip:alice@example.com%00", "sip:alice@example.com:99999",
		"sip:alice@example.com:0", "sip:alice@example.com:x", "sip:alice@-bad-.com", "sip:alice@[::1",
		"sip:alice@[nothex]", "sip:\x1b[31m@example.com", "sip:ali<ce@example.com", "sip:a\"b@example.com",
		"sip:alice@example.com?X=%0d%0aContact:evil", "sip:alice@example.com\u0085",
		"sip:alice@exam_ple.com", "sip:alice@example.com>;evil", "sip:$(reboot)@example.com",
	} {
		if got, err := parseCallURL(link); err == nil || !errors.Is(err, errBadLink) {
			t.Errorf("parseCallURL(%q) = %+v, %v; want refused", link, got, err)
		}
	}
}

func FuzzOpenParseLink(f *testing.F) {
	for _, s := range []string{"tel:+81-3-1234-5678;ext=1", "sip:alice@example.com:5070;x?y=z", "sips:a@[::1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseCallURL(s)
		if err != nil {
			return
		}
		// Whatever is accepted is plain: no controls, no headers, no params.
		if strings.ContainsAny(got.Dial, "?;<>\"\\ \r\n\x00") || noControl(got.Dial) != nil {
			t.Fatalf("parseCallURL(%q).Dial = %q", s, got.Dial)
		}
	})
}

// openRun runs "opdesk open" with a test environment.
func openRun(t *testing.T, env []string, cfgArgs, rest []string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	op := &opener{stdout: &o, stderr: &e, env: env, getenv: envGetter(env),
		lookPath: func(string) (string, error) { return "", errors.New("not found") }, executable: os.Executable}
	code = op.run(cfgArgs, rest)
	return o.String(), e.String(), code
}

func envGetter(env []string) func(string) string {
	return func(name string) string {
		for _, kv := range env {
			if k, v, ok := strings.Cut(kv, "="); ok && k == name {
				return v
			}
		}
		return ""
	}
}

// TestOpenDialsThroughCtl: a link reaches a real control socket as a clean
// dial command; a hostile one never does.
func TestOpenDialsThroughCtl(t *testing.T) {
	ph := &fakePhone{}
	sock := startCtl(t, ph)
	env := testEnv(t)
	args := []string{"--ctl.socket=" + sock}
	out, errOut, code := openRun(t, env, args, []string{"tel:+81-3-1234-5678;ext=21"})
	if code != 0 || !strings.Contains(out, "calling +81312345678 (call 7)") || !strings.Contains(out, "extension 21") {
		t.Fatalf("open tel: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, _, code := openRun(t, env, args, []string{"sip:bob@pbx.example.com;transport=tcp?Route=%3Csip:evil%3E"}); code != 0 {
		t.Fatalf("open sip: code %d", code)
	}
	if _, errOut, code := openRun(t, env, args, []string{"sip:bob@pbx.example.com%0d%0aVia:x"}); code != 1 || !strings.Contains(errOut, "control character") {
		t.Fatalf("hostile link: code %d, stderr %q", code, errOut)
	}
	want := []string{"+81312345678", "sip:bob@pbx.example.com"}
	if got := ph.Dialed(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("dialled %q, want %q", got, want)
	}

	ph.mu.Lock()
	ph.dialErr = sip.ErrNoRegistrar
	ph.mu.Unlock()
	if _, errOut, code := openRun(t, env, args, []string{"tel:110"}); code != 1 || !strings.Contains(errOut, "could not call 110") {
		t.Fatalf("refused dial: code %d, stderr %q", code, errOut)
	}
}

func TestOpenNotRunning(t *testing.T) {
	env := testEnv(t)
	sock := filepath.Join(t.TempDir(), "none.sock")
	_, errOut, code := openRun(t, env, []string{"--ctl.socket=" + sock}, []string{"tel:110"})
	if code != 1 || !strings.Contains(errOut, "opdesk is not running; start it, then click again") {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	if _, errOut, code := openRun(t, env, nil, nil); code != 2 || !strings.Contains(errOut, "usage") {
		t.Fatalf("no link: code %d, stderr %q", code, errOut)
	}
}

func TestOpenInstall(t *testing.T) {
	env := testEnv(t)
	data := t.TempDir()
	env = append(env, "XDG_DATA_HOME="+data)
	out, errOut, code := openRun(t, env, nil, []string{"--install"})
	if code != 0 {
		t.Fatalf("install: code %d, stderr %q", code, errOut)
	}
	b, err := os.ReadFile(filepath.Join(data, "applications", "opdesk-open.desktop"))
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	exe, _ = filepath.EvalSymlinks(exe)
	entry := string(b)
	for _, want := range []string{"[Desktop Entry]", "\nExec=" + exe + " open %u\n",
		"\nMimeType=x-scheme-handler/tel;x-scheme-handler/sip;"} {
		if !strings.Contains(entry, want) {
			t.Errorf("desktop entry lacks %q:\n%s", want, entry)
		}
	}
	if !strings.Contains(out, "xdg-mime default opdesk-open.desktop x-scheme-handler/tel") ||
		!strings.Contains(out, "xdg-mime default opdesk-open.desktop x-scheme-handler/sip") {
		t.Errorf("without xdg-mime the commands are not printed:\n%s", out)
	}

	// With xdg-mime: it is run once per scheme.
	bin := t.TempDir()
	log := filepath.Join(bin, "calls")
	script := "#!/bin/sh\necho \"$@\" >> " + log + "\n"
	if err := os.WriteFile(filepath.Join(bin, "xdg-mime"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var o, e bytes.Buffer
	op := &opener{stdout: &o, stderr: &e, env: env, getenv: envGetter(env), executable: os.Executable,
		lookPath: func(name string) (string, error) { return filepath.Join(bin, name), nil }}
	if code := op.run(nil, []string{"--install"}); code != 0 {
		t.Fatalf("install with xdg-mime: code %d, stderr %q", code, e.String())
	}
	calls, _ := os.ReadFile(log)
	want := "default opdesk-open.desktop x-scheme-handler/tel\ndefault opdesk-open.desktop x-scheme-handler/sip\n" +
		"default opdesk-open.desktop x-scheme-handler/sips\n"
	if string(calls) != want {
		t.Fatalf("xdg-mime calls:\n%s\nwant:\n%s", calls, want)
	}
}

func TestOpenDesktopExecQuoting(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/opdesk":         "/usr/bin/opdesk",
		"/home/a b/opdesk":        `"/home/a b/opdesk"`,
		`/opt/$x"y/op`:            `"/opt/\\$x\\"y/op"`,
		"/opt/100%/opdesk":        "/opt/100%%/opdesk",
		"/opt/with\\slash/opdesk": `"/opt/with\\\\slash/opdesk"`,
	} {
		got, err := desktopExec(in)
		if err != nil || got != want {
			t.Errorf("desktopExec(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := desktopExec("/opt/a\nb"); err == nil {
		t.Error("a newline in the path is accepted")
	}
}
