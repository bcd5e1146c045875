package tui

import (
	"context"
	"errors"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/keymap"
)

// faqPane is the FAQ search the operator opens during a call ("/"): a search
// field whose results follow the typing, and the answer of the picked entry
// shown beside the call in place of the script.
//
// Searching as you type must not flood the CRM or show answers to an older
// query: every edit bumps a sequence number and starts a ~150 ms timer
// (faqTickMsg); only the tick carrying the latest number runs a search, and
// only results carrying the latest number are shown (faqResultsMsg) — a slow
// answer to "返" that lands after the answer to "返品" is dropped. The search
// itself runs in a tea.Cmd with a 2 s deadline, so Update never waits.
type faqPane struct {
	lang      Lang
	keys      *keymap.Map // nil: the default List keys
	input     textinput.Model
	open      bool
	reading   bool // the answer of results[sel] is on screen
	seq       int  // bumped on every edit; ticks and results carry it
	searching bool
	searched  string // query the results belong to
	results   []crmclient.FAQEntry
	err       string // a sentence, already in the pane's language
	sel       int
}

// faqDebounce is how long typing must pause before a search runs.
const faqDebounce = 150 * time.Millisecond

// faqTimeout bounds one search.
const faqTimeout = 2 * time.Second

// faqTickMsg says the debounce timer of edit seq ran out.
type faqTickMsg struct{ seq int }

// faqResultsMsg is the answer to the search started by tick seq.
type faqResultsMsg struct {
	seq     int
	query   string
	entries []crmclient.FAQEntry
	err     error
}

func newFAQPane(lang Lang) faqPane {
	in := textinput.New()
	in.Prompt = "/ "
	in.Placeholder = T(lang, "faq.placeholder")
	in.CharLimit = 100
	return faqPane{lang: lang, input: in}
}

// SetKeys makes the pane use the operator's List bindings for up, down and
// select (the root calls it once; without it the defaults apply).
func (p *faqPane) SetKeys(k *keymap.Map) { p.keys = k }

// Open focuses the search field and starts a search for what it holds (an
// empty query lists the most asked questions first). It returns the field's
// blink command batched with the debounce timer.
func (p *faqPane) Open() tea.Cmd {
	p.open, p.reading = true, false
	p.seq++
	return tea.Batch(p.input.Focus(), faqTick(p.seq))
}

// Close hides the pane; the query and results are kept for the next Open.
func (p *faqPane) Close() {
	p.open, p.reading = false, false
	p.input.Blur()
}

// IsOpen reports whether the pane is on screen.
func (p faqPane) IsOpen() bool { return p.open }

// Typing reports whether the search field has the keys (the root then
// matches only keys that print nothing).
func (p faqPane) Typing() bool { return p.open && !p.reading }

func faqTick(seq int) tea.Cmd {
	return tea.Tick(faqDebounce, func(time.Time) tea.Msg { return faqTickMsg{seq: seq} })
}

// faqSearch is the search of tick seq, as a command.
func faqSearch(crm CRM, seq int, q string) tea.Cmd {
	return func() tea.Msg {
		if crm == nil {
			return faqResultsMsg{seq: seq, query: q, err: errNoCRM}
		}
		ctx, cancel := context.WithTimeout(context.Background(), faqTimeout)
		defer cancel()
		es, err := crm.SearchFAQ(ctx, q, 10)
		return faqResultsMsg{seq: seq, query: q, entries: es, err: err}
	}
}

var errNoCRM = errors.New("no CRM configured")

// faqError says what went wrong in words an operator understands.
func faqError(lang Lang, err error) string {
	why := T(lang, "faq.unreachable")
	switch {
	case errors.Is(err, errNoCRM):
		why = T(lang, "faq.nocrm")
	case errors.Is(err, context.DeadlineExceeded):
		why = T(lang, "faq.timeout")
	}
	return T(lang, "faq.failed", why)
}

// action maps a key to a List action (up, down, select) or Back.
func (p faqPane) action(k tea.KeyPressMsg) keymap.Action {
	s := k.String()
	if p.keys != nil {
		if a, ok := p.keys.Match(s, keymap.List); ok {
			return a
		}
		if a, ok := p.keys.Match(s, keymap.Global); ok && a == keymap.Back {
			return a
		}
		return ""
	}
	switch s {
	case "up", "ctrl+p":
		return keymap.Up
	case "down", "ctrl+n":
		return keymap.Down
	case "enter":
		return keymap.Select
	case "esc":
		return keymap.Back
	}
	return ""
}

