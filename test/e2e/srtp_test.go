package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/test/peers"
)

// SRTP with SDES keys against baresip's srtp module, through Kamailio over
// UDP: opdesk (alice, 900 Hz) and baresip (bob, its 1000 Hz ausine) call
// each other with each side's encryption setting.

// srtpCase is one pairing: opdesk's media.encryption ("" is the default,
// optional) and baresip's mediaenc ("" is none).
type srtpCase struct {
	encryption string
	mediaEnc   string
}

func (c srtpCase) String() string {
	return fmt.Sprintf("opdesk %s, baresip %s", or(c.encryption, "default"), or(c.mediaEnc, "plain"))
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// start runs Kamailio, baresip and opdesk for c, both registered.
func (c srtpCase) start(t *testing.T, autoAnswer bool) (*peers.Kamailio, *Opdesk, *peers.Baresip) {
	t.Helper()
	k := peers.StartKamailio(t, peers.KamailioOptions{})
	b := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Registrar: k, AutoAnswer: autoAnswer, MediaEnc: c.mediaEnc})
	extra := ""
	if c.encryption != "" {
		extra = fmt.Sprintf("\n[media]\nencryption = %q\n", c.encryption)
	}
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Registrar: k, Input: "tone:900", Extra: extra})
	if err := b.WaitRegistered(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	op.WaitRegistered(10 * time.Second)
	return k, op, b
}

