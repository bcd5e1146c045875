package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmserver"
	"github.com/opdesk/opdesk/keymap"
	"github.com/opdesk/opdesk/test/peers"
	"github.com/opdesk/opdesk/test/secrets"
)

// CRM is the reference CRM server as its own process (`opdesk crm serve`)
// on a seeded SQLite file.
type CRM struct {
	t      testing.TB
	URL    string
	DB     string
	listen string
	cmd    *exec.Cmd
	out    bytes.Buffer
}

// StartCRM seeds a database with n customers and serves it.
func StartCRM(t testing.TB, n int) *CRM {
	t.Helper()
	c := &CRM{t: t, DB: filepath.Join(t.TempDir(), "crm.db")}
	c.listen = fmt.Sprintf("127.0.0.1:%d", peers.FreeTCPPort(t))
	// Clients reach it through a proxy that records the bearer tokens the
	// CRM issues, for the secrets check (the CRM stores only their hashes).
	c.URL = secrets.RecordingProxy(t, "http://"+c.listen)
	seed := exec.Command(opdeskBin, "crm", "seed", "--db", "sqlite:"+c.DB, "--customers", fmt.Sprint(n))
	if out, err := seed.CombinedOutput(); err != nil {
		t.Fatalf("crm seed: %v: %s", err, out)
	}
	t.Cleanup(func() { secrets.Save(t, "crm-serve", c.out.Bytes()) }) // after Stop: cleanups run last first
	c.Start()
	t.Cleanup(c.Stop)
	return c
}

// Start serves the database (again, after Stop).
func (c *CRM) Start() {
	c.t.Helper()
	c.cmd = exec.Command(opdeskBin, "crm", "serve", "--db", "sqlite:"+c.DB, "--listen", c.listen)
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	if err := c.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + c.listen + "/openapi.json") // the server itself, not the proxy's 502
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the CRM did not come up: %v\n%s", err, c.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the server (the CRM "goes down").
func (c *CRM) Stop() {
	if c.cmd != nil && c.cmd.Process != nil {
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
		c.cmd = nil
	}
}

// Client is a logged-in client as agent1.
func (c *CRM) Client(ctx context.Context) *crmclient.Client {
	c.t.Helper()
	cl, err := crmclient.New(c.URL, crmclient.WithDefaultRegion("JP"))
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := cl.Login(ctx, "agent1", "agent1-demo"); err != nil {
		c.t.Fatal(err)
	}
	return cl
}

// Callers returns numbers (E.164) of customers with orders and history.
func (c *CRM) Callers(ctx context.Context, n int) []string {
	c.t.Helper()
	st, err := crmserver.Open(ctx, "sqlite:"+c.DB)
	if err != nil {
		c.t.Fatal(err)
	}
	defer st.Close()
	nums, err := st.DemoCallers(ctx, n)
	if err != nil || len(nums) < n {
		c.t.Fatalf("callers: %v (%d)", err, len(nums))
	}
	return nums
}

// national writes +81312345678 as 0312345678, the way a Japanese caller ID
// arrives.
func national(t testing.TB, e164 string) string {
	num, err := phonenumbers.Parse(e164, "JP")
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer("-", "", " ", "", "(", "", ")", "").Replace(phonenumbers.Format(num, phonenumbers.NATIONAL))
}

// desktopConfig writes the config of an operator's desktop: SIP user
// "operator", CRM user agent1.
func desktopConfig(t testing.TB, k *peers.Kamailio, crmURL, lang string) (path, logPath string) {
	return deskConfig(t, k, crmURL, deskOptions{SIPUser: "operator", CRMUser: "agent1", Lang: lang})
}

// deskOptions are the parts of a desktop's config that tests vary.
type deskOptions struct {
	SIPUser, CRMUser, Lang string
	Input, Output          string // audio.input and audio.output (default tone:900 and null)
	Extra                  string // more TOML sections, appended
}

// deskConfig writes a desktop's config file (tone:900 in, null out, debug
// log); its control socket is ctl.sock beside it.
func deskConfig(t testing.TB, k *peers.Kamailio, crmURL string, o deskOptions) (path, logPath string) {
	dir := t.TempDir()
	if o.Input == "" {
		o.Input = "tone:900"
	}
	if o.Output == "" {
		o.Output = "null"
	}
	logPath = filepath.Join(dir, "opdesk.log")
	cfg := fmt.Sprintf(`[sip]
user = %q
registrar = %q
listen = "127.0.0.1:%d"

[audio]
input = %q
output = %q

[crm]
url = %q
user = %q
company = "オプデスク通販"

[ui]
lang = %q

[ctl]
socket = %q

[log]
file = %q
level = "debug"
%s`, o.SIPUser, k.URI(), peers.FreePort(t), o.Input, o.Output, crmURL, o.CRMUser, o.Lang, filepath.Join(dir, "ctl.sock"), logPath, o.Extra)
	path = filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, logPath
}

