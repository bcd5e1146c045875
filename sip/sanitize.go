package sip

import (
	"strings"
	"unicode"
)

// Clean strips terminal control sequences and control characters from a
// string that came from the network (display names, reasons), so it can be
// printed or shown without rewriting the operator's screen. Printable text,
// Japanese included, is kept; the result is at most 128 runes.
func Clean(s string) string {
	var b strings.Builder
	n := 0
	rs := []rune(s)
	for i := 0; i < len(rs) && n < 128; i++ {
		r := rs[i]
		switch {
		case r == 0x1b: // ESC: skip a CSI/OSC sequence as a whole
			i = skipEscape(rs, i)
			continue
		case r == 0x9b: // 8-bit CSI
			i = skipCSI(rs, i+1)
			continue
		case r == '\t':
			r = ' '
		case unicode.IsControl(r), r == unicode.ReplacementChar,
			unicode.Is(unicode.Cf, r) && r != 0x200d: // bidi overrides etc.
			continue
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

func skipEscape(rs []rune, i int) int {
	if i+1 >= len(rs) {
		return i
	}
	switch rs[i+1] {
	case '[':
		return skipCSI(rs, i+2)
	case ']', 'P', '_', '^': // OSC/DCS/APC/PM: until BEL or ST
		for j := i + 2; j < len(rs); j++ {
			if rs[j] == 0x07 {
				return j
			}
			if rs[j] == 0x1b && j+1 < len(rs) && rs[j+1] == '\\' {
				return j + 1
			}
		}
		return len(rs)
	}
	return i + 1
}

func skipCSI(rs []rune, j int) int {
	for ; j < len(rs); j++ {
		if rs[j] >= 0x40 && rs[j] <= 0x7e {
			return j
		}
	}
	return len(rs)
}
