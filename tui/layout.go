package tui

import (
	"strings"

	"github.com/opdesk/opdesk/crmclient"
)

// Layout. The screen is: the status bar (2 lines), the body, and one line of
// key hints. The body holds two panes — the "side" pane (who is calling: the
// customer card; when idle, the operator's state and counters) and the "main"
// pane (script, FAQ, wrap-up form, dialer) —
//
//   - below 120 columns stacked, side on top (the card is what the operator
//     needs first when it rings), a rule between;
//   - from 120 columns side by side, side on the left;
//   - from 160×48 the card shows orders with their items and history with
//     whole notes ("full").
//
// Every pane is cut into an exact width×height block (block), so whatever a
// pane or the CRM produces, no line is wider than the terminal.

const (
	barLines   = 2
	hintLines  = 1
	wideCols   = 120
	fullCols   = 160
	fullRows   = 48
	minSideW   = 40
	maxSideW   = 72
	minColumns = 20
)

type layout struct {
	wide, full   bool
	sideW, sideH int
	mainW, mainH int
	bodyH        int
}

func computeLayout(width, height int, sit situation) layout {
	var l layout
	l.bodyH = max(1, height-barLines-hintLines)
	l.wide = width >= wideCols
	l.full = width >= fullCols && height >= fullRows
	if l.wide {
		l.sideW = min(maxSideW, max(minSideW, width*2/5))
		l.mainW = width - l.sideW - 1
		l.sideH, l.mainH = l.bodyH, l.bodyH
		return l
	}
	l.sideW, l.mainW = width, width
	switch sit {
	case sitIdle:
		l.sideH = min(4, l.bodyH/3)
	case sitRinging:
		l.sideH = l.bodyH - 4 // the card is what matters; the main pane says who rings
	case sitLead:
		l.sideH = l.bodyH / 3 // the lead's card above, the campaign (countdown, attempts) below
	default:
		l.sideH = l.bodyH * 2 / 5
	}
	l.sideH = max(1, l.sideH)
	l.mainH = max(0, l.bodyH-l.sideH-1)
	return l
}

func (m *Model) body(width, height int) string {
	sit := m.situation()
	l := computeLayout(width, height, sit)
	if m.helpOpen {
		return m.helpView(width, l.bodyH)
	}
	if m.boardShown() && !m.overlayOpen() {
		var dial []string
		if m.dial.digits != "" {
			dial = append(dial, m.st.keyName.Render("> "+m.dial.digits+"▏"))
		}
		h := l.bodyH - len(dial)
		return strings.Join(append(dial, m.board.view(m.lang, m.st, width, h, m.now(), m.region(),
			m.o.Supervisor.LongACW)), "\n")
	}
	side := m.sideView(l.sideW, l.sideH, l.full)
	main := m.mainView(l.mainW, l.mainH)
	if l.wide {
		sl, ml := strings.Split(side, "\n"), strings.Split(main, "\n")
		rule := m.st.dim.Render("│")
		out := make([]string, l.bodyH)
		for i := range out {
			out[i] = sl[i] + rule + ml[i]
		}
		return strings.Join(out, "\n")
	}
	parts := []string{side}
	if l.mainH > 0 {
		parts = append(parts, m.st.dim.Render(strings.Repeat("─", width)), main)
	}
	return strings.Join(parts, "\n")
}

func (m *Model) sideView(w, h int, full bool) string {
	if m.call != nil || m.cust.kind != popNone {
		return m.cust.view(m.st, w, h, full, m.now())
	}
	if m.camp != nil {
		return m.cust.view(m.st, w, h, full, m.now()) // "customer" title until a lead's card comes
	}
	return m.agent.panel(m.st, w, h, m.now())
}

func (m *Model) mainView(w, h int) string {
	if h <= 0 {
		return ""
	}
	switch {
	case m.picker.open:
		return m.picker.view(m.lang, m.st, w, h)
	case m.camp != nil && m.camp.skipOpen:
		return m.camp.skipView(m.lang, m.st, w, h)
	case m.agent.reasonsOpen:
		return m.agent.reasonsView(m.st, w, h)
	case m.dev.open:
		return m.dev.view(m.lang, m.st, w, h)
	case m.faq.IsOpen():
		return block(m.faq.View(w, h), w, h)
	case m.wrapOpen && m.wrapScript && m.script.Loaded():
		return block(m.script.View(w, h), w, h)
	case m.wrapOpen:
		return block(m.wrap.View(w, h), w, h)
	case m.transfer.open:
		return block(m.st.title.Render(T(m.lang, "call.transfer_to"))+m.transfer.target+"▏", w, h)
	case m.script.Loaded() && m.call != nil:
		return block(m.script.View(w, h), w, h)
	case m.call != nil:
		return block(m.callCard(), w, h)
	case m.camp != nil:
		var preview *crmclient.ScriptNode
		if s, ok := m.scripts[m.camp.c.ScriptID]; ok {
			if n, ok := s.Node(s.Start); ok {
				// The first words of the call, with the lead's name filled in.
				n.Body, _ = crmclient.RenderScript(n.Body, m.scriptVars(m.camp.lead))
				preview = &n
			}
		}
		return m.camp.view(m.lang, m.st, w, h, m.now(), preview, m.dial.digits, m.region(),
			m.o.Agent.Role == crmclient.RoleSupervisor)
	}
	return m.dial.view(m.st, w, h)
}

// callCard is the main pane of a call without a script: who and what state.
func (m *Model) callCard() string {
	c := m.call
	who := c.number
	if who == "" {
		who = T(m.lang, "cust.withheld")
	}
	if c.name != "" {
		who = c.name + " " + who
	}
	id := "call.to"
	if c.inbound {
		id = "call.from"
	}
	lines := []string{m.st.title.Render(T(m.lang, id, who)), T(m.lang, "call."+c.state)}
	if c.state != "ringing" && !m.script.Loaded() {
		lines = append(lines, m.st.dim.Render(T(m.lang, "script.none")))
	}
	return strings.Join(lines, "\n")
}
