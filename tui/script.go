package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/keymap"
)

// scriptPane walks the campaign's talk script during a call. The operator
// reads the node's body aloud (Markdown with {{customer.name}}-style fields
// filled in), then follows one of its numbered choices to the next node;
// ScriptBack retraces a step. Below the choices is the script's compliance
// checklist — for outbound sales the disclosures 特定商取引法 §16 requires at
// the start of the call (company, own name, that it is a sales call, the kind
// of product). Choices and checklist items form one selectable list, so the
// same keys (ChoiceUp/ChoiceDown, Choose) follow a branch or tick an item;
// TickNext ticks the next unticked item, one key per disclosure as it is
// said. Required items that are not ticked block the wrap-up (Missing).
//
// The pane is a value the root keeps; it holds a copy of the script, never a
// pointer into the CRM client. Ticks belong to the call, not the node: going
// back does not untick anything.
type scriptPane struct {
	lang    Lang
	script  crmclient.Script
	vars    map[string]string
	loaded  bool
	node    string          // current node id
	history []string        // node ids walked before node, oldest first
	ticks   map[string]bool // checklist item id → ticked
	cursor  int             // over choices, then checklist items
}

func newScriptPane(lang Lang) scriptPane { return scriptPane{lang: lang} }

// Load shows script s from its start node, with vars filling its fields
// (crmclient.ScriptFields). Ticks and the walked path are cleared.
func (p *scriptPane) Load(s crmclient.Script, vars map[string]string) {
	s.Nodes = append([]crmclient.ScriptNode(nil), s.Nodes...)
	s.Checklist = append([]crmclient.ChecklistItem(nil), s.Checklist...)
	v := make(map[string]string, len(vars))
	for k, val := range vars {
		v[k] = val
	}
	*p = scriptPane{lang: p.lang, script: s, vars: v, loaded: true, node: s.Start, ticks: map[string]bool{}}
	if _, ok := p.script.Node(s.Start); !ok && len(s.Nodes) > 0 {
		p.node = s.Nodes[0].ID // a script whose start is misnamed still shows
	}
}

// Clear forgets the script (the call ended and the wrap-up was saved).
func (p *scriptPane) Clear() { *p = scriptPane{lang: p.lang} }

// Loaded reports whether a script is on screen.
func (p scriptPane) Loaded() bool { return p.loaded }

// current is the node on screen.
func (p scriptPane) current() crmclient.ScriptNode {
	n, _ := p.script.Node(p.node)
	return n
}

// rows is the number of selectable rows: the node's choices, then the
// checklist.
func (p scriptPane) rows() int { return len(p.current().Choices) + len(p.script.Checklist) }

// Do performs a script action and reports whether it did anything, so the
// root can let an unhandled key fall through.
func (p *scriptPane) Do(a keymap.Action) bool {
	if !p.loaded {
		return false
	}
	switch a {
	case keymap.ChoiceDown:
		if p.cursor+1 < p.rows() {
			p.cursor++
		}
		return true
	case keymap.ChoiceUp:
		if p.cursor > 0 {
			p.cursor--
		}
		return true
	case keymap.Choose:
		choices := p.current().Choices
		if p.cursor < len(choices) {
			return p.follow(p.cursor)
		}
		if i := p.cursor - len(choices); i < len(p.script.Checklist) {
			id := p.script.Checklist[i].ID
			p.ticks[id] = !p.ticks[id]
			return true
		}
		return false
	case keymap.TickNext:
		// The disclosures are said in the order listed: one key each.
		for i, it := range p.script.Checklist {
			if !p.ticks[it.ID] {
				p.ticks[it.ID] = true
				p.cursor = len(p.current().Choices) + i
				return true
			}
		}
		return false
	case keymap.ScriptBack:
		if len(p.history) == 0 {
			return false
		}
		p.node = p.history[len(p.history)-1]
		p.history = p.history[:len(p.history)-1]
		p.cursor = 0
		return true
	}
	if n, ok := a.Nth("choice"); ok {
		return p.follow(n - 1)
	}
	return false
}

// follow goes to choice i of the current node. A choice naming a node the
// script does not have is ignored rather than leaving the operator on an
// empty pane.
func (p *scriptPane) follow(i int) bool {
	choices := p.current().Choices
	if i < 0 || i >= len(choices) {
		return false
	}
	next := choices[i].Next
	if _, ok := p.script.Node(next); !ok {
		return false
	}
	p.history = append(p.history, p.node)
	p.node = next
	p.cursor = 0
	return true
}

