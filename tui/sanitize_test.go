package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestCleanLine(t *testing.T) {
	for in, want := range map[string]string{
		"佐藤　陽子":                          "佐藤　陽子",
		"\x1b[31m赤\x1b[0m":               "赤",
		"a\x1b]52;c;ZXZpbA==\x07b":       "ab", // OSC 52 clipboard write, BEL-terminated
		"a\x1b]52;c;ZXZpbA==\x1b\\b":     "ab", // ST-terminated
		"\u202eevil\u202c \u2066x\u2069": "evil x",
		"tab\there\nnew":                 "tab here new",
		"\u009b31mC1":                    "31mC1",
		"bell\x07 nul\x00 del\x7f":       "bell nul del",
		"\x1bP1$r\x1b\\dcs":              "dcs",
		"👨\u200d👩":                       "👨\u200d👩",
	} {
		if got := cleanLine(in); got != want {
			t.Errorf("cleanLine(%q) = %q, want %q", in, got, want)
		}
	}
	if n := len([]rune(cleanLine(strings.Repeat("名", 10000)))); n != maxFieldRunes {
		t.Errorf("10 kB name kept %d runes, want %d", n, maxFieldRunes)
	}
}

func TestCleanTextKeepsLines(t *testing.T) {
	got := cleanText("一行目\x1b[2K\r\n二行目\u202e\n\x1b]8;;http://x\x07三\x1b]8;;\x07行目")
	if got != "一行目\n二行目\n三行目" {
		t.Errorf("cleanText = %q", got)
	}
}

func TestBlockNeverWider(t *testing.T) {
	in := "佐藤　陽子サトウヨウコ長い長い長い名前\n" + strings.Repeat("x", 300) + "\nｱｲｳ"
	for _, w := range []int{1, 2, 3, 10, 79, 80} {
		out := block(in, w, 5)
		lines := strings.Split(out, "\n")
		if len(lines) != 5 {
			t.Fatalf("w=%d: %d lines", w, len(lines))
		}
		for _, l := range lines {
			if ansi.StringWidth(l) != w {
				t.Errorf("w=%d: line %q is %d wide", w, l, ansi.StringWidth(l))
			}
		}
	}
	// Wide characters wrap at the width, with no spaces to break at.
	for _, l := range wrapText(strings.Repeat("返品", 30), 9) {
		if ansi.StringWidth(l) > 9 {
			t.Errorf("wrapText line %q too wide", l)
		}
	}
}

func FuzzCleanLine(f *testing.F) {
	f.Add("\x1b]52;c;ZXZpbA==\x07\u202e名前")
	f.Fuzz(func(t *testing.T, s string) {
		out := cleanLine(s)
		for _, r := range out {
			if r < 0x20 || (r >= 0x7f && r < 0xa0) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
				t.Fatalf("cleanLine(%q) kept %U", s, r)
			}
		}
	})
}
