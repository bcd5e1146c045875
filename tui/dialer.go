package tui

import (
	"strings"
)

// dialer is the number being typed while idle. Digits, '*', '#' and '+' go
// into it before the keymap is asked (so "1" never means an action); enter
// (keymap Dial) dials it, ctrl+r redials the last number.
type dialer struct {
	lang   Lang
	digits string
	last   string
}

// maxDialLen bounds the dialer; no number is longer (E.164 is 15 digits).
const maxDialLen = 32

func isDialDigit(s string) bool {
	return len(s) == 1 && strings.ContainsAny(s, "0123456789*#+")
}

func isDTMFDigit(s string) bool {
	return len(s) == 1 && strings.ContainsAny(s, "0123456789*#")
}

func (d *dialer) typeKey(s string) {
	if len(d.digits) < maxDialLen {
		d.digits += s
	}
}

func (d *dialer) backspace() {
	if d.digits != "" {
		d.digits = d.digits[:len(d.digits)-1]
	}
}

func (d *dialer) view(st styles, width, height int) string {
	lines := []string{st.title.Render(T(d.lang, "dial.title"))}
	if d.digits == "" {
		lines = append(lines, st.dim.Render(T(d.lang, "dial.empty")))
	} else {
		lines = append(lines, st.keyName.Render("> "+d.digits+"▏"))
	}
	if d.last != "" {
		lines = append(lines, st.dim.Render(T(d.lang, "dial.last", d.last)))
	}
	return block(strings.Join(lines, "\n"), width, height)
}
