package e2e

import (
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/keymap"
	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/test/peers"
)

// supervisorLab is a call between a customer (baresip, 600 Hz) and an
// operator (the desktop in tmux as agent1, SIP user 1001, sending 900 Hz and
// writing what they hear to op.wav), both through Kamailio, and a supervisor
// (the desktop as sv1, SIP user 2001, sending 1200 Hz into sv.wav) on the
// wallboard, with the reference CRM as its own process.
type supervisorLab struct {
	k          *peers.Kamailio
	crm        *CRM
	sv         *crmclient.Client
	customer   *peers.Baresip
	op, svScr  *Screen
	opWAV      string
	svWAV      string
	answeredAt time.Time // the operator answered: op.wav and baresip's dump start about here
	callSIPID  string
	opConfig   string // the operator's config file (its control socket is beside it)
}

func startSupervisorLab(t testing.TB) *supervisorLab {
	t.Helper()
	peers.Require(t, "tmux", "kamailio", "baresip")
	ctx := ctxT(t, time.Minute)
	lab := &supervisorLab{k: peers.StartKamailio(t, peers.KamailioOptions{}), crm: StartCRM(t, 50)}
	sv, err := crmclient.New(lab.crm.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sv.Login(ctx, "sv1", "sv1-demo"); err != nil {
		t.Fatal(err)
	}
	lab.sv = sv
	dir := t.TempDir()
	lab.opWAV, lab.svWAV = filepath.Join(dir, "op.wav"), filepath.Join(dir, "sv.wav")
	opCfg, opLog := deskConfig(t, lab.k, lab.crm.URL, deskOptions{SIPUser: "1001", CRMUser: "agent1", Lang: "en",
		Output: "file:" + lab.opWAV})
	lab.opConfig = opCfg
	lab.op = StartScreen(t, ScreenOptions{Config: opCfg, LogPath: opLog,
		Env: []string{"OPDESK_SIP_PASSWORD=" + password, "OPDESK_CRM_PASSWORD=agent1-demo"}})
	svCfg, svLog := deskConfig(t, lab.k, lab.crm.URL, deskOptions{SIPUser: "2001", CRMUser: "sv1", Lang: "en",
		Input: "tone:1200", Output: "file:" + lab.svWAV})
	lab.svScr = StartScreen(t, ScreenOptions{Config: svCfg, LogPath: svLog,
		Env: []string{"OPDESK_SIP_PASSWORD=" + password, "OPDESK_CRM_PASSWORD=sv1-demo"}})
	lab.op.WaitFor(15*time.Second, "registered")
	lab.svScr.WaitFor(15*time.Second, "registered", "Wallboard", "山田 花子")
	// The operator goes ready: the desktop posts its state with its SIP
	// address, which the supervisor's desktop calls for peer monitoring.
	lab.op.Press(keymap.Ready, keymap.Idle)

	lab.customer = peers.StartBaresip(t, peers.BaresipOptions{User: "0312345678", Registrar: lab.k, Source: "ausine,600"})
	if err := lab.customer.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	if err := lab.customer.Dial(lab.k.AOR("1001")); err != nil {
		t.Fatal(err)
	}
	lab.op.WaitFor(10*time.Second, "Call from")
	lab.op.Press(keymap.Answer, keymap.Ringing)
	lab.answeredAt = time.Now()
	if _, err := lab.customer.WaitEvent(ctx, "CALL_ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
	// The call is on the wallboard (the operator's desktop announced it).
	lab.svScr.WaitFor(5*time.Second, "in  03-1234-5678")
	w, err := sv.Wallboard(ctx, "", 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range w.Agents {
		if a.Agent == "agent1" && a.Call != nil {
			lab.callSIPID = a.Call.CallID
		}
	}
	if lab.callSIPID == "" {
		t.Fatalf("agent1's call is not in the CRM: %+v", w.Agents)
	}
	return lab
}

// TestSupervisorMonitoring: the supervisor listens, whispers and barges in
// from the wallboard (peer monitoring: a CRM grant, an INVITE to the
// operator's desktop through Kamailio), and each party hears exactly what
// the mode says; the supervisor leaving leaves the customer call up. Grants
// that are forged, expired, replayed or for another agent are refused with
// 403 and the operator sees nothing of them.
func TestSupervisorMonitoring(t *testing.T) {
	lab := startSupervisorLab(t)
	t.Run("refused grants", func(t *testing.T) { lab.refusedGrants(t) })

	var at [4]time.Time // listen, whisper, barge, left
	lab.svScr.Press(keymap.Listen, keymap.Board)
	lab.op.WaitFor(10*time.Second, "SV sv1: listening")
	at[0] = time.Now()
	time.Sleep(3 * time.Second)
	lab.svScr.Press(keymap.Whisper, keymap.Board)
	lab.op.WaitFor(5*time.Second, "SV sv1: whispering")
	at[1] = time.Now()
	time.Sleep(3 * time.Second)
	lab.svScr.Press(keymap.Barge, keymap.Board)
	lab.op.WaitFor(5*time.Second, "SV sv1: in the call")
	at[2] = time.Now()
	time.Sleep(3 * time.Second)
	lab.svScr.Press(keymap.Hangup, keymap.Call)
	deadline := time.Now().Add(5 * time.Second)
	for strings.Contains(lab.op.Capture(), "SV sv1") {
		if time.Now().After(deadline) {
			t.Fatalf("the indicator stays after the supervisor left:\n%s", lab.op.Capture())
		}
		time.Sleep(20 * time.Millisecond)
	}
	at[3] = time.Now()
	time.Sleep(3 * time.Second)
	for _, ev := range lab.customer.History() {
		if ev.Type == "CALL_CLOSED" {
			t.Fatalf("the customer call ended when the supervisor left")
		}
	}
	end := time.Now()
	lab.op.Press(keymap.Hangup, keymap.Call)
	if _, err := lab.customer.WaitEvent(ctxT(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the WAVs are closed

	opEar := readSignal(t, "operator's ear", lab.opWAV)
	svEar := readSignal(t, "supervisor's ear", lab.svWAV)
	dumps := lab.customer.ReceivedDumps()
	customerEar := readSignal(t, "customer's ear", mustOne(t, dumps))
	// window cuts the part of a recording that started at start between
	// from and to, with a margin for the switch and the jitter buffers.
	window := func(s []int16, start, from, to time.Time) []int16 {
		a := int(from.Sub(start).Seconds()*8000) + 6000
		b := int(to.Sub(start).Seconds()*8000) - 2000
		a, b = max(0, min(a, len(s))), max(0, min(b, len(s)))
		if b-a < 8000 {
			t.Fatalf("a window of %d samples (%v → %v, recording %d)", b-a, from, to, len(s))
		}
		return s[a:b]
	}
	type hears struct {
		who    string
		s      []int16
		hz     float64
		heard  bool
		period int
	}
	phases := []string{"listen", "whisper", "barge", "after the supervisor left"}
	var checks []hears
	for p := range 4 {
		from, to := at[p], end
		if p < 3 {
			to = at[p+1]
		}
		op := window(opEar, lab.answeredAt, from, to)
		cu := window(customerEar, lab.answeredAt, from, to)
		checks = append(checks,
			hears{"the operator", op, 600, true, p},
			hears{"the operator", op, 1200, p == 1 || p == 2, p},
			hears{"the customer", cu, 900, true, p},
			hears{"the customer", cu, 1200, p == 2, p})
		if p < 3 {
			sv := window(svEar, at[0], from, to)
			checks = append(checks, hears{"the supervisor", sv, 600, true, p}, hears{"the supervisor", sv, 900, true, p})
		}
	}
	for _, c := range checks {
		share := toneShare(c.s, c.hz)
		switch {
		case c.heard && share < 0.1:
			t.Errorf("%s: %s should hear %.0f Hz, share %.3f", phases[c.period], c.who, c.hz, share)
		case !c.heard && share > 0.02:
			t.Errorf("%s: %s must not hear %.0f Hz, share %.3f", phases[c.period], c.who, c.hz, share)
		}
	}
	t.Logf("shares of 1200 Hz (the supervisor): operator listen/whisper/barge/left %.3f %.3f %.3f %.3f; customer %.3f %.3f %.3f %.3f",
		toneShare(window(opEar, lab.answeredAt, at[0], at[1]), 1200), toneShare(window(opEar, lab.answeredAt, at[1], at[2]), 1200),
		toneShare(window(opEar, lab.answeredAt, at[2], at[3]), 1200), toneShare(window(opEar, lab.answeredAt, at[3], end), 1200),
		toneShare(window(customerEar, lab.answeredAt, at[0], at[1]), 1200), toneShare(window(customerEar, lab.answeredAt, at[1], at[2]), 1200),
		toneShare(window(customerEar, lab.answeredAt, at[2], at[3]), 1200), toneShare(window(customerEar, lab.answeredAt, at[3], end), 1200))
}

// refusedGrants sends monitor INVITEs to the operator's desktop from a phone
// of the test's own, with grants that must all be refused (403), and one
// real grant used twice: the second use is refused. The operator sees none
// of it: no ringing, no indicator.
func (lab *supervisorLab) refusedGrants(t *testing.T) {
	ctx := ctxT(t, time.Minute)
	intruder, events := callerIDPhone(t, lab.k, "3001")
	if _, err := lab.sv.MonitorKey(ctx); err != nil { // the CRM makes its key on first use
		t.Fatal(err)
	}
	priv, keyID := crmKey(t, lab.crm.DB)
	now := time.Now()
	claims := func(agent string, iat, exp time.Time) crmclient.GrantClaims {
		id := make([]byte, 16)
		_, _ = rand.Read(id)
		return crmclient.GrantClaims{ID: base64.RawURLEncoding.EncodeToString(id), KeyID: keyID, Supervisor: "sv1",
			Agent: agent, CallID: lab.callSIPID, Mode: crmclient.MonitorListen, IssuedAt: iat.Unix(), ExpiresAt: exp.Unix()}
	}
	sign := func(k ed25519.PrivateKey, c crmclient.GrantClaims) string {
		g, err := crmclient.EncodeGrant(k, c)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	_, forger, _ := ed25519.GenerateKey(rand.Reader)
	real, err := lab.sv.CreateMonitorGrant(ctx, crmclient.GrantRequest{Agent: "agent1", CallID: lab.callSIPID, Mode: crmclient.MonitorListen})
	if err != nil {
		t.Fatal(err)
	}
	try := func(what, grant string, want int) {
		t.Helper()
		id, err := intruder.DialWith(ctx, "1001", sip.DialOptions{Grant: grant})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if want == 200 {
			callerIDEvent(t, events, id, sip.EvAnswered, 5*time.Second)
			if _, err := intruder.Hangup(id); err != nil {
				t.Fatal(err)
			}
			callerIDEvent(t, events, id, sip.EvEnded, 5*time.Second)
			return
		}
		ev := callerIDEvent(t, events, id, sip.EvEnded, 5*time.Second)
		if ev.Code != want {
			t.Errorf("%s: ended with %d (%s), want %d", what, ev.Code, ev.Text, want)
		}
	}
	try("forged (another key)", sign(forger, claims("agent1", now, now.Add(30*time.Second))), 403)
	try("expired", sign(priv, claims("agent1", now.Add(-2*time.Minute), now.Add(-time.Minute))), 403)
	try("for another agent", sign(priv, claims("agent2", now, now.Add(30*time.Second))), 403)
	try("garbage", "not-a-grant", 403)
	try("the real grant", real.Grant, 200)
	try("the real grant again (replayed)", real.Grant, 403)
	if s := lab.op.Capture(); strings.Contains(s, "Call from") || strings.Contains(s, "RINGING") {
		t.Errorf("the operator was disturbed:\n%s", s)
	}
}

// crmKey reads the CRM's monitor signing key from its database, so the test
// can sign grants the CRM would never issue (expired, for another agent).
func crmKey(t *testing.T, dbPath string) (ed25519.PrivateKey, string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var seed []byte
	var keyID string
	if err := db.QueryRow(`SELECT private_key, key_id FROM monitor_keys WHERE id = 1`).Scan(&seed, &keyID); err != nil {
		t.Fatal(err)
	}
	return ed25519.NewKeyFromSeed(seed), keyID
}

// TestWallboardLive: two operators change state and the supervisor's
// wallboard shows it within a second; after a CRM restart it reconnects by
// itself and goes on doing so.
func TestWallboardLive(t *testing.T) {
	peers.Require(t, "tmux", "kamailio")
	k := peers.StartKamailio(t, peers.KamailioOptions{})
	crm := StartCRM(t, 50)
	desk := func(sip, user, pw string) *Screen {
		cfg, logPath := deskConfig(t, k, crm.URL, deskOptions{SIPUser: sip, CRMUser: user, Lang: "en"})
		s := StartScreen(t, ScreenOptions{Config: cfg, LogPath: logPath,
			Env: []string{"OPDESK_SIP_PASSWORD=" + password, "OPDESK_CRM_PASSWORD=" + pw}})
		s.WaitFor(15*time.Second, "registered")
		return s
	}
	sv := desk("2001", "sv1", "sv1-demo")
	a1 := desk("1001", "agent1", "agent1-demo")
	a2 := desk("1002", "agent2", "agent2-demo")
	sv.WaitFor(10*time.Second, "● live", "山田 花子", "鈴木 一郎")

	// rowShows waits until the agent's row says want and returns how long
	// it took from the key press.
	rowShows := func(name, want string, pressed time.Time) time.Duration {
		t.Helper()
		deadline := pressed.Add(5 * time.Second)
		for {
			for _, l := range strings.Split(sv.Capture(), "\n") {
				if strings.Contains(l, name) && strings.Contains(l, want) {
					return time.Since(pressed)
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s's row never said %q:\n%s", name, want, sv.Capture())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	check := func(what string, d time.Duration) {
		t.Helper()
		t.Logf("%s: on the wallboard %v after the key", what, d.Round(time.Millisecond))
		if d > time.Second {
			t.Errorf("%s took %v to reach the wallboard, want ≤ 1 s", what, d)
		}
	}
	pressed := time.Now()
	a2.Press(keymap.Ready, keymap.Idle)
	check("agent2 ready", rowShows("鈴木 一郎", "Ready", pressed))
	a1.Press(keymap.NotReady, keymap.Idle)
	pressed = time.Now()
	a1.Press(keymap.Select, keymap.List) // the first reason: break
	check("agent1 not ready (break)", rowShows("山田 花子", "Not ready: break", pressed))

	// The CRM restarts. The wallboard says it is reconnecting, comes back
	// by itself, and changes reach it within a second again.
	crm.Stop()
	sv.WaitFor(15*time.Second, "reconnecting")
	crm.Start()
	sv.WaitFor(40*time.Second, "● live")
	pressed = time.Now()
	a1.Press(keymap.Ready, keymap.Idle)
	check("agent1 ready after the CRM restart", rowShows("山田 花子", "Ready", pressed))
	pressed = time.Now()
	a2.Press(keymap.NotReady, keymap.Idle)
	a2.Press(keymap.Down, keymap.List)
	a2.Press(keymap.Select, keymap.List) // lunch
	check("agent2 not ready (lunch) after the restart", rowShows("鈴木 一郎", "Not ready: lunch", pressed))
}
