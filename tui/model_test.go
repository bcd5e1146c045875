package tui

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmclient/outbox"
	"github.com/opdesk/opdesk/keymap"
	"github.com/opdesk/opdesk/sip"
)

func incoming(number, name string) sip.Event {
	return sip.Event{Type: sip.EvIncoming, CallID: "c1", Remote: "sip:" + number + "@pbx.example",
		RemoteName: name, Direction: "inbound"}
}

// ringAnswer brings a desk to an answered call from Sato.
func (d *desk) ringAnswer() {
	d.t.Helper()
	d.event(incoming(satoNumber, "サトウ"))
	d.press(keymap.Answer, keymap.Ringing)
	d.event(sip.Event{Type: sip.EvAnswered, CallID: "c1"})
}

func TestFlowIncomingToReady(t *testing.T) {
	d := newDesk(t, LangJA, 80, 24)
	d.event(incoming(satoNumber, "サトウ"))
	s := ansi.Strip(d.screen())
	if !strings.Contains(s, "佐藤　陽子") || !strings.Contains(s, "2日前に発送済み") {
		t.Fatalf("card not on screen while ringing:\n%s", s)
	}
	d.press(keymap.Answer, keymap.Ringing)
	if got := d.phone.Calls(); len(got) != 1 || got[0] != "answer c1" {
		t.Fatalf("phone calls = %q, want answer c1", got)
	}
	d.now = d.now.Add(time.Second)
	d.event(sip.Event{Type: sip.EvAnswered, CallID: "c1"})
	if !d.m.script.Loaded() {
		t.Fatal("script not loaded after answer")
	}
	d.press(keymap.Choice1, keymap.Script)
	d.press(keymap.ChoiceDown, keymap.Script) // to the checklist past the choices
	d.press(keymap.ChoiceDown, keymap.Script)
	d.press(keymap.Choose, keymap.Script)
	if miss := d.m.script.Missing(); len(miss) != 0 {
		t.Fatalf("checklist still missing %q", miss)
	}
	d.now = d.now.Add(95 * time.Second)
	d.event(sip.Event{Type: sip.EvEnded, CallID: "c1", Cause: "remote_hangup"})
	if !d.m.wrapOpen || d.m.agent.state != crmclient.StatusACW {
		t.Fatalf("after hangup: wrap open %v, state %s", d.m.wrapOpen, d.m.agent.state)
	}
	d.press(keymap.Ready, keymap.Idle)
	if d.m.agent.state != crmclient.StatusACW || !strings.Contains(d.screen(), T(LangJA, "agent.unsaved")) {
		t.Fatalf("ready accepted with an unsaved form (state %s)", d.m.agent.state)
	}
	d.send(keyMsg(t, "down")) // first result code
	d.send(keyMsg(t, "enter"))
	d.press(keymap.Save, keymap.Form)
	items := d.ob.Items()
	if len(items) != 1 || items[0].Kind != outbox.KindDisposition {
		t.Fatalf("outbox items = %+v", items)
	}
	var in crmclient.DispositionInput
	if err := json.Unmarshal(items[0].Body, &in); err != nil {
		t.Fatal(err)
	}
	if in.CallID != "c1" || in.CustomerID != "C-0001" || in.CampaignID != "support" || in.DurationSeconds != 95 {
		t.Errorf("disposition = %+v", in)
	}
	if !strings.Contains(d.screen(), T(LangJA, "wrap.saved_sent")) {
		t.Errorf("bar does not say saved — sent:\n%s", ansi.Strip(d.screen()))
	}
	d.press(keymap.Ready, keymap.Idle)
	if d.m.agent.state != crmclient.StatusReady {
		t.Fatalf("state after save+ready = %s", d.m.agent.state)
	}
	var posted []crmclient.Status
	for _, s := range d.crm.States() {
		posted = append(posted, s.State)
	}
	want := []crmclient.Status{crmclient.StatusOnCall, crmclient.StatusACW, crmclient.StatusReady}
	if strings.Join(statusStrings(posted), ",") != strings.Join(statusStrings(want), ",") {
		t.Errorf("agent states posted = %v, want %v", posted, want)
	}
	if d.m.agent.calls != 1 || d.m.agent.talk != 95*time.Second {
		t.Errorf("counters: calls %d talk %s", d.m.agent.calls, d.m.agent.talk)
	}
}

