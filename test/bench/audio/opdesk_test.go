package audiobench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opdesk/opdesk/cmd/opdesk/ctl"
	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/test/peers"
)

// buildOpdesk builds the binary under test into dir. (The e2e harness does
// the same in its TestMain; here it is done by the benchmark itself so that
// a plain `go test ./...` does not pay for a build it does not use.)
func buildOpdesk(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "opdesk")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/opdesk/opdesk/cmd/opdesk")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("building opdesk: %v", err)
	}
	return bin
}

// opdesk is a headless opdesk on the sound card, driven over its control
// socket: the few pieces of test/e2e's harness this benchmark needs.
type opdesk struct {
	t      testing.TB
	sock   string
	log    string
	cmd    *exec.Cmd
	exited chan struct{}
	stderr bytes.Buffer
}

// startOpdesk starts `opdesk --headless` registered as user on k, with
// input and output the sound card's default devices, extraAudio appended
// to the [audio] section and env (PULSE_SERVER) added to its environment.
func startOpdesk(t testing.TB, bin, user string, k *peers.Kamailio, env []string, extraAudio string) *opdesk {
	t.Helper()
	dir := t.TempDir()
	o := &opdesk{t: t, sock: filepath.Join(dir, "ctl.sock"), log: filepath.Join(dir, "opdesk.log"), exited: make(chan struct{})}
	cfg := fmt.Sprintf(`# written by test/bench/audio
[sip]
user = %q
registrar = %q
listen = "%s:%d"

[audio]
input = "default"
output = "default"
%s

[ctl]
socket = %q

[log]
file = %q
level = "info"
`, user, k.URI(), peers.Host, peers.FreePort(t), extraAudio, o.sock, o.log)
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	o.cmd = exec.Command(bin, "--headless", "--config", path)
	o.cmd.Env = append(append(cleanEnv(), env...), "HOME="+dir, "OPDESK_SIP_PASSWORD=secret")
	o.cmd.Dir = dir
	o.cmd.Stderr = &o.stderr
	o.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := o.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = o.cmd.Wait(); close(o.exited) }()
	t.Cleanup(o.stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(o.sock); err == nil {
			return o
		}
		select {
		case <-o.exited:
			t.Fatalf("opdesk exited at start: %s", o.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("opdesk did not open its control socket: %s", o.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cleanEnv is the environment without OPDESK_ variables, which opdesk would
// take as settings (and refuse the harness's own).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OPDESK_") {
			env = append(env, kv)
		}
	}
	return env
}

func (o *opdesk) pid() int { return o.cmd.Process.Pid }

// stop sends SIGTERM and waits (SIGKILL after 15 s); safe to call twice.
func (o *opdesk) stop() {
	select {
	case <-o.exited:
		return
	default:
	}
	_ = o.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-o.exited:
	case <-time.After(15 * time.Second):
		_ = o.cmd.Process.Kill()
		<-o.exited
	}
	if o.t.Failed() {
		log, _ := os.ReadFile(o.log)
		if len(log) > 20000 {
			log = log[len(log)-20000:]
		}
		o.t.Logf("--- opdesk stderr:\n%s\n--- log (tail):\n%s", o.stderr.String(), log)
	}
}

func (o *opdesk) ctl(cmd string, args ...string) (ctl.Reply, error) {
	_, rep, err := ctl.Call(o.sock, ctl.Request{Cmd: cmd, Args: args})
	if err == nil && !rep.OK {
		err = fmt.Errorf("opdesk ctl %s: %s", cmd, rep.Error)
	}
	return rep, err
}

func (o *opdesk) status() (sip.Status, error) {
	rep, err := o.ctl("status")
	if err != nil || rep.Status == nil {
		return sip.Status{}, fmt.Errorf("opdesk status: %v", err)
	}
	return *rep.Status, nil
}

// waitRegistered polls the status until opdesk is registered.
func (o *opdesk) waitRegistered(ctx context.Context) error {
	for {
		st, err := o.status()
		if err == nil && st.Registration == sip.RegRegistered {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("opdesk not registered: %+v %v", st, err)
		case <-o.exited:
			return fmt.Errorf("opdesk exited: %s", o.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// answer is the operator pressing answer: it waits for the incoming call
// and answers it.
func (o *opdesk) answer(ctx context.Context) error {
	for {
		st, err := o.status()
		if err == nil {
			for _, c := range st.Calls {
				if c.State == "incoming" || c.State == "ringing" {
					_, err := o.ctl("answer", c.ID)
					return err
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("opdesk: no incoming call to answer: %w", context.Cause(ctx))
		case <-time.After(10 * time.Millisecond):
		}
	}
}
