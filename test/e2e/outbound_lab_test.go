package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/keymap"
	"github.com/opdesk/opdesk/test/peers"
)

// The outbound lab: Kamailio as the team's PBX, four sipp gateways standing
// for the customers' lines (one answers and hangs up 1.5 s later, one rings
// until cancelled, one is busy, one declines), each reached by a number
// prefix as a PBX reaches carriers, and the reference CRM as its own process.

// gwKind is how a gateway's lines behave.
type gwKind int

const (
	gwAnswer gwKind = iota
	gwRing
	gwBusy
	gwReject
)

var gwScenario = [...]string{gwAnswer: "uas_answer_bye", gwRing: "uas_ring_cancel", gwBusy: "uas_busy", gwReject: "uas_decline"}

// gwNumber is line i of gateway k, as a Japanese list has it: 03-555K-IIII
// (K = k+1), dialed as 0355 5K IIII.
func gwNumber(k gwKind, i int) string { return fmt.Sprintf("03-555%d-%04d", int(k)+1, i) }

// dialed is the national number without separators, as the PBX gets it.
func dialed(number string) string { return strings.ReplaceAll(number, "-", "") }

type outboundLab struct {
	t   testing.TB
	k   *peers.Kamailio
	gws [4]*peers.Sipp
	crm *CRM
	sv  *crmclient.Client
	db  *sql.DB // a read-only look at the CRM's leads
}

