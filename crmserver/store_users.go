package crmserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/opdesk/opdesk/crmclient"
	"golang.org/x/crypto/bcrypt"
)

// NewUser is what CreateUser needs. Password is hashed with bcrypt and then
// forgotten.
type NewUser struct {
	Name        string
	DisplayName string
	Role        crmclient.Role
	Password    string
	Campaigns   []string
}

// CreateUser adds a user. Their agent state starts as not_ready "offline" so that the
// wallboard shows every agent from the start.
func (s *Store) CreateUser(ctx context.Context, u NewUser) (crmclient.User, error) {
	switch {
	case u.Name == "" || len(u.Name) > 64 || strings.ContainsAny(u.Name, " \t\r\n"):
		return crmclient.User{}, invalidf("user name must be 1–64 bytes without spaces")
	case !u.Role.Valid():
		return crmclient.User{}, invalidf("role must be agent or supervisor, not %q", u.Role)
	case len(u.Password) < 8 || len(u.Password) > 72:
		// 72 bytes is bcrypt's limit; longer passwords would be silently truncated.
		return crmclient.User{}, invalidf("password must be 8–72 bytes")
	}
	if u.DisplayName == "" {
		u.DisplayName = u.Name
	}
	if u.Campaigns == nil {
		u.Campaigns = []string{}
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), s.pwCost)
	if err != nil {
		return crmclient.User{}, fmt.Errorf("create user %s: %w", u.Name, err)
	}
	camps, _ := json.Marshal(u.Campaigns)
	err = s.inTx(ctx, func(tx *tx) error {
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO users (name, display_name, role, password_hash, campaigns)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, u.Name, u.DisplayName, u.Role, string(hash), string(camps)).Scan(&id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO agent_states (user_id, state, reason, since) VALUES (?, ?, ?, ?)`,
			id, crmclient.StatusNotReady, "offline", s.now().Unix())
		return err
	})
	if err != nil {
		return crmclient.User{}, fmt.Errorf("create user %s: %w", u.Name, err)
	}
	return crmclient.User{Name: u.Name, DisplayName: u.DisplayName, Role: u.Role, Campaigns: u.Campaigns}, nil
}

// dummyHash is compared against when the user name is unknown, so that a login for
// a name that does not exist takes as long as one with a wrong password.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("opdesk-no-such-user"), bcrypt.DefaultCost)
	return h
})

// Login checks a password and issues a new bearer token: 32 random bytes, of which
// only the SHA-256 is stored. The token is returned once and never logged.
func (s *Store) Login(ctx context.Context, name, password string) (crmclient.LoginResponse, error) {
	var (
		id   int64
		hash []byte
		u    crmclient.User
	)
	err := s.db.QueryRowContext(ctx, `SELECT id, password_hash, name, display_name, role, campaigns
		FROM users WHERE name = ?`, name).Scan(&id, &hash, &u.Name, &u.DisplayName, &u.Role, jsonColumn{&u.Campaigns})
	if errors.Is(err, sql.ErrNoRows) {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return crmclient.LoginResponse{}, ErrBadCredentials
	}
	if err != nil {
		return crmclient.LoginResponse{}, fmt.Errorf("login: %w", err)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
		return crmclient.LoginResponse{}, ErrBadCredentials
	}

	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails (Go ≥ 1.24)
	token := base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(token))
	now := s.now()
	exp := now.Add(s.tokenTTL).Truncate(time.Second)
	err = s.inTx(ctx, func(tx *tx) error {
		// Expired sessions are swept here: logins are rare enough for this to be
		// cheap, and it needs no background goroutine.
		if _, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE expires_at <= ?`, now.Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (hash, user_id, expires_at) VALUES (?, ?, ?)`,
			sum[:], id, exp.Unix())
		return err
	})
	if err != nil {
		return crmclient.LoginResponse{}, fmt.Errorf("login: %w", err)
	}
	return crmclient.LoginResponse{Token: token, ExpiresAt: exp.UTC(), User: u}, nil
}

// principal is an authenticated caller as the HTTP layer sees it.
type principal struct {
	id   int64
	user crmclient.User
}

// userByToken resolves a bearer token; ErrUnknownToken when it was never issued
// here or has expired.
func (s *Store) userByToken(ctx context.Context, token string) (principal, error) {
	if token == "" || len(token) > 256 || !utf8.ValidString(token) {
		return principal{}, ErrUnknownToken
	}
	sum := sha256.Sum256([]byte(token))
	var p principal
	err := s.db.QueryRowContext(ctx, `SELECT u.id, u.name, u.display_name, u.role, u.campaigns
		FROM tokens t JOIN users u ON u.id = t.user_id
		WHERE t.hash = ? AND t.expires_at > ?`, sum[:], s.now().Unix()).
		Scan(&p.id, &p.user.Name, &p.user.DisplayName, &p.user.Role, jsonColumn{&p.user.Campaigns})
	if errors.Is(err, sql.ErrNoRows) {
		return principal{}, ErrUnknownToken
	}
	if err != nil {
		return principal{}, fmt.Errorf("token lookup: %w", err)
	}
	return p, nil
}

// SetAgentState records a user's new state. Reason is required with not_ready and
// refused otherwise, so the wallboard never shows a stale reason. A SIP URI is
// stored with it; an empty one keeps the URI stored before.
func (s *Store) SetAgentState(ctx context.Context, userName string, req crmclient.AgentStateRequest) (crmclient.AgentState, error) {
	if !req.State.Valid() {
		return crmclient.AgentState{}, invalidf("state must be one of ready, not_ready, on_call, acw; got %q", req.State)
	}
	uri, err := checkSIPURI(req.SIPURI)
	if err != nil {
		return crmclient.AgentState{}, err
	}
	req.Reason = strings.TrimSpace(req.Reason)
	switch {
	case req.State == crmclient.StatusNotReady && req.Reason == "":
		return crmclient.AgentState{}, invalidf("reason is required with not_ready")
	case req.State != crmclient.StatusNotReady && req.Reason != "":
		return crmclient.AgentState{}, invalidf("reason is only allowed with not_ready")
	case utf8.RuneCountInString(req.Reason) > 100:
		return crmclient.AgentState{}, invalidf("reason must be at most 100 characters")
	}
	since := s.now().Truncate(time.Second)
	st := crmclient.AgentState{State: req.State, Reason: req.Reason, Since: since.UTC()}
	// The agent_state event is written in the same transaction, so the
	// supervisors' stream shows exactly the states that were stored.
	err = s.inTx(ctx, func(tx *tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO agent_states (user_id, state, reason, since, sip_uri)
		SELECT id, ?, ?, ?, ? FROM users WHERE name = ?
		ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, reason = excluded.reason, since = excluded.since,
			sip_uri = CASE WHEN excluded.sip_uri = '' THEN agent_states.sip_uri ELSE excluded.sip_uri END
		RETURNING (SELECT name FROM users WHERE id = user_id), (SELECT display_name FROM users WHERE id = user_id), sip_uri`,
			req.State, req.Reason, since.Unix(), uri, userName).Scan(&st.User, &st.DisplayName, &st.SIPURI)
		if err != nil {
			return err
		}
		_, _, err = s.appendEvent(ctx, tx, crmclient.EventAgentState, st.User, "", st)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return crmclient.AgentState{}, fmt.Errorf("user %s: %w", userName, ErrNotFound)
	}
	if err != nil {
		return crmclient.AgentState{}, fmt.Errorf("set agent state: %w", err)
	}
	eventBell.ring()
	return st, nil
}

