package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/test/peers"
)

// tlsSIP is the [sip] keys for the tls transport trusting caFile.
func tlsSIP(caFile string, keepalive int) string {
	return fmt.Sprintf("tls_ca_file = %q\nkeepalive_s = %d\n", caFile, keepalive)
}

// tlsPair starts Kamailio with TLS, baresip registered over UDP (its TLS
// needs a config key the peer harness does not write) and opdesk
// registered over TLS with keep-alives every 2 s, trusting Kamailio's
// certificate through sip.tls_ca_file.
func tlsPair(t *testing.T) (*peers.Kamailio, *Opdesk, *peers.Baresip) {
	t.Helper()
	k := peers.StartKamailio(t, peers.KamailioOptions{TLS: true})
	b := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Registrar: k, AutoAnswer: true})
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Registrar: k, Transport: "tls", Input: "tone:440",
		SIP: tlsSIP(k.CA.File, 2)})
	if err := b.WaitRegistered(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	st := op.WaitRegistered(10 * time.Second)
	if !strings.Contains(st.Contact, "transport=tls") || st.Registrar != k.TLSURI() {
		t.Fatalf("status = %+v, want a transport=tls contact registered at %s", st, k.TLSURI())
	}
	if !k.SawProto("REGISTER", "alice", "tls") {
		t.Fatal("Kamailio saw no REGISTER from alice over TLS")
	}
	return k, op, b
}

// TestTLS: opdesk registers with Kamailio over TLS; baresip calls it and
// the INVITE comes over the TLS connection opdesk opened (opdesk serves no
// TLS port), which keep-alives hold open. Audio flows both ways.
func TestTLS(t *testing.T) {
	k, op, b := tlsPair(t)
	// Past a few keep-alives: the connection is still the one calls come on.
	time.Sleep(5 * time.Second)
	if err := b.Dial(k.AOR("alice")); err != nil {
		t.Fatal(err)
	}
	in := op.WaitEvent(10*time.Second, sip.EvIncoming, "")
	op.MustCtl("answer", in.CallID)
	op.WaitEvent(5*time.Second, sip.EvAnswered, in.CallID)
	waitMedia(t, op, in.CallID, 50)
	op.MustCtl("hangup", in.CallID)
	op.WaitEvent(10*time.Second, sip.EvEnded, in.CallID)
	if _, err := b.WaitEvent(ctxT(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	if !k.SawProto("BYE", "bob", "tls") {
		t.Fatal("opdesk's BYE did not reach Kamailio over TLS")
	}
	if op.Status().Registration != sip.RegRegistered {
		t.Fatalf("not registered after the call: %+v", op.Status())
	}
}

// TestTLSCallOut: opdesk, registered over TLS, calls baresip; the INVITE
// goes to Kamailio over TLS.
func TestTLSCallOut(t *testing.T) {
	k, op, _ := tlsPair(t)
	id := op.MustCtl("dial", "bob").Call
	op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	waitMedia(t, op, id, 50)
	op.MustCtl("hangup", id)
	op.WaitEvent(10*time.Second, sip.EvEnded, id)
	if !k.SawProto("INVITE", "bob", "tls") {
		t.Fatal("opdesk's INVITE to bob did not reach Kamailio over TLS")
	}
}

// TestTLSUntrusted: with a CA that did not sign Kamailio's certificate,
// registration fails with words that say so, and nothing reaches
// Kamailio in plaintext or otherwise.
func TestTLSUntrusted(t *testing.T) {
	k := peers.StartKamailio(t, peers.KamailioOptions{TLS: true})
	other := peers.NewCA(t, "some other CA")
	op := StartOpdesk(t, OpdeskOptions{User: "mallory", Registrar: k, Transport: "tls", SIP: tlsSIP(other.File, 30)})
	ev := op.WaitEvent(15*time.Second, sip.EvRegistrationFailed, "")
	if !strings.Contains(ev.Text, "certificate is not trusted") || !strings.Contains(ev.Text, "opdesk test CA") {
		t.Fatalf("registration failure %q does not say the certificate is not trusted and who signed it", ev.Text)
	}
	if st := op.Status(); st.Registration != sip.RegFailed || st.LastError != ev.Text {
		t.Fatalf("status = %+v", st)
	}
	time.Sleep(2 * time.Second)
	if regs := k.Registers("mallory"); len(regs) != 0 {
		t.Fatalf("Kamailio saw REGISTERs from mallory: %+v", regs)
	}
}

// TestTLSWrongName: a certificate for other names than the one asked for
// (sip.tls_server_name) is refused, naming both.
func TestTLSWrongName(t *testing.T) {
	k := peers.StartKamailio(t, peers.KamailioOptions{TLS: true})
	op := StartOpdesk(t, OpdeskOptions{User: "carol", Registrar: k, Transport: "tls",
		SIP: tlsSIP(k.CA.File, 30) + "tls_server_name = \"pbx.example.com\"\n"})
	ev := op.WaitEvent(15*time.Second, sip.EvRegistrationFailed, "")
	if !strings.Contains(ev.Text, "is for localhost, 127.0.0.1, not pbx.example.com") {
		t.Fatalf("registration failure %q does not name the certificate's names and the one wanted", ev.Text)
	}
}

// TestTLSWithSRTP: the secure setup the README recommends — opdesk on TLS
// to Kamailio with media.encryption = "required" — calls baresip with
// mediaenc=srtp-mand and is called by it: the INVITE goes over TLS, the
// audio is SRTP both ways (tones heard each way, nothing dropped), and no
// key is in opdesk's log.
func TestTLSWithSRTP(t *testing.T) {
	for _, out := range []bool{true, false} {
		name := "baresip calls"
		if out {
			name = "opdesk calls"
		}
		t.Run(name, func(t *testing.T) {
			k := peers.StartKamailio(t, peers.KamailioOptions{TLS: true})
			b := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Registrar: k, AutoAnswer: out, MediaEnc: "srtp-mand"})
			op := StartOpdesk(t, OpdeskOptions{User: "alice", Registrar: k, Transport: "tls", Input: "tone:900",
				SIP: tlsSIP(k.CA.File, 2), Extra: "\n[media]\nencryption = \"required\"\n"})
			if err := b.WaitRegistered(ctxT(t, 10*time.Second)); err != nil {
				t.Fatal(err)
			}
			op.WaitRegistered(10 * time.Second)
			id := srtpCase{"required", "srtp-mand"}.connect(t, out, k, op, b)
			time.Sleep(3 * time.Second)
			c := op.Call(id)
			if c.SRTP == "" || c.Media == nil || c.Media.PacketsReceived < 100 || c.Media.SRTPAuthFailures > 1 {
				t.Fatalf("call %+v, media %+v: want SRTP with ≥ 100 packets received and no authentication failure", c, c.Media)
			}
			op.MustCtl("hangup", id)
			op.WaitEvent(10*time.Second, sip.EvEnded, id)
			if _, err := b.WaitEvent(ctxT(t, 10*time.Second), "CALL_CLOSED"); err != nil {
				t.Fatal(err)
			}
			if out && !k.SawProto("INVITE", "bob", "tls") || !out && !k.SawProto("BYE", "bob", "tls") {
				t.Error("the call's requests from opdesk did not reach Kamailio over TLS")
			}
			checkTone(t, "baresip received", mustOne(t, b.ReceivedDumps()), 900, 2)
			checkTone(t, "opdesk received", op.Output, 1000, 2)
			noKeysLogged(t, op)
			t.Logf("%s: TLS to Kamailio, SRTP %s", name, c.SRTP)
		})
	}
}
