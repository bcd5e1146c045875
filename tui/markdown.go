package tui

import (
	"strconv"
	"strings"
	"unicode"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// The script and FAQ panes show Markdown the CRM stores: talk scripts and
// operator-facing answers, almost all of it Japanese. We render the small
// subset those texts use (headings, **bold**, *italics*, bullet and numbered
// lists, "> " notes for the operator, paragraphs) with our own renderer
// instead of glamour, because glamour v1 wraps with muesli/reflow, which only
// breaks at spaces: a Japanese paragraph has none, so it is never wrapped and
// runs off the pane (charmbracelet/glamour#185, #595). x/ansi.Wrap, which
// glamour v2 and lipgloss use, does hard-wrap, but it gathers a run of wide
// characters into one "word", so "確認 vault 不只是…" moves the whole run to
// the next line and leaves half a line empty (charmbracelet/x#827, open).
// Here a wide character is a break opportunity of its own, Latin words stay
// whole unless they are wider than the line, and a few kinsoku rules keep
// 「。」「、」 and small kana off the start of a line.
//
// Source lines are kept as lines (a single newline is a line break, not a
// soft wrap): script authors break spoken sentences where the operator should
// breathe. Text is cleaned line by line (cleanText) before parsing, so no
// terminal control sequence from the CRM reaches the screen. Styling is bold,
// italic and faint only — no colour — so the root's colour profile decides
// nothing here and NO_COLOR output still reads right.

// mdStyle is the inline style of a run of text.
type mdStyle uint8

const (
	mdPlain mdStyle = 0
	mdBold  mdStyle = 1 << iota
	mdItalic
	mdFaint
)

// mdTok is an unbreakable piece of a line: a Latin word, one wide character,
// or a space (a break opportunity that is dropped at a line's ends).
type mdTok struct {
	text  string
	style mdStyle
	width int
	space bool
	wide  bool
}

// renderMarkdown renders src to lines no wider than width cells (width <= 0:
// no wrapping). See the file comment for the subset.
func renderMarkdown(src string, width int) string {
	src = cleanText(src)
	var out []string
	blank := false // last line emitted was blank: collapse runs of blank lines
	for _, line := range strings.Split(src, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			if len(out) > 0 && !blank {
				out = append(out, "")
				blank = true
			}
			continue
		}
		blank = false
		prefix, indent, base, body := mdBlock(line)
		toks := mdInline(body, base)
		avail := width
		if width > 0 {
			avail = width - ansi.StringWidth(prefix)
			if avail < 2 { // too narrow for the marker: the text matters more
				prefix, indent, avail = "", "", width
			}
		}
		for i, l := range mdWrap(toks, avail) {
			p := indent
			if i == 0 {
				p = prefix
			}
			out = append(out, mdStyleOf(base&mdFaint).Render(p)+mdRenderLine(l))
		}
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n")
}

// mdBlock classifies one source line: the marker to print on its first
// wrapped line, the indent of the following ones, the base style and the text.
func mdBlock(line string) (prefix, indent string, base mdStyle, body string) {
	t := strings.TrimLeft(line, " ")
	lead := min(len(line)-len(t), 6) / 2 * 2 // nested lists: keep two cells per level
	pad := strings.Repeat(" ", lead)
	switch {
	case strings.HasPrefix(t, "#"):
		n := len(t) - len(strings.TrimLeft(t, "#"))
		if n <= 6 && (len(t) == n || t[n] == ' ') {
			return "", "", mdBold, strings.TrimSpace(t[n:])
		}
	case strings.HasPrefix(t, "- "), strings.HasPrefix(t, "* "), strings.HasPrefix(t, "+ "):
		return pad + "• ", pad + "  ", mdPlain, strings.TrimSpace(t[2:])
	case strings.HasPrefix(t, ">"):
		return "│ ", "│ ", mdFaint, strings.TrimSpace(strings.TrimLeft(t, ">"))
	}
	if i := strings.IndexAny(t, ".)"); i > 0 && i <= 3 && len(t) > i+1 && t[i+1] == ' ' {
		if _, err := strconv.Atoi(t[:i]); err == nil {
			marker := pad + t[:i+1] + " "
			return marker, strings.Repeat(" ", ansi.StringWidth(marker)), mdPlain, strings.TrimSpace(t[i+2:])
		}
	}
	return "", "", mdPlain, strings.TrimSpace(t)
}

// mdInline splits text into tokens, reading **bold**, __bold__, *italic* and
// `code` (shown plain; single underscores stay, snake_case is common in
// operator notes). An unmatched marker is text.
func mdInline(s string, base mdStyle) []mdTok {
	var toks []mdTok
	style := base
	var word strings.Builder
	wordW := 0
	flush := func() {
		if word.Len() > 0 {
			toks = append(toks, mdTok{text: word.String(), style: style, width: wordW})
			word.Reset()
			wordW = 0
		}
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case (r == '*' || r == '_') && i+1 < len(rs) && rs[i+1] == r:
			if style&mdBold != 0 || closes(rs[i+2:], string([]rune{r, r})) {
				flush()
				style ^= mdBold
				i++
				continue
			}
		case r == '*' && (style&mdItalic != 0 || closes(rs[i+1:], "*")):
			flush()
			style ^= mdItalic
			continue
		case r == '`' && closes(rs[i+1:], "`"):
			continue
		}
		switch w := ansi.StringWidth(string(r)); {
		case r == ' ':
			flush()
			toks = append(toks, mdTok{text: " ", style: style, width: 1, space: true})
		case w >= 2:
			flush()
			toks = append(toks, mdTok{text: string(r), style: style, width: w, wide: true})
		case w == 0 && len(toks) > 0 && word.Len() == 0:
			toks[len(toks)-1].text += string(r) // a combining mark stays with its base
		default:
			word.WriteRune(r)
			wordW += w
		}
	}
	flush()
	return toks
}

