package crmclient

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var grantNow = time.Date(2025, 6, 10, 9, 0, 0, 0, time.UTC)

func testKey(t testing.TB) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func testClaims(pub ed25519.PublicKey) GrantClaims {
	return GrantClaims{ID: "k7Qx0mJ2a1b2c3d4e5f6gA", KeyID: MonitorKeyID(pub), Supervisor: "sv1", Agent: "agent1",
		CallID: "call-1@pc33.example.jp", Mode: MonitorListen, IssuedAt: grantNow.Unix(), ExpiresAt: grantNow.Add(MaxGrantTTL).Unix()}
}

func mustEncode(t testing.TB, priv ed25519.PrivateKey, c GrantClaims) string {
	t.Helper()
	tok, err := EncodeGrant(priv, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestVerifyGrant: each way a grant can be wrong is refused with the error that
// names it.
func TestVerifyGrant(t *testing.T) {
	pub, priv := testKey(t)
	otherPub, otherPriv := testKey(t)
	good := mustEncode(t, priv, testClaims(pub))
	with := func(f func(*GrantClaims)) string {
		c := testClaims(pub)
		f(&c)
		return mustEncode(t, priv, c)
	}
	// tamper re-encodes the claims with a change but keeps the original signature.
	tamper := func(f func(*GrantClaims)) string {
		c := testClaims(pub)
		f(&c)
		b, _ := json.Marshal(c)
		_, sig, _ := strings.Cut(good, ".")
		return base64.RawURLEncoding.EncodeToString(b) + "." + sig
	}
	// forgedByOther claims our key id but is signed by another key.
	forgedByOther := func() string {
		return mustEncode(t, otherPriv, testClaims(pub))
	}()
	flipSig := func() string {
		p, s, _ := strings.Cut(good, ".")
		sig, _ := base64.RawURLEncoding.DecodeString(s)
		sig[10] ^= 1
		return p + "." + base64.RawURLEncoding.EncodeToString(sig)
	}()

	tests := []struct {
		name          string
		key           ed25519.PublicKey
		token         string
		agent, callID string
		now           time.Time
		want          error
	}{
		{"good", pub, good, "agent1", "call-1@pc33.example.jp", grantNow.Add(10 * time.Second), nil},
		{"good at the skew limit", pub, good, "agent1", "call-1@pc33.example.jp", grantNow.Add(MaxGrantTTL + GrantClockSkew), nil},
		{"agent clock a little behind", pub, good, "agent1", "call-1@pc33.example.jp", grantNow.Add(-4 * time.Second), nil},
		{"signed by another key", pub, forgedByOther, "agent1", "call-1@pc33.example.jp", grantNow, ErrGrantForgedSignature},
		{"signature flipped", pub, flipSig, "agent1", "call-1@pc33.example.jp", grantNow, ErrGrantForgedSignature},
		{"agent changed", pub, tamper(func(c *GrantClaims) { c.Agent = "agent2" }), "agent2", "call-1@pc33.example.jp", grantNow, ErrGrantForgedSignature},
		{"expiry stretched", pub, tamper(func(c *GrantClaims) { c.ExpiresAt += 3600 }), "agent1", "call-1@pc33.example.jp", grantNow, ErrGrantForgedSignature},
		{"mode upgraded", pub, tamper(func(c *GrantClaims) { c.Mode = MonitorBarge }), "agent1", "call-1@pc33.example.jp", grantNow, ErrGrantForgedSignature},
		{"unknown key", otherPub, good, "agent1", "call-1@pc33.example.jp", grantNow, ErrGrantUnknownKey},
		{"no key", nil, good, "agent1", "call-1@pc33.example.jp", grantNow, ErrGrantUnknownKey},
		{"expired", pub, good, "agent1", "call-1@pc33.example.jp", grantNow.Add(MaxGrantTTL + GrantClockSkew + time.Second), ErrGrantExpired},
		{"from the future", pub, good, "agent1", "call-1@pc33.example.jp", grantNow.Add(-10 * time.Second), ErrGrantNotYetValid},
		{"too long", pub, with(func(c *GrantClaims) { c.ExpiresAt = c.IssuedAt + 3600 }), "agent1", "call-1@pc33.example.jp", grantNow, ErrGrantTooLong},
		{"ends before it starts", pub, with(func(c *GrantClaims) { c.ExpiresAt = c.IssuedAt - 1 }), "agent1", "call-1@pc33.example.jp", grantNow, ErrGrantTooLong},
		{"another agent", pub, good, "agent2", "call-1@pc33.example.jp", grantNow, ErrGrantWrongAgent},
		{"another call", pub, good, "agent1", "call-2@pc33.example.jp", grantNow, ErrGrantWrongCall},
		{"bad mode", pub, with(func(c *GrantClaims) { c.Mode = "record" }), "agent1", "call-1@pc33.example.jp", grantNow, ErrGrantBadMode},
		{"no id", pub, with(func(c *GrantClaims) { c.ID = "" }), "agent1", "call-1@pc33.example.jp", grantNow, ErrGrantMalformed},
		{"empty", pub, "", "agent1", "call-1@pc33.example.jp", grantNow, ErrGrantMalformed},
		{"one part", pub, strings.Split(good, ".")[0], "agent1", "call-1@pc33.example.jp", grantNow, ErrGrantMalformed},
		{"three parts", pub, good + ".x", "agent1", "call-1@pc33.example.jp", grantNow, ErrGrantMalformed},
		{"not base64", pub, "!!!.???", "agent1", "call-1@pc33.example.jp", grantNow, ErrGrantMalformed},
		{"not JSON", pub, base64.RawURLEncoding.EncodeToString([]byte("hello")) + ".AA", "agent1", "call-1@pc33.example.jp", grantNow, ErrGrantMalformed},
		{"huge", pub, strings.Repeat("A", 5000) + ".AA", "agent1", "call-1@pc33.example.jp", grantNow, ErrGrantMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := VerifyGrant(tt.key, tt.token, tt.agent, tt.callID, tt.now)
			if tt.want == nil {
				if err != nil || c != testClaims(pub) {
					t.Errorf("VerifyGrant = %+v, %v; want the claims", c, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("VerifyGrant = %v, want %v", err, tt.want)
			}
			if c != (GrantClaims{}) {
				t.Errorf("refused grant returned claims %+v", c)
			}
		})
	}
}

// TestGrantReplayGuard: a grant id is accepted once while it could still verify,
// and forgotten after that.
func TestGrantReplayGuard(t *testing.T) {
	pub, _ := testKey(t)
	now := grantNow
	g := GrantReplayGuard{Now: func() time.Time { return now }}
	a, b := testClaims(pub), testClaims(pub)
	b.ID = "another-grant-id"
	if err := g.Use(a); err != nil {
		t.Fatal(err)
	}
	if err := g.Use(b); err != nil {
		t.Fatalf("a different grant: %v", err)
	}
	now = grantNow.Add(MaxGrantTTL + GrantClockSkew) // the last moment VerifyGrant accepts it
	if err := g.Use(a); !errors.Is(err, ErrGrantReplayed) {
		t.Errorf("replay at the end of its life = %v, want ErrGrantReplayed", err)
	}
	now = grantNow.Add(10 * time.Minute)
	c := testClaims(pub)
	c.ID, c.IssuedAt, c.ExpiresAt = "third", now.Unix(), now.Add(MaxGrantTTL).Unix()
	if err := g.Use(c); err != nil {
		t.Fatal(err)
	}
	if len(g.seen) != 1 {
		t.Errorf("guard still holds %d expired grants", len(g.seen))
	}
}

// TestGrantReplayGuardBounded: a flood of distinct grants is refused past the
// bound instead of growing memory.
func TestGrantReplayGuardBounded(t *testing.T) {
	var g GrantReplayGuard
	exp := time.Now().Add(time.Minute).Unix()
	var err error
	for i := 0; i <= maxGuarded && err == nil; i++ {
		err = g.Use(GrantClaims{ID: "g" + string(rune('a'+i%26)) + strings.Repeat("x", i/26), ExpiresAt: exp})
	}
	if !errors.Is(err, ErrGrantGuardFull) || len(g.seen) != maxGuarded {
		t.Errorf("after %d grants: %v, %d held", maxGuarded+1, err, len(g.seen))
	}
}

func TestMonitorKeyPublicKeyBytes(t *testing.T) {
	pub, _ := testKey(t)
	k := MonitorKey{PublicKey: base64.StdEncoding.EncodeToString(pub), KeyID: MonitorKeyID(pub)}
	if got, err := k.PublicKeyBytes(); err != nil || !got.Equal(pub) {
		t.Errorf("PublicKeyBytes = %x, %v", got, err)
	}
	k.KeyID = "wrong"
	if _, err := k.PublicKeyBytes(); !errors.Is(err, ErrBadResponse) {
		t.Errorf("mismatched key id: %v", err)
	}
	k.PublicKey = "AAAA"
	if _, err := k.PublicKeyBytes(); !errors.Is(err, ErrBadResponse) {
		t.Errorf("short key: %v", err)
	}
}

// FuzzVerifyGrant: no input panics, and nothing but the genuine grant verifies.
func FuzzVerifyGrant(f *testing.F) {
	pub, priv := testKey(f)
	good := mustEncode(f, priv, testClaims(pub))
	f.Add(good)
	f.Add("")
	f.Add("a.b")
	f.Add(good[:len(good)-2])
	f.Fuzz(func(t *testing.T, token string) {
		c, err := VerifyGrant(pub, token, "agent1", "call-1@pc33.example.jp", grantNow)
		if err == nil && token != good {
			// The signature covers the first part as text, so only the
			// signature's base64 may differ (non-canonical trailing bits),
			// never what it decodes to.
			p, sig, _ := strings.Cut(token, ".")
			gp, gsig, _ := strings.Cut(good, ".")
			rs, _ := base64.RawURLEncoding.DecodeString(sig)
			rgs, _ := base64.RawURLEncoding.DecodeString(gsig)
			if p != gp || string(rs) != string(rgs) {
				t.Fatalf("accepted a token that is not the genuine grant: %q → %+v", token, c)
			}
		}
	})
}
