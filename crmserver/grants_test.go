package crmserver

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// TestMonitorGrantRoundTrip: a grant from the CRM verifies on the agent's side with
// the key the agent fetched, once, for that agent and call only, for 60 s.
func TestMonitorGrantRoundTrip(t *testing.T) {
	var logBuf syncBuffer
	crm := newTestCRMWith(t, 0, []HandlerOption{WithLogger(debugLogger(&logBuf))})
	ctx := context.Background()
	sv := crm.client(t, "sv1")
	agent := crm.client(t, "agent1")

	mk, err := agent.MonitorKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := mk.PublicKeyBytes()
	if err != nil {
		t.Fatal(err)
	}
	if svKey, _ := sv.MonitorKey(ctx); svKey != mk {
		t.Errorf("supervisor sees key %+v, agent %+v", svKey, mk)
	}

	const callID = "3848276298220188511@atlanta.example.jp"
	before := time.Now().Truncate(time.Second)
	g, err := sv.CreateMonitorGrant(ctx, crmclient.GrantRequest{Agent: "agent1", CallID: callID, Mode: crmclient.MonitorWhisper})
	if err != nil {
		t.Fatal(err)
	}
	if d := g.ExpiresAt.Sub(before); d < 59*time.Second || d > 62*time.Second {
		t.Errorf("grant expires in %v, want 60 s", d)
	}
	c, err := crmclient.VerifyGrant(pub, g.Grant, "agent1", callID, time.Now())
	if err != nil {
		t.Fatalf("VerifyGrant of the CRM's own grant: %v", err)
	}
	if c.Supervisor != "sv1" || c.Agent != "agent1" || c.Mode != crmclient.MonitorWhisper || c.KeyID != mk.KeyID ||
		c.ExpiresAt-c.IssuedAt != 60 || len(c.ID) != 22 {
		t.Errorf("claims = %+v", c)
	}
	var guard crmclient.GrantReplayGuard
	if err := guard.Use(c); err != nil {
		t.Fatal(err)
	}
	if err := guard.Use(c); !errors.Is(err, crmclient.ErrGrantReplayed) {
		t.Errorf("second use = %v, want ErrGrantReplayed", err)
	}
	for _, tc := range []struct {
		agent, call string
		at          time.Time
		want        error
	}{
		{"agent2", callID, time.Now(), crmclient.ErrGrantWrongAgent},
		{"agent1", "other@atlanta.example.jp", time.Now(), crmclient.ErrGrantWrongCall},
		{"agent1", callID, time.Now().Add(70 * time.Second), crmclient.ErrGrantExpired},
	} {
		if _, err := crmclient.VerifyGrant(pub, g.Grant, tc.agent, tc.call, tc.at); !errors.Is(err, tc.want) {
			t.Errorf("VerifyGrant(%s, %s, %v) = %v, want %v", tc.agent, tc.call, tc.at, err, tc.want)
		}
	}

	// Another grant has another id; the key stays the same in a new handler
	// and in a new store on the same database.
	g2, err := sv.CreateMonitorGrant(ctx, crmclient.GrantRequest{Agent: "agent1", CallID: callID, Mode: crmclient.MonitorListen})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := crmclient.VerifyGrant(pub, g2.Grant, "agent1", callID, time.Now())
	if err != nil || c2.ID == c.ID {
		t.Errorf("second grant: %+v, %v", c2, err)
	}
	k2, err := crm.st.loadMonitorKey(ctx)
	if err != nil || crmclient.MonitorKeyID(k2.pub) != mk.KeyID {
		t.Errorf("key after reload: %v, %v", k2, err)
	}

	// The grant is on the record, by id, without the token.
	evs, err := crm.st.eventsAfter(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var granted []crmclient.MonitorGranted
	for _, e := range evs {
		if e.kind == crmclient.EventMonitorGranted {
			var m crmclient.MonitorGranted
			if err := json.Unmarshal([]byte(e.payload), &m); err != nil {
				t.Fatal(err)
			}
			granted = append(granted, m)
			if strings.Contains(e.payload, strings.Split(g.Grant, ".")[1]) {
				t.Error("the grant's signature is on the event stream")
			}
		}
	}
	if len(granted) != 2 || granted[0].GrantID != c.ID || granted[0].Supervisor != "sv1" || granted[0].Mode != crmclient.MonitorWhisper ||
		!granted[0].ExpiresAt.Equal(g.ExpiresAt) {
		t.Errorf("monitor_granted events = %+v", granted)
	}

	// The private key and the tokens stay out of the log.
	var seed []byte
	if err := crm.st.db.QueryRowContext(ctx, `SELECT private_key FROM monitor_keys`).Scan(&seed); err != nil {
		t.Fatal(err)
	}
	log := logBuf.String()
	for _, secret := range []string{base64.StdEncoding.EncodeToString(seed), base64.RawURLEncoding.EncodeToString(seed),
		hex.EncodeToString(seed), g.Grant, g2.Grant} {
		if strings.Contains(log, secret) {
			t.Errorf("log contains a secret %q", secret)
		}
	}
	if !strings.Contains(log, "POST /v1/monitor/grants") {
		t.Errorf("no access log line for grants: %q", log)
	}
}

// TestMonitorGrantRefusals: what a supervisor cannot get a grant for.
func TestMonitorGrantRefusals(t *testing.T) {
	crm := newTestCRM(t, 0)
	bearer := "Bearer " + crm.client(t, "sv1").Token()
	for _, tc := range []struct {
		name, body string
		status     int
		msg        string
	}{
		{"unknown agent", `{"agent":"nobody","call_id":"a@b","mode":"listen"}`, 404, `no agent named "nobody"`},
		{"a supervisor", `{"agent":"sv1","call_id":"a@b","mode":"listen"}`, 404, `no agent named "sv1"`},
		{"bad mode", `{"agent":"agent1","call_id":"a@b","mode":"record"}`, 400, "listen, whisper or barge"},
		{"no call", `{"agent":"agent1","mode":"listen"}`, 400, "call_id"},
		{"space in call id", `{"agent":"agent1","call_id":"a b","mode":"listen"}`, 400, "visible ASCII"},
		{"no agent", `{"call_id":"a@b","mode":"listen"}`, 400, "agent"},
	} {
		status, _, eb := rawCall(t, crm, "POST", "/v1/monitor/grants", bearer, "", []byte(tc.body))
		if status != tc.status || !strings.Contains(eb.Error.Message, tc.msg) {
			t.Errorf("%s: %d %+v, want %d %q", tc.name, status, eb, tc.status, tc.msg)
		}
	}
}
