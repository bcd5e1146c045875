package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/keymap"
	"github.com/opdesk/opdesk/sip"
)

// Golden screens: ansi.Strip(View().Content) of the root model driven through
// its fakes with a pinned clock, at 80×24 and 160×48, in ja and en. Update
// with `go test ./tui -run TestGolden -update`. Each screen also asserts
// something of its own that can fail independently of the file.

// flatName makes golden write testdata/<name>.golden (not a subfolder).
type flatName struct {
	testing.TB
	name string
}

func (f flatName) Name() string { return f.name }

type screen struct {
	name  string
	build func(d *desk)
	want  func(lang Lang) []string // must be on screen
}

var goldenScreens = []screen{
	{"idle", func(d *desk) { d.typeText("0312") },
		func(l Lang) []string { return []string{T(l, "dial.title"), "> 0312", T(l, "reg.registered")} }},
	{"ringing", func(d *desk) { d.event(incoming(satoNumber, "サトウ")) },
		func(l Lang) []string {
			return []string{"佐藤　陽子", "サトウ　ヨウコ", T(l, "call.ringing"), "O-10231"}
		}},
	{"call_script", func(d *desk) {
		d.ringAnswer()
		d.now = d.now.Add(42 * time.Second)
		d.press(keymap.Choice1, keymap.Script)
	}, func(l Lang) []string {
		return []string{"佐藤　陽子様でいらっしゃいますね", T(l, "call.active")}
	}},
	{"wrapup", func(d *desk) {
		d.ringAnswer()
		d.now = d.now.Add(3 * time.Minute)
		d.event(sip.Event{Type: sip.EvEnded, CallID: "c1", Cause: "remote_hangup"})
	}, func(l Lang) []string {
		return []string{map[Lang]string{LangJA: "配送の問い合わせ", LangEN: "Delivery inquiry"}[l], T(l, "agent.acw")}
	}},
	{"faq", func(d *desk) {
		d.ringAnswer()
		d.quiet = 400 * time.Millisecond
		d.press(keymap.FAQ, keymap.Global)
		d.typeText("返品")
	}, func(l Lang) []string { return []string{"返品・交換の条件を教えてください"} }},
	{"campaign", func(d *desk) {
		d.m.o.Outbound = Outbound{Progressive: true, Countdown: 5 * time.Second}
		d.crm.leads = fixtureLeads()[1:]
		d.crm.callbacks = []crmclient.Callback{{LeadID: "L8", CampaignID: "teiki", Phone: "+81355557777", Name: "高橋　恵",
			Agent: "sato", Scope: crmclient.CallbackTeam, DueAt: deskNow.Add(-time.Hour), Missed: true}}
		d.enterCampaign()
		d.now = d.now.Add(2 * time.Second)
	}, func(l Lang) []string {
		return []string{"定期便 乗り換えキャンペーン", "田中　一郎", T(l, "camp.countdown", 3), T(l, "camp.attempts", 1, 3)}
	}},
	{"wallboard", func(d *desk) {
		d.m.o.Agent = crmclient.User{Name: "sv1", DisplayName: "佐藤 恵子", Role: crmclient.RoleSupervisor}
		d.m.o.Supervisor.LongACW = 2 * time.Minute
		d.crm.board = fixtureBoard()
		d.press(keymap.Wallboard, keymap.Idle)
		d.send(boardEventMsg{crmclient.Event{Kind: crmclient.EventReady, Data: []byte(`{"after":1,"heartbeat_ms":15000}`)}})
	}, func(l Lang) []string { return []string{T(l, "board.title"), "山田 花子", T(l, "board.live")} }},
	{"help", func(d *desk) {
		d.ringAnswer()
		d.press(keymap.Help, keymap.Global)
	}, func(l Lang) []string { return []string{T(l, "help.title"), T(l, "key.hangup"), T(l, "key.choice_1")} }},
}

