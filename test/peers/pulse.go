package peers

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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

// Record captures the null sink's monitor (everything played on the sink)
// into an 8 kHz mono 16-bit WAV at path until the returned stop is called
// (or the test ends). parecord rewrites the header when it stops.
func (p *Pulse) Record(t testing.TB, path string) (stop func()) {
	t.Helper()
	Require(t, "parecord")
	proc, err := startProc("parecord", p.dir, path+".log", append(p.Env(), "HOME="+p.dir), os.DevNull,
		"parecord", "--device="+PulseSink+".monitor", "--rate=8000", "--channels=1",
		"--format=s16le", "--file-format=wav", "--latency-msec=20", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proc.stop)
	// parecord takes a second or so to connect and start its stream: wait
	// until audio is arriving, so the caller records from now on.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 2000 {
			break
		}
		if time.Now().After(deadline) || proc.exited() {
			t.Fatalf("parecord did not start recording %s", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return proc.stop
}

// Play plays a WAV file on the null sink (another application sounding on
// the same speaker), looping until the returned stop is called.
func (p *Pulse) Play(t testing.TB, path string) (stop func()) {
	t.Helper()
	Require(t, "paplay")
	done := make(chan struct{})
	var procs []*proc
	var mu sync.Mutex
	go func() {
		for {
			pr, err := startProc("paplay", p.dir, path+".log", append(p.Env(), "HOME="+p.dir), os.DevNull,
				"paplay", "--device="+PulseSink, path)
			if err != nil {
				return
			}
			mu.Lock()
			procs = append(procs, pr)
			mu.Unlock()
			select {
			case <-done:
				pr.stop()
				return
			case <-pr.done:
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(done)
			mu.Lock()
			defer mu.Unlock()
			for _, pr := range procs {
				pr.stop()
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
