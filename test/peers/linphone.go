package peers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// LinphoneOptions configures [StartLinphone].
type LinphoneOptions struct {
	// User is the account's user part; "linphone" when empty.
	User string
	// Registrar, when set, makes linphonec register there with password
	// "secret"; nil means it only listens on its own port.
	Registrar *Kamailio
	// AutoAnswer starts linphonec with -a (answer incoming calls at once).
	AutoAnswer bool
	// Pulse, when set, gives linphonec PULSE_SERVER so ALSA's default device
	// (routed to PulseAudio by libasound2-plugins) reaches the null sink.
	Pulse *Pulse
	// SoundDev, when set, is the sound card linphonec plays, rings and
	// captures on, as "soundcard list" names it (e.g. "ALSA Unknown:
	// default", ALSA's default device, which with Pulse set is the pulse
	// plugin); empty leaves linphonec's own choice.
	SoundDev string
}

// Linphone is a linphonec daemon driven through linphonecsh.
//
// linphonecsh finds its daemon through a fixed socket, /tmp/linphonec-UID,
// whatever HOME or TMPDIR say, so only one linphonec can run per user at a
// time. StartLinphone therefore holds an exclusive flock on
// /tmp/linphonec-UID.opdesk.lock until the test's cleanup: a second test
// (in this process or another test binary) that starts a Linphone waits for
// the first to finish.
type Linphone struct {
	User string

	t       testing.TB
	dir     string
	rc      string
	logPath string
	sipPort int
	env     []string
	pid     int
}

// linphoneLockWait bounds how long StartLinphone waits for another test's
// linphonec to go away.
const linphoneLockWait = 5 * time.Minute

func linphoneSocket() string { return fmt.Sprintf("/tmp/linphonec-%d", os.Getuid()) }

// StartLinphone renders a linphonerc, starts "linphonecsh init" with it and
// waits until the daemon answers. Registration is not awaited: call
// [Linphone.WaitRegistered].
func StartLinphone(t testing.TB, opts LinphoneOptions) *Linphone {
	t.Helper()
	Require(t, "linphonec", "linphonecsh")
	if opts.User == "" {
		opts.User = "linphone"
	}
	dir := t.TempDir()
	l := &Linphone{
		User: opts.User, t: t, dir: dir,
		rc:      filepath.Join(dir, "linphonerc"),
		logPath: filepath.Join(dir, "linphonec.log"),
		sipPort: FreeUDPPort(t),
		env:     []string{"HOME=" + dir},
	}
	if opts.Pulse != nil {
		l.env = append(l.env, opts.Pulse.Env()...)
	}
	rtp := FreeUDPPortRange(t, 4)
	data := map[string]any{
		"Host": Host, "User": opts.User, "SIPPort": l.sipPort, "Dir": dir,
		"RTPPort": rtp, "VideoRTPPort": rtp + 2, "SoundDev": opts.SoundDev,
		"Registrar": opts.Registrar != nil, "RegistrarPort": 0, "Domain": Host,
	}
	if opts.Registrar != nil {
		data["RegistrarPort"] = opts.Registrar.Port
		data["Domain"] = opts.Registrar.Domain
	}
	if err := render("linphonerc.tmpl", l.rc, data); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, ".local", "share", "linphone"), 0o755); err != nil {
		t.Fatal(err)
	}

	unlock, err := lockLinphone(linphoneLockWait)
	if err != nil {
		t.Fatal(err)
	}
	logOnFailure(t, "linphonec "+opts.User, l.logPath)
	t.Cleanup(func() {
		l.stop()
		unlock()
	})
	if err := clearStaleLinphone(); err != nil {
		t.Fatal(err)
	}

	args := []string{"init", "-c", l.rc, "-d", "5", "-l", l.logPath}
	if opts.AutoAnswer {
		args = append(args, "-a")
	}
	logf, err := os.OpenFile(l.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("linphonecsh", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), l.env...)
	// The daemon inherits these and keeps writing its output here.
	cmd.Stdout, cmd.Stderr = logf, logf
	err = cmd.Run()
	logf.Close()
	if err != nil {
		t.Fatalf("linphonecsh init: %v", err)
	}
	l.pid = findLinphonec(l.rc)
	err = waitFor(nil, 10*time.Second, func() bool {
		_, err := l.Cmd("status", "hook")
		return err == nil
	})
	if err != nil {
		t.Fatalf("linphonec %s: daemon not answering on %s: %v", opts.User, linphoneSocket(), err)
	}
	if l.pid == 0 {
		l.pid = findLinphonec(l.rc)
	}
	return l
}

