package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/test/peers"
)

// TestTCP: registration and a call with baresip, all signalling over TCP.
func TestTCP(t *testing.T) {
	k := peers.StartKamailio(t, peers.KamailioOptions{TCP: true})
	b := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Registrar: k, TCP: true, AutoAnswer: true})
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Registrar: k, Transport: "tcp", Input: "tone:440"})
	if err := b.WaitRegistered(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	st := op.WaitRegistered(10 * time.Second)
	if st.Contact == "" || !strings.Contains(st.Contact, "transport=tcp") {
		t.Fatalf("contact %q does not say transport=tcp", st.Contact)
	}
	id := op.MustCtl("dial", "bob").Call
	op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	waitMedia(t, op, id, 50)
	op.MustCtl("hangup", id)
	op.WaitEvent(10*time.Second, sip.EvEnded, id)
	if _, err := b.WaitEvent(ctxT(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	checkTone(t, "baresip received", mustOne(t, b.ReceivedDumps()), 440, 0.5)
}