func statusStrings(ss []crmclient.Status) []string {
	var out []string
	for _, s := range ss {
		out = append(out, string(s))
	}
	return out
}

func TestPopManyCustomersPickList(t *testing.T) {
	d := newDesk(t, LangEN, 80, 24)
	d.event(incoming(familyNumber, ""))
	if !d.m.cust.picking() {
		t.Fatalf("no pick list for two customers (kind %d)", d.m.cust.kind)
	}
	s := ansi.Strip(d.screen())
	if !strings.Contains(s, "高橋　健一") || !strings.Contains(s, "高橋　美咲") {
		t.Fatalf("pick list does not show both customers:\n%s", s)
	}
	d.press(keymap.Down, keymap.List)
	d.press(keymap.Select, keymap.List)
	if c := d.m.cust.customer(); c == nil || c.ID != "C-0101" {
		t.Fatalf("picked %+v, want C-0101", c)
	}
	// The call stayed answerable throughout.
	d.press(keymap.Answer, keymap.Ringing)
	if got := d.phone.Calls(); len(got) != 1 || got[0] != "answer c1" {
		t.Fatalf("phone calls = %q", got)
	}
}

func TestPopNewCallerQuickCreate(t *testing.T) {
	d := newDesk(t, LangJA, 80, 24)
	d.event(incoming("0398765432", ""))
	if d.m.cust.kind != popNew || !strings.Contains(d.screen(), T(LangJA, "cust.new")) {
		t.Fatalf("new caller not shown (kind %d)", d.m.cust.kind)
	}
	d.press(keymap.FocusNext, keymap.Global)
	d.typeText("山田花子")
	d.send(keyMsg(t, "enter"))
	d.typeText("ヤマダハナコ")
	d.send(keyMsg(t, "enter"))
	if len(d.crm.created) != 1 || d.crm.created[0].Name != "山田花子" || d.crm.created[0].Phones[0] != "+81398765432" {
		t.Fatalf("created = %+v", d.crm.created)
	}
	if c := d.m.cust.customer(); c == nil || c.Name != "山田花子" {
		t.Fatalf("card after create = %+v", c)
	}
}

func TestPopWithheldAndNoCRM(t *testing.T) {
	d := newDesk(t, LangEN, 80, 24)
	d.event(sip.Event{Type: sip.EvIncoming, CallID: "c1", Remote: "sip:anonymous@anonymous.invalid"})
	if d.m.cust.kind != popWithheld || !strings.Contains(d.screen(), "Number withheld") {
		t.Fatalf("withheld: kind %d", d.m.cust.kind)
	}
	n := newDesk(t, LangEN, 80, 24, func(o *Options) { o.CRM, o.Outbox = nil, nil })
	n.event(incoming(satoNumber, ""))
	if n.m.cust.kind != popNoCRM {
		t.Fatalf("no CRM: kind %d", n.m.cust.kind)
	}
	n.press(keymap.Answer, keymap.Ringing)
	n.event(sip.Event{Type: sip.EvAnswered, CallID: "c1"})
	n.event(sip.Event{Type: sip.EvEnded, CallID: "c1"})
	if n.m.wrapOpen {
		t.Fatal("a wrap-up form opened without a CRM")
	}
}

