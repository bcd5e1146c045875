package crmclient

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Monitor grants let a supervisor's desktop listen in on an agent's call without
// help from the PBX: the CRM signs a short-lived grant naming the agent, the call
// and the mode, the supervisor's desktop sends it in its monitor INVITE, and the
// agent's desktop checks it before auto-answering. The agent's desktop trusts
// nothing but the CRM's public key (GET /v1/monitor/key), so a supervisor account
// elsewhere, a colleague's desktop or anybody who can reach the agent's SIP port
// cannot listen in.
//
// A grant is base64url(JSON GrantClaims) "." base64url(Ed25519 signature), the
// signature taken over the first part exactly as sent, so no JSON canonicalisation
// is needed and a tampered byte anywhere fails the check.

// MaxGrantTTL is the longest a grant may live: long enough for the INVITE to
// arrive, short enough that a grant seen in a log is useless soon after.
const MaxGrantTTL = 60 * time.Second

// GrantClockSkew is how far the agent's clock may differ from the CRM's before a
// fresh grant is refused as expired or not yet valid.
const GrantClockSkew = 5 * time.Second

// Errors of VerifyGrant and GrantReplayGuard.Use. Each names the check that failed,
// for the agent's log; every one of them means "refuse the INVITE".
var (
	ErrGrantMalformed       = errors.New("monitor grant is malformed")
	ErrGrantUnknownKey      = errors.New("monitor grant is signed with a key this desktop does not know")
	ErrGrantForgedSignature = errors.New("monitor grant signature does not verify")
	ErrGrantExpired         = errors.New("monitor grant has expired")
	ErrGrantNotYetValid     = errors.New("monitor grant is not valid yet")
	ErrGrantTooLong         = errors.New("monitor grant lives longer than allowed")
	ErrGrantWrongAgent      = errors.New("monitor grant is for another agent")
	ErrGrantWrongCall       = errors.New("monitor grant is for another call")
	ErrGrantBadMode         = errors.New("monitor grant has an unknown mode")
	ErrGrantReplayed        = errors.New("monitor grant was already used")
	ErrGrantGuardFull       = errors.New("too many monitor grants in use at once")
)

// maxGrantLen bounds the token before any decoding: claims are about 300 bytes.
const maxGrantLen = 2048

// MonitorKeyID names a public key: base64url of the first 9 bytes of its SHA-256.
// A desktop that holds an old key after the CRM's key changed gets
// ErrGrantUnknownKey, which tells it to fetch the key again.
func MonitorKeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

// PublicKeyBytes decodes k.PublicKey and checks that it is the key KeyID names.
func (k MonitorKey) PublicKeyBytes() (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(k.PublicKey)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: monitor public key is not 32 bytes of base64", ErrBadResponse)
	}
	pub := ed25519.PublicKey(b)
	if MonitorKeyID(pub) != k.KeyID {
		return nil, fmt.Errorf("%w: monitor key id %q does not match the key", ErrBadResponse, k.KeyID)
	}
	return pub, nil
}

