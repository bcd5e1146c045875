package crmserver

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// monitorKey is the CRM's grant-signing key pair. The private half is read from
// the database into this struct and nowhere else: it is never sent, logged or
// formatted (monitorKey has no String method and is never passed to a logger).
type monitorKey struct {
	id   string
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
}

// loadMonitorKey returns the key pair, creating it on first use. Two servers on
// one database may race to create it; the row's fixed id lets exactly one insert
// win and both then read the winner.
func (s *Store) loadMonitorKey(ctx context.Context) (*monitorKey, error) {
	read := func() (*monitorKey, error) {
		var k monitorKey
		var pub, seed []byte
		err := s.db.QueryRowContext(ctx, `SELECT key_id, public_key, private_key FROM monitor_keys WHERE id = 1`).
			Scan(&k.id, &pub, &seed)
		if err != nil {
			return nil, err
		}
		if len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("monitor key: stored seed is %d bytes", len(seed))
		}
		k.priv = ed25519.NewKeyFromSeed(seed)
		k.pub = k.priv.Public().(ed25519.PublicKey)
		if !k.pub.Equal(ed25519.PublicKey(pub)) || k.id != crmclient.MonitorKeyID(k.pub) {
			return nil, errors.New("monitor key: stored public key does not match the private key")
		}
		return &k, nil
	}
	k, err := read()
	if !errors.Is(err, sql.ErrNoRows) {
		if err != nil {
			return nil, fmt.Errorf("monitor key: %w", err)
		}
		return k, nil
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("monitor key: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO monitor_keys (id, key_id, public_key, private_key, created_at)
		VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		crmclient.MonitorKeyID(pub), []byte(pub), priv.Seed(), s.now().Unix()); err != nil {
		return nil, fmt.Errorf("monitor key: %w", err)
	}
	if k, err = read(); err != nil {
		return nil, fmt.Errorf("monitor key: %w", err)
	}
	return k, nil
}

// monitorKeyCached is loadMonitorKey read once per handler.
func (h *api) monitorKeyCached(ctx context.Context) (*monitorKey, error) {
	h.ev.keyMu.Lock()
	defer h.ev.keyMu.Unlock()
	if h.ev.key != nil {
		return h.ev.key, nil
	}
	k, err := h.st.loadMonitorKey(ctx)
	if err != nil {
		return nil, err
	}
	h.ev.key = k
	return k, nil
}

// monitorKey serves GET /v1/monitor/key.
func (h *api) monitorKey(w http.ResponseWriter, r *http.Request) error {
	k, err := h.monitorKeyCached(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, crmclient.MonitorKey{PublicKey: base64.StdEncoding.EncodeToString(k.pub), KeyID: k.id})
	return nil
}

// createGrant serves POST /v1/monitor/grants. The agent must exist (404); whether
// the agent is on that call right now is not checked — the agent's desktop knows
// its calls and refuses a grant for any other (crmclient.ErrGrantWrongCall). Each
// grant is recorded as a monitor_granted event, so supervisors' monitoring is
// itself on the record.
func (h *api) createGrant(w http.ResponseWriter, r *http.Request) error {
	var req crmclient.GrantRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	switch {
	case req.Agent == "" || len(req.Agent) > 64:
		return invalidf("agent must be a user name")
	case !req.Mode.Valid():
		return invalidf("mode must be listen, whisper or barge, not %q", req.Mode)
	}
	if err := checkSIPCallID(req.CallID); err != nil {
		return err
	}
	ctx := r.Context()
	var role crmclient.Role
	err := h.st.db.QueryRowContext(ctx, `SELECT role FROM users WHERE name = ?`, req.Agent).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) || err == nil && role != crmclient.RoleAgent {
		return fmt.Errorf("no agent named %q: %w", req.Agent, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("grant: %w", err)
	}
	k, err := h.monitorKeyCached(ctx)
	if err != nil {
		return err
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	now := h.st.now()
	c := crmclient.GrantClaims{
		ID:         base64.RawURLEncoding.EncodeToString(id),
		KeyID:      k.id,
		Supervisor: principalFrom(ctx).user.Name,
		Agent:      req.Agent,
		CallID:     req.CallID,
		Mode:       req.Mode,
		IssuedAt:   now.Unix(),
		ExpiresAt:  now.Add(crmclient.MaxGrantTTL).Unix(),
	}
	token, err := crmclient.EncodeGrant(k.priv, c)
	if err != nil {
		return fmt.Errorf("grant: %w", err)
	}
	exp := time.Unix(c.ExpiresAt, 0).UTC()
	err = h.st.inTx(ctx, func(tx *tx) error {
		_, _, err := h.st.appendEvent(ctx, tx, crmclient.EventMonitorGranted, req.Agent, "", crmclient.MonitorGranted{
			GrantID: c.ID, Supervisor: c.Supervisor, Agent: c.Agent, CallID: c.CallID, Mode: c.Mode, ExpiresAt: exp})
		return err
	})
	if err != nil {
		return fmt.Errorf("grant: %w", err)
	}
	eventBell.ring()
	writeJSON(w, http.StatusCreated, crmclient.Grant{Grant: token, ExpiresAt: exp})
	return nil
}
