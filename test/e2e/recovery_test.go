package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/test/peers"
)

// Kamailio keeps registrations in memory only: after a restart it knows
// nobody until they register again. These tests measure how soon opdesk
// does.

// maxReregister is how soon after the registrar answers again opdesk must
// be registered there.
const maxReregister = 5 * time.Second

// TestRecoverRegistration: Kamailio is stopped for 30 s; meanwhile opdesk
// says the registration failed and since when; once Kamailio answers again
// opdesk is registered within 5 s, and a call to it gets through. Over UDP
// (an OPTIONS keep-alive notices the loss) and TLS (the connection closes).
func TestRecoverRegistration(t *testing.T) {
	for _, transport := range []string{"udp", "tls"} {
		t.Run(transport, func(t *testing.T) { recoverAfterOutage(t, transport) })
	}
}

func recoverAfterOutage(t *testing.T, transport string) {
	k := peers.StartKamailio(t, peers.KamailioOptions{TLS: transport == "tls"})
	keys := "keepalive_s = 2\n"
	if transport == "tls" {
		keys = tlsSIP(k.CA.File, 2)
	}
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Registrar: k, Transport: transport, SIP: keys})
	op.WaitRegistered(10 * time.Second)

	k.Stop()
	stopped := time.Now()
	ev := op.WaitEvent(10*time.Second, sip.EvRegistrationFailed, "")
	t.Logf("%s: opdesk said %q %.1f s after Kamailio stopped", transport, ev.Text, time.Since(stopped).Seconds())
	if !regexp.MustCompile(`unreachable since \d\d:\d\d:\d\d — retrying`).MatchString(ev.Text) {
		t.Errorf("failure text %q does not say since when it is unreachable", ev.Text)
	}
	time.Sleep(time.Until(stopped.Add(15 * time.Second)))
	if st := op.Status(); st.Registration != sip.RegFailed || !strings.Contains(st.LastError, "unreachable since") {
		t.Errorf("status while Kamailio is down: %+v", st)
	}
	time.Sleep(time.Until(stopped.Add(30 * time.Second)))

	saved := len(saves(k, "alice"))
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	for len(saves(k, "alice")) == saved || op.Status().Registration != sip.RegRegistered {
		if time.Since(back) > 15*time.Second {
			t.Fatalf("not registered 15 s after Kamailio came back: %+v", op.Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(back)
	t.Logf("%s: registered again %.2f s after Kamailio answered again (it was down %.0f s)", transport, took.Seconds(), back.Sub(stopped).Seconds())
	if took > maxReregister {
		t.Errorf("%s: registered again after %.2f s, want at most %s", transport, took.Seconds(), maxReregister)
	}

	// The new binding works: a call from a phone that registered after the
	// restart reaches opdesk (over TLS: over the connection opdesk opened).
	b := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Registrar: k})
	if err := b.WaitRegistered(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := b.Dial(k.AOR("alice")); err != nil {
		t.Fatal(err)
	}
	in := op.WaitEvent(10*time.Second, sip.EvIncoming, "")
	op.MustCtl("hangup", in.CallID)
	op.WaitEvent(10*time.Second, sip.EvEnded, in.CallID)
}

// saves is the REGISTERs of user Kamailio saved (answered 200) with a
// non-zero expiry.
func saves(k *peers.Kamailio, user string) []peers.Register {
	var out []peers.Register
	for _, r := range k.Registers(user) {
		if r.Reply == 200 && r.Expires != 0 {
			out = append(out, r)
		}
	}
	return out
}

// TestCallSurvivesRTPOutage: baresip is frozen (SIGSTOP) for 3 s in the
// middle of a call and sends nothing; the call stays up and audio flows
// again once it runs on.
func TestCallSurvivesRTPOutage(t *testing.T) {
	_, op, b := registeredPair(t, true)
	id := op.MustCtl("dial", "bob").Call
	op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	waitMedia(t, op, id, 50)

	if err := syscall.Kill(b.PID(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			_ = syscall.Kill(b.PID(), syscall.SIGCONT)
		}
	}
	t.Cleanup(resume)
	time.Sleep(200 * time.Millisecond) // what was in flight
	before := op.Call(id).Media.PacketsReceived
	time.Sleep(3 * time.Second)
	during := op.Call(id)
	resume()
	if got := during.Media.PacketsReceived - before; got > 5 {
		t.Errorf("%d packets came while baresip was stopped", got)
	}
	if during.State != "active" {
		t.Fatalf("call during the outage: %+v", during)
	}
	after := waitMedia(t, op, id, during.Media.PacketsReceived+100)
	if after.State != "active" {
		t.Fatalf("call after the outage: %+v", after)
	}
	t.Logf("received %d packets before, %d during, %d in all after", before, during.Media.PacketsReceived-before, after.Media.PacketsReceived)
	for _, ev := range op.Events() {
		if ev.Type == sip.EvEnded {
			t.Fatalf("the call ended: %+v", ev)
		}
	}
	op.MustCtl("hangup", id)
	if ev := op.WaitEvent(10*time.Second, sip.EvEnded, id); ev.Cause != sip.CauseLocalHangup {
		t.Fatalf("ended %+v, want a local hangup", ev)
	}
	if _, err := b.WaitEvent(ctxT(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
}

// TestFailover: the first registrar is down when opdesk starts; it
// registers at the second within seconds, goes back to the first once
// that answers again, and removes its binding at the second.
func TestFailover(t *testing.T) {
	k1 := peers.StartKamailio(t, peers.KamailioOptions{})
	k2 := peers.StartKamailio(t, peers.KamailioOptions{})
	k1.Stop()
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Registrar: k1,
		SIP: fmt.Sprintf("failover = %q\nkeepalive_s = 2\n", k2.URI())})
	took := waitRegistrar(t, op, k2)
	t.Logf("registered at the second Kamailio %.2f s after start", took.Seconds())
	if took > 8*time.Second {
		t.Errorf("took %s to register at the second Kamailio", took)
	}
	if err := k1.Start(); err != nil {
		t.Fatal(err)
	}
	took = waitRegistrar(t, op, k1)
	t.Logf("back at the first Kamailio %.2f s after it answered again", took.Seconds())
	if took > maxReregister {
		t.Errorf("took %s to go back to the first Kamailio", took)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		regs := k2.Registers("alice")
		if last := regs[len(regs)-1]; last.Reply == 200 && last.Expires == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no un-REGISTER at the second Kamailio: %+v", regs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitRegistrar waits until opdesk is registered at k and returns how long
// that took.
func waitRegistrar(t *testing.T, op *Opdesk, k *peers.Kamailio) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		st := op.Status()
		if st.Registration == sip.RegRegistered && st.Registrar == k.URI() {
			return time.Since(start)
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("not registered at %s within 15 s: %+v", k.URI(), st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFailoverCall: registered at the second Kamailio because the first
// is down, opdesk sends a call to a number on the domain through the
// second, where the callee is.
func TestFailoverCall(t *testing.T) {
	k1 := peers.StartKamailio(t, peers.KamailioOptions{})
	k2 := peers.StartKamailio(t, peers.KamailioOptions{})
	b := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Registrar: k2, AutoAnswer: true})
	if err := b.WaitRegistered(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	k1.Stop()
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Registrar: k1, Input: "tone:440",
		SIP: fmt.Sprintf("failover = %q\n", k2.URI())})
	waitRegistrar(t, op, k2)
	id := op.MustCtl("dial", "bob").Call
	op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	waitMedia(t, op, id, 50)
	op.MustCtl("hangup", id)
	op.WaitEvent(10*time.Second, sip.EvEnded, id)
}
