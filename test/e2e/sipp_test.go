package e2e

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/test/peers"
)

// sippCall starts Kamailio, a registered opdesk and a sipp UAS running
// scenario, and dials the sipp through Kamailio (the registrar is opdesk's
// outbound proxy). It returns the call id.
func sippCall(t *testing.T, scenario string) (*Opdesk, *peers.Sipp, string) {
	t.Helper()
	k := peers.StartKamailio(t, peers.KamailioOptions{})
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Registrar: k, Input: "tone:440"})
	op.WaitRegistered(10 * time.Second)
	s := peers.StartSipp(t, peers.SippOptions{Scenario: scenario})
	id := op.MustCtl("dial", fmt.Sprintf("sip:shop@%s", s.Addr())).Call
	return op, s, id
}

// assertMediaClosed checks that a call's RTP and RTCP ports were released.
func assertMediaClosed(t *testing.T, local string) {
	t.Helper()
	host, port, _ := strings.Cut(local, ":")
	n, _ := strconv.Atoi(port)
	for _, p := range []int{n, n + 1} {
		addr := fmt.Sprintf("%s:%d", host, p)
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			t.Fatalf("the call's media port %s is still open after the call ended: %v", addr, err)
		}
		c.Close()
	}
}

func waitSipp(t *testing.T, s *peers.Sipp) {
	t.Helper()
	if err := s.Wait(ctxT(t, 30*time.Second)); err != nil {
		t.Fatalf("sipp scenario failed: %v", err)
	}
}

// TestSippCancel: the operator hangs up while it rings: CANCEL, 487.
func TestSippCancel(t *testing.T) {
	op, s, id := sippCall(t, "uas_ring_cancel")
	op.WaitEvent(10*time.Second, sip.EvRinging, id)
	op.MustCtl("hangup", id)
	if ev := op.WaitEvent(10*time.Second, sip.EvEnded, id); ev.Cause != sip.CauseCancelled {
		t.Fatalf("ended %+v, want cause cancelled", ev)
	}
	if calls := op.Status().Calls; len(calls) != 0 {
		t.Fatalf("calls left after CANCEL: %+v", calls)
	}
	waitSipp(t, s)
}

// TestSippBusy: 486 becomes "busy" in words.
func TestSippBusy(t *testing.T) {
	op, s, id := sippCall(t, "uas_busy")
	ev := op.WaitEvent(10*time.Second, sip.EvEnded, id)
	if ev.Cause != sip.CauseBusy || ev.Code != 486 || ev.Text == "" {
		t.Fatalf("ended %+v, want busy 486 with a sentence", ev)
	}
	waitSipp(t, s)
}

// TestSippEarlyMedia: 183 with SDP starts media before the 200.
func TestSippEarlyMedia(t *testing.T) {
	op, s, id := sippCall(t, "uas_early_media")
	op.WaitEvent(10*time.Second, sip.EvEarlyMedia, id)
	if c := op.Call(id); c.State != "early" || c.Media == nil {
		t.Fatalf("during early media: %+v", c)
	}
	op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	time.Sleep(500 * time.Millisecond)
	if c := op.Call(id); c.State != "active" || c.Media.PacketsSent == 0 {
		t.Fatalf("after 200: %+v media %+v", c, c.Media)
	}
	op.MustCtl("hangup", id)
	op.WaitEvent(10*time.Second, sip.EvEnded, id)
	waitSipp(t, s)
}

// TestSippReinvite: the far end puts us on hold with a re-INVITE, then
// hangs up.
func TestSippReinvite(t *testing.T) {
	op, s, id := sippCall(t, "uas_reinvite")
	op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	op.WaitEvent(10*time.Second, sip.EvRemoteHeld, id)
	c := op.Call(id)
	if !c.RemoteHeld || c.Media.LocalDirection != "recvonly" || c.Media.RemoteDirection != "sendonly" {
		t.Fatalf("after the far end's hold re-INVITE: %+v media %+v", c, c.Media)
	}
	if ev := op.WaitEvent(10*time.Second, sip.EvEnded, id); ev.Cause != sip.CauseRemoteHangup {
		t.Fatalf("ended %+v, want remote_hangup", ev)
	}
	assertMediaClosed(t, c.Media.Local)
	waitSipp(t, s)
}