// EncodeGrant signs c with priv and returns the compact token. The CRM calls it;
// it lives here, beside VerifyGrant, so the format is defined in one place.
func EncodeGrant(priv ed25519.PrivateKey, c GrantClaims) (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	payload := base64.RawURLEncoding.EncodeToString(b)
	sig := ed25519.Sign(priv, []byte(payload))
	return payload + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// VerifyGrant checks a grant for a monitor INVITE to agent's call callID, at time
// now: the format, the key id, the signature, the lifetime (with GrantClockSkew
// either way), the agent, the call and the mode. Use a GrantReplayGuard as well, so
// that one grant opens one session. The error wraps the ErrGrantXxx of the first
// check that failed.
func VerifyGrant(pub ed25519.PublicKey, token string, agent, callID string, now time.Time) (GrantClaims, error) {
	if len(pub) != ed25519.PublicKeySize {
		return GrantClaims{}, fmt.Errorf("%w: no CRM public key", ErrGrantUnknownKey)
	}
	if len(token) > maxGrantLen {
		return GrantClaims{}, fmt.Errorf("%w: %d bytes", ErrGrantMalformed, len(token))
	}
	payload, sigText, ok := strings.Cut(token, ".")
	if !ok || strings.Contains(sigText, ".") {
		return GrantClaims{}, fmt.Errorf("%w: want two dot-separated parts", ErrGrantMalformed)
	}
	raw, err1 := base64.RawURLEncoding.DecodeString(payload)
	sig, err2 := base64.RawURLEncoding.DecodeString(sigText)
	if err1 != nil || err2 != nil {
		return GrantClaims{}, fmt.Errorf("%w: not base64url", ErrGrantMalformed)
	}
	var c GrantClaims
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || dec.More() {
		return GrantClaims{}, fmt.Errorf("%w: claims are not the documented JSON", ErrGrantMalformed)
	}
	// The key id is read before the signature is checked: it is only used to say
	// which key the grant claims, and a mismatch is refused either way.
	if want := MonitorKeyID(pub); c.KeyID != want {
		return GrantClaims{}, fmt.Errorf("%w: grant names key %q, this desktop trusts %q", ErrGrantUnknownKey, c.KeyID, want)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, []byte(payload), sig) {
		return GrantClaims{}, ErrGrantForgedSignature
	}
	// From here on the claims are the CRM's own words.
	iat, exp := time.Unix(c.IssuedAt, 0), time.Unix(c.ExpiresAt, 0)
	switch {
	case c.ID == "":
		return GrantClaims{}, fmt.Errorf("%w: no grant id", ErrGrantMalformed)
	case exp.Before(iat) || exp.Sub(iat) > MaxGrantTTL:
		return GrantClaims{}, fmt.Errorf("%w: %v", ErrGrantTooLong, exp.Sub(iat))
	case now.Add(GrantClockSkew).Before(iat):
		return GrantClaims{}, fmt.Errorf("%w: issued %v in the future; check the clocks", ErrGrantNotYetValid, iat.Sub(now).Round(time.Second))
	case now.After(exp.Add(GrantClockSkew)):
		return GrantClaims{}, fmt.Errorf("%w: %v ago", ErrGrantExpired, now.Sub(exp).Round(time.Second))
	case c.Agent != agent:
		return GrantClaims{}, fmt.Errorf("%w: %q, this desktop is %q", ErrGrantWrongAgent, c.Agent, agent)
	case c.CallID != callID:
		return GrantClaims{}, ErrGrantWrongCall // Call-IDs are long and mean nothing to a reader
	case !c.Mode.Valid():
		return GrantClaims{}, fmt.Errorf("%w: %q", ErrGrantBadMode, c.Mode)
	}
	return c, nil
}

// maxGuarded bounds a GrantReplayGuard. Grants live a minute and a supervisor
// monitors a few calls an hour, so this is only reached by a flood, which is then
// refused rather than allowed to grow memory.
const maxGuarded = 4096

// GrantReplayGuard remembers the ids of grants already used until they expire, so
// that a grant copied off the wire opens no second session. The zero value is
// ready to use; it is safe for concurrent use.
type GrantReplayGuard struct {
	// Now replaces time.Now, for tests. Set it before the first Use.
	Now func() time.Time

	mu   sync.Mutex
	seen map[string]time.Time // grant id → when it may be forgotten
}

// Use records c as used. It returns ErrGrantReplayed when a grant with the same id
// was used before and has not expired yet. Call it after VerifyGrant succeeded,
// just before answering.
func (g *GrantReplayGuard) Use(c GrantClaims) error {
	now := time.Now()
	if g.Now != nil {
		now = g.Now()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen == nil {
		g.seen = map[string]time.Time{}
	}
	if until, dup := g.seen[c.ID]; dup && !now.After(until) {
		return fmt.Errorf("%w: grant %s", ErrGrantReplayed, c.ID)
	}
	for id, until := range g.seen { // a handful of entries: grants live a minute
		if now.After(until) {
			delete(g.seen, id)
		}
	}
	if len(g.seen) >= maxGuarded {
		return ErrGrantGuardFull
	}
	// Kept past the expiry by the skew VerifyGrant allows, so that a grant is
	// forgotten only once VerifyGrant would refuse it anyway.
	g.seen[c.ID] = time.Unix(c.ExpiresAt, 0).Add(GrantClockSkew + time.Second)
	return nil
}