func startOutboundLab(t testing.TB) *outboundLab {
	t.Helper()
	peers.Require(t, "tmux", "kamailio", "sipp")
	lab := &outboundLab{t: t}
	var routes []peers.Route
	for k, sc := range gwScenario {
		lab.gws[k] = peers.StartSipp(t, peers.SippOptions{Scenario: sc, Args: []string{"-m", "10000"}})
		routes = append(routes, peers.Route{Prefix: fmt.Sprintf("03555%d", k+1), Target: lab.gws[k].Addr()})
	}
	lab.k = peers.StartKamailio(t, peers.KamailioOptions{Routes: routes})
	lab.crm = StartCRM(t, 50)
	ctx := ctxT(t, time.Minute)
	sv, err := crmclient.New(lab.crm.URL, crmclient.WithDefaultRegion("JP"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sv.Login(ctx, "sv1", "sv1-demo"); err != nil {
		t.Fatal(err)
	}
	lab.sv = sv
	db, err := sql.Open("sqlite", "file:"+lab.crm.DB+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	lab.db = db
	return lab
}

// campaign defines an outbound campaign as a supervisor does, over HTTP.
// Results: 1 interested (success), 2 not interested, 3 refused — never
// call again.
func (lab *outboundLab) campaign(id, name string, w crmclient.CallingWindow, retry crmclient.RetryPolicy) {
	lab.t.Helper()
	c := crmclient.Campaign{ID: id, Name: name, Direction: crmclient.Outbound, CallerID: "+81345670000",
		Window: w, Retry: retry,
		Disposition: crmclient.DispositionSchema{Results: []crmclient.ResultCode{
			{Code: "interested", Label: "Interested", LabelJA: "興味あり", Flags: []crmclient.ResultFlag{crmclient.FlagSuccess}},
			{Code: "not_interested", Label: "Not interested", LabelJA: "興味なし"},
			{Code: "refused", Label: "Refused — never call again", LabelJA: "今後の勧誘お断り",
				Flags: []crmclient.ResultFlag{crmclient.FlagRefusedNeverCall}},
		}}}
	if _, err := lab.sv.CreateCampaign(ctxT(lab.t, 10*time.Second), c); err != nil {
		lab.t.Fatalf("campaign %s: %v", id, err)
	}
}

var allDay = crmclient.CallingWindow{Start: "00:00", End: "24:00", TimeZone: "Asia/Tokyo"}

// user creates an operator with `opdesk crm user add`, password NAME-pass.
func (lab *outboundLab) user(name string, campaigns ...string) {
	lab.t.Helper()
	cmd := exec.Command(opdeskBin, "crm", "user", "add", name, "--campaigns", strings.Join(campaigns, ","),
		"--db", "sqlite:"+lab.crm.DB)
	cmd.Env = append(os.Environ(), "OPDESK_NEW_PASSWORD="+name+"-pass")
	if out, err := cmd.CombinedOutput(); err != nil {
		lab.t.Fatalf("crm user add %s: %v: %s", name, err, out)
	}
}

// listRow is one row of a call list: a name and a number.
type listRow struct{ name, number string }

// importList imports rows into campaign with `opdesk crm import` from a CSV
// file, as a list kept in Excel would come.
func (lab *outboundLab) importList(campaign string, rows []listRow) {
	lab.t.Helper()
	var b strings.Builder
	b.WriteString("氏名,電話番号\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%s,%s\n", r.name, r.number)
	}
	path := filepath.Join(lab.t.TempDir(), campaign+".csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		lab.t.Fatal(err)
	}
	out, err := exec.Command(opdeskBin, "crm", "import", path, "--campaign", campaign, "--db", "sqlite:"+lab.crm.DB).CombinedOutput()
	if err != nil {
		lab.t.Fatalf("crm import: %v: %s", err, out)
	}
	if got := lab.leads(campaign); len(got) != len(rows) {
		lab.t.Fatalf("import: %d leads in %s, want %d\n%s", len(got), campaign, len(rows), out)
	}
}

// leadState is a lead as the CRM stores it.
type leadState struct {
	id, phone, status, lastResult string
	attempts                      int
}

// leads reads a campaign's leads, keyed by the national number dialed.
func (lab *outboundLab) leads(campaign string) map[string]leadState {
	lab.t.Helper()
	rows, err := lab.db.Query(`SELECT id, phone, status, attempts, last_result FROM leads WHERE campaign_id = ?`, campaign)
	if err != nil {
		lab.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]leadState{}
	for rows.Next() {
		var l leadState
		if err := rows.Scan(&l.id, &l.phone, &l.status, &l.attempts, &l.lastResult); err != nil {
			lab.t.Fatal(err)
		}
		out["0"+strings.TrimPrefix(l.phone, "+81")] = l
	}
	return out
}

// settled reports whether no lead of campaign can be called any more.
func (lab *outboundLab) settled(campaign string) bool {
	for _, l := range lab.leads(campaign) {
		if l.status == string(crmclient.LeadOpen) || l.status == string(crmclient.LeadCallback) {
			return false
		}
	}
	return true
}

// invite is one INVITE a gateway received.
type invite struct {
	number, from, pai string
	at                time.Time
}

// invites lists the INVITEs the gateways received (retransmissions folded
// by Call-ID), oldest first.
func (lab *outboundLab) invites() []invite {
	seen := map[string]bool{}
	var out []invite
	for _, gw := range lab.gws {
		for _, m := range gw.ReceivedRequests("INVITE") {
			cid := m.Header("Call-ID")
			if seen[cid] {
				continue
			}
			seen[cid] = true
			from := m.Header("From")
			if i := strings.Index(from, "sip:"); i >= 0 {
				from = from[i+4:]
				from, _, _ = strings.Cut(from, "@")
			}
			out = append(out, invite{number: m.RequestUser(), from: from, pai: m.Header("P-Asserted-Identity"), at: m.At})
		}
	}
	slices.SortFunc(out, func(a, b invite) int { return a.at.Compare(b.at) })
	return out
}

// desk starts user's desktop (English, 160×48) with extra config and waits
// until it is registered.
func (lab *outboundLab) desk(user, extra string) *Screen {
	lab.t.Helper()
	cfg, logPath := deskConfig(lab.t, lab.k, lab.crm.URL, deskOptions{SIPUser: user, CRMUser: user, Lang: "en", Extra: extra})
	scr := StartScreen(lab.t, ScreenOptions{Config: cfg, LogPath: logPath,
		Env: []string{"OPDESK_SIP_PASSWORD=" + password, "OPDESK_CRM_PASSWORD=" + user + "-pass"}})
	scr.WaitFor(15*time.Second, "registered")
	return scr
}

// enterCampaign opens the campaign picker with the bound key and picks the
// row of campaign id among the user's outbound campaigns (by id, as the CRM
// lists them; "leave" comes first while one is worked).
func enterCampaign(t testing.TB, scr *Screen, mine []string, id, name string, working bool) {
	t.Helper()
	slices.Sort(mine)
	row := slices.Index(mine, id)
	if working {
		row++
	}
	scr.Press(keymap.Campaign, keymap.Idle)
	scr.WaitFor(5*time.Second, "Outbound campaigns")
	for range row {
		scr.Press(keymap.Down, keymap.List)
	}
	scr.Press(keymap.Select, keymap.List)
	// The campaign pane (its name first) replaces the picker.
	deadline := time.Now().Add(5 * time.Second)
	for s := scr.Capture(); strings.Contains(s, "Outbound campaigns") || !strings.Contains(s, name); s = scr.Capture() {
		if time.Now().After(deadline) {
			t.Fatalf("campaign %s not entered; screen:\n%s", name, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wrapBot is the operator's hands on one desktop: when the wrap-up form is
// on screen it finds which lead the call was (by the name on the card),
// presses that lead's result key and saves — and counts the keys.
type wrapBot struct {
	t       testing.TB
	scr     *Screen
	results map[string]int // lead name → result number (1–9)
	keys    int
	saves   []time.Time // when each save key was sent
	done    []string    // lead names wrapped up, in order
}

var resultKeys = []keymap.Action{keymap.Result1, keymap.Result2, keymap.Result3, keymap.Result4, keymap.Result5,
	keymap.Result6, keymap.Result7, keymap.Result8, keymap.Result9}

// step handles the form if it is on screen now.
func (b *wrapBot) step() {
	b.t.Helper()
	s := b.scr.Capture()
	if !strings.Contains(s, "Wrap-up") || !strings.Contains(s, "1. Interested") {
		return
	}
	name := ""
	for n := range b.results {
		if strings.Contains(s, n) {
			name = n
		}
	}
	if name == "" {
		b.t.Fatalf("a wrap-up form for a lead the test did not answer:\n%s", s)
	}
	b.scr.Press(resultKeys[b.results[name]-1], keymap.Form)
	at := time.Now()
	b.scr.Press(keymap.Save, keymap.Form)
	b.keys += 2
	b.saves = append(b.saves, at)
	b.done = append(b.done, name)
	deadline := time.Now().Add(5 * time.Second)
	for strings.Contains(b.scr.Capture(), "1. Interested") {
		if time.Now().After(deadline) {
			b.t.Fatalf("the form for %s stayed open after the save:\n%s", name, b.scr.Capture())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runUntil steps the bots until every campaign is settled, or fails at the
// deadline with the leads still open.
func (lab *outboundLab) runUntil(d time.Duration, campaigns []string, bots ...*wrapBot) {
	lab.t.Helper()
	deadline := time.Now().Add(d)
	var lastCheck time.Time
	for {
		for _, b := range bots {
			b.step()
		}
		if time.Since(lastCheck) > 500*time.Millisecond {
			lastCheck = time.Now()
			done := true
			for _, c := range campaigns {
				done = done && lab.settled(c)
			}
			if done {
				return
			}
		}
		if time.Now().After(deadline) {
			for _, c := range campaigns {
				lab.t.Logf("%s: %+v", c, lab.leads(c))
			}
			lab.t.Fatalf("campaigns %v not settled within %v", campaigns, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// saveToInvite is, for each save, the time until the next INVITE any gateway
// received, minus the countdown: the desktop's share of getting the next
// lead on the line. Sorted.
func saveToInvite(saves []time.Time, invites []invite, countdown time.Duration) []time.Duration {
	var gaps []time.Duration
	for _, s := range saves {
		for _, inv := range invites {
			if inv.at.After(s) {
				gaps = append(gaps, inv.at.Sub(s)-countdown)
				break
			}
		}
	}
	slices.Sort(gaps)
	return gaps
}

// ctxFor is a context for one CRM call in a test.
func ctxFor(t testing.TB) context.Context { return ctxT(t, 10*time.Second) }