func TestStaleCard(t *testing.T) {
	d := newDesk(t, LangJA, 80, 24)
	d.crm.stale = true
	d.event(incoming(satoNumber, ""))
	want := T(LangJA, "cust.stale", fixtureCard().FetchedAt.Local().Format("15:04"))
	s := ansi.Strip(d.screen())
	if !strings.Contains(s, want) || !strings.Contains(s, "佐藤　陽子") {
		t.Fatalf("stale card: want %q and the name on screen:\n%s", want, s)
	}
	d.press(keymap.Answer, keymap.Ringing)
	if len(d.phone.Calls()) != 1 {
		t.Fatal("stale card: call not answerable")
	}
}

func TestCRMDownWithinASecond(t *testing.T) {
	d := newDesk(t, LangEN, 80, 24, func(o *Options) { o.PopTimeout = 0 }) // the default 800 ms
	d.crm.hang = true
	d.quiet = 1500 * time.Millisecond
	d.event(incoming(satoNumber, ""))
	if d.m.cust.kind != popDown {
		t.Fatalf("CRM down: kind %d", d.m.cust.kind)
	}
	if el := d.crm.hung; el > time.Second {
		t.Fatalf("the lookup held on for %s", el)
	}
	if !strings.Contains(d.screen(), "CRM unreachable — no data for this number") {
		t.Fatalf("message missing:\n%s", ansi.Strip(d.screen()))
	}
	d.press(keymap.Answer, keymap.Ringing)
	if len(d.phone.Calls()) != 1 {
		t.Fatal("CRM down: call not answerable")
	}
}

func TestDigitsDialerThenDTMF(t *testing.T) {
	d := newDesk(t, LangEN, 80, 24)
	d.typeText("0312345678")
	if d.m.dial.digits != "0312345678" {
		t.Fatalf("dialer = %q", d.m.dial.digits)
	}
	d.press(keymap.DialNumber, keymap.Idle)
	d.event(sip.Event{Type: sip.EvDialing, CallID: "out-1", Remote: "sip:0312345678@pbx.example", Direction: "outbound"})
	d.event(sip.Event{Type: sip.EvAnswered, CallID: "out-1"})
	d.typeText("1#")
	d.press(keymap.Hold, keymap.Call)
	d.event(sip.Event{Type: sip.EvHeld, CallID: "out-1"})
	d.press(keymap.Hold, keymap.Call)
	d.press(keymap.Mute, keymap.Call)
	d.press(keymap.Hangup, keymap.Call)
	want := []string{"dial 0312345678", "dtmf out-1 1", "dtmf out-1 #", "hold out-1", "resume out-1", "mute true", "hangup out-1"}
	if got := d.phone.Calls(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("phone calls\n got %q\nwant %q", got, want)
	}
	if c := d.m.cust.customer(); c == nil || c.Name != "佐藤　陽子" {
		t.Error("outbound call: no card for the dialed number")
	}
}

func TestRedialAndClear(t *testing.T) {
	d := newDesk(t, LangEN, 80, 24)
	d.typeText("110")
	d.press(keymap.ClearDialer, keymap.Idle)
	d.typeText("117")
	d.press(keymap.DialNumber, keymap.Idle)
	d.event(sip.Event{Type: sip.EvEnded, CallID: "out-1"}) // never answered
	d.press(keymap.Redial, keymap.Idle)
	if got := d.phone.Calls(); strings.Join(got, "|") != "dial 117|dial 117" {
		t.Fatalf("phone calls = %q", got)
	}
}

func TestNotReadyReason(t *testing.T) {
	d := newDesk(t, LangJA, 80, 24)
	d.press(keymap.NotReady, keymap.Idle)
	d.press(keymap.Down, keymap.List)
	d.press(keymap.Select, keymap.List)
	st := d.crm.States()
	if len(st) != 1 || st[0].State != crmclient.StatusNotReady || st[0].Reason != "lunch" {
		t.Fatalf("posted %+v", st)
	}
	if !strings.Contains(d.screen(), "受付不可: 昼食") {
		t.Fatalf("bar:\n%s", ansi.Strip(d.screen()))
	}
}

