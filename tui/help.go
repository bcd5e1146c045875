package tui

import (
	"strings"

	"github.com/opdesk/opdesk/keymap"
)

// The help overlay lists exactly the bindings of the active contexts
// (keymap.Help), so what "?" shows is what works now; each action's words
// come from the catalogue ("key.<action>"). The hints line at the bottom is
// the 4–6 most useful of them for the current situation.

func (m *Model) helpView(width, height int) string {
	st, lang := m.st, m.lang
	ctxs := m.contexts()
	lines := []string{st.title.Render(T(lang, "help.title")) + "  " + st.dim.Render(T(lang, "help.close"))}
	var last keymap.Context
	for _, b := range m.keys.Help(ctxs...) {
		if b.Context != last {
			lines = append(lines, st.keyName.Render("— "+T(lang, "ctx."+string(b.Context))))
			last = b.Context
		}
		keys := pad(strings.Join(b.Keys, " "), 16)
		lines = append(lines, "  "+keys+" "+T(lang, "key."+string(b.Action)))
	}
	if m.boardShown() {
		// What the wallboard's figures mean.
		lines = append(lines, st.keyName.Render("— "+T(lang, "board.defs")))
		for _, id := range boardDefs {
			lines = append(lines, "  "+T(lang, id))
		}
	}
	// Two columns when the list is longer than the screen.
	if len(lines) > height && width >= 80 {
		half := (len(lines) + 1) / 2
		colW := width / 2
		left, right := lines[:half], lines[half:]
		out := make([]string, half)
		for i := range out {
			r := ""
			if i < len(right) {
				r = right[i]
			}
			out[i] = pad(left[i], colW) + r
		}
		lines = out
	}
	return block(strings.Join(lines, "\n"), width, height)
}

// hintActions are the actions the bottom line offers, per situation.
func (m *Model) hintActions() ([]keymap.Action, keymap.Context) {
	switch m.situation() {
	case sitWrap:
		return []keymap.Action{keymap.Save, keymap.Back, keymap.FAQ, keymap.Help}, keymap.Form
	case sitList:
		return []keymap.Action{keymap.Up, keymap.Down, keymap.Select, keymap.Back, keymap.Help}, keymap.List
	case sitRinging:
		return []keymap.Action{keymap.Answer, keymap.Reject, keymap.FAQ, keymap.Help}, keymap.Ringing
	case sitCall:
		return []keymap.Action{keymap.Hangup, keymap.Hold, keymap.Mute, keymap.WrapUp, keymap.FAQ, keymap.Help}, keymap.Call
	case sitBoard:
		return []keymap.Action{keymap.Listen, keymap.Whisper, keymap.Barge, keymap.Sort, keymap.Filter, keymap.Wallboard, keymap.Help}, keymap.Board
	case sitLead:
		return []keymap.Action{keymap.DialLead, keymap.SkipLead, keymap.Pause, keymap.DialMode, keymap.Campaign, keymap.Help}, keymap.Lead
	}
	return []keymap.Action{keymap.DialNumber, keymap.Ready, keymap.NotReady, keymap.FAQ, keymap.Help}, keymap.Idle
}

func (m *Model) hintsLine(width int) string {
	st, lang := m.st, m.lang
	acts, ctx := m.hintActions()
	var parts []string
	switch m.situation() {
	case sitIdle:
		parts = append(parts, st.keyName.Render("0-9*#")+" "+T(lang, "dial.title"))
	case sitCall:
		parts = append(parts, st.keyName.Render("0-9*#")+" DTMF")
	}
	for _, a := range acts {
		keys := m.keys.Keys(a, ctx)
		if len(keys) == 0 {
			keys = m.keys.Keys(a, keymap.Global)
		}
		if len(keys) == 0 && (ctx == keymap.Lead || ctx == keymap.Board) {
			keys = m.keys.Keys(a, keymap.Idle)
		}
		if len(keys) == 0 {
			continue
		}
		parts = append(parts, st.keyName.Render(keyLabel(keys[0]))+" "+shortDesc(lang, a))
	}
	return fit(strings.Join(parts, "  "), width)
}

// keyLabel shows function keys as the keyboard prints them ("F2").
func keyLabel(k string) string {
	if len(k) >= 2 && k[0] == 'f' && k[1] >= '0' && k[1] <= '9' {
		return "F" + k[1:]
	}
	return k
}

// shortDesc is the first part of an action's description ("hold / resume" →
// "hold"), for the one-line hints.
func shortDesc(lang Lang, a keymap.Action) string {
	d := T(lang, "key."+string(a))
	if i := strings.Index(d, " / "); i > 0 {
		d = d[:i]
	} else if i := strings.Index(d, "/"); i > 0 && lang == LangJA {
		d = d[:i]
	}
	if i := strings.Index(d, " ("); i > 0 {
		d = d[:i]
	}
	if i := strings.Index(d, "("); i > 0 {
		d = d[:i]
	}
	return d
}
