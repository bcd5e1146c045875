package peers

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRouteCheck(t *testing.T) {
	for _, tt := range []struct {
		r   Route
		err string
	}{
		{Route{"0", "127.0.0.1:5080"}, ""},
		{Route{"+81", "127.0.0.1:5080"}, ""},
		{Route{"0120", "gw.example.com:65535"}, ""},
		{Route{"", "127.0.0.1:5080"}, "prefix"},
		{Route{"+", "127.0.0.1:5080"}, "prefix"},
		{Route{"++81", "127.0.0.1:5080"}, "prefix"},
		{Route{"8+1", "127.0.0.1:5080"}, "prefix"},
		{Route{"03\"; exit; \"", "127.0.0.1:5080"}, "prefix"},
		{Route{" 03", "127.0.0.1:5080"}, "prefix"},
		{Route{"03", "127.0.0.1"}, "target"},
		{Route{"03", "127.0.0.1:0"}, "target"},
		{Route{"03", "127.0.0.1:70000"}, "target"},
		{Route{"03", ":5080"}, "target"},
		{Route{"03", "gw\";x:5080"}, "target"},
		{Route{"03", "gw;lr:5080"}, "target"},
	} {
		err := tt.r.check()
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%+v: %v, want error about %q", tt.r, err, tt.err)
		}
	}
	got, err := kamailioRoutes([]Route{{"0", "a:1"}, {"+81", "b:1"}, {"03", "c:1"}, {"0312", "d:1"}})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range got {
		order = append(order, r.Prefix+"="+r.Regex)
	}
	if want := []string{"0312=^0312", "+81=^[+]81", "03=^03", "0=^0"}; !slices.Equal(order, want) {
		t.Errorf("order %q, want %q (longest prefix first)", order, want)
	}
}

// TestKamailioRoutes: Kamailio sends dialed numbers to the gateway with
// the longest matching prefix, keeping the Request-URI, and leaves other
// users to the location lookup. The gateways are sipp UASes started with
// -m 1000, which answer call after call until Quit.
func TestKamailioRoutes(t *testing.T) {
	national := StartSipp(t, SippOptions{Scenario: "uas_answer_bye", Args: []string{"-m", "1000"}})
	tokyo := StartSipp(t, SippOptions{Scenario: "uas_decline", Args: []string{"-m", "1000"}})
	k := StartKamailio(t, KamailioOptions{Routes: []Route{
		{Prefix: "0", Target: national.Addr()},
		{Prefix: "03", Target: tokyo.Addr()},
		{Prefix: "+81", Target: national.Addr()},
	}})
	if out, err := exec.Command("kamailio", "-c", "-f", k.ConfigPath()).CombinedOutput(); err != nil {
		t.Fatalf("kamailio -c -f %s: %v\n%s", k.ConfigPath(), err, out)
	}
	b := StartBaresip(t, BaresipOptions{User: "operator", Registrar: k})
	ctx := ctxT(t, 60*time.Second)
	if err := b.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	closed := func(want string) {
		t.Helper()
		ev, err := b.WaitEvent(ctx, "CALL_CLOSED")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ev.Param, want) {
			t.Errorf("CALL_CLOSED %q, want %q", ev.Param, want)
		}
	}
	established := func() {
		t.Helper()
		if _, err := b.WaitEvent(ctx, "CALL_ESTABLISHED"); err != nil {
			t.Fatal(err)
		}
	}
	dial := func(user string) {
		t.Helper()
		if err := b.Dial(k.AOR(user)); err != nil {
			t.Fatal(err)
		}
	}

	dial("0612345678") // national answers, then hangs up
	established()
	closed("")
	dial("0312345678") // the longer prefix: tokyo declines
	closed("603")
	dial("+81612345678") // national answers; we hang up first
	established()
	if err := b.Hangup(); err != nil {
		t.Fatal(err)
	}
	closed("")
	dial("0612345679") // national again
	established()
	closed("")
	dial("nobody") // no route, not registered
	closed("404")

	if err := national.Quit(ctx); err != nil {
		t.Errorf("national gateway: %v", err)
	}
	if err := tokyo.Quit(ctx); err != nil {
		t.Errorf("tokyo gateway: %v", err)
	}
	invited := func(s *Sipp) []string {
		var users []string
		for _, m := range s.ReceivedRequests("INVITE") {
			users = append(users, m.RequestUser())
		}
		return slices.Compact(users) // retransmissions
	}
	if got, want := invited(national), []string{"0612345678", "+81612345678", "0612345679"}; !slices.Equal(got, want) {
		t.Errorf("national gateway got INVITEs for %q, want %q", got, want)
	}
	if got, want := invited(tokyo), []string{"0312345678"}; !slices.Equal(got, want) {
		t.Errorf("tokyo gateway got INVITEs for %q, want %q", got, want)
	}
	var routed []string
	for _, r := range k.Routed() {
		if r.Method == "INVITE" {
			routed = append(routed, r.User+" by "+r.Prefix)
		}
	}
	if want := []string{"0612345678 by 0", "0312345678 by 03", "+81612345678 by +81", "0612345679 by 0"}; !slices.Equal(routed, want) {
		t.Errorf("Kamailio routed %q, want %q", routed, want)
	}
}
