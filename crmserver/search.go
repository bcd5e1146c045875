package crmserver

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// searchKey folds text so that the ways people type a Japanese name meet in one
// form: full-width and half-width letters and katakana are unified (NFKC, which also
// joins a half-width ﾞ to its kana: ｼﾞ → ジ), hiragana becomes katakana (readings are
// stored in katakana, operators often type hiragana), Latin letters are lower-cased,
// and all spaces go (names are written "佐藤　陽子", "佐藤 陽子" and "佐藤陽子"). The customer's key is the folded name
// and reading joined by a separator that folding never produces, so a query cannot
// match across the two.
//
// Search is a substring match on this key (instr), which needs no tokenizer and works
// on Japanese without spaces. It scans the table; an FTS5 trigram index replaces it
// when the customer count makes that too slow.
func searchKey(name, kana string) string {
	return foldSearch(name) + "\x1f" + foldSearch(kana)
}

// foldSearch applies the searchKey folding to one string (also used on queries).
func foldSearch(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || r == '\x1f':
			continue
		case r >= 'ぁ' && r <= 'ゖ', r == 'ゝ' || r == 'ゞ':
			r += 'ァ' - 'ぁ' // hiragana → katakana: the blocks are parallel
		default:
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
