package peers

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// PulseSink is the null sink's name; its monitor source is PulseSink+".monitor".
const PulseSink = "vsink"

// Pulse is a private PulseAudio daemon with a null sink, reachable only
// through its own unix socket.
type Pulse struct {
	dir    string
	socket string
}

// StartPulse starts pulseaudio with an 8 kHz mono null sink "vsink" as the
// default sink (and its monitor as the default source) and waits until
// "pactl info" answers.
func StartPulse(t testing.TB) *Pulse {
	t.Helper()
	Require(t, "pulseaudio", "pactl")
	dir := t.TempDir()
	p := &Pulse{dir: dir, socket: filepath.Join(dir, "native")}
	pa := filepath.Join(dir, "minimal.pa")
	if err := render("pulse.pa.tmpl", pa, map[string]any{"RunDir": dir, "Sink": PulseSink}); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "pulseaudio.log")
	logOnFailure(t, "pulseaudio", logPath)
	proc, err := startProc("pulseaudio", dir, logPath,
		[]string{"HOME=" + dir, "XDG_RUNTIME_DIR=" + dir, "XDG_CONFIG_HOME=" + dir},
		os.DevNull, "pulseaudio", "-n", "-F", pa, "--daemonize=no", "--exit-idle-time=-1",
		"--disallow-exit", "--use-pid-file=no", "--log-target=stderr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proc.stop)
	err = waitFor(proc, 10*time.Second, func() bool {
		_, err := p.Pactl(context.Background(), "info")
		return err == nil
	})
	if err != nil {
		t.Fatalf("pulseaudio: %v", err)
	}
	return p
}

// Server is the PULSE_SERVER value, "unix:DIR/native".
func (p *Pulse) Server() string { return "unix:" + p.socket }

// Env is the environment a client needs to reach this daemon.
func (p *Pulse) Env() []string { return []string{"PULSE_SERVER=" + p.Server()} }

// Pactl runs pactl against this daemon and returns its output.
func (p *Pulse) Pactl(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "pactl", args...)
	cmd.Env = append(os.Environ(), append(p.Env(), "HOME="+p.dir)...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
