package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/test/peers"
)

// runDoctor runs "opdesk doctor" on a config for user at Kamailio, with
// sockets and state in a temp dir, and returns its output and exit code.
func runDoctor(t *testing.T, k *peers.Kamailio, user, pw string, extra ...string) (string, int) {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`[sip]
user = %q
registrar = %q
listen = "127.0.0.1:%d"

[audio]
input = "null"
output = "null"

[ctl]
socket = %q

[log]
file = %q
`, user, k.URI(), peers.FreeUDPPort(t), filepath.Join(dir, "ctl.sock"), filepath.Join(dir, "opdesk.log"))
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(opdeskBin, append([]string{"doctor", "--config", path}, extra...)...)
	cmd.Env = append(opdeskEnv(), "HOME="+dir, "OPDESK_SIP_PASSWORD="+pw)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), code
}

// TestDoctorKamailio: the doctor registers with a real registrar through
// its digest challenge, unregisters again, and names a wrong password as
// such without printing it.
func TestDoctorKamailio(t *testing.T) {
	k := peers.StartKamailio(t, peers.KamailioOptions{})
	out, code := runDoctor(t, k, "carol", password)
	if code != 0 || !strings.Contains(out, "✔ registrar: "+k.URI()+" accepted sip:carol@") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	t.Logf("opdesk doctor:\n%s", out)
	// The doctor leaves no binding behind: its last REGISTER removes it.
	deadline := time.Now().Add(3 * time.Second)
	for {
		regs := k.Registers("carol")
		if n := len(regs); n >= 3 && regs[n-1].Expires == 0 && regs[n-1].Reply == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("REGISTERs = %+v, want the last to be an un-REGISTER answered 200", regs)
		}
		time.Sleep(50 * time.Millisecond)
	}

	out, code = runDoctor(t, k, "mallory", "wrong-Pa55")
	if code != 1 || !strings.Contains(out, "✘ registrar: the PBX rejected the user name or password") ||
		!strings.Contains(out, "→ fix: check sip.user, and give the right password in OPDESK_SIP_PASSWORD") {
		t.Fatalf("wrong password: exit %d:\n%s", code, out)
	}
	if strings.Contains(out, "wrong-Pa55") {
		t.Fatalf("the password is printed:\n%s", out)
	}
}

// TestDoctorBesideRunningOpdesk: with opdesk running, the doctor reports
// its registration from the control socket and leaves the PBX alone.
func TestDoctorBesideRunningOpdesk(t *testing.T) {
	k := peers.StartKamailio(t, peers.KamailioOptions{})
	op := StartOpdesk(t, OpdeskOptions{User: "dave", Registrar: k})
	op.WaitRegistered(10 * time.Second)
	before := len(k.Registers("dave"))
	out, code := runDoctor(t, k, "dave", password, "--ctl.socket="+op.Sock)
	if code != 0 || !strings.Contains(out, "✔ registrar: the running opdesk is registered as sip:dave@") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if after := len(k.Registers("dave")); after != before {
		t.Fatalf("the doctor sent %d REGISTERs beside a running opdesk", after-before)
	}
	if st := op.Status(); st.Registration != "registered" {
		t.Fatalf("the running opdesk lost its registration: %+v", st)
	}
}