// TestDesktopInboundCall is an operator's inbound call from start to
// finish, on the real binary in tmux, with Kamailio, baresip as the
// customer and the reference CRM: the card (name, last order) is on screen
// while it still rings, the operator answers with the bound key, follows a
// script branch, ticks the checklist, hangs up, fills the wrap-up form and
// saves; the disposition with its notes lands in the customer's history.
// Then the CRM goes down and the next call still pops the last known card
// within a second and can be answered.
func TestDesktopInboundCall(t *testing.T) {
	peers.Require(t, "tmux", "kamailio", "baresip")
	ctx := ctxT(t, 3*time.Minute)
	k := peers.StartKamailio(t, peers.KamailioOptions{})
	crm := StartCRM(t, 300)
	client := crm.Client(ctx)
	e164 := crm.Callers(ctx, 1)[0]
	card, err := client.ScreenPop(ctx, e164)
	if err != nil || len(card.Customers) != 1 || len(card.Orders) == 0 {
		t.Fatalf("seeded caller %s: %v, %d customers, %d orders", e164, err, len(card.Customers), len(card.Orders))
	}
	cust := card.Customers[0]
	lastItem := card.Orders[0].Items[0].Name
	script := inboundScript(ctx, t, client)

	cfgPath, logPath := desktopConfig(t, k, crm.URL, "en")
	scr := StartScreen(t, ScreenOptions{Config: cfgPath, LogPath: logPath,
		Env: []string{"OPDESK_SIP_PASSWORD=" + password, "OPDESK_CRM_PASSWORD=agent1-demo"}})
	scr.WaitFor(15*time.Second, "registered")

	b := peers.StartBaresip(t, peers.BaresipOptions{User: national(t, e164), Registrar: k, Source: "ausine,600"})
	if err := b.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Dial(k.AOR("operator")); err != nil {
		t.Fatal(err)
	}
	screen, took := scr.WaitFor(5*time.Second, cust.Name, lastItem)
	t.Logf("card on screen %v after the dial (name %s, last order's %s)", took.Round(time.Millisecond), cust.Name, lastItem)
	for _, ev := range b.History() {
		if ev.Type == "CALL_ESTABLISHED" {
			t.Fatalf("the call was answered before the card was seen:\n%s", screen)
		}
	}

	scr.Press(keymap.Answer, keymap.Ringing)
	if _, err := b.WaitEvent(ctx, "CALL_ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
	tickChecklist(t, scr, script)

	scr.Press(keymap.Hangup, keymap.Call)
	if _, err := b.WaitEvent(ctx, "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	// The wrap-up form: the first result ("Delivery inquiry"), then the
	// page with the order number and the notes.
	scr.WaitFor(5*time.Second, "Delivery inquiry")
	scr.SendKey("down")
	scr.SendKey("enter")
	time.Sleep(300 * time.Millisecond)
	scr.SendKey("enter") // order number: empty
	notes := fmt.Sprintf("e2e %d: お届け日の確認", time.Now().Unix())
	scr.Type(notes)
	time.Sleep(200 * time.Millisecond)
	scr.Press(keymap.Save, keymap.Form)
	scr.WaitFor(5*time.Second, "saved")

	deadline := time.Now().Add(10 * time.Second)
	for {
		calls, err := client.CallHistory(ctx, cust.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) > 0 && strings.Contains(calls[0].Notes, notes) {
			if calls[0].Disposition != "delivery" {
				t.Errorf("disposition %q, want delivery", calls[0].Disposition)
			}
			t.Logf("in the CRM: %s %s %q", calls[0].Direction, calls[0].Disposition, calls[0].Notes)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the wrap-up is not in the customer's history; newest: %+v", calls[:min(1, len(calls))])
		}
		time.Sleep(200 * time.Millisecond)
	}

	// The CRM goes down; the same customer calls again.
	scr.Press(keymap.Ready, keymap.Idle)
	crm.Stop()
	if err := b.Dial(k.AOR("operator")); err != nil {
		t.Fatal(err)
	}
	scr.WaitFor(5*time.Second, "Call from")
	_, took = scr.WaitFor(3*time.Second, "CRM unreachable", cust.Name)
	t.Logf("with the CRM down: last known card %v after the ring showed", took.Round(time.Millisecond))
	scr.Press(keymap.Answer, keymap.Ringing)
	if _, err := b.WaitEvent(ctx, "CALL_ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
	scr.Press(keymap.Hangup, keymap.Call)
	if _, err := b.WaitEvent(ctx, "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
}

// tickChecklist follows the script's first choice and ticks the required
// checklist items, without which the wrap-up cannot be saved.
func tickChecklist(t *testing.T, scr *Screen, script crmclient.Script) {
	t.Helper()
	start, _ := script.Node(script.Start)
	scr.WaitFor(5*time.Second, start.Title)
	if len(start.Choices) == 0 {
		t.Fatalf("the inbound script's first step has no choices: %+v", start)
	}
	next, _ := script.Node(start.Choices[0].Next)
	scr.Press(keymap.Choice1, keymap.Script)
	scr.WaitFor(5*time.Second, next.Title)
	// The cursor walks the step's choices, then the checklist.
	for range next.Choices {
		scr.Press(keymap.ChoiceDown, keymap.Script)
	}
	for _, item := range script.Checklist {
		if item.Required {
			scr.Press(keymap.Choose, keymap.Script)
		}
		scr.Press(keymap.ChoiceDown, keymap.Script)
	}
	time.Sleep(200 * time.Millisecond)
}

// inboundScript is the talk script of the first inbound campaign.
func inboundScript(ctx context.Context, t testing.TB, c *crmclient.Client) crmclient.Script {
	t.Helper()
	cs, err := c.Campaigns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, cp := range cs {
		if cp.Direction == crmclient.Inbound && cp.ScriptID != "" {
			s, err := c.GetScript(ctx, cp.ScriptID)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	t.Fatal("no inbound campaign with a script")
	return crmclient.Script{}
}
