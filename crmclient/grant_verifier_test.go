package crmclient

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// keyServer is a CRM that only serves its monitor key, which the test can change.
type keyServer struct {
	mu      sync.Mutex
	pub     ed25519.PublicKey
	fetches atomic.Int64
	srv     *httptest.Server
}

func newKeyServer(t *testing.T, pub ed25519.PublicKey) *keyServer {
	ks := &keyServer{pub: pub}
	ks.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/monitor/key" {
			http.NotFound(w, r)
			return
		}
		ks.fetches.Add(1)
		ks.mu.Lock()
		k := MonitorKey{PublicKey: base64.StdEncoding.EncodeToString(ks.pub), KeyID: MonitorKeyID(ks.pub)}
		ks.mu.Unlock()
		_ = json.NewEncoder(w).Encode(k)
	}))
	t.Cleanup(ks.srv.Close)
	return ks
}

func (ks *keyServer) set(pub ed25519.PublicKey) {
	ks.mu.Lock()
	ks.pub = pub
	ks.mu.Unlock()
}

// TestGrantVerifierKeyRefetch: a grant naming a key the verifier does not know
// makes it ask the CRM again, at most every keyRefetchEvery, so a changed key is
// picked up and a flood of forged grants is not a flood of requests.
func TestGrantVerifierKeyRefetch(t *testing.T) {
	oldPub, oldPriv := testKey(t)
	newPub, newPriv := testKey(t)
	ks := newKeyServer(t, oldPub)
	cl, err := New(ks.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	now := grantNow
	v := NewGrantVerifier(cl, "agent1")
	v.now = func() time.Time { return now }
	ctx := context.Background()
	grant := func(pub ed25519.PublicKey, priv ed25519.PrivateKey, id string) string {
		c := testClaims(pub)
		c.ID = id
		return mustEncode(t, priv, c)
	}
	calls := []string{"call-1@pc33.example.jp"}

	if _, err := v.Verify(ctx, grant(oldPub, oldPriv, "g1"), calls); err != nil {
		t.Fatal(err)
	}
	ks.set(newPub) // the CRM's key changes
	if _, err := v.Verify(ctx, grant(newPub, newPriv, "g2"), calls); err != nil {
		t.Fatalf("a grant signed with the new key: %v", err)
	}
	if n := ks.fetches.Load(); n != 2 {
		t.Errorf("%d key fetches; want 2", n)
	}
	// Grants naming the old key now are refused without asking the CRM, which
	// was asked a moment ago; keyRefetchEvery later it is asked again.
	for i := range 5 {
		if _, err := v.Verify(ctx, grant(oldPub, oldPriv, "old"+string(rune('a'+i))), calls); !errors.Is(err, ErrGrantUnknownKey) {
			t.Errorf("a grant with the old key: %v", err)
		}
	}
	if n := ks.fetches.Load(); n != 2 {
		t.Errorf("%d key fetches after 5 grants with the old key; want still 2", n)
	}
	now = now.Add(keyRefetchEvery)
	if _, err := v.Verify(ctx, grant(oldPub, oldPriv, "oldz"), calls); !errors.Is(err, ErrGrantUnknownKey) {
		t.Errorf("a grant with the old key: %v", err)
	}
	if n := ks.fetches.Load(); n != 3 {
		t.Errorf("%d key fetches %v later; want 3", n, keyRefetchEvery)
	}
	// The replay guard runs on the verifier's clock: a grant is forgotten once
	// it could no longer verify.
	g := grant(newPub, newPriv, "g3")
	now = grantNow
	if _, err := v.Verify(ctx, g, calls); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, g, calls); !errors.Is(err, ErrGrantReplayed) {
		t.Errorf("replay: %v", err)
	}
	now = grantNow.Add(MaxGrantTTL + GrantClockSkew + time.Second)
	if _, err := v.Verify(ctx, g, calls); !errors.Is(err, ErrGrantExpired) {
		t.Errorf("replay after expiry: %v; want ErrGrantExpired", err)
	}
}

// TestEventCallMissed: Event.Call decodes all three call kinds and nothing else.
func TestEventCallMissed(t *testing.T) {
	data := json.RawMessage(`{"agent":"agent1","call_id":"c@d","direction":"inbound","number":"anonymous","at":"2025-06-10T00:00:00Z","abandoned":true}`)
	for _, k := range []EventKind{EventCallStarted, EventCallEnded, EventCallMissed} {
		c, err := Event{ID: 1, Kind: k, Data: data}.Call()
		if err != nil || c.CallID != "c@d" || !c.Abandoned {
			t.Errorf("%s: %+v, %v", k, c, err)
		}
	}
	if _, err := (Event{ID: 1, Kind: EventAgentState, Data: data}).Call(); err == nil {
		t.Error("Call decoded an agent_state event")
	}
}

// TestWallboardInterval: an interval the CRM would refuse is refused before
// anything is sent.
func TestWallboardInterval(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if q := r.URL.Query(); q.Get("interval") != "30" || q.Get("day") != "2025-06-10" {
			t.Errorf("query %q", r.URL.RawQuery)
		}
		_, _ = w.Write([]byte(`{"day":"2025-06-10","time_zone":"Asia/Tokyo","agents":[],"intervals":[]}`))
	}))
	defer srv.Close()
	cl, _ := New(srv.URL)
	for _, d := range []time.Duration{time.Minute, 90 * time.Second, 2 * time.Hour} {
		if _, err := cl.Wallboard(context.Background(), "", d); err == nil {
			t.Errorf("interval %v accepted", d)
		}
	}
	if wb, err := cl.Wallboard(context.Background(), "2025-06-10", 30*time.Minute); err != nil || wb.Day != "2025-06-10" || hits.Load() != 1 {
		t.Errorf("Wallboard = %+v, %v after %d requests", wb, err, hits.Load())
	}
}