// TestSippEarlyFailure: the far end gives up during early media (183, then
// 480); the call ends with a reason and media is closed.
func TestSippEarlyFailure(t *testing.T) {
	op, s, id := sippCall(t, "uas_bye_early")
	op.WaitEvent(10*time.Second, sip.EvEarlyMedia, id)
	local := op.Call(id).Media.Local
	ev := op.WaitEvent(10*time.Second, sip.EvEnded, id)
	assertMediaClosed(t, local)
	if ev.Cause != sip.CauseUnavailable || ev.Code != 480 {
		t.Fatalf("ended %+v, want unavailable 480", ev)
	}
	if calls := op.Status().Calls; len(calls) != 0 {
		t.Fatalf("calls left after the end: %+v", calls)
	}
	waitSipp(t, s)
}

// TestSippNoCommonCodec: an INVITE offering only G.729/Opus gets 488 and
// the operator is told why; opdesk keeps running.
func TestSippNoCommonCodec(t *testing.T) {
	k := peers.StartKamailio(t, peers.KamailioOptions{})
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Registrar: k})
	op.WaitRegistered(10 * time.Second)
	s := peers.StartSipp(t, peers.SippOptions{Scenario: "uac_no_common_codec", Remote: k.Addr(), Args: []string{"-s", "alice"}})
	ev := op.WaitEvent(10*time.Second, sip.EvEnded, "")
	if ev.Cause != sip.CauseNoCodec || ev.Code != 488 {
		t.Fatalf("ended %+v, want no_common_codec 488", ev)
	}
	waitSipp(t, s)
	if st := op.Status(); st.Registration != sip.RegRegistered {
		t.Fatalf("after the bad call: %+v", st)
	}
}

// TestSipp200Retransmit: a 200 OK that comes again after our ACK (the ACK
// was lost, as far as the far end knows) is ACKed again.
func TestSipp200Retransmit(t *testing.T) {
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Input: "tone:440"})
	// Our ACKs to the repeated 200 are identical to the first (RFC 3261
	// §13.2.2.4); sipp must not abort on them while it pauses.
	s := peers.StartSipp(t, peers.SippOptions{Scenario: "uas_200_retransmit", Args: []string{"-default_behaviors", "all,-abortunexp"}})
	id := op.MustCtl("dial", fmt.Sprintf("sip:shop@%s", s.Addr())).Call
	op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	time.Sleep(1500 * time.Millisecond) // the retransmission comes 300 ms after the ACK
	op.MustCtl("hangup", id)
	op.WaitEvent(10*time.Second, sip.EvEnded, id)
	waitSipp(t, s)
	log, err := os.ReadFile(s.MessageLog())
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), "\nACK sip:"); n < 2 {
		t.Fatalf("sipp saw %d ACKs, want one per 200 OK (≥ 2)", n)
	}
}

// TestSippInfoDTMF: DTMF sent as SIP INFO (application/dtmf-relay) is
// reported like RFC 4733 digits.
func TestSippInfoDTMF(t *testing.T) {
	k := peers.StartKamailio(t, peers.KamailioOptions{})
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Registrar: k})
	op.WaitRegistered(10 * time.Second)
	s := peers.StartSipp(t, peers.SippOptions{Scenario: "uac_info_dtmf", Remote: k.Addr(), Args: []string{"-s", "alice"}})
	in := op.WaitEvent(10*time.Second, sip.EvIncoming, "")
	op.MustCtl("answer", in.CallID)
	op.WaitEvent(10*time.Second, sip.EvDTMF, in.CallID)
	op.WaitEvent(10*time.Second, sip.EvDTMF, in.CallID)
	if got := op.Digits(); got != "1#" {
		t.Fatalf("digits %q, want 1#", got)
	}
	op.WaitEvent(10*time.Second, sip.EvEnded, in.CallID)
	waitSipp(t, s)
}

// TestSippByeInEarlyMedia: the far end sends BYE on the early dialog; the
// call ends at once, media is closed, and the INVITE's 487 is still ACKed.
func TestSippByeInEarlyMedia(t *testing.T) {
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Input: "tone:440"})
	s := peers.StartSipp(t, peers.SippOptions{Scenario: "uas_bye_in_early"})
	id := op.MustCtl("dial", fmt.Sprintf("sip:shop@%s", s.Addr())).Call
	op.WaitEvent(10*time.Second, sip.EvEarlyMedia, id)
	local := op.Call(id).Media.Local
	ev := op.WaitEvent(10*time.Second, sip.EvEnded, id)
	if ev.Cause != sip.CauseRemoteHangup {
		t.Fatalf("ended %+v, want remote_hangup", ev)
	}
	assertMediaClosed(t, local)
	waitSipp(t, s)
}
