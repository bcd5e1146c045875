package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/test/peers"
)

// TestRegister: opdesk registers with Kamailio through a digest challenge,
// refreshes before the granted expiry runs out and unregisters on exit.
func TestRegister(t *testing.T) {
	k := peers.StartKamailio(t, peers.KamailioOptions{MaxExpires: 10})
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Registrar: k})
	st := op.WaitRegistered(10 * time.Second)
	if st.Registration != sip.RegRegistered || st.Expires != 10 {
		t.Fatalf("status after register: %+v, want registered for 10 s (the registrar's max)", st)
	}
	// 401 then 200: the first REGISTER has no credentials, the second has.
	regs := k.Registers("alice")
	if len(regs) < 2 || regs[0].Auth || !regs[1].Auth || regs[0].Reply != 401 || regs[1].Reply != 200 {
		t.Fatalf("REGISTER exchange = %+v, want unauthenticated → 401, then authenticated → 200", regs)
	}
	// Refresh at ~80 % of 10 s.
	time.Sleep(9 * time.Second)
	regs = k.Registers("alice")
	ok := 0
	for _, r := range regs {
		if r.Reply == 200 && r.Expires != 0 {
			ok++
		}
	}
	if ok < 2 {
		t.Fatalf("no refresh within 9 s of a 10 s registration: %+v", regs)
	}
	op.Stop()
	regs = k.Registers("alice")
	last := regs[len(regs)-1]
	if last.Expires != 0 || last.Reply != 200 {
		t.Fatalf("last REGISTER = %+v, want an un-REGISTER (Expires: 0) answered 200", last)
	}
}

// TestRegisterWrongPassword: the operator is told in words what is wrong.
func TestRegisterWrongPassword(t *testing.T) {
	k := peers.StartKamailio(t, peers.KamailioOptions{})
	bad := StartOpdesk(t, OpdeskOptions{User: "mallory", Registrar: k, Password: "wrong-Pa55"})
	ev := bad.WaitEvent(15*time.Second, sip.EvRegistrationFailed, "")
	if !strings.Contains(ev.Text, "password") {
		t.Fatalf("registration failure text %q does not mention the password", ev.Text)
	}
	if st := bad.Status(); st.Registration != sip.RegFailed || !strings.Contains(st.LastError, "password") {
		t.Fatalf("status = %+v", st)
	}
	logb, _ := os.ReadFile(bad.LogPath)
	if strings.Contains(string(logb), "wrong-Pa55") {
		t.Fatalf("the password appears in the log")
	}
}