// Update handles keys while the pane is open, and the pane's own timer and
// result messages (which the root forwards whether or not it is open).
func (p faqPane) Update(msg tea.Msg, crm CRM) (faqPane, tea.Cmd) {
	switch msg := msg.(type) {
	case faqTickMsg:
		if msg.seq != p.seq || !p.open {
			return p, nil // typing went on: a newer tick is coming
		}
		p.searching = true
		return p, faqSearch(crm, msg.seq, strings.TrimSpace(p.input.Value()))
	case faqResultsMsg:
		if msg.seq != p.seq {
			return p, nil // an answer to an older query
		}
		p.searching = false
		p.searched = msg.query
		p.err = ""
		if msg.err != nil {
			p.err = faqError(p.lang, msg.err)
			p.results = nil
		} else {
			p.results = msg.entries
		}
		p.sel = 0
		p.reading = false
		return p, nil
	case tea.KeyPressMsg:
		if !p.open {
			return p, nil
		}
		a := p.action(msg)
		if p.reading {
			if a == keymap.Back {
				p.reading = false
				return p, p.input.Focus()
			}
			return p, nil
		}
		switch a {
		case keymap.Back:
			p.Close()
			return p, nil
		case keymap.Up:
			p.sel = max(p.sel-1, 0)
			return p, nil
		case keymap.Down:
			p.sel = max(min(p.sel+1, len(p.results)-1), 0)
			return p, nil
		case keymap.Select:
			if p.sel < len(p.results) {
				p.reading = true
				p.input.Blur()
			}
			return p, nil
		}
		before := p.input.Value()
		var cmd tea.Cmd
		p.input, cmd = p.input.Update(msg)
		if p.input.Value() != before {
			p.seq++
			return p, tea.Batch(cmd, faqTick(p.seq))
		}
		return p, cmd
	}
	if p.open && !p.reading {
		var cmd tea.Cmd
		p.input, cmd = p.input.Update(msg) // cursor blink
		return p, cmd
	}
	return p, nil
}

var (
	faqTitleStyle = lipgloss.NewStyle().Bold(true)
	faqSelStyle   = lipgloss.NewStyle().Reverse(true)
	faqDimStyle   = lipgloss.NewStyle().Faint(true)
)

// View renders the field and the results, or the answer, in at most
// width×height cells.
func (p faqPane) View(width, height int) string {
	if width <= 0 || height <= 0 || !p.open {
		return ""
	}
	var out []string
	if p.reading && p.sel < len(p.results) {
		e := p.results[p.sel]
		out = append(out, faqTitleStyle.Render(fit("Q. "+cleanLine(e.Question), width)))
		body := strings.Split(renderMarkdown(e.Answer, width), "\n")
		room := height - 2
		if len(body) > room {
			body = body[:max(room, 0)]
		}
		out = append(out, body...)
		for len(out) < height-1 {
			out = append(out, "")
		}
		out = append(out, faqDimStyle.Render(fit(T(p.lang, "faq.answerhint"), width)))
		return strings.Join(out[:min(len(out), height)], "\n")
	}

	p.input.SetWidth(max(width-3, 1))
	out = append(out, faqTitleStyle.Render(fit(T(p.lang, "faq.title"), width)))
	// bubbles' textinput pads a placeholder of wide characters with NUL
	// runes (it counts cells as runes): they must not reach the terminal.
	out = append(out, fit(strings.ReplaceAll(p.input.View(), "\x00", ""), width))
	switch {
	case p.err != "":
		out = append(out, fit(p.err, width))
	case p.searching && len(p.results) == 0:
		out = append(out, faqDimStyle.Render(fit(T(p.lang, "faq.searching"), width)))
	case len(p.results) == 0 && !p.searching && p.searched != "":
		out = append(out, fit(T(p.lang, "faq.none"), width))
	}
	room := height - len(out) - 1 // leave the hint line
	var rows []string
	for i, e := range p.results {
		mark := "  "
		if i == p.sel {
			mark = "› "
		}
		line := fit(mark+cleanLine(e.Question), width)
		if i == p.sel {
			line = faqSelStyle.Render(line)
		}
		rows = append(rows, line)
	}
	if room > 0 {
		out = append(out, windowAround(rows, p.sel, room)...)
	}
	if len(out) < height {
		out = append(out, faqDimStyle.Render(fit(T(p.lang, "faq.hint"), width)))
	}
	return strings.Join(out[:min(len(out), height)], "\n")
}
