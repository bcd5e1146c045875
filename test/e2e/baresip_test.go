package e2e

import (
	"testing"
	"time"

	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/test/peers"
)

// registeredPair starts Kamailio, a registered opdesk sending a 440 Hz tone
// and a registered baresip sending 1000 Hz.
func registeredPair(t *testing.T, autoAnswer bool) (*peers.Kamailio, *Opdesk, *peers.Baresip) {
	t.Helper()
	k := peers.StartKamailio(t, peers.KamailioOptions{})
	b := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Registrar: k, AutoAnswer: autoAnswer})
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Registrar: k, Input: "tone:440"})
	if err := b.WaitRegistered(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	op.WaitRegistered(10 * time.Second)
	return k, op, b
}

// TestCallBaresip: opdesk calls baresip through Kamailio; audio both ways.
func TestCallBaresip(t *testing.T) {
	_, op, b := registeredPair(t, true)
	id := op.MustCtl("dial", "bob").Call
	op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	time.Sleep(6 * time.Second) // past the first 5 s RTCP report each way
	c := op.Call(id)
	if c.State != "active" || c.Codec != "PCMU" || c.Direction != "outbound" {
		t.Fatalf("call status = %+v", c)
	}
	if c.Media == nil || c.Media.PacketsSent < 250 || c.Media.PacketsReceived < 250 {
		t.Fatalf("media = %+v, want ≥ 250 packets each way in 6 s", c.Media)
	}
	// RTCP both ways: baresip reports receiving ours, and we parsed its.
	if c.Media.RTCPSent < 1 || c.Media.RTCPReceived < 1 || c.Media.Lost != 0 {
		t.Fatalf("RTCP: %+v, want reports both ways and no loss on loopback", c.Media)
	}
	if _, err := b.WaitEvent(ctxT(t, 5*time.Second), "CALL_RTCP"); err != nil {
		t.Fatalf("baresip never reported our RTCP: %v", err)
	}
	op.MustCtl("hangup", id)
	ev := op.WaitEvent(10*time.Second, sip.EvEnded, id)
	if ev.Cause != sip.CauseLocalHangup {
		t.Fatalf("ended cause = %q", ev.Cause)
	}
	if _, err := b.WaitEvent(ctxT(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	checkTone(t, "baresip received", mustOne(t, b.ReceivedDumps()), 440, 5)
	checkTone(t, "opdesk received", op.Output, 1000, 5)
}

// TestBaresipCallsOpdesk: baresip calls opdesk, which answers over ctl.
func TestBaresipCallsOpdesk(t *testing.T) {
	k, op, b := registeredPair(t, false)
	if err := b.Dial(k.AOR("alice")); err != nil {
		t.Fatal(err)
	}
	in := op.WaitEvent(10*time.Second, sip.EvIncoming, "")
	if in.Direction != "inbound" || in.Remote == "" {
		t.Fatalf("incoming event = %+v", in)
	}
	if c := op.Call(in.CallID); c.State != "incoming" {
		t.Fatalf("call state before answer = %q", c.State)
	}
	op.MustCtl("answer")
	op.WaitEvent(5*time.Second, sip.EvAnswered, in.CallID)
	if _, err := b.WaitEvent(ctxT(t, 10*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	// The far end hangs up this time.
	if err := b.Hangup(); err != nil {
		t.Fatal(err)
	}
	ev := op.WaitEvent(10*time.Second, sip.EvEnded, in.CallID)
	if ev.Cause != sip.CauseRemoteHangup {
		t.Fatalf("ended cause = %q, want remote_hangup", ev.Cause)
	}
	checkTone(t, "baresip received", mustOne(t, b.ReceivedDumps()), 440, 2)
	checkTone(t, "opdesk received", op.Output, 1000, 2)
}

// TestDTMFBaresip: 159# each way, RFC 4733.
func TestDTMFBaresip(t *testing.T) {
	_, op, b := registeredPair(t, true)
	id := op.MustCtl("dial", "bob").Call
	op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	if _, err := b.WaitEvent(ctxT(t, 10*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	op.MustCtl("dtmf", "159#")
	deadline := time.Now().Add(5 * time.Second)
	for b.ReceivedDTMF() != "159#" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := b.ReceivedDTMF(); got != "159#" {
		t.Fatalf("baresip received DTMF %q, want 159#", got)
	}
	for _, d := range "159#" {
		if err := b.SendDTMF(string(d)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	for i := 0; i < 4; i++ {
		op.WaitEvent(5*time.Second, sip.EvDTMF, id)
	}
	if got := op.Digits(); got != "159#" {
		t.Fatalf("opdesk received DTMF %q, want 159#", got)
	}
	op.MustCtl("hangup", id)
	op.WaitEvent(10*time.Second, sip.EvEnded, id)
}

// TestHoldResumeBaresip: hold and resume both ways, with the SDP directions
// each side negotiated.
func TestHoldResumeBaresip(t *testing.T) {
	_, op, b := registeredPair(t, true)
	id := op.MustCtl("dial", "bob").Call
	op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	if _, err := b.WaitEvent(ctxT(t, 10*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
	op.MustCtl("hold", id)
	op.WaitEvent(5*time.Second, sip.EvHeld, id)
	c := op.Call(id)
	if c.State != "held" || !c.Held || c.Media == nil || c.Media.LocalDirection != "sendonly" || c.Media.RemoteDirection != "recvonly" {
		t.Fatalf("on hold: %+v media %+v, want held with sendonly offered and recvonly answered", c, c.Media)
	}
	sent := c.Media.PacketsSent
	time.Sleep(time.Second)
	if c2 := op.Call(id); c2.Media.PacketsSent > sent+5 {
		t.Fatalf("still sending audio on hold: %d → %d packets", sent, c2.Media.PacketsSent)
	}
	op.MustCtl("resume", id)
	op.WaitEvent(5*time.Second, sip.EvResumed, id)
	c = op.Call(id)
	if c.State != "active" || c.Held || c.Media.LocalDirection != "sendrecv" || c.Media.RemoteDirection != "sendrecv" {
		t.Fatalf("after resume: %+v media %+v", c, c.Media)
	}
	// Now baresip holds.
	if err := b.Hold(); err != nil {
		t.Fatal(err)
	}
	op.WaitEvent(5*time.Second, sip.EvRemoteHeld, id)
	c = op.Call(id)
	if !c.RemoteHeld || c.Media.RemoteDirection != "sendonly" || c.Media.LocalDirection != "recvonly" {
		t.Fatalf("remote hold: %+v media %+v, want baresip sendonly / opdesk recvonly", c, c.Media)
	}
	if err := b.Resume(); err != nil {
		t.Fatal(err)
	}
	op.WaitEvent(5*time.Second, sip.EvRemoteResumed, id)
	op.MustCtl("hangup", id)
	op.WaitEvent(10*time.Second, sip.EvEnded, id)
}

func mustOne(t testing.TB, files []string) string {
	t.Helper()
	if len(files) != 1 {
		t.Fatalf("want exactly one file, got %v", files)
	}
	return files[0]
}