func TestHelpShowsActiveBindingsOnly(t *testing.T) {
	d := newDesk(t, LangEN, 160, 48)
	d.event(incoming(satoNumber, ""))
	d.press(keymap.Help, keymap.Global)
	s := ansi.Strip(d.screen())
	for _, b := range d.keys.Help(keymap.Ringing, keymap.Global) {
		if !strings.Contains(s, T(LangEN, "key."+string(b.Action))) {
			t.Errorf("help lacks %s", b.Action)
		}
	}
	if strings.Contains(s, T(LangEN, "key.save")) || strings.Contains(s, T(LangEN, "key.redial")) {
		t.Errorf("help shows bindings of inactive contexts:\n%s", s)
	}
	d.press(keymap.Help, keymap.Global)
	if d.m.helpOpen {
		t.Error("help did not close")
	}
}

func TestKeyDescriptions(t *testing.T) {
	for _, b := range keymap.Default().Bindings() {
		for _, l := range []Lang{LangEN, LangJA} {
			if s := T(l, "key."+string(b.Action)); strings.HasPrefix(s, "!") {
				t.Errorf("%s: no description for %s", l, b.Action)
			}
		}
	}
	for id, m := range msgsDesk {
		if m.en == "" || m.ja == "" {
			t.Errorf("%s: missing a language", id)
		}
	}
}

func TestReboundKeyStillAnswers(t *testing.T) {
	// A map where answer is only "f12"... is not possible without Override;
	// instead prove dispatch follows the map: the second bound key works too.
	d := newDesk(t, LangEN, 80, 24)
	d.event(incoming(satoNumber, ""))
	keys := d.keys.Keys(keymap.Answer, keymap.Ringing)
	d.send(keyMsg(t, keys[len(keys)-1]))
	if len(d.phone.Calls()) != 1 {
		t.Fatalf("answer by %q did nothing", keys[len(keys)-1])
	}
}

func TestCardShownLogged(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	d := newDesk(t, LangEN, 80, 24, func(o *Options) { o.Log = log })
	ev := incoming(satoNumber, "")
	ev.Time = deskNow.Add(-120 * time.Millisecond)
	d.event(ev)
	d.screen()
	d.screen()
	out := buf.String()
	if strings.Count(out, "card shown") != 1 || !strings.Contains(out, "call=c1") || !strings.Contains(out, "elapsed=120ms") {
		t.Fatalf("log:\n%s", out)
	}
}

func TestSaveQueuedWhenCRMDown(t *testing.T) {
	d := newDesk(t, LangEN, 80, 24)
	d.ob.delivered = false
	d.ringAnswer()
	d.press(keymap.Choice1, keymap.Script)
	d.press(keymap.ChoiceDown, keymap.Script)
	d.press(keymap.ChoiceDown, keymap.Script)
	d.press(keymap.Choose, keymap.Script)
	d.event(sip.Event{Type: sip.EvEnded, CallID: "c1"})
	d.send(keyMsg(t, "down"))
	d.send(keyMsg(t, "down")) // 新規注文: a conversion
	d.send(keyMsg(t, "enter"))
	d.press(keymap.Save, keymap.Form)
	if !strings.Contains(d.screen(), "saved — waiting in outbox (CRM unreachable)") {
		t.Fatalf("bar:\n%s", ansi.Strip(d.screen()))
	}
	if d.m.agent.conversions != 1 {
		t.Errorf("conversions = %d", d.m.agent.conversions)
	}
}

