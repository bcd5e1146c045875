package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/test/peers"
)

// waitMedia waits until call id has received at least n RTP packets.
func waitMedia(t testing.TB, op *Opdesk, id string, n uint64) sip.CallInfo {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := op.Call(id)
		if c.Media != nil && c.Media.PacketsReceived >= n && c.Media.PacketsSent >= n {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("call %s: fewer than %d RTP packets each way after 10 s: %+v", id, n, c.Media)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestLinphone: linphonec calls opdesk, then opdesk calls linphonec, both
// through Kamailio, with RTP flowing both ways.
func TestLinphone(t *testing.T) {
	k := peers.StartKamailio(t, peers.KamailioOptions{})
	// linphonec sends RTP only with a working sound device: give it the
	// PulseAudio null sink.
	pa := peers.StartPulse(t)
	l := peers.StartLinphone(t, peers.LinphoneOptions{User: "carol", Registrar: k, Pulse: pa})
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Registrar: k, Input: "tone:440"})
	if err := l.WaitRegistered(ctxT(t, 15*time.Second)); err != nil {
		t.Fatal(err)
	}
	op.WaitRegistered(10 * time.Second)

	// linphonec → opdesk
	if err := l.Call(k.AOR("alice")); err != nil {
		t.Fatal(err)
	}
	in := op.WaitEvent(10*time.Second, sip.EvIncoming, "")
	if !strings.Contains(in.Remote, "carol") {
		t.Fatalf("incoming from %q, want carol", in.Remote)
	}
	op.MustCtl("answer", in.CallID)
	op.WaitEvent(5*time.Second, sip.EvAnswered, in.CallID)
	waitMedia(t, op, in.CallID, 50)
	op.MustCtl("hangup", in.CallID)
	op.WaitEvent(10*time.Second, sip.EvEnded, in.CallID)
	if _, err := l.WaitStatus(ctxT(t, 10*time.Second), func(s string) bool { return strings.Contains(s, "on-hook") }); err != nil {
		t.Fatal(err)
	}

	// opdesk → linphonec
	id := op.MustCtl("dial", "carol").Call
	if _, err := l.WaitStatus(ctxT(t, 10*time.Second), func(s string) bool { return strings.Contains(s, "Incoming call") }); err != nil {
		t.Fatal(err)
	}
	op.WaitEvent(5*time.Second, sip.EvRinging, id)
	if err := l.Answer(); err != nil {
		t.Fatal(err)
	}
	op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	waitMedia(t, op, id, 50)
	if err := l.Terminate(); err != nil {
		t.Fatal(err)
	}
	if ev := op.WaitEvent(10*time.Second, sip.EvEnded, id); ev.Cause != sip.CauseRemoteHangup {
		t.Fatalf("ended cause %q, want remote_hangup", ev.Cause)
	}
}

// TestBlindTransferToLinphone: opdesk calls baresip, then transfers it to
// linphonec; baresip follows the REFER and opdesk drops out on the NOTIFY.
func TestBlindTransferToLinphone(t *testing.T) {
	k, op, b := registeredPair(t, true)
	l := peers.StartLinphone(t, peers.LinphoneOptions{User: "carol", Registrar: k, AutoAnswer: true})
	if err := l.WaitRegistered(ctxT(t, 15*time.Second)); err != nil {
		t.Fatal(err)
	}
	id := op.MustCtl("dial", "bob").Call
	op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	if _, err := b.WaitEvent(ctxT(t, 10*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
	op.MustCtl("transfer", "carol", id)
	op.WaitEvent(5*time.Second, sip.EvTransferring, id)
	tr := op.WaitEvent(15*time.Second, sip.EvTransferred, id)
	if !strings.Contains(tr.Target, "carol") {
		t.Fatalf("transferred to %q", tr.Target)
	}
	if ev := op.WaitEvent(10*time.Second, sip.EvEnded, id); ev.Cause != sip.CauseTransferred {
		t.Fatalf("ended cause %q, want transferred", ev.Cause)
	}
	// baresip and linphonec now talk without opdesk.
	st, err := l.WaitStatus(ctxT(t, 10*time.Second), func(s string) bool { return strings.Contains(s, "bob") })
	if err != nil {
		t.Fatal(err)
	}
	if st := op.Status(); len(st.Calls) != 0 {
		t.Fatalf("opdesk still has calls after the transfer: %+v", st.Calls)
	}
	t.Logf("linphonec after transfer: %s", st)
}

// TestAttendedTransfer: opdesk talks to baresip (call 1, put on hold), then
// consults linphonec (call 2), and joins them: REFER with Replaces.
func TestAttendedTransfer(t *testing.T) {
	k, op, b := registeredPair(t, true)
	pa := peers.StartPulse(t)
	l := peers.StartLinphone(t, peers.LinphoneOptions{User: "carol", Registrar: k, AutoAnswer: true, Pulse: pa})
	if err := l.WaitRegistered(ctxT(t, 15*time.Second)); err != nil {
		t.Fatal(err)
	}
	first := op.MustCtl("dial", "bob").Call
	op.WaitEvent(10*time.Second, sip.EvAnswered, first)
	op.MustCtl("hold", first)
	second := op.MustCtl("dial", "carol").Call
	op.WaitEvent(10*time.Second, sip.EvAnswered, second)
	waitMedia(t, op, second, 20)

	op.MustCtl("transfer", "--attended", second, first)
	op.WaitEvent(15*time.Second, sip.EvTransferred, "")
	e1 := op.WaitEvent(10*time.Second, sip.EvEnded, first)
	e2 := op.WaitEvent(10*time.Second, sip.EvEnded, second)
	t.Logf("call 1 ended %s, call 2 ended %s", e1.Cause, e2.Cause)
	// linphonec (the transferee) placed the call to baresip itself…
	st, err := l.WaitStatus(ctxT(t, 10*time.Second), func(s string) bool { return strings.HasPrefix(s, "Call out") })
	if err != nil {
		t.Fatal(err)
	}
	// …which baresip answered as its second call,
	if _, err := b.WaitEvent(ctxT(t, 10*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitEvent(ctxT(t, 10*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
	// …carrying the Replaces header that names opdesk's dialog with baresip.
	if !k.SawHeader("INVITE", "Replaces") {
		t.Fatalf("the transferee's INVITE carried no Replaces header")
	}
	if calls := op.Status().Calls; len(calls) != 0 {
		t.Fatalf("opdesk still has calls after the transfer: %+v", calls)
	}
	t.Logf("linphonec after transfer: %s", st)
}
