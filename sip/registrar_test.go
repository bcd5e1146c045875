package sip

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	gsip "github.com/emiago/sipgo/sip"
)

// newLocalPhone starts a phone on a free loopback port, closed with the test.
func newLocalPhone(t *testing.T, cfg Config) *Phone {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	cfg.RTPPortMin, cfg.RTPPortMax = 30000, 39999
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	return p
}

// waitFor polls cond every 10 ms until it holds or d has passed.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// nextEvent returns the next event of type typ, failing after d.
func nextEvent(t *testing.T, ch <-chan Event, typ EventType, d time.Duration) Event {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev := <-ch:
			if ev.Type == typ {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event within %s", typ, d)
		}
	}
}

// A real opdesk phone registers to a phone with AcceptRegister: the binding
// appears with the contact and expiry asked for, the client sees the
// expiry granted, and unregistering (Close sends Expires: 0) removes it.
func TestRegistrarAcceptsAndRemovesBinding(t *testing.T) {
	line := newLocalPhone(t, Config{User: "line", AcceptRegister: true})
	op, err := New(Config{User: "opdesk", Listen: "127.0.0.1:0", Registrar: "sip:" + line.Addr(), Expires: 90 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "registration", func() bool { return op.Status().Registration == RegRegistered })
	if st := op.Status(); st.Expires != 90 {
		t.Errorf("client saw %d s granted, want 90", st.Expires)
	}
	bs := line.Bindings()
	if len(bs) != 1 {
		t.Fatalf("bindings = %+v, want one", bs)
	}
	b := bs[0]
	if b.User != "opdesk" || b.Contact != op.Status().Contact || b.AOR != "sip:opdesk@127.0.0.1" {
		t.Errorf("binding = %+v, want user opdesk, contact %s", b, op.Status().Contact)
	}
	if left := time.Until(b.Expires); left < 85*time.Second || left > 91*time.Second {
		t.Errorf("binding expires in %s, want ~90 s", left)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := op.Close(ctx); err != nil {
		t.Fatalf("unregister: %v", err)
	}
	if bs := line.Bindings(); len(bs) != 0 {
		t.Errorf("after Expires: 0 bindings = %+v, want none", bs)
	}
}

// Dial to a registered user goes to its contact; DialAs puts the number in
// From with no display name, as a PSTN caller would.
func TestRegistrarDialUsesBinding(t *testing.T) {
	line := newLocalPhone(t, Config{User: "line", AcceptRegister: true, DisplayName: "Demo line"})
	op := newLocalPhone(t, Config{User: "opdesk", Registrar: "sip:" + line.Addr()})
	waitFor(t, 3*time.Second, "a binding", func() bool { return len(line.Bindings()) == 1 })

	opEv, stop := op.Subscribe(64)
	defer stop()
	lineEv, stop2 := line.Subscribe(64)
	defer stop2()
	id, err := line.DialAs(context.Background(), "opdesk", "0312345678")
	if err != nil {
		t.Fatalf("DialAs: %v", err)
	}
	in := nextEvent(t, opEv, EvIncoming, 3*time.Second)
	if in.Remote != "sip:0312345678@127.0.0.1" || in.RemoteName != "" {
		t.Errorf("operator sees caller %q %q, want sip:0312345678@127.0.0.1 without a name", in.RemoteName, in.Remote)
	}
	if _, err := op.Answer(in.CallID); err != nil {
		t.Fatalf("Answer: %v", err)
	}
	nextEvent(t, lineEv, EvAnswered, 3*time.Second)
	if _, err := line.Hangup(id); err != nil {
		t.Fatalf("Hangup: %v", err)
	}
	nextEvent(t, opEv, EvEnded, 3*time.Second)

	if _, err := line.DialAs(context.Background(), "opdesk", "山田"); err == nil {
		t.Error("DialAs accepted a caller that is no number")
	}
}

// Dial to a user without a binding stays at the domain (and fails there).
func TestRegistrarDialUnboundUser(t *testing.T) {
	line := newLocalPhone(t, Config{User: "line", AcceptRegister: true})
	u, err := line.targetURI("nobody")
	if err != nil {
		t.Fatalf("targetURI: %v", err)
	}
	if got := line.requestTarget(u); got.String() != "sip:nobody@127.0.0.1" {
		t.Errorf("request target = %s, want the AOR itself", got.String())
	}
	other := gsip.Uri{Scheme: "sip", User: "opdesk", Host: "192.0.2.1"}
	line.loc.update("opdesk", other, gsip.Uri{Scheme: "sip", User: "opdesk", Host: "127.0.0.1", Port: 5999}, 60, time.Now())
	if got := line.requestTarget(other); got.Host != "192.0.2.1" {
		t.Errorf("a foreign domain was retargeted to %s", got.String())
	}
}

// "Contact: *" with Expires: 0 removes every binding of the user; with
// another expiry it is refused (RFC 3261 §10.3 step 6).
func TestRegistrarWildcard(t *testing.T) {
	line := newLocalPhone(t, Config{User: "line", AcceptRegister: true})
	now := time.Now()
	aor := gsip.Uri{Scheme: "sip", User: "opdesk", Host: "127.0.0.1"}
	line.loc.update("opdesk", aor, gsip.Uri{Scheme: "sip", User: "opdesk", Host: "127.0.0.1", Port: 5001}, 60, now)
	line.loc.update("opdesk", aor, gsip.Uri{Scheme: "sip", User: "opdesk", Host: "127.0.0.1", Port: 5002}, 60, now)
	if n := len(line.Bindings()); n != 2 {
		t.Fatalf("%d bindings, want 2", n)
	}
	cl := newLocalPhone(t, Config{User: "opdesk"})
	send := func(expires int) int {
		t.Helper()
		req := gsip.NewRequest(gsip.REGISTER, gsip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: line.port})
		req.AppendHeader(&gsip.ToHeader{Address: aor})
		from := &gsip.FromHeader{Address: aor, Params: gsip.NewParams()}
		from.Params.Add("tag", gsip.GenerateTagN(8))
		req.AppendHeader(from)
		req.AppendHeader(&gsip.ContactHeader{Address: gsip.Uri{Wildcard: true}})
		exp := gsip.ExpiresHeader(expires)
		req.AppendHeader(&exp)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		res, err := cl.cli.Do(ctx, req, sipgo.ClientRequestBuild)
		if err != nil {
			t.Fatalf("REGISTER: %v", err)
		}
		return res.StatusCode
	}
	if code := send(60); code != 400 {
		t.Errorf("Contact: * with Expires: 60 got %d, want 400", code)
	}
	if n := len(line.Bindings()); n != 2 {
		t.Errorf("a refused wildcard left %d bindings, want 2", n)
	}
	if code := send(0); code != 200 {
		t.Errorf("Contact: * with Expires: 0 got %d, want 200", code)
	}
	if bs := line.Bindings(); len(bs) != 0 {
		t.Errorf("after the wildcard: %+v, want none", bs)
	}
}

// Bindings expire, refresh in place, are capped, and lookup prefers the
// contact refreshed last.
func TestBindingExpiry(t *testing.T) {
	now := time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)
	l := newLocationService()
	l.now = func() time.Time { return now }
	aor := gsip.Uri{Scheme: "sip", User: "a", Host: "example.jp"}
	c1 := gsip.Uri{Scheme: "sip", User: "a", Host: "127.0.0.1", Port: 5001}
	c2 := gsip.Uri{Scheme: "sip", User: "a", Host: "127.0.0.1", Port: 5002}

	l.update("a", aor, c1, 60, now)
	l.update("a", aor, c1, 120, now) // refresh: still one binding
	if bs := l.live("a", now); len(bs) != 1 || !bs[0].expires.Equal(now.Add(120*time.Second)) {
		t.Fatalf("after refresh: %+v", bs)
	}
	now = now.Add(time.Second)
	l.update("a", aor, c2, -1, now) // no expiry asked: the default
	if got, _ := l.lookup("a"); got.Port != 5002 {
		t.Errorf("lookup = %s, want the newest contact", got.String())
	}
	if bs := l.live("a", now); len(bs) != 2 || !bs[1].expires.Equal(now.Add(locDefaultExpiry)) {
		t.Errorf("default expiry: %+v", bs)
	}
	l.update("a", aor, c2, 0, now) // Expires 0 removes that contact only
	if got, ok := l.lookup("a"); !ok || got.Port != 5001 {
		t.Errorf("after removing c2: %s %v", got.String(), ok)
	}
	now = now.Add(2 * time.Minute) // c1 expired
	if _, ok := l.lookup("a"); ok {
		t.Error("an expired binding is still used")
	}
	if len(l.byUser) != 0 {
		t.Errorf("expired user kept: %+v", l.byUser)
	}
	l.update("a", aor, c1, 10*86400, now)
	if bs := l.live("a", now); !bs[0].expires.Equal(now.Add(locMaxExpiry)) {
		t.Errorf("a 10-day expiry was not capped: %s", bs[0].expires)
	}
}

// Without AcceptRegister a phone refuses REGISTER (405), as before.
func TestRegisterRefusedWithoutLocationService(t *testing.T) {
	plain := newLocalPhone(t, Config{User: "plain"})
	op := newLocalPhone(t, Config{User: "opdesk", Registrar: "sip:" + plain.Addr()})
	waitFor(t, 3*time.Second, "a failed registration", func() bool { return op.Status().Registration == RegFailed })
	if plain.Bindings() != nil {
		t.Error("a plain phone has bindings")
	}
}