func TestGolden(t *testing.T) {
	for _, sc := range goldenScreens {
		for _, size := range [][2]int{{80, 24}, {160, 48}} {
			for _, lang := range []Lang{LangJA, LangEN} {
				name := fmt.Sprintf("%s_%dx%d_%s", sc.name, size[0], size[1], lang)
				t.Run(name, func(t *testing.T) {
					d := newDesk(t, lang, size[0], size[1])
					sc.build(d)
					out := checkScreen(t, d, size[0], size[1])
					for _, w := range sc.want(lang) {
						if !strings.Contains(out, w) {
							t.Errorf("%q not on screen", w)
						}
					}
					golden.RequireEqual(flatName{t, name}, out)
				})
			}
		}
	}
}

// hostileName is a display name built to break a terminal: colour and
// cursor sequences, an OSC 52 clipboard write, bidi overrides, C1 controls,
// and 10 kB of text.
var hostileName = "\x1b[2J\x1b[31mEVIL\x1b[0m\x1b]52;c;cm0gLXJmIH4=\x07\u202eトラブル\u202c\u2066x\u2069\x9b1m\x07" +
	strings.Repeat("長い名前", 2500)

func TestGoldenHostile(t *testing.T) {
	d := newDesk(t, LangJA, 80, 24)
	card := fixtureCard()
	card.Customers[0].Name = hostileName
	card.Customers[0].Notes = "1行目\x1b[1A\x1b[2K上書き\n" + hostileName
	card.Calls[0].Notes = "\x1b]8;;http://evil.example\x07link\x1b]8;;\x07 \u202dabc"
	d.crm.cards["0311112222"] = card
	d.crm.hints["C-0001"] = []crmclient.Hint{{Kind: crmclient.HintIntent, Text: hostileName, TextJA: hostileName}}
	d.event(sip.Event{Type: sip.EvIncoming, CallID: "c1", Remote: "sip:0311112222@pbx.example", RemoteName: hostileName})
	raw := d.screen()
	for _, bad := range []string{"\x1b]", "\x1b[2J", "\x1b[1A", "\x07", "\u202e", "\u202d", "\u2066", "\u009b", "cm0gLXJmIH4="} {
		if strings.Contains(raw, bad) {
			t.Errorf("%q survives on screen", bad)
		}
	}
	out := checkScreen(t, d, 80, 24)
	if !strings.Contains(out, "EVILトラブル") {
		t.Errorf("the cleaned name is not on screen:\n%s", out)
	}
	golden.RequireEqual(flatName{t, "hostile_80x24_ja"}, out)
}

func TestGoldenCRMDown(t *testing.T) {
	for _, lang := range []Lang{LangJA, LangEN} {
		t.Run(string(lang), func(t *testing.T) {
			d := newDesk(t, lang, 80, 24)
			d.crm.stale = true
			d.event(incoming(satoNumber, ""))
			out := checkScreen(t, d, 80, 24)
			want := T(lang, "cust.stale", fixtureCard().FetchedAt.Local().Format("15:04"))
			if !strings.Contains(out, want) {
				t.Errorf("%q not on screen", want)
			}
			d2 := newDesk(t, lang, 80, 24)
			d2.crm.down = true
			d2.event(incoming("0398765432", ""))
			out2 := checkScreen(t, d2, 80, 24)
			if !strings.Contains(out2, T(lang, "cust.down")) {
				t.Errorf("%q not on screen", T(lang, "cust.down"))
			}
			golden.RequireEqual(flatName{t, "crmdown_stale_80x24_" + string(lang)}, out)
			golden.RequireEqual(flatName{t, "crmdown_nodata_80x24_" + string(lang)}, out2)
		})
	}
}

// checkScreen asserts the frame is exactly w×h cells with no control bytes
// left after stripping our own styling, and returns the stripped text.
func checkScreen(t *testing.T, d *desk, w, h int) string {
	t.Helper()
	out := ansi.Strip(d.screen())
	lines := strings.Split(out, "\n")
	if len(lines) != h {
		t.Errorf("%d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Errorf("line %d is %d cells wide (> %d): %q", i, lw, w, l)
		}
		for _, r := range l {
			if r < 0x20 || (r >= 0x7f && r < 0xa0) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
				t.Errorf("line %d holds control rune %U", i, r)
			}
		}
	}
	return out
}
