package tui

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Everything the desktop shows that came from the network or the CRM — SIP
// display names, customer names, notes, FAQ answers, error texts — goes
// through these functions before it reaches a View. A display name is chosen
// by whoever dials the operator, so it is hostile input: an ESC sequence in it
// could move the cursor, recolour the screen or (OSC 52) write the operator's
// clipboard; a bidi override could make "注文キャンセル" read as something
// else; a 10 kB name could push every pane off the screen. Stripping happens
// when a value arrives (once), truncation when it is laid out (per width).

// maxFieldRunes bounds a single-line field kept in the model; no pane is wider.
const maxFieldRunes = 256

// cleanLine removes terminal control sequences (CSI, OSC — including OSC 52 —,
// DCS, APC), C0/C1 control characters and Unicode format characters (bidi
// overrides U+202A–U+202E, isolates U+2066–U+2069, zero-width marks except the
// joiner emoji need) from one line of text. Newlines and tabs become spaces.
func cleanLine(s string) string {
	return cleanRunes(s, maxFieldRunes)
}

// cleanText is cleanLine for multi-line text (notes, FAQ answers, scripts):
// it keeps the line structure and cleans each line on its own, without a
// length cap (panes wrap or truncate by display width).
func cleanText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = cleanRunes(l, -1)
	}
	return strings.Join(lines, "\n")
}

func cleanRunes(s string, limit int) string {
	if s == "" {
		return ""
	}
	// ansi.Strip understands whole sequences (so an OSC payload does not leak
	// as text); the rune filter then removes whatever control bytes are left,
	// including a lone ESC or an 8-bit CSI.
	s = ansi.Strip(s)
	var b strings.Builder
	n := 0
	for _, r := range s {
		if limit >= 0 && n >= limit {
			break
		}
		switch {
		case r == '\t', r == '\n', r == '\r':
			r = ' '
		case r == utf8.RuneError, unicode.IsControl(r):
			continue
		case unicode.Is(unicode.Cf, r) && r != 0x200d:
			continue
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimRightFunc(b.String(), unicode.IsSpace)
}

// fit truncates s (which may hold our own styling) to width cells.
func fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// pad truncates or pads s with spaces to exactly width cells.
func pad(s string, width int) string {
	s = fit(s, width)
	if w := ansi.StringWidth(s); w < width {
		s += strings.Repeat(" ", width-w)
	}
	return s
}

// block makes s exactly width×height: every line fitted and padded, missing
// lines blank, extra lines cut. Panes are assembled from blocks, so no line
// of the screen can ever be wider than the terminal.
func block(s string, width, height int) string {
	if height <= 0 || width <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	out := make([]string, height)
	for i := range out {
		l := ""
		if i < len(lines) {
			l = lines[i]
		}
		out[i] = pad(l, width)
	}
	return strings.Join(out, "\n")
}

// wrapText wraps plain (already cleaned) text to width cells, breaking at
// spaces where there are some and anywhere in Japanese, which has none.
func wrapText(s string, width int) []string {
	if width <= 0 {
		return nil
	}
	var out []string
	for _, l := range strings.Split(s, "\n") {
		w := ansi.Wrap(l, width, "")
		out = append(out, strings.Split(w, "\n")...)
	}
	return out
}
