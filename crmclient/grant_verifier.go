package crmclient

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// keyRefetchEvery bounds how often grants naming a key the verifier does not
// know make it ask the CRM for its key again: a key change needs one fetch, and
// a flood of forged grants must not become a flood of requests to the CRM.
const keyRefetchEvery = 10 * time.Second

// GrantVerifier checks monitor grants on the agent's desktop: it fetches the
// CRM's public key once (again when a grant names a key it does not know: the
// CRM's key changed), checks the grant with VerifyGrant against the call it
// names (which must be one of the calls the phone has up), and lets each grant
// open one session (GrantReplayGuard). It is safe for concurrent use.
type GrantVerifier struct {
	c     *Client
	agent string
	now   func() time.Time // time.Now; tests replace it
	guard GrantReplayGuard

	fetchMu sync.Mutex // held while the key is fetched, so concurrent grants fetch once

	mu      sync.Mutex
	pub     ed25519.PublicKey // nil until the first fetch succeeds
	keyID   string            // MonitorKeyID(pub)
	lastTry time.Time         // when the CRM was last asked again for a key not known
}

// NewGrantVerifier returns a verifier for the desktop of agent (the CRM user
// name the desktop is logged in as), which fetches the key through c.
func NewGrantVerifier(c *Client, agent string) *GrantVerifier {
	v := &GrantVerifier{c: c, agent: agent, now: time.Now}
	v.guard.Now = func() time.Time { return v.now() }
	return v
}

// Verify checks a grant from a monitor INVITE against calls, the SIP Call-IDs of
// the calls the phone has up, and records it as used. Call it just before
// answering; every error means "refuse the INVITE". Errors wrap the ErrGrantXxx
// of the check that failed: ErrGrantWrongCall when the grant names none of calls,
// ErrGrantReplayed when it was used before, ErrGrantUnknownKey when it names a
// key the CRM does not have (or the key could not be fetched: then it also wraps
// the client's error, e.g. ErrUnavailable).
func (v *GrantVerifier) Verify(ctx context.Context, token string, calls []string) (GrantClaims, error) {
	// The claims are read unverified first, only to pick the key to check the
	// signature with and the call to check the grant against; VerifyGrant then
	// checks everything they say.
	claimed := peekGrant(token)
	pub, err := v.key(ctx, claimed.KeyID)
	if err != nil {
		return GrantClaims{}, err
	}
	call := "\x00" // no Call-ID: VerifyGrant answers ErrGrantWrongCall once all else holds
	if claimed.CallID != "" && slices.Contains(calls, claimed.CallID) {
		call = claimed.CallID
	}
	c, err := VerifyGrant(pub, token, v.agent, call, v.now())
	if err != nil {
		if call == "\x00" && errors.Is(err, ErrGrantWrongCall) {
			return GrantClaims{}, fmt.Errorf("%w: it names none of the %d calls the phone has up", ErrGrantWrongCall, len(calls))
		}
		return GrantClaims{}, err
	}
	if err := v.guard.Use(c); err != nil {
		return GrantClaims{}, err
	}
	return c, nil
}

// key returns the CRM's key for a grant that names keyID: the one fetched
// before, or a fresh one when it is not that key (at most every
// keyRefetchEvery) or none was fetched yet.
func (v *GrantVerifier) key(ctx context.Context, keyID string) (ed25519.PublicKey, error) {
	if pub, ok := v.cached(keyID); ok {
		return pub, nil
	}
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	if pub, ok := v.cached(keyID); ok { // another grant fetched it meanwhile
		return pub, nil
	}
	v.mu.Lock()
	if v.pub != nil { // asking again for a key not known: rate-limited
		v.lastTry = v.now()
	}
	v.mu.Unlock()
	mk, err := v.c.MonitorKey(ctx)
	var pub ed25519.PublicKey
	if err == nil {
		pub, err = mk.PublicKeyBytes()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: cannot fetch the CRM's monitor key: %w", ErrGrantUnknownKey, err)
	}
	v.mu.Lock()
	v.pub, v.keyID = pub, mk.KeyID
	v.mu.Unlock()
	return pub, nil
}

// cached returns the key to check a grant naming keyID with, without asking
// the CRM: the key held when it is that key, or when it is not but the CRM was
// asked again less than keyRefetchEvery ago (VerifyGrant then refuses the grant
// with ErrGrantUnknownKey). ok is false when the CRM should be asked: no key was
// fetched yet, or the grant names another one.
func (v *GrantVerifier) cached(keyID string) (ed25519.PublicKey, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.pub == nil {
		return nil, false
	}
	if keyID == "" || keyID == v.keyID || v.now().Sub(v.lastTry) < keyRefetchEvery {
		return v.pub, true
	}
	return nil, false
}

// peekGrant decodes a grant's claims without checking anything; the zero value
// when they do not decode.
func peekGrant(token string) GrantClaims {
	var c GrantClaims
	payload, _, ok := strings.Cut(token, ".")
	if !ok || len(token) > maxGrantLen {
		return c
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return GrantClaims{}
	}
	if json.Unmarshal(raw, &c) != nil {
		return GrantClaims{}
	}
	return c
}
