package tui

import (
	"fmt"
	"os"
	"strings"
	"sync"
)

// Lang is the UI language.
type Lang string

// Languages.
const (
	LangJA Lang = "ja"
	LangEN Lang = "en"
)

// ParseLang reads ui.lang: "ja", "en", or "" for the default from the
// environment (LC_ALL, LC_MESSAGES, LANG: "ja…" means Japanese).
func ParseLang(s string) (Lang, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "ja", "jp", "japanese":
		return LangJA, nil
	case "en", "english":
		return LangEN, nil
	case "":
		return LangFromEnv(os.Getenv), nil
	}
	return "", fmt.Errorf("unknown language %q (ja or en)", s)
}

// LangFromEnv picks the language the way POSIX locales do: the first set of
// LC_ALL, LC_MESSAGES, LANG.
func LangFromEnv(getenv func(string) string) Lang {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if s := getenv(v); s != "" {
			if strings.HasPrefix(strings.ToLower(s), "ja") {
				return LangJA
			}
			return LangEN
		}
	}
	return LangEN
}

// msg is one catalogue entry: the English and the Japanese text. Texts may
// hold fmt verbs; T formats them with args.
type msg struct{ en, ja string }

// catalogue is every string the desktop shows, by id. Each part of the UI
// keeps its own map (msgsDesk, msgsPanes, …) so the parts can grow apart;
// TestCatalogueComplete checks ids are unique and both languages are there.
func catalogue() map[string]msg {
	all := map[string]msg{}
	for _, part := range catalogueParts {
		for id, m := range part {
			all[id] = m
		}
	}
	return all
}

// catalogueParts lists the per-part maps; each part's file adds itself here
// in an init function.
var catalogueParts []map[string]msg

// resolved is the catalogue, built once on first use.
var resolved = sync.OnceValue(catalogue)

// T returns message id in lang, formatted with args. A missing id shows as
// "!id" so a test (and a person) sees it at once.
func T(lang Lang, id string, args ...any) string {
	m, ok := resolved()[id]
	if !ok {
		return "!" + id
	}
	s := m.en
	if lang == LangJA && m.ja != "" {
		s = m.ja
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// pick returns the first non-empty of a text's Japanese form (when lang is
// Japanese), its English form and then the fallbacks — the way CRM data
// carries both languages (Label/LabelJA, Text/TextJA) — cleaned for display.
func pick(lang Lang, en, ja string, fallbacks ...string) string {
	cands := append([]string{en}, fallbacks...)
	if lang == LangJA {
		cands = append([]string{ja}, cands...)
	}
	for _, c := range cands {
		if c != "" {
			return cleanLine(c)
		}
	}
	return ""
}