// lockLinphone takes the cross-process lock that serializes linphonec
// daemons and returns its release function.
func lockLinphone(wait time.Duration) (func(), error) {
	path := linphoneSocket() + ".opdesk.lock"
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock %s (another test's linphonec still running?): %w", path, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// clearStaleLinphone fails when a linphonec daemon not started by this
// package answers on the shared socket, and removes a dead socket file.
func clearStaleLinphone() error {
	sock := linphoneSocket()
	if _, err := os.Stat(sock); err != nil {
		return nil
	}
	cmd := exec.Command("linphonecsh", "status", "hook")
	if err := cmd.Run(); err == nil {
		return fmt.Errorf("a linphonec daemon outside these tests is using %s; stop it with `linphonecsh exit`", sock)
	}
	return os.Remove(sock)
}

// findLinphonec returns the pid of the linphonec started with config rc.
func findLinphonec(rc string) int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil {
			continue
		}
		args := bytes.Split(bytes.TrimRight(b, "\x00"), []byte{0})
		if len(args) == 0 || filepath.Base(string(args[0])) != "linphonec" {
			continue
		}
		for _, a := range args[1:] {
			if string(a) == rc {
				pid, _ := strconv.Atoi(filepath.Base(d))
				return pid
			}
		}
	}
	return 0
}

func (l *Linphone) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = l.cmdContext(ctx, "exit")
	pid := l.pid
	if pid == 0 {
		pid = findLinphonec(l.rc)
	}
	if pid != 0 {
		deadline := time.Now().Add(5 * time.Second)
		for findLinphonec(l.rc) != 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if findLinphonec(l.rc) != 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if findLinphonec(l.rc) == 0 {
		_ = os.Remove(linphoneSocket())
	}
}

// Cmd runs linphonecsh with args (for example "generic", "calls") against
// this daemon and returns its trimmed output.
func (l *Linphone) Cmd(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return l.cmdContext(ctx, args...)
}

func (l *Linphone) cmdContext(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "linphonecsh", args...)
	cmd.Dir = l.dir
	cmd.Env = append(os.Environ(), l.env...)
	out, err := cmd.CombinedOutput()
	s := strings.TrimSpace(string(out))
	// The exit status is no success flag: "status register" exits 1 when
	// registered, "status hook" 32 during a call, and linphonec's own
	// complaints ("Cannot understand this") exit 0. Only a failure to reach
	// the daemon ("ERROR: Failed to connect pipe", exit 255) is an error.
	var ee *exec.ExitError
	if err != nil && (!errors.As(err, &ee) || ctx.Err() != nil) || strings.HasPrefix(s, "ERROR:") {
		return s, fmt.Errorf("linphonecsh %s: %v: %s", strings.Join(args, " "), err, s)
	}
	return s, nil
}

// Generic sends one linphonec command line ("answer", "calls", "pause 1").
func (l *Linphone) Generic(line string) (string, error) { return l.Cmd("generic", line) }

// PID is the linphonec daemon's process id (0 if it could not be found),
// for /proc measurements.
func (l *Linphone) PID() int {
	if l.pid == 0 {
		l.pid = findLinphonec(l.rc)
	}
	return l.pid
}

// SIPPort is linphonec's UDP SIP port.
func (l *Linphone) SIPPort() int { return l.sipPort }

// URI is linphonec's direct address, "sip:USER@127.0.0.1:SIPPORT".
func (l *Linphone) URI() string { return "sip:" + l.User + "@" + Host + ":" + strconv.Itoa(l.sipPort) }

// Dir is linphonec's HOME (linphonerc, linphonec.log).
func (l *Linphone) Dir() string { return l.dir }

// WaitRegistered polls "status register" until it reports
// "registered, identity=...".
func (l *Linphone) WaitRegistered(ctx context.Context) error {
	for {
		out, err := l.Cmd("status", "register")
		if err == nil && strings.HasPrefix(out, "registered,") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("linphonec %s: not registered: %w; last status: %q %v", l.User, context.Cause(ctx), out, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// WaitStatus polls "status hook" until match accepts it, and returns it.
func (l *Linphone) WaitStatus(ctx context.Context, match func(string) bool) (string, error) {
	for {
		out := l.Status()
		if match(out) {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return out, fmt.Errorf("linphonec %s: status: %w; last: %q", l.User, context.Cause(ctx), out)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Call dials uri.
func (l *Linphone) Call(uri string) error {
	out, err := l.Generic("call " + uri)
	if err == nil && !strings.Contains(out, "Establishing call") {
		err = fmt.Errorf("linphonec %s call %s: %s", l.User, uri, out)
	}
	return err
}

// Answer accepts the incoming call.
func (l *Linphone) Answer() error {
	out, err := l.Generic("answer")
	if err == nil && strings.Contains(out, "no calls to answer") {
		err = fmt.Errorf("linphonec %s answer: %s", l.User, out)
	}
	return err
}

// Terminate hangs up every call.
func (l *Linphone) Terminate() error {
	_, err := l.Generic("terminate all")
	return err
}

// Status is "status hook": "hook=on-hook", "Incoming call from ...",
// "Call out, hook=URI duration=N, ..." or "hook=offhook...", or the error.
func (l *Linphone) Status() string {
	out, err := l.Cmd("status", "hook")
	if err != nil {
		return err.Error()
	}
	return out
}
