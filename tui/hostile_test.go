package tui

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/charmbracelet/x/ansi"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/keymap"
	"github.com/opdesk/opdesk/sip"
)

// Hostile input: everything the desktop shows from the network — a caller's
// display name and number, the CRM's customers, orders, notes, scripts, FAQ,
// leads, the wallboard and its event stream — rendered by the real model.
// Nothing of the input's escape sequences, control characters or bidi
// overrides may reach the screen; the only escape sequences in a View are
// lipgloss's own colours (SGR).

// hostile is the caller-chosen name of the task: an OSC that retitles the
// terminal, a CSI that clears it, a right-to-left override.
const hostile = "\x1b]0;pwned\x07\x1b[2J山田\u202e"

// hostile2 tries the other ways in: an 8-bit CSI (a status report request:
// the terminal would type its answer), an isolate, a DCS, an OSC 52
// clipboard write, a bare ESC, C0 and C1 controls and DEL.
const hostile2 = "\u009b5n\u2066x\x1bP1$rpwned\x1b\\ \x1b]52;c;cHduZWQ=\x07\x1b\x07\x00\u0085\x7f川"

var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// noHostileBytes fails when a View carries anything of the hostile input.
func noHostileBytes(t *testing.T, where, screen string) {
	t.Helper()
	if rest := sgr.ReplaceAllString(screen, ""); strings.ContainsRune(rest, 0x1b) {
		i := strings.IndexRune(rest, 0x1b)
		t.Errorf("%s: an escape sequence that is not lipgloss's colour: %q", where, rest[max(0, i-20):min(len(rest), i+20)])
	}
	plain := ansi.Strip(screen)
	for _, bad := range []string{"pwned", "[2J", "cHduZWQ"} {
		if strings.Contains(plain, bad) {
			t.Errorf("%s: %q from the input reached the screen", where, bad)
		}
	}
	for _, r := range plain {
		if r == '\n' {
			continue
		}
		if unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) ||
			(unicode.Is(unicode.Cf, r) && r != 0x200d) {
			t.Errorf("%s: %U on the screen", where, r)
		}
	}
}

// shows fails unless the cleaned remainder of the input (its plain words)
// is on the screen: the data was shown, not dropped.
func shows(t *testing.T, where, screen string, words ...string) {
	t.Helper()
	plain := ansi.Strip(screen)
	for _, w := range words {
		if !strings.Contains(plain, w) {
			t.Errorf("%s: %q is not on the screen:\n%s", where, w, plain)
		}
	}
}

// hostileCRM serves a hostile script and FAQ besides the fake CRM's cards.
type hostileCRM struct{ *fakeCRM }

func (hostileCRM) GetScript(context.Context, string) (crmclient.Script, error) {
	s := fixtureScript()
	s.Name = hostile + "台本"
	s.Nodes[0].Title = hostile2
	s.Nodes[0].Body = "ようこそ " + hostile + "\n\n- " + hostile2 + "\n**{{customer.name}}** 様"
	s.Nodes[0].Choices[0].Label = hostile
	s.Checklist[0].Label, s.Checklist[0].LabelJA = hostile2, hostile
	return s, nil
}

func (hostileCRM) SearchFAQ(context.Context, string, int) ([]crmclient.FAQEntry, error) {
	return []crmclient.FAQEntry{{ID: "F1", Question: hostile + "返品", Category: hostile2,
		Answer: "# " + hostile + "\n\n- " + hostile2 + "\n\n`" + hostile + "`\n\n[link](" + hostile2 + ")"}}, nil
}

func hostileCard() crmclient.Card {
	card := fixtureCard()
	c := &card.Customers[0]
	c.Name, c.NameKana = hostile, hostile2
	c.Email, c.Address = hostile2+"@example.jp", hostile+"東京都"
	c.Notes = "一行目 " + hostile + "\n" + hostile2 + "\r\n三行目"
	o := &card.Orders[0]
	o.ID, o.Status = hostile2, crmclient.OrderStatus(hostile)
	o.Items[0].Name, o.Items[0].SKU = hostile+"ローション", hostile2
	card.Calls[0].Agent, card.Calls[0].Disposition, card.Calls[0].Notes = hostile, hostile2, hostile+"\n"+hostile2
	return card
}

func hostileDesk(t *testing.T, mod ...func(*Options)) *desk {
	t.Helper()
	mod = append(mod, func(o *Options) { o.CRM = hostileCRM{o.CRM.(*fakeCRM)} })
	d := newDesk(t, LangJA, 120, 40, mod...)
	d.crm.cards[satoNumber] = hostileCard()
	d.crm.hints["C-0001"] = []crmclient.Hint{{Kind: crmclient.HintIntent, Rule: hostile, Text: hostile2, TextJA: hostile}}
	camp := fixtureInboundCampaign()
	camp.Name = hostile
	camp.Disposition.Results[0].Label, camp.Disposition.Results[0].LabelJA = hostile2, hostile
	d.crm.campaigns = []crmclient.Campaign{fixtureOutboundCampaign(), camp}
	d.run(d.m.campaignsCmd())
	return d
}

