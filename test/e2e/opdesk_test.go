package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opdesk/opdesk/cmd/opdesk/ctl"
	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/test/peers"
	"github.com/opdesk/opdesk/test/secrets"
)

// opdeskBin is the binary under test, built once by TestMain.
var opdeskBin string

// password is what every test account uses (the Kamailio config's).
const password = "secret"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "opdesk-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	opdeskBin = filepath.Join(dir, "opdesk")
	build := exec.Command("go", "build", "-o", opdeskBin, "github.com/opdesk/opdesk/cmd/opdesk")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building opdesk:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// OpdeskOptions configures one opdesk under test.
type OpdeskOptions struct {
	User      string
	Registrar *peers.Kamailio // nil: no registration
	Input     string          // audio.input, default null
	Output    string          // audio.output, default file:<dir>/received.wav
	Transport string
	Expires   int
	Extra     string   // more TOML appended to the config file
	Password  string   // default: the registrar's "secret"
	Env       []string // more environment (PULSE_SERVER for the sound card)
	Audio     string   // more keys for the [audio] section
	SIP       string   // more keys for the [sip] section (tls_ca_file, keepalive_s, failover...)
}

// Opdesk is a headless opdesk process driven through its control socket.
type Opdesk struct {
	t       testing.TB
	User    string
	Dir     string
	Sock    string
	LogPath string
	Port    int
	Output  string // the received-audio WAV, when Output was defaulted
	cmd     *exec.Cmd
	exited  chan struct{}
	stderr  bytes.Buffer

	mu       sync.Mutex
	events   []sip.Event
	consumed []bool
	notify   chan struct{}
	stop     chan struct{}
}