// Missing lists, in the pane's language, the required checklist items not
// ticked yet; the wrap-up cannot be saved while it is not empty.
func (p scriptPane) Missing() []string {
	if !p.loaded {
		return nil
	}
	var out []string
	for _, it := range p.script.Checklist {
		if it.Required && !p.ticks[it.ID] {
			out = append(out, p.itemLabel(it))
		}
	}
	return out
}

func (p scriptPane) itemLabel(it crmclient.ChecklistItem) string {
	return pick(p.lang, it.Label, it.LabelJA, it.LabelJA)
}

// Path lists the titles of the nodes walked, the current one last — for the
// call notes and the log.
func (p scriptPane) Path() []string {
	if !p.loaded {
		return nil
	}
	var out []string
	for _, id := range append(append([]string(nil), p.history...), p.node) {
		if n, ok := p.script.Node(id); ok {
			out = append(out, cleanLine(n.Title))
		}
	}
	return out
}

var (
	scriptTitleStyle = lipgloss.NewStyle().Bold(true)
	scriptSelStyle   = lipgloss.NewStyle().Reverse(true)
)

// View renders the pane in at most width×height cells: the title, the body,
// and the selectable list. When space is short the body is cut (its last
// line says so) and the list stays, scrolled to keep the cursor visible.
func (p scriptPane) View(width, height int) string {
	if width <= 0 || height <= 0 {
		return ""
	}
	if !p.loaded {
		return fit(T(p.lang, "script.none"), width)
	}
	n := p.current()
	title := cleanLine(n.Title)
	if name := cleanLine(p.script.Name); name != "" {
		title = name + " — " + title
	}
	header := scriptTitleStyle.Render(fit(title, width))

	body, _ := crmclient.RenderScript(n.Body, p.vars)
	bodyLines := strings.Split(renderMarkdown(body, width), "\n")

	list := p.listLines(width)
	// Budget: header, body, a blank line, the list.
	listH := min(len(list), max(height-2, 1))
	list = windowAround(list, p.cursorLine(), listH)
	bodyH := height - 1 - len(list)
	if len(list) > 0 {
		bodyH-- // blank separator
	}
	if bodyH < len(bodyLines) {
		if bodyH <= 0 {
			bodyLines = nil
		} else {
			bodyLines = append(bodyLines[:bodyH-1], fit(T(p.lang, "script.more"), width))
		}
	}
	out := append([]string{header}, bodyLines...)
	if len(list) > 0 && height-len(out)-len(list) >= 1 {
		out = append(out, "")
	}
	out = append(out, list...)
	if len(out) > height {
		out = out[:height]
	}
	return strings.Join(out, "\n")
}

// listLines renders the choices and the checklist, one line each; the
// selected row is marked by "›" and reverse video (the marker alone carries
// it when colour and attributes are off).
func (p scriptPane) listLines(width int) []string {
	var out []string
	row := 0
	line := func(s string) {
		mark := "  "
		if row == p.cursor {
			mark = "› "
		}
		s = fit(mark+s, width)
		if row == p.cursor {
			s = scriptSelStyle.Render(s)
		}
		out = append(out, s)
		row++
	}
	choices := p.current().Choices
	for i, c := range choices {
		num := "   "
		if i < 9 {
			num = fmt.Sprintf("%d. ", i+1)
		}
		label, _ := crmclient.RenderScript(cleanLine(c.Label), p.vars)
		line(num + label)
	}
	if len(choices) == 0 {
		out = append(out, fit("  "+T(p.lang, "script.end"), width))
	}
	if len(p.script.Checklist) > 0 {
		out = append(out, scriptTitleStyle.Render(fit(T(p.lang, "script.checklist"), width)))
		for _, it := range p.script.Checklist {
			box := "[ ] "
			if p.ticks[it.ID] {
				box = "[x] "
			}
			s := box + p.itemLabel(it)
			if it.Required {
				s += T(p.lang, "script.required")
			}
			line(s)
		}
	}
	return out
}

// cursorLine is the index in listLines of the selected row.
func (p scriptPane) cursorLine() int {
	nc := len(p.current().Choices)
	if p.cursor < nc {
		return p.cursor
	}
	extra := 1 // the checklist heading
	if nc == 0 {
		extra++ // the "end of script" line
	}
	return p.cursor + extra
}

// windowAround returns at most h lines of lines, including line at.
func windowAround(lines []string, at, h int) []string {
	if len(lines) <= h {
		return lines
	}
	start := max(0, min(at-h/2, len(lines)-h))
	return lines[start : start+h]
}