// closes reports whether marker occurs later in rs (so an opening marker
// has a partner and is markup, not an asterisk the author meant).
func closes(rs []rune, marker string) bool {
	return strings.Contains(string(rs), marker)
}

// noLineStart are characters Japanese typesetting keeps off the start of a
// line (行頭禁則): closing punctuation, the long vowel mark and small kana.
const noLineStart = "、。，．,.・：；？！?!ー－）」』】〕〉》”’ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々"

// mdWrap breaks tokens into lines of at most width cells (width <= 0: one
// line). A Latin word wider than the line is cut where it must be.
func mdWrap(toks []mdTok, width int) [][]mdTok {
	if width <= 0 {
		return [][]mdTok{trimSpaces(toks)}
	}
	var lines [][]mdTok
	var cur []mdTok
	curW := 0
	newline := func() {
		lines = append(lines, trimSpaces(cur))
		cur, curW = nil, 0
	}
	for _, t := range toks {
		if t.space && len(cur) == 0 {
			continue
		}
		if t.width > width { // a word longer than a line: hard-break it
			for _, piece := range splitWidth(t, width) {
				if curW+piece.width > width && len(cur) > 0 {
					newline()
				}
				cur = append(cur, piece)
				curW += piece.width
			}
			continue
		}
		if curW+t.width > width {
			if t.space {
				newline()
				continue
			}
			var carry []mdTok
			// 追い出し: a closing mark may not start the line, so the
			// character before it goes down with it.
			if strings.ContainsRune(noLineStart, firstRune(t.text)) && len(cur) >= 2 &&
				cur[len(cur)-1].wide {
				carry = []mdTok{cur[len(cur)-1]}
				cur = cur[:len(cur)-1]
			}
			newline()
			for _, c := range carry {
				cur = append(cur, c)
				curW += c.width
			}
		}
		cur = append(cur, t)
		curW += t.width
	}
	if len(cur) > 0 || len(lines) == 0 {
		newline()
	}
	return lines
}

// splitWidth cuts one narrow word into pieces of at most width cells.
func splitWidth(t mdTok, width int) []mdTok {
	var out []mdTok
	var b strings.Builder
	w := 0
	for _, r := range t.text {
		rw := ansi.StringWidth(string(r))
		if w+rw > width && b.Len() > 0 {
			out = append(out, mdTok{text: b.String(), style: t.style, width: w})
			b.Reset()
			w = 0
		}
		b.WriteRune(r)
		w += rw
	}
	if b.Len() > 0 {
		out = append(out, mdTok{text: b.String(), style: t.style, width: w})
	}
	return out
}

func trimSpaces(toks []mdTok) []mdTok {
	for len(toks) > 0 && toks[0].space {
		toks = toks[1:]
	}
	for len(toks) > 0 && toks[len(toks)-1].space {
		toks = toks[:len(toks)-1]
	}
	return toks
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return unicode.ReplacementChar
}

// mdRenderLine joins a line's tokens, styling each run of equal style once.
func mdRenderLine(toks []mdTok) string {
	var b strings.Builder
	for i := 0; i < len(toks); {
		j := i
		var run strings.Builder
		for j < len(toks) && toks[j].style == toks[i].style {
			run.WriteString(toks[j].text)
			j++
		}
		b.WriteString(mdStyleOf(toks[i].style).Render(run.String()))
		i = j
	}
	return b.String()
}

func mdStyleOf(s mdStyle) lipgloss.Style {
	st := lipgloss.NewStyle()
	if s == mdPlain {
		return st
	}
	return st.Bold(s&mdBold != 0).Italic(s&mdItalic != 0).Faint(s&mdFaint != 0)
}