func TestChecklistBlocksSave(t *testing.T) {
	d := newDesk(t, LangEN, 80, 24)
	d.ringAnswer()
	d.event(sip.Event{Type: sip.EvEnded, CallID: "c1"})
	d.send(keyMsg(t, "down"))
	d.send(keyMsg(t, "enter"))
	d.press(keymap.Save, keymap.Form)
	if len(d.ob.Items()) != 0 {
		t.Fatal("saved with a required checklist item unticked")
	}
	// esc hands the keys to the script, where the item can still be ticked.
	d.press(keymap.Back, keymap.Global)
	d.press(keymap.ChoiceDown, keymap.Script)
	d.press(keymap.Choose, keymap.Script)
	d.press(keymap.Back, keymap.Global)
	d.press(keymap.Save, keymap.Form)
	if len(d.ob.Items()) != 1 {
		t.Fatalf("not saved after ticking: %s", ansi.Strip(d.screen()))
	}
}

func TestAutoReady(t *testing.T) {
	d := newDesk(t, LangEN, 80, 24, func(o *Options) { o.AutoReady = 20 * time.Millisecond })
	d.ringAnswer()
	d.m.script.Clear() // no checklist in the way
	d.event(sip.Event{Type: sip.EvEnded, CallID: "c1"})
	d.send(keyMsg(t, "down"))
	d.send(keyMsg(t, "enter"))
	d.press(keymap.Save, keymap.Form)
	if d.m.agent.state != crmclient.StatusReady {
		t.Fatalf("state after auto-ready = %s", d.m.agent.state)
	}
}

func TestUserPart(t *testing.T) {
	for in, want := range map[string]string{
		"sip:0312345678@pbx":                "0312345678",
		"<sip:+81312345678@pbx;user=phone>": "+81312345678",
		"tel:0312345678":                    "0312345678",
		"sip:anonymous@anonymous.invalid":   "",
		"":                                  "",
	} {
		if got := userPart(in); got != want {
			t.Errorf("userPart(%q) = %q, want %q", in, got, want)
		}
	}
	if got := userPart("sip:\x1b]52;c;ZXZpbA==\x070312@x"); strings.ContainsAny(got, "\x1b\x07") {
		t.Errorf("control bytes survive: %q", got)
	}
}

func TestStatusBarFromPolls(t *testing.T) {
	d := newDesk(t, LangEN, 120, 30, func(o *Options) { o.Notice = "DEMO — no sound card\x1b[31m" })
	d.ob.delivered = false
	d.ob.items = []outbox.Item{{ID: 1}, {ID: 2}}
	d.ringAnswer()
	d.phone.mu.Lock()
	d.phone.status.Registration = sip.RegFailed
	d.phone.status.Audio = sip.AudioStatus{MicPeakDBFS: -20, SpeakerPeakDBFS: -96}
	d.phone.status.Calls = []sip.CallInfo{{ID: "c1", Codec: "PCMU", SRTP: "AEAD_AES_128_GCM", Recording: "/rec/c1.wav",
		Media: &sip.MediaInfo{JitterMs: 12, Lost: 3}}}
	d.phone.mu.Unlock()
	d.run(d.m.pollCmd())
	bar := strings.Join(strings.Split(ansi.Strip(d.screen()), "\n")[:2], "\n")
	for _, w := range []string{"NOT REGISTERED", "PCMU SRTP", "jit 12ms loss 3", "REC", "outbox 2", "mic [###--]", "spk [-----]", "DEMO — no sound card"} {
		if !strings.Contains(bar, w) {
			t.Errorf("%q not on the bar:\n%s", w, bar)
		}
	}
}

// TestPhoneFailureInWords: a failed action is named in words, DTMF included
// (digits are no key-map action, so they have no "key." entry).
func TestPhoneFailureInWords(t *testing.T) {
	d := newDesk(t, LangJA, 160, 48)
	d.send(phoneResultMsg{op: "dtmf", callID: "c1", err: errors.New("the call is not in a state that allows this")})
	s := ansi.Strip(d.screen())
	if !strings.Contains(s, "ダイヤル信号(DTMF)を送信できませんでした") || strings.Contains(s, "!") {
		t.Fatalf("the failure is not in words:\n%s", s)
	}
}
