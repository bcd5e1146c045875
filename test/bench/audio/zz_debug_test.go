package audiobench

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/opdesk/opdesk/test/peers"
)

func TestZZDebugBaresip(t *testing.T) {
	if os.Getenv("ZZ") == "" {
		t.Skip()
	}
	pa := peers.StartPulse(t)
	k := peers.StartKamailio(t, peers.KamailioOptions{})
	peer := startPeer(t)
	bs := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Registrar: k, AutoAnswer: true,
		Source: "alsa,default", Player: "alsa,default", Env: pa.Env(), NoDumps: true})
	if err := bs.WaitRegistered(ctxT(t, 15*time.Second)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := peer.call(ctx, aor(k, "bob"), "", nil, clickPlan{First: time.Second, Period: time.Second, For: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	peer.hangup(c)
	r := analyse(c, time.Second)
	t.Logf("%+v", r)
	t.Fail()
}