// TestHostileCallAndCard: a hostile caller ringing with a hostile card, the
// call answered with a hostile script, the FAQ opened, the call ended into
// the wrap-up form.
func TestHostileCallAndCard(t *testing.T) {
	d := hostileDesk(t)
	d.event(incoming(satoNumber, hostile))
	noHostileBytes(t, "ringing", d.screen())
	shows(t, "ringing", d.screen(), "山田 0312345678", "山田ローション", "メモ: 一行目 山田")
	d.press(keymap.Answer, keymap.Ringing)
	d.event(sip.Event{Type: sip.EvAnswered, CallID: "c1"})
	noHostileBytes(t, "answered", d.screen())
	shows(t, "answered", d.screen(), "山田台本", "ようこそ 山田")
	d.event(sip.Event{Type: sip.EvWarning, CallID: "c1", Text: "warning: " + hostile})
	noHostileBytes(t, "warning", d.screen())
	d.event(sip.Event{Type: sip.EvMonitorStarted, CallID: "c1", Text: hostile, Cause: hostile2})
	noHostileBytes(t, "monitored", d.screen())
	d.press(keymap.FAQ, keymap.Global)
	d.send(faqTickMsg{seq: d.m.faq.seq})
	noHostileBytes(t, "FAQ results", d.screen())
	d.send(keyMsg(t, "enter"))
	noHostileBytes(t, "FAQ answer", d.screen())
	shows(t, "FAQ answer", d.screen(), "Q. 山田返品")
	d.send(keyMsg(t, "esc"))
	d.send(keyMsg(t, "esc"))
	d.event(sip.Event{Type: sip.EvEnded, CallID: "c1", Cause: hostile2, Text: hostile})
	noHostileBytes(t, "wrap-up", d.screen())
}

// TestHostileCallerURI: a number made of escape sequences, and a caller
// whose display name and number are hostile with no card to show.
func TestHostileCallerURI(t *testing.T) {
	d := hostileDesk(t)
	d.event(sip.Event{Type: sip.EvIncoming, CallID: "c9", Remote: "sip:" + hostile2 + "@pbx.example",
		RemoteName: hostile2, Direction: "inbound"})
	noHostileBytes(t, "ringing", d.screen())
	d.event(sip.Event{Type: sip.EvEnded, CallID: "c9", Cause: sip.CauseRemoteCancel, Text: hostile2})
	noHostileBytes(t, "missed", d.screen())
}

// TestHostileWallboard: agents' names, reasons and numbers on a
// supervisor's wallboard, and the same from its event stream.
func TestHostileWallboard(t *testing.T) {
	d := boardDesk(t, LangEN, 160, 48, func(o *Options) { o.CRM = hostileCRM{o.CRM.(*fakeCRM)} })
	wb := fixtureBoard()
	for i := range wb.Agents {
		a := &wb.Agents[i]
		a.DisplayName, a.State.DisplayName, a.State.Reason = hostile, hostile2, hostile
	}
	wb.Agents[0].Call.Number = hostile2
	d.crm.board = wb
	d.m.board.dirty = true // as after a call's end: the figures are read again
	d.send(boardTickMsg{})
	noHostileBytes(t, "wallboard", d.screen())
	shows(t, "wallboard", d.screen(), "山田", "in  5nx 川")
	d.send(boardEventMsg{boardEvent(t, crmclient.EventAgentState, crmclient.AgentState{User: "agent3", DisplayName: hostile2,
		State: crmclient.StatusNotReady, Reason: hostile2, Since: deskNow})})
	d.send(boardEventMsg{boardEvent(t, crmclient.EventCallStarted, crmclient.CallEvent{Agent: "agent3", CallID: hostile,
		Direction: crmclient.Direction(hostile2), Number: hostile, At: deskNow})})
	noHostileBytes(t, "wallboard after events", d.screen())
}

// TestHostileLead: an outbound campaign's lead and callbacks.
func TestHostileLead(t *testing.T) {
	d := newDesk(t, LangJA, 160, 48)
	leads := fixtureLeads()
	l := &leads[0]
	l.Name, l.NameKana, l.LastResult = hostile, hostile2, hostile
	l.Fields = map[string]string{hostile: hostile2, "おすすめ": hostile}
	last := deskNow.Add(-time.Hour)
	l.LastAttemptAt = &last
	d.crm.leads = leads
	d.crm.callbacks = []crmclient.Callback{{LeadID: "L9", Name: hostile, Phone: hostile2, Agent: hostile2,
		DueAt: deskNow.Add(-time.Minute), Missed: true, LastResult: hostile}}
	camp := fixtureOutboundCampaign()
	camp.Name = hostile2
	d.crm.campaigns = []crmclient.Campaign{camp, fixtureInboundCampaign()}
	d.run(d.m.campaignsCmd())
	d.enterCampaign()
	noHostileBytes(t, "lead preview", d.screen())
	shows(t, "lead preview", d.screen(), "おすすめ: 山田")
}