// StartOpdesk writes a config file, starts `opdesk --headless` with it and
// subscribes to its events.
func StartOpdesk(t testing.TB, o OpdeskOptions) *Opdesk {
	t.Helper()
	if o.User == "" {
		o.User = "operator"
	}
	dir := t.TempDir()
	d := &Opdesk{t: t, User: o.User, Dir: dir, Sock: filepath.Join(dir, "ctl.sock"),
		LogPath: filepath.Join(dir, "opdesk.log"), Port: peers.FreePort(t),
		notify: make(chan struct{}), stop: make(chan struct{}), exited: make(chan struct{})}
	if o.Input == "" {
		o.Input = "null"
	}
	if o.Output == "" {
		d.Output = filepath.Join(dir, "received.wav")
		o.Output = "file:" + d.Output
	}
	if o.Transport == "" {
		o.Transport = "udp"
	}
	registrar := ""
	if o.Registrar != nil {
		registrar = o.Registrar.URI()
		if o.Transport == "tcp" {
			registrar += ";transport=tcp"
		}
		if o.Transport == "tls" {
			registrar = o.Registrar.TLSURI()
		}
	}
	expires := ""
	if o.Expires > 0 {
		expires = fmt.Sprintf("expires = %d\n", o.Expires)
	}
	cfg := fmt.Sprintf(`# written by the e2e test
[sip]
user = %q
registrar = %q
listen = "127.0.0.1:%d"
transport = %q
%s%s
[audio]
input = %q
output = %q
%s

[ctl]
socket = %q

[log]
file = %q
level = "debug"
%s`, o.User, registrar, d.Port, o.Transport, expires, o.SIP, o.Input, o.Output, o.Audio, d.Sock, d.LogPath, o.Extra)
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(opdeskBin, "--headless", "--config", cfgPath)
	if o.Password == "" {
		o.Password = password
	}
	d.cmd.Env = append(append(opdeskEnv(), o.Env...), "OPDESK_SIP_PASSWORD="+o.Password)
	recordPasswords(t, o.Env)
	secrets.Record(t, o.Password)
	d.cmd.Stderr = &d.stderr
	d.cmd.Dir = dir
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(d.cleanup)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(d.Sock); err == nil {
			break
		}
		select {
		case <-d.exited:
			t.Fatalf("opdesk exited at start: %s", d.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("opdesk did not open its control socket: %s", d.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.subscribe()
	return d
}

// subscribe opens an event stream on the control socket and returns once
// opdesk has confirmed it, so no event after StartOpdesk is missed.
func (d *Opdesk) subscribe() {
	d.t.Helper()
	conn, err := net.Dial("unix", d.Sock)
	if err != nil {
		d.t.Fatalf("events: %v", err)
	}
	go func() {
		<-d.stop
		conn.Close()
	}()
	if _, err := conn.Write([]byte(`{"cmd":"events"}` + "\n")); err != nil {
		d.t.Fatalf("events: %v", err)
	}
	r := bufio.NewReader(conn)
	first, err := r.ReadBytes('\n')
	var rep ctl.Reply
	if err != nil || json.Unmarshal(first, &rep) != nil || !rep.OK {
		d.t.Fatalf("events: bad first reply %q (%v)", first, err)
	}
	go func() {
		dec := json.NewDecoder(r)
		for {
			var ev sip.Event
			if err := dec.Decode(&ev); err != nil {
				return
			}
			d.mu.Lock()
			d.events = append(d.events, ev)
			d.consumed = append(d.consumed, false)
			close(d.notify)
			d.notify = make(chan struct{})
			d.mu.Unlock()
		}
	}()
}

func (d *Opdesk) cleanup() {
	select {
	case <-d.stop:
	default:
		close(d.stop)
	}
	select {
	case <-d.exited:
	default:
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(15 * time.Second):
			_ = d.cmd.Process.Kill()
			<-d.exited
		}
	}
	d.saveArtifacts()
	if d.t.Failed() {
		log, _ := os.ReadFile(d.LogPath)
		if len(log) > 30000 {
			log = log[len(log)-30000:]
		}
		d.t.Logf("--- opdesk %s stderr:\n%s\n--- log (tail):\n%s", d.User, d.stderr.String(), log)
	}
}

// Stop ends opdesk as an operator would (SIGTERM) and checks it exits 0.
// Kill9 kills opdesk with SIGKILL, as a crash or power button would, and
// waits for it to be gone.
func (d *Opdesk) Kill9() {
	_ = d.cmd.Process.Kill()
	<-d.exited
}

func (d *Opdesk) Stop() {
	d.t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(15 * time.Second):
		d.t.Fatalf("opdesk %s did not stop within 15 s of SIGTERM", d.User)
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		d.t.Fatalf("opdesk %s exited %d: %s", d.User, code, d.stderr.String())
	}
}

// Ctl runs `opdesk ctl ARGS…` and returns stdout, stderr and the exit code.
func (d *Opdesk) Ctl(args ...string) (string, string, int) {
	cmd := exec.Command(opdeskBin, append([]string{"ctl", "--ctl.socket=" + d.Sock}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	_ = cmd.Run()
	secrets.Append(d.t, "ctl-"+d.User, fmt.Sprintf("$ opdesk ctl %s\n%s%s", strings.Join(args, " "), out.String(), errb.String()))
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// MustCtl runs a ctl command that must succeed and returns its reply.
func (d *Opdesk) MustCtl(args ...string) ctl.Reply {
	d.t.Helper()
	out, errs, code := d.Ctl(args...)
	if code != 0 {
		d.t.Fatalf("opdesk ctl %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	var rep ctl.Reply
	if err := json.Unmarshal([]byte(out), &rep); err != nil || !rep.OK {
		d.t.Fatalf("opdesk ctl %s: bad reply %q (%v)", strings.Join(args, " "), out, err)
	}
	return rep
}

// Status returns `opdesk ctl status`.
func (d *Opdesk) Status() sip.Status {
	d.t.Helper()
	return *d.MustCtl("status").Status
}

// Call returns the status of call id, failing the test if there is none.
func (d *Opdesk) Call(id string) sip.CallInfo {
	d.t.Helper()
	for _, c := range d.Status().Calls {
		if c.ID == id {
			return c
		}
	}
	d.t.Fatalf("opdesk %s has no call %s", d.User, id)
	return sip.CallInfo{}
}

// WaitEvent waits for the first event of type typ (for call id, if not "")
// that this method has not returned before, including events that came
// before the wait began.
func (d *Opdesk) WaitEvent(timeout time.Duration, typ sip.EventType, id string) sip.Event {
	d.t.Helper()
	deadline := time.After(timeout)
	for {
		d.mu.Lock()
		for i, ev := range d.events {
			if !d.consumed[i] && ev.Type == typ && (id == "" || ev.CallID == id) {
				d.consumed[i] = true
				d.mu.Unlock()
				return ev
			}
		}
		ch := d.notify
		d.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			d.t.Fatalf("opdesk %s: no %q event for call %q within %s; events: %s", d.User, typ, id, timeout, d.eventSummary())
			return sip.Event{}
		}
	}
}

// WaitRegistered polls status until opdesk reports it is registered.
func (d *Opdesk) WaitRegistered(timeout time.Duration) sip.Status {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := d.Status()
		if st.Registration == sip.RegRegistered {
			return st
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("opdesk %s not registered within %s: %+v", d.User, timeout, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Events returns a copy of every event so far.
func (d *Opdesk) Events() []sip.Event {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]sip.Event(nil), d.events...)
}

func (d *Opdesk) eventSummary() string {
	var b strings.Builder
	for _, ev := range d.Events() {
		fmt.Fprintf(&b, "\n  %s call=%s cause=%s code=%d digit=%s %s", ev.Type, ev.CallID, ev.Cause, ev.Code, ev.Digit, ev.Text)
	}
	return b.String()
}

// Digits returns the DTMF digits received so far, in order.
func (d *Opdesk) Digits() string {
	var b strings.Builder
	for _, ev := range d.Events() {
		if ev.Type == sip.EvDTMF {
			b.WriteString(ev.Digit)
		}
	}
	return b.String()
}

// opdeskEnv is the test's environment without the harness's own OPDESK_
// variables, which opdesk would rightly refuse as unknown settings.
func opdeskEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, peers.EnvRequirePeers+"=") || strings.HasPrefix(kv, "OPDESK_SIP_PASSWORD=") ||
			strings.HasPrefix(kv, secrets.EnvArtifacts+"=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// Artifacts for the secrets check (test/secrets): what opdesk wrote, and
// the passwords it was given.

// saveArtifacts keeps opdesk's log, stderr and event stream.
func (d *Opdesk) saveArtifacts() {
	secrets.SaveFile(d.t, "log-"+d.User, d.LogPath)
	secrets.Save(d.t, "stderr-"+d.User, d.stderr.Bytes())
	events, _ := json.Marshal(d.Events())
	secrets.Save(d.t, "events-"+d.User, events)
}

// recordPasswords records the values of the *_PASSWORD variables in env.
func recordPasswords(t testing.TB, env []string) {
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); strings.HasSuffix(k, "_PASSWORD") {
			secrets.Record(t, v)
		}
	}
}
