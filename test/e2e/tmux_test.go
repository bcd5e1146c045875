package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/keymap"
	"github.com/opdesk/opdesk/test/peers"
	"github.com/opdesk/opdesk/test/secrets"
)

// Screen is the real opdesk desktop running in a detached tmux session: the
// test sees what an operator sees (capture-pane) and types what an operator
// types (send-keys).
type Screen struct {
	t       testing.TB
	session string
	keys    *keymap.Map
}

// ScreenOptions start one desktop.
type ScreenOptions struct {
	Config  string   // the config file
	Env     []string // more environment (passwords)
	Width   int      // default 160
	Height  int      // default 48
	LogPath string   // shown when the test fails
}

// StartScreen runs `opdesk --config CFG` in a new tmux session.
func StartScreen(t testing.TB, o ScreenOptions) *Screen {
	t.Helper()
	peers.Require(t, "tmux")
	if o.Width == 0 {
		o.Width, o.Height = 160, 48
	}
	s := &Screen{t: t, session: fmt.Sprintf("opdesk-e2e-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6), keys: keymap.Default()}
	recordPasswords(t, o.Env)
	// tmux starts the command through a shell with the server's
	// environment; the test's own variables go in front of the command.
	var env []string
	for _, kv := range append(opdeskEnv(), o.Env...) {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OPDESK_") || strings.HasPrefix(k, "XDG_") ||
			k == "HOME" || k == "LANG" || k == "PULSE_SERVER" || k == "TERM" {
			env = append(env, shellQuote(kv))
		}
	}
	// The variables (passwords among them) go in a script, not on the
	// pane's command line: the shell repeats that line when the job is
	// killed ("Killed env 'OPDESK_SIP_PASSWORD=…' …"), and ps shows it.
	script := filepath.Join(t.TempDir(), "desktop.sh")
	body := "exec env " + strings.Join(env, " ") + " " + shellQuote(opdeskBin) + " --config " + shellQuote(o.Config) + "\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	cmdline := "sh " + shellQuote(script) + "; echo OPDESK-EXITED $?; sleep 600"
	cmd := exec.Command("tmux", "new-session", "-d", "-s", s.session,
		"-x", fmt.Sprint(o.Width), "-y", fmt.Sprint(o.Height), cmdline)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last screen:\n%s", s.Capture())
			if o.LogPath != "" {
				if b, err := os.ReadFile(o.LogPath); err == nil {
					t.Logf("opdesk log (tail):\n%s", tail(string(b), 6000))
				}
			}
		}
		// Quit like an operator would, then make sure the session is gone.
		s.Press(keymap.Quit, keymap.Global)
		time.Sleep(300 * time.Millisecond)
		s.saveArtifacts(o.LogPath)
		_ = exec.Command("tmux", "kill-session", "-t", s.session).Run()
	})
	return s
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Capture returns the screen as text.
func (s *Screen) Capture() string {
	out, err := exec.Command("tmux", "capture-pane", "-p", "-t", s.session).Output()
	if err != nil {
		return "capture-pane: " + err.Error()
	}
	return string(out)
}

// WaitFor waits until every one of wants is on the screen and returns the
// screen and how long it took.
func (s *Screen) WaitFor(timeout time.Duration, wants ...string) (string, time.Duration) {
	s.t.Helper()
	start := time.Now()
	for {
		scr := s.Capture()
		missing := ""
		for _, w := range wants {
			if !strings.Contains(scr, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return scr, time.Since(start)
		}
		if strings.Contains(scr, "OPDESK-EXITED") {
			s.t.Fatalf("opdesk exited; screen:\n%s", scr)
		}
		if time.Since(start) > timeout {
			s.t.Fatalf("%q not on screen after %v; screen:\n%s", missing, timeout, scr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Press sends the first key bound to action in ctx, as tmux names it: the
// test follows the key map, so a changed default cannot silently pass.
func (s *Screen) Press(a keymap.Action, ctx keymap.Context) {
	s.t.Helper()
	keys := s.keys.Keys(a, ctx)
	if len(keys) == 0 {
		s.t.Fatalf("no key for %s in %s", a, ctx)
	}
	s.SendKey(keys[0])
}

// SendKey sends one key in Bubble Tea's spelling ("f2", "ctrl+s", "alt+1",
// "enter", "a").
func (s *Screen) SendKey(k string) {
	s.t.Helper()
	if out, err := exec.Command("tmux", "send-keys", "-t", s.session, tmuxKey(k)).CombinedOutput(); err != nil {
		s.t.Fatalf("send-keys %s: %v: %s", k, err, out)
	}
}

// Type sends text literally.
func (s *Screen) Type(text string) {
	s.t.Helper()
	if out, err := exec.Command("tmux", "send-keys", "-t", s.session, "-l", text).CombinedOutput(); err != nil {
		s.t.Fatalf("send-keys -l: %v: %s", err, out)
	}
}

// tmuxKey translates Bubble Tea's key names to tmux's.
func tmuxKey(k string) string {
	named := map[string]string{"enter": "Enter", "esc": "Escape", "tab": "Tab", "shift+tab": "BTab",
		"up": "Up", "down": "Down", "left": "Left", "right": "Right", "space": "Space",
		"backspace": "BSpace", "pgup": "PPage", "pgdown": "NPage", "home": "Home", "end": "End", "delete": "DC"}
	mods := ""
	for {
		switch {
		case strings.HasPrefix(k, "ctrl+"):
			mods += "C-"
			k = k[5:]
			continue
		case strings.HasPrefix(k, "alt+"):
			mods += "M-"
			k = k[4:]
			continue
		case strings.HasPrefix(k, "shift+"):
			mods += "S-"
			k = k[6:]
			continue
		}
		break
	}
	if n, ok := named[k]; ok {
		k = n
	} else if len(k) >= 2 && k[0] == 'f' {
		k = "F" + k[1:]
	}
	return mods + k
}

// saveArtifacts keeps, for the secrets check (test/secrets), the desktop's
// log and the pane with its scrollback: once the desktop has quit, that is
// what it printed on the terminal (stderr, a crash's panic). It gives the
// desktop a few seconds to finish quitting first.
func (s *Screen) saveArtifacts(logPath string) {
	if secrets.Dir() == "" {
		return
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if strings.Contains(s.Capture(), "OPDESK-EXITED") {
			break
		}
	}
	pane, err := exec.Command("tmux", "capture-pane", "-p", "-S", "-", "-t", s.session).Output()
	if err != nil {
		pane = []byte("capture-pane: " + err.Error())
	}
	secrets.Save(s.t, "screen", pane)
	if logPath != "" {
		secrets.SaveFile(s.t, "log", logPath)
	}
}
