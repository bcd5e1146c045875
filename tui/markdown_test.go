package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestMarkdownWrapWidth(t *testing.T) {
	ja := "本日は、先日お買い求めいただいた商品の**定期便のご案内**でお電話いたしました。2、3分ほどお時間よろしいでしょうか。"
	mixed := "模板 Bases 結合後、この vault は記事本ではなく、verylongidentifierwithoutspaces_and_more を含む個人知識データベースです。"
	list := "- 毎回**10%オフ**で、送料無料。いつでもスキップ・周期変更・解約ができます（回数のお約束はありません）\n" +
		"1. まず理由を伺います（「残っている」「効果」「経済的」など）。\n" +
		"> 特定商取引法：会社名・担当者名に続けて、**勧誘目的であること**と**商品の種類**を最初に伝える。"
	en := "# Delivery\nIf the order has **not shipped** yet, change the date in the admin screen; otherwise give the tracking number."
	for _, src := range []string{ja, mixed, list, en} {
		for _, w := range []int{1, 2, 3, 5, 10, 17, 20, 31, 40, 80} {
			out := renderMarkdown(src, w)
			for _, l := range strings.Split(out, "\n") {
				if got := ansi.StringWidth(l); got > w && !(w < 2 && got == 2) {
					t.Errorf("width %d: line %q is %d cells", w, ansi.Strip(l), got)
				}
			}
			// nothing is lost: every non-space rune of the source text is there
			plain := strings.ReplaceAll(ansi.Strip(out), "\n", "")
			for _, r := range []rune(strings.NewReplacer("**", "", "- ", "", "1. ", "", "> ", "", "# ", "").Replace(src)) {
				if r != ' ' && r != '\n' && !strings.ContainsRune(plain, r) {
					t.Errorf("width %d: %q lost", w, r)
				}
			}
		}
	}
}

func TestMarkdownJapaneseFillsLines(t *testing.T) {
	// A Latin word followed by Japanese must not push the Japanese run to a
	// new line (the x/ansi.Wrap behaviour): the first line is filled.
	out := ansi.Strip(renderMarkdown("ABC 日本語の文章がここに続きます", 10))
	first := strings.Split(out, "\n")[0]
	if first != "ABC 日本語" {
		t.Fatalf("first line %q, want %q", first, "ABC 日本語")
	}
}

func TestMarkdownKinsoku(t *testing.T) {
	// 10 cells hold five wide characters; the sixth is 。 which may not start
	// a line, so お goes down with it.
	out := ansi.Strip(renderMarkdown("あいうえお。かきくけこ", 10))
	lines := strings.Split(out, "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "。") {
			t.Fatalf("line starts with 。: %q", lines)
		}
	}
	if lines[0] != "あいうえ" || lines[1] != "お。かきく" {
		t.Fatalf("got %q", lines)
	}
}

func TestMarkdownBlocks(t *testing.T) {
	cases := []struct{ src, want string }{
		{"# 見出し", "見出し"},
		{"- 項目", "• 項目"},
		{"* item", "• item"},
		{"2. 二番目", "2. 二番目"},
		{"> 注意", "│ 注意"},
		{"**発送前**であれば", "発送前であれば"},
		{"a * b", "a * b"},
		{"段落1\n\n\n\n段落2", "段落1\n\n段落2"},
	}
	for _, c := range cases {
		if got := ansi.Strip(renderMarkdown(c.src, 20)); got != c.want {
			t.Errorf("%q: got %q, want %q", c.src, got, c.want)
		}
	}
}

func TestMarkdownHangingIndent(t *testing.T) {
	if got := ansi.Strip(renderMarkdown("- 長い項目の説明文", 10)); got != "• 長い項目\n  の説明文" {
		t.Fatalf("got %q", got)
	}
}

func TestMarkdownStripsControl(t *testing.T) {
	out := renderMarkdown("危険\x1b]52;c;ZXZpbA==\x07な\u202eテキスト\x1b[2J", 40)
	if strings.Contains(ansi.Strip(out), "\x1b") || strings.ContainsRune(out, '\u202e') || strings.Contains(out, "52;") {
		t.Fatalf("control sequence survived: %q", out)
	}
}