// connect places the call (out: opdesk calls) and returns opdesk's id once
// both sides have it established.
func (c srtpCase) connect(t *testing.T, out bool, k *peers.Kamailio, op *Opdesk, b *peers.Baresip) string {
	t.Helper()
	id := ""
	if out {
		id = op.MustCtl("dial", "bob").Call
	} else {
		if err := b.Dial(k.AOR("alice")); err != nil {
			t.Fatal(err)
		}
		id = op.WaitEvent(10*time.Second, sip.EvIncoming, "").CallID
		op.MustCtl("answer", id)
	}
	op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	if _, err := b.WaitEvent(ctxT(t, 10*time.Second), "CALL_ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestSRTPWithBaresip: calls that work, both ways, with SRTP where both
// sides can and plain RTP where baresip has none: the suite in the call's
// status, tones heard each way, nothing dropped for failing
// authentication, and no key in opdesk's debug log.
func TestSRTPWithBaresip(t *testing.T) {
	for _, tt := range []struct {
		srtpCase
		srtp bool
	}{
		{srtpCase{"required", "srtp-mand"}, true},
		{srtpCase{"required", "srtp"}, true},
		{srtpCase{"optional", "srtp"}, true},
		{srtpCase{"", "srtp"}, true},
		{srtpCase{"optional", ""}, false},
		{srtpCase{"off", "srtp"}, false},
	} {
		for _, out := range []bool{true, false} {
			name := tt.String() + ", baresip calls"
			if out {
				name = tt.String() + ", opdesk calls"
			}
			t.Run(name, func(t *testing.T) {
				k, op, b := tt.start(t, out)
				id := tt.connect(t, out, k, op, b)
				time.Sleep(3 * time.Second)
				c := op.Call(id)
				if tt.srtp != (c.SRTP != "") {
					t.Errorf("CallInfo.SRTP = %q, want SRTP %v", c.SRTP, tt.srtp)
				}
				// baresip's stream opens with an RTCP APP "PINGPONG" sent in
				// the clear, before its SRTP is keyed: dropped and counted
				// like any plain packet on an SRTP call. Nothing else may fail.
				if c.Media == nil || c.Media.PacketsSent < 100 || c.Media.PacketsReceived < 100 || c.Media.SRTPAuthFailures > 1 {
					t.Fatalf("media %+v, want ≥ 100 packets each way in 3 s and no authentication failure", c.Media)
				}
				t.Logf("%s: SRTP %q", name, c.SRTP)
				op.MustCtl("hangup", id)
				op.WaitEvent(10*time.Second, sip.EvEnded, id)
				if _, err := b.WaitEvent(ctxT(t, 10*time.Second), "CALL_CLOSED"); err != nil {
					t.Fatal(err)
				}
				checkTone(t, "baresip received", mustOne(t, b.ReceivedDumps()), 900, 2)
				checkTone(t, "opdesk received", op.Output, 1000, 2)
				if log := readFile(t, filepath.Join(b.Dir(), "baresip.log")); tt.srtp != strings.Contains(log, "SRTP is Enabled") {
					t.Errorf("baresip's log does not say SRTP is %v", tt.srtp)
				}
				noKeysLogged(t, op)
			})
		}
	}
}

// TestSRTPRequiredRefusesPlain: opdesk requiring SRTP and baresip without
// it do not get a call in either direction, and no RTP flows: baresip's
// call is refused with 488, opdesk's ends in words that say why.
func TestSRTPRequiredRefusesPlain(t *testing.T) {
	plain := srtpCase{"required", ""}
	t.Run("opdesk calls", func(t *testing.T) {
		_, op, b := plain.start(t, true)
		id := op.MustCtl("dial", "bob").Call
		ev := op.WaitEvent(10*time.Second, sip.EvEnded, id)
		if !strings.Contains(ev.Text, "media.encryption is required") {
			t.Errorf("ended %+v, want words about media.encryption", ev)
		}
		t.Logf("opdesk: %s (%s %d)", ev.Text, ev.Cause, ev.Code)
		noRTP(t, b)
	})
	t.Run("baresip calls", func(t *testing.T) {
		k, op, b := plain.start(t, true)
		if err := b.Dial(k.AOR("alice")); err != nil {
			t.Fatal(err)
		}
		ev := op.WaitEvent(10*time.Second, sip.EvEnded, "")
		if ev.Cause != sip.CauseNotEncrypted || ev.Code != 488 || !strings.Contains(ev.Text, "does not encrypt audio") {
			t.Errorf("ended %+v, want not_encrypted 488", ev)
		}
		closed, err := b.WaitEvent(ctxT(t, 10*time.Second), "CALL_CLOSED")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(closed.Param, "488") {
			t.Errorf("baresip's call closed with %q, want 488", closed.Param)
		}
		for _, e := range op.Events() {
			if e.Type == sip.EvIncoming {
				t.Errorf("the operator was rung for a call that cannot be taken: %+v", e)
			}
		}
		noRTP(t, b)
	})
}

// noRTP fails if baresip received RTP (CALL_RTPESTAB) or audio.
func noRTP(t *testing.T, b *peers.Baresip) {
	t.Helper()
	time.Sleep(time.Second)
	for _, ev := range b.History() {
		if ev.Type == "CALL_RTPESTAB" || ev.Type == "CALL_ESTABLISHED" {
			t.Errorf("baresip: %s", ev.Type)
		}
	}
	if d := b.ReceivedDumps(); len(d) > 0 {
		t.Errorf("baresip received audio: %v", d)
	}
}

// noKeysLogged fails if opdesk's debug log holds SDES key material.
func noKeysLogged(t *testing.T, op *Opdesk) {
	t.Helper()
	log := readFile(t, op.LogPath)
	if strings.Contains(log, "inline:") || strings.Contains(log, "a=crypto") {
		t.Errorf("opdesk logged SDP crypto (%s)", op.LogPath)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSRTPHoldResumeBaresip: hold and resume from each side re-negotiate
// with the same keys, so the crypto contexts carry on: audio flows after
// each change, nothing fails authentication and opdesk never rekeys.
func TestSRTPHoldResumeBaresip(t *testing.T) {
	c := srtpCase{"required", "srtp-mand"}
	k, op, b := c.start(t, true)
	id := c.connect(t, true, k, op, b)
	flowing := func(what string) {
		t.Helper()
		before := op.Call(id).Media.PacketsReceived
		time.Sleep(time.Second)
		m := op.Call(id).Media
		if m.PacketsReceived < before+25 || m.SRTPAuthFailures > 1 {
			t.Fatalf("%s: %d → %d packets received in 1 s, %d failing SRTP", what, before, m.PacketsReceived, m.SRTPAuthFailures)
		}
	}
	flowing("answered")
	op.MustCtl("hold", id)
	op.WaitEvent(5*time.Second, sip.EvHeld, id)
	op.MustCtl("resume", id)
	op.WaitEvent(5*time.Second, sip.EvResumed, id)
	flowing("after our hold and resume")
	if err := b.Hold(); err != nil {
		t.Fatal(err)
	}
	op.WaitEvent(5*time.Second, sip.EvRemoteHeld, id)
	if err := b.Resume(); err != nil {
		t.Fatal(err)
	}
	op.WaitEvent(5*time.Second, sip.EvRemoteResumed, id)
	flowing("after baresip's hold and resume")
	if ci := op.Call(id); ci.SRTP == "" {
		t.Errorf("SRTP lost on the way: %+v", ci)
	}
	log := readFile(t, op.LogPath)
	if strings.Contains(log, "rekey=true") || strings.Count(log, "msg=\"media: update\"") < 4 {
		t.Errorf("want four updates and no rekey in %s", op.LogPath)
	}
	op.MustCtl("hangup", id)
	op.WaitEvent(10*time.Second, sip.EvEnded, id)
	noKeysLogged(t, op)
}
