package crmserver

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// swappableCRM serves the store through a handler that a test can replace (a
// new handler forgets the monitor key its predecessor cached, as a restarted CRM
// does) and counts the requests for the monitor key.
type swappableCRM struct {
	*testCRM
	h          atomic.Pointer[http.Handler]
	keyFetches atomic.Int64
}

func newSwappableCRM(t *testing.T) *swappableCRM {
	t.Helper()
	s := &swappableCRM{testCRM: &testCRM{st: newTestCRM(t, 0).st}}
	s.restart()
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/v1/monitor/key" {
			s.keyFetches.Add(1)
		}
		(*s.h.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// restart puts a fresh handler in place.
func (s *swappableCRM) restart() {
	h := s.st.Handler()
	s.h.Store(&h)
}

// TestGrantVerifier: the agent's desktop accepts a grant from its CRM for its own
// call once, and refuses forged, expired, misdirected and replayed ones with the
// error that names the check; it fetches the key once, and again after the CRM's
// key changed.
func TestGrantVerifier(t *testing.T) {
	crm := newSwappableCRM(t)
	ctx := context.Background()
	sv := crm.client(t, "sv1")
	agent := crm.client(t, "agent1")
	const (
		call  = "3848276298220188511@atlanta.example.jp"
		other = "a84b4c76e66710@pc33.example.jp"
	)
	grant := func(agent, callID string) string {
		t.Helper()
		g, err := sv.CreateMonitorGrant(ctx, crmclient.GrantRequest{Agent: agent, CallID: callID, Mode: crmclient.MonitorListen})
		if err != nil {
			t.Fatal(err)
		}
		return g.Grant
	}
	key, err := crm.st.loadMonitorKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// signed makes a grant for agent1's call signed with priv at iat.
	signed := func(priv ed25519.PrivateKey, keyID string, iat time.Time) string {
		t.Helper()
		tok, err := crmclient.EncodeGrant(priv, crmclient.GrantClaims{ID: rand.Text(), KeyID: keyID, Supervisor: "sv1",
			Agent: "agent1", CallID: call, Mode: crmclient.MonitorWhisper, IssuedAt: iat.Unix(),
			ExpiresAt: iat.Add(crmclient.MaxGrantTTL).Unix()})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	otherID := crmclient.MonitorKeyID(otherPriv.Public().(ed25519.PublicKey))

	v := crmclient.NewGrantVerifier(agent, "agent1")
	good := grant("agent1", call)
	c, err := v.Verify(ctx, good, []string{other, call})
	if err != nil || c.Agent != "agent1" || c.CallID != call || c.Supervisor != "sv1" || c.Mode != crmclient.MonitorListen {
		t.Fatalf("Verify of the CRM's grant = %+v, %v", c, err)
	}
	for _, tc := range []struct {
		name  string
		token string
		calls []string
		want  error
	}{
		{"replayed", good, []string{call}, crmclient.ErrGrantReplayed},
		{"forged with the CRM's key id", signed(otherPriv, key.id, time.Now()), []string{call}, crmclient.ErrGrantForgedSignature},
		{"expired", signed(key.priv, key.id, time.Now().Add(-2*time.Minute)), []string{call}, crmclient.ErrGrantExpired},
		{"another agent", grant("agent2", call), []string{call}, crmclient.ErrGrantWrongAgent},
		{"another call", grant("agent1", call), []string{other}, crmclient.ErrGrantWrongCall},
		{"no call up", grant("agent1", call), nil, crmclient.ErrGrantWrongCall},
		{"not a grant", "hello", []string{call}, crmclient.ErrGrantMalformed},
	} {
		if c, err := v.Verify(ctx, tc.token, tc.calls); !errors.Is(err, tc.want) || c != (crmclient.GrantClaims{}) {
			t.Errorf("%s: %+v, %v; want %v", tc.name, c, err, tc.want)
		}
	}
	// A grant refused for its call has not been used up.
	retry := grant("agent1", call)
	if _, err := v.Verify(ctx, retry, []string{other}); !errors.Is(err, crmclient.ErrGrantWrongCall) {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, retry, []string{call}); err != nil {
		t.Errorf("the same grant once the call is up: %v", err)
	}
	if n := crm.keyFetches.Load(); n != 1 {
		t.Errorf("the key was fetched %d times; want once", n)
	}

	// A grant naming a key the CRM does not have: one more fetch, then refused;
	// another right after does not ask the CRM again.
	for range 3 {
		if _, err := v.Verify(ctx, signed(otherPriv, otherID, time.Now()), []string{call}); !errors.Is(err, crmclient.ErrGrantUnknownKey) {
			t.Errorf("a grant signed with an unknown key: %v", err)
		}
	}
	if n := crm.keyFetches.Load(); n != 2 {
		t.Errorf("the key was fetched %d times; want twice (once more for the unknown key, not for each grant)", n)
	}

	// The CRM's key changes (restored from another backup, say) and the CRM
	// restarts: a fresh verifier's next grant fetches the new key; the old
	// key's grants are refused.
	v2 := crmclient.NewGrantVerifier(agent, "agent1")
	if _, err := v2.Verify(ctx, grant("agent1", call), []string{call}); err != nil {
		t.Fatal(err)
	}
	oldGrant := grant("agent1", call)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := crm.st.db.ExecContext(ctx, `UPDATE monitor_keys SET key_id = ?, public_key = ?, private_key = ? WHERE id = 1`,
		crmclient.MonitorKeyID(pub), []byte(pub), priv.Seed()); err != nil {
		t.Fatal(err)
	}
	crm.restart()
	before := crm.keyFetches.Load()
	c, err = v2.Verify(ctx, grant("agent1", call), []string{call})
	if err != nil || c.KeyID != crmclient.MonitorKeyID(pub) {
		t.Errorf("a grant signed with the new key: %+v, %v", c, err)
	}
	if n := crm.keyFetches.Load() - before; n != 1 {
		t.Errorf("the new key took %d fetches; want 1", n)
	}
	if _, err := v2.Verify(ctx, oldGrant, []string{call}); !errors.Is(err, crmclient.ErrGrantUnknownKey) {
		t.Errorf("a grant signed with the old key: %v; want ErrGrantUnknownKey", err)
	}
}

// TestGrantVerifierConcurrent: desktops verify INVITEs on several goroutines; a
// grant sent to all of them at once opens one session, and the key is fetched
// once.
func TestGrantVerifierConcurrent(t *testing.T) {
	crm := newSwappableCRM(t)
	ctx := context.Background()
	sv, agent := crm.client(t, "sv1"), crm.client(t, "agent1")
	const call = "3848276298220188511@atlanta.example.jp"
	g, err := sv.CreateMonitorGrant(ctx, crmclient.GrantRequest{Agent: "agent1", CallID: call, Mode: crmclient.MonitorBarge})
	if err != nil {
		t.Fatal(err)
	}
	v := crmclient.NewGrantVerifier(agent, "agent1")
	var (
		wg                 sync.WaitGroup
		accepted, replayed atomic.Int64
	)
	for range 8 {
		wg.Go(func() {
			_, err := v.Verify(ctx, g.Grant, []string{call})
			switch {
			case err == nil:
				accepted.Add(1)
			case errors.Is(err, crmclient.ErrGrantReplayed):
				replayed.Add(1)
			default:
				t.Errorf("Verify: %v", err)
			}
		})
	}
	wg.Wait()
	if accepted.Load() != 1 || replayed.Load() != 7 || crm.keyFetches.Load() != 1 {
		t.Errorf("%d accepted, %d replayed, %d key fetches; want 1, 7, 1", accepted.Load(), replayed.Load(), crm.keyFetches.Load())
	}
}

// TestGrantVerifierCRMDown: without the CRM's key nothing is accepted, and the
// error says why.
func TestGrantVerifierCRMDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	cl, err := crmclient.New(url, crmclient.WithToken("x"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = crmclient.NewGrantVerifier(cl, "agent1").Verify(context.Background(), "a.b", []string{"c@d"})
	if !errors.Is(err, crmclient.ErrGrantUnknownKey) || !errors.Is(err, crmclient.ErrUnavailable) {
		t.Errorf("Verify with the CRM down: %v; want ErrGrantUnknownKey and ErrUnavailable", err)
	}
}
