package tui

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmclient/outbox"
	"github.com/opdesk/opdesk/keymap"
	"github.com/opdesk/opdesk/sip"
)

// campaignDesk is a desk with fixtureLeads queued and the outbound campaign
// entered through the picker, as an operator does (ctrl+o, enter).
func campaignDesk(t *testing.T, lang Lang, w, h int, mod ...func(*Options)) *desk {
	t.Helper()
	d := newDesk(t, lang, w, h, mod...)
	d.crm.leads = fixtureLeads()
	d.enterCampaign()
	if d.m.camp.lead == nil {
		t.Fatalf("no lead after entering the campaign:\n%s", ansi.Strip(d.screen()))
	}
	return d
}

// enterCampaign opens the picker with the bound key and picks the outbound
// campaign (the fixtures' only one).
func (d *desk) enterCampaign() {
	d.t.Helper()
	d.press(keymap.Campaign, keymap.Idle)
	if !d.m.picker.open {
		d.t.Fatalf("the campaign picker did not open:\n%s", ansi.Strip(d.screen()))
	}
	d.press(keymap.Select, keymap.List)
	if d.m.camp == nil {
		d.t.Fatalf("no campaign after picking it:\n%s", ansi.Strip(d.screen()))
	}
}

func (d *desk) phoneCalls(prefix string) []string {
	var out []string
	for _, c := range d.phone.Calls() {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// outboxItems decodes the outbox items of kind.
func outboxItems[T any](t *testing.T, d *desk, kind string) []T {
	t.Helper()
	var out []T
	for _, it := range d.ob.Items() {
		if it.Kind != kind {
			continue
		}
		var v T
		if err := json.Unmarshal(it.Body, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestCampaignPreviewDialsOnEnter(t *testing.T) {
	d := campaignDesk(t, LangJA, 160, 48)
	s := ansi.Strip(d.screen())
	for _, want := range []string{"定期便 乗り換えキャンペーン", "プレビュー発信", "佐藤　陽子", "03-1234-5678", "架電 0 / 3 回",
		"おすすめ商品: 薬用育毛ローション 120mL", "Enter で発信"} {
		if !strings.Contains(s, want) {
			t.Errorf("%q not on screen", want)
		}
	}
	if len(d.phoneCalls("dial")) != 0 {
		t.Fatalf("preview dialed by itself: %v", d.phone.Calls())
	}
	d.press(keymap.DialLead, keymap.Lead)
	got := d.phoneCalls("dialwith")
	want := "dialwith 0312345678 callerid=+81345670000 header= ring=30s"
	if len(got) != 1 || got[0] != want {
		t.Fatalf("dials %q, want [%q]", got, want)
	}
}

func TestCampaignProgressiveCountdown(t *testing.T) {
	d := campaignDesk(t, LangEN, 80, 24, func(o *Options) {
		o.Outbound = Outbound{Progressive: true, Countdown: 5 * time.Second, DialFormat: "e164"}
	})
	if s := ansi.Strip(d.screen()); !strings.Contains(s, "dialing in 5 s") {
		t.Fatalf("no countdown on screen:\n%s", s)
	}
	d.now = d.now.Add(3 * time.Second)
	if s := ansi.Strip(d.screen()); !strings.Contains(s, "dialing in 2 s") {
		t.Fatalf("countdown does not count:\n%s", s)
	}
	// Pause stops it: the due timer finds its sequence stale.
	r := d.m.camp
	due := dialDueMsg{r.gen, r.seq}
	d.press(keymap.Pause, keymap.Lead)
	d.send(due)
	if got := d.phoneCalls("dialwith"); len(got) != 0 {
		t.Fatalf("dialed while paused: %v", got)
	}
	if s := ansi.Strip(d.screen()); !strings.Contains(s, "PAUSED") {
		t.Fatalf("pause not shown:\n%s", s)
	}
	d.press(keymap.Pause, keymap.Lead)
	d.send(dialDueMsg{r.gen, r.seq})
	if got := d.phoneCalls("dialwith"); len(got) != 1 || !strings.HasPrefix(got[0], "dialwith +81312345678 ") {
		t.Fatalf("after resume and countdown: %v", got)
	}
}

// TestCampaignOutcomes: calls that reach nobody become automatic outcomes in
// the outbox, counted; the next lead comes on its own.
func TestCampaignOutcomes(t *testing.T) {
	cases := []struct {
		name   string
		events []sip.Event
		want   crmclient.AttemptOutcome
	}{
		{"ring timeout", []sip.Event{{Type: sip.EvRinging}, {Type: sip.EvEnded, Cause: sip.CauseNoAnswer, Code: 408}}, crmclient.OutcomeNoAnswer},
		{"busy", []sip.Event{{Type: sip.EvEnded, Cause: sip.CauseBusy, Code: 486}}, crmclient.OutcomeBusy},
		{"declined", []sip.Event{{Type: sip.EvRinging}, {Type: sip.EvEnded, Cause: sip.CauseDeclined, Code: 603}}, crmclient.OutcomeRejected},
		{"480 after ringing", []sip.Event{{Type: sip.EvRinging}, {Type: sip.EvEnded, Cause: sip.CauseUnavailable, Code: 480}}, crmclient.OutcomeNoAnswer},
		{"480 at once", []sip.Event{{Type: sip.EvEnded, Cause: sip.CauseUnavailable, Code: 480}}, crmclient.OutcomeUnreachable},
		{"404", []sip.Event{{Type: sip.EvEnded, Cause: sip.CauseNotFound, Code: 404}}, crmclient.OutcomeInvalidNumber},
		{"410", []sip.Event{{Type: sip.EvEnded, Cause: sip.CauseRejected, Code: 410}}, crmclient.OutcomeInvalidNumber},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := campaignDesk(t, LangEN, 80, 24)
			d.press(keymap.DialLead, keymap.Lead)
			d.event(sip.Event{Type: sip.EvDialing, CallID: "out-1", Remote: "sip:0312345678@pbx.example", Direction: "outbound"})
			for _, ev := range tc.events {
				ev.CallID = "out-1"
				d.event(ev)
			}
			items := outboxItems[crmclient.AttemptItem](t, d, outbox.KindAttempt)
			if len(items) != 1 || items[0].LeadID != "L1" || items[0].Outcome != tc.want {
				t.Fatalf("attempts in the outbox %+v, want L1 %s", items, tc.want)
			}
			if d.m.camp.lead == nil || d.m.camp.lead.ID != "L2" {
				t.Fatalf("next lead not on screen: %+v", d.m.camp.lead)
			}
			if k := d.crm.posted[len(d.crm.posted)-1]; k.Dialed != 1 || k.Connected != 0 || k.CampaignID != "teiki" || k.Day != "2025-06-18" {
				t.Fatalf("counters posted %+v", k)
			}
		})
	}
}

// TestCampaignOurFailurePauses: the PBX refusing us is not the lead's fault:
// no attempt, the dialer pauses and says why.
func TestCampaignOurFailurePauses(t *testing.T) {
	d := campaignDesk(t, LangEN, 160, 48, func(o *Options) { o.Outbound.Progressive = true })
	d.m.camp.stopCountdown()
	d.press(keymap.DialLead, keymap.Lead)
	d.event(sip.Event{Type: sip.EvDialing, CallID: "out-1", Remote: "sip:0312345678@pbx.example"})
	d.event(sip.Event{Type: sip.EvEnded, CallID: "out-1", Cause: sip.CauseForbidden, Code: 403, Text: "the PBX refused the call (403 Forbidden)"})
	if n := len(outboxItems[crmclient.AttemptItem](t, d, outbox.KindAttempt)); n != 0 {
		t.Fatalf("%d attempts recorded for our own failure", n)
	}
	if !d.m.camp.paused {
		t.Fatal("the dialer did not pause")
	}
	if s := ansi.Strip(d.screen()); !strings.Contains(s, "403 Forbidden") {
		t.Fatalf("the reason is not on the bar:\n%s", s)
	}
}

func TestCampaignAnsweredWrapUpTwoKeys(t *testing.T) {
	d := campaignDesk(t, LangJA, 80, 24, func(o *Options) { o.Outbound = Outbound{Progressive: true, Countdown: 0} })
	if got := d.phoneCalls("dialwith"); len(got) != 1 {
		t.Fatalf("countdown 0 should dial at once: %v", got)
	}
	d.event(sip.Event{Type: sip.EvDialing, CallID: "out-1", Remote: "sip:0312345678@pbx.example"})
	d.event(sip.Event{Type: sip.EvRinging, CallID: "out-1"})
	d.event(sip.Event{Type: sip.EvAnswered, CallID: "out-1"})
	d.now = d.now.Add(95 * time.Second)
	d.event(sip.Event{Type: sip.EvEnded, CallID: "out-1", Cause: sip.CauseRemoteHangup})
	if !d.m.wrapOpen {
		t.Fatal("no wrap-up form after the answered call")
	}
	// The operator's keys: result 2 (not interested), save.
	d.press(keymap.Result2, keymap.Form)
	d.press(keymap.Save, keymap.Form)
	ds := outboxItems[crmclient.DispositionInput](t, d, outbox.KindDisposition)
	if len(ds) != 1 || ds[0].Code != "not_interested" || ds[0].LeadID != "L1" || ds[0].CampaignID != "teiki" ||
		ds[0].Phone != "+81312345678" || ds[0].DurationSeconds != 95 {
		t.Fatalf("disposition %+v", ds)
	}
	// Progressive: the operator is ready and the next lead is dialed.
	if d.m.agent.state != crmclient.StatusReady {
		t.Errorf("agent state %s after the save, want ready", d.m.agent.state)
	}
	if got := d.phoneCalls("dialwith"); len(got) != 2 || !strings.HasPrefix(got[1], "dialwith 09012345678 ") {
		t.Fatalf("next lead not dialed: %v", got)
	}
	k := d.crm.posted[len(d.crm.posted)-1]
	if k.Dialed != 1 || k.Connected != 1 || k.TalkSeconds != 95 || k.Conversions != 0 {
		t.Fatalf("counters %+v", k)
	}
}

// TestCampaignRefusalBlocksNumber: a refusal puts the number out of reach at
// once, before the CRM has heard of it.
func TestCampaignRefusalBlocksNumber(t *testing.T) {
	d := newDesk(t, LangEN, 80, 24)
	leads := fixtureLeads()
	again := leads[0]
	again.ID = "L9" // the same number again (a second list row)
	d.crm.leads = []crmclient.Lead{leads[0], again}
	d.enterCampaign()
	d.press(keymap.DialLead, keymap.Lead)
	d.event(sip.Event{Type: sip.EvDialing, CallID: "out-1", Remote: "sip:0312345678@pbx.example"})
	d.event(sip.Event{Type: sip.EvAnswered, CallID: "out-1"})
	d.event(sip.Event{Type: sip.EvEnded, CallID: "out-1", Cause: sip.CauseRemoteHangup})
	d.press(keymap.Result4, keymap.Form) // refused — never call again
	d.press(keymap.Save, keymap.Form)
	if d.m.camp.lead != nil && d.m.camp.lead.ID == "L9" {
		d.press(keymap.DialLead, keymap.Lead)
	}
	if got := d.phoneCalls("dialwith"); len(got) != 1 {
		t.Fatalf("the refused number was dialed again: %v", got)
	}
	if len(d.crm.released) != 1 || !strings.HasPrefix(d.crm.released[0], "L9 ") {
		t.Fatalf("released %v, want L9", d.crm.released)
	}
}

func TestCampaignDNCAndWindowRefuse(t *testing.T) {
	t.Run("dnc", func(t *testing.T) {
		d := newDesk(t, LangEN, 80, 24)
		d.crm.leads = fixtureLeads()
		d.crm.dnc = map[string]crmclient.DNCEntry{"+81312345678": {DNC: true, Phone: "+81312345678", Kind: crmclient.DNCRefusedNeverCall}}
		d.enterCampaign()
		d.press(keymap.DialLead, keymap.Lead)
		if got := d.phoneCalls("dialwith"); len(got) != 0 {
			t.Fatalf("a DNC number was dialed: %v", got)
		}
		if s := ansi.Strip(d.screen()); !strings.Contains(s, "do-not-call") {
			t.Errorf("no refusal on screen:\n%s", s)
		}
		if d.m.camp.lead == nil || d.m.camp.lead.ID != "L2" {
			t.Fatalf("the next lead did not come: %+v", d.m.camp.lead)
		}
	})
	t.Run("crm down", func(t *testing.T) {
		d := campaignDesk(t, LangEN, 80, 24)
		d.crm.dncDown = true
		d.press(keymap.DialLead, keymap.Lead)
		if got := d.phoneCalls("dialwith"); len(got) != 0 {
			t.Fatalf("dialed without a DNC answer: %v", got)
		}
		if s := ansi.Strip(d.screen()); !strings.Contains(s, "cannot be checked") {
			t.Errorf("no refusal on screen:\n%s", s)
		}
	})
	t.Run("window", func(t *testing.T) {
		d := campaignDesk(t, LangJA, 160, 48)
		d.now = time.Date(2025, 6, 18, 21, 5, 0, 0, time.FixedZone("JST", 9*3600))
		d.press(keymap.DialLead, keymap.Lead)
		if got := d.phoneCalls("dialwith"); len(got) != 0 {
			t.Fatalf("dialed outside the window: %v", got)
		}
		s := ansi.Strip(d.screen())
		if !strings.Contains(s, "架電可能時間は 09:00–21:00 Asia/Tokyo です (現地は 21:05)") {
			t.Errorf("no refusal with the window on screen:\n%s", s)
		}
		if len(d.crm.released) != 1 || !strings.HasPrefix(d.crm.released[0], "L1 ") {
			t.Errorf("released %v, want L1", d.crm.released)
		}
	})
	t.Run("lead zone", func(t *testing.T) {
		d := newDesk(t, LangEN, 80, 24)
		l := fixtureLeads()[0]
		l.TimeZone = "America/New_York" // 01:30 there
		d.crm.leads = []crmclient.Lead{l}
		d.enterCampaign()
		d.press(keymap.DialLead, keymap.Lead)
		if got := d.phoneCalls("dialwith"); len(got) != 0 {
			t.Fatalf("dialed at night in the lead's zone: %v", got)
		}
		if s := ansi.Strip(d.screen()); !strings.Contains(s, "(it is 01:30 there now)") {
			t.Errorf("no refusal naming the lead's local time:\n%s", s)
		}
	})
}

func TestCampaignInvalidNumberIsAnOutcome(t *testing.T) {
	d := newDesk(t, LangEN, 80, 24)
	l := fixtureLeads()[0]
	l.Phone = "+8100"
	d.crm.leads = []crmclient.Lead{l, fixtureLeads()[1]}
	d.enterCampaign()
	d.press(keymap.DialLead, keymap.Lead)
	if got := d.phoneCalls("dialwith"); len(got) != 0 {
		t.Fatalf("an invalid number was dialed: %v", got)
	}
	items := outboxItems[crmclient.AttemptItem](t, d, outbox.KindAttempt)
	if len(items) != 1 || items[0].Outcome != crmclient.OutcomeInvalidNumber {
		t.Fatalf("attempts %+v", items)
	}
}

func TestCampaignSkipWithReason(t *testing.T) {
	d := campaignDesk(t, LangJA, 80, 24)
	d.press(keymap.SkipLead, keymap.Lead)
	if s := ansi.Strip(d.screen()); !strings.Contains(s, "スキップの理由") {
		t.Fatalf("no skip reasons:\n%s", s)
	}
	d.press(keymap.Down, keymap.List)
	d.press(keymap.Select, keymap.List)
	if len(d.crm.released) != 1 || d.crm.released[0] != "L1 check_first" {
		t.Fatalf("released %v", d.crm.released)
	}
	if d.m.camp.lead == nil || d.m.camp.lead.ID != "L2" {
		t.Fatalf("next lead %+v", d.m.camp.lead)
	}
}

func TestCampaignNoLeadsAsksAgainAtRetryAt(t *testing.T) {
	d := newDesk(t, LangEN, 80, 24)
	at := deskNow.Add(90 * time.Second)
	d.crm.leadErr = &crmclient.APIError{Status: 404, Code: crmclient.CodeNoLeads, Message: "no lead now", RetryAt: at}
	d.enterCampaign()
	s := ansi.Strip(d.screen())
	if !strings.Contains(s, "nothing to call now") || !strings.Contains(s, "the next is due at 14:31:30") ||
		!strings.Contains(s, "asking again at 14:30:30") {
		t.Fatalf("no wait with the CRM's time:\n%s", s)
	}
}

func TestCampaignCallbackNotice(t *testing.T) {
	d := newDesk(t, LangJA, 160, 48)
	d.crm.leads = fixtureLeads()
	d.crm.callbacks = []crmclient.Callback{
		{LeadID: "L7", CampaignID: "teiki", Phone: "+81355556666", Name: "鈴木　誠", Agent: "tanaka",
			Scope: crmclient.CallbackPersonal, DueAt: deskNow.Add(-time.Minute)},
		{LeadID: "L8", CampaignID: "teiki", Phone: "+81355557777", Name: "高橋　恵", Agent: "sato",
			Scope: crmclient.CallbackTeam, DueAt: deskNow.Add(-time.Hour), Missed: true},
	}
	d.enterCampaign()
	s := ansi.Strip(d.screen())
	for _, want := range []string{"再架電の時刻です: 鈴木　誠 (14:29)", "時刻到来 06/18 14:29 鈴木　誠 (自分)", "未対応 06/18 13:30 高橋　恵 (チーム)"} {
		if !strings.Contains(s, want) {
			t.Errorf("%q not on screen:\n%s", want, s)
		}
	}
}

func TestCampaignStatusBarCounters(t *testing.T) {
	d := newDesk(t, LangEN, 160, 48)
	d.crm.leads = fixtureLeads()
	d.crm.stored = crmclient.AgentCounters{Dialed: 10, Connected: 4, TalkSeconds: 600, Conversions: 1}
	d.enterCampaign()
	if s := ansi.Strip(d.screen()); !strings.Contains(s, "dialed 10  connected 4 (40%)  talk 10:00  conv 1") {
		t.Fatalf("the day's counters are not on the bar:\n%s", s)
	}
}

// TestCampaignManualDialChecksDNC: a number typed while working a campaign is
// checked like a lead's.
func TestCampaignManualDialChecksDNC(t *testing.T) {
	d := campaignDesk(t, LangEN, 80, 24)
	d.crm.dnc = map[string]crmclient.DNCEntry{"+81355551234": {DNC: true, Phone: "+81355551234", Kind: crmclient.DNCDoNotCall}}
	d.typeText("0355551234")
	d.press(keymap.DialLead, keymap.Lead)
	if got := d.phoneCalls("dial"); len(got) != 0 {
		t.Fatalf("dialed a DNC number by hand: %v", got)
	}
	d.typeText("0355550000")
	d.press(keymap.DialLead, keymap.Lead)
	if got := d.phoneCalls("dialwith"); len(got) != 1 || !strings.HasPrefix(got[0], "dialwith 0355550000 callerid=+81345670000") {
		t.Fatalf("manual dial %v", got)
	}
}

// TestCampaignPickedWhileRinging: a call that rings while the picker is open
// keeps its card when the campaign is picked; the lead waits for the call.
func TestCampaignPickedWhileRinging(t *testing.T) {
	d := newDesk(t, LangEN, 120, 36)
	d.crm.leads = fixtureLeads()
	d.press(keymap.Campaign, keymap.Idle)
	d.event(incoming(satoNumber, "サトウ"))
	d.press(keymap.Select, keymap.List)
	s := ansi.Strip(d.screen())
	if !strings.Contains(s, "佐藤　陽子") || !strings.Contains(s, "O-10231") {
		t.Fatalf("the ringing caller's card is gone:\n%s", s)
	}
	if len(d.phoneCalls("dial")) != 0 {
		t.Fatalf("dialed over a ringing call: %v", d.phone.Calls())
	}
}

// TestCampaignScriptPreview: the script's first words are on screen before
// the dial, with the operator's, the company's and the lead's names filled in.
func TestCampaignScriptPreview(t *testing.T) {
	d := newDesk(t, LangJA, 160, 48)
	c := fixtureOutboundCampaign()
	c.ScriptID = fixtureScript().ID
	d.crm.campaigns = []crmclient.Campaign{c}
	d.run(d.m.campaignsCmd())
	d.crm.leads = fixtureLeads()
	d.enterCampaign()
	s := ansi.Strip(d.screen())
	if !strings.Contains(s, "トーク: 第一声") || !strings.Contains(s, "ヘルシーライフ通販、担当の田中でございます。") {
		t.Fatalf("no filled-in script preview:\n%s", s)
	}
	if strings.Contains(s, "{{") {
		t.Errorf("a field is left unfilled:\n%s", s)
	}
}

// TestCampaignNoRedialOnStaleAnswer: the CRM hands back the lead this desk
// just settled (its result still in the outbox): not dialed again until the
// outbox has delivered; then, if the CRM still offers it, it is callable.
func TestCampaignNoRedialOnStaleAnswer(t *testing.T) {
	d := newDesk(t, LangEN, 80, 24, func(o *Options) { o.Outbound = Outbound{Progressive: true} })
	d.ob.delivered = false // the CRM is slow: the outcome waits in the outbox
	l := fixtureLeads()[0]
	d.crm.leads = []crmclient.Lead{l, l}
	d.enterCampaign()
	d.event(sip.Event{Type: sip.EvDialing, CallID: "out-1", Remote: "sip:0312345678@pbx.example"})
	d.event(sip.Event{Type: sip.EvEnded, CallID: "out-1", Cause: sip.CauseBusy, Code: 486})
	if got := d.phoneCalls("dialwith"); len(got) != 1 {
		t.Fatalf("the same lead was dialed again on a stale answer: %v", got)
	}
	if s := ansi.Strip(d.screen()); !strings.Contains(s, "waiting for the CRM to record the last call") {
		t.Fatalf("no word of the wait:\n%s", s)
	}
	// The outbox delivers; the CRM offers the lead again anyway (it refused
	// the result): it is dialed.
	d.ob.mu.Lock()
	d.ob.delivered = true
	d.ob.mu.Unlock()
	d.crm.leads = []crmclient.Lead{l}
	r := d.m.camp
	d.send(askLeadMsg{r.gen, r.seq})
	if got := d.phoneCalls("dialwith"); len(got) != 2 {
		t.Fatalf("after delivery: %v", got)
	}
}