// AgentStates lists every agent (role agent) with their current state, by name.
func (s *Store) AgentStates(ctx context.Context) ([]crmclient.AgentState, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT u.name, u.display_name, a.state, a.reason, a.since, a.sip_uri
		FROM users u JOIN agent_states a ON a.user_id = u.id
		WHERE u.role = 'agent' ORDER BY u.name`)
	if err != nil {
		return nil, fmt.Errorf("agent states: %w", err)
	}
	defer rows.Close()
	out := []crmclient.AgentState{}
	for rows.Next() {
		var a crmclient.AgentState
		var since int64
		if err := rows.Scan(&a.User, &a.DisplayName, &a.State, &a.Reason, &since, &a.SIPURI); err != nil {
			return nil, fmt.Errorf("agent states: %w", err)
		}
		a.Since = unixTime(since)
		out = append(out, a)
	}
	return out, rows.Err()
}

// jsonColumn scans a JSON text column into a Go value.
type jsonColumn struct{ dst any }

func (j jsonColumn) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	case nil:
		return nil
	default:
		return fmt.Errorf("json column: unexpected %T", src)
	}
	return json.Unmarshal(b, j.dst)
}

// checkSIPURI accepts where an agent's desktop can be reached: "" (keep the
// stored one) or a sip: or sips: URI (RFC 3261 §19.1) of at most
// crmclient.MaxSIPURI bytes of visible ASCII with a host.
// The scheme, which is case-insensitive, is returned in lower case; the rest is
// kept as sent (only the desktop's PBX interprets it).
func checkSIPURI(uri string) (string, error) {
	if uri == "" {
		return "", nil
	}
	if len(uri) > crmclient.MaxSIPURI {
		return "", invalidf("sip_uri must be at most %d bytes, not %d", crmclient.MaxSIPURI, len(uri))
	}
	for i := 0; i < len(uri); i++ {
		if uri[i] <= ' ' || uri[i] > '~' {
			return "", invalidf("sip_uri must be visible ASCII without spaces or control characters, such as sip:op1@pbx.example.com")
		}
	}
	scheme, rest, _ := strings.Cut(uri, ":")
	scheme = strings.ToLower(scheme)
	host, _, _ := strings.Cut(rest, ";") // before the URI parameters and headers
	host, _, _ = strings.Cut(host, "?")
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	if scheme != "sip" && scheme != "sips" || host == "" {
		return "", invalidf("sip_uri must be a sip: or sips: URI such as sip:op1@pbx.example.com, not %q", uri)
	}
	return scheme + ":" + rest, nil
}
