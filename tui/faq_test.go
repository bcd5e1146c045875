package tui

import (
	"context"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/keymap"
)

// panesFAQCRM answers SearchFAQ from a fixed list and records the queries.
// The other CRM methods are not used by the FAQ pane.
type panesFAQCRM struct {
	CRM     // nil: calling anything else panics, which a test would notice
	mu      sync.Mutex
	queries []string
	err     error
}

func (c *panesFAQCRM) SearchFAQ(_ context.Context, q string, limit int) ([]crmclient.FAQEntry, error) {
	c.mu.Lock()
	c.queries = append(c.queries, q)
	c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	all := []crmclient.FAQEntry{
		{ID: "1", Question: "返品・交換の条件を教えてください", Answer: "- **未開封**：商品到着後**8日以内**にご連絡いただければ返品可。送料はお客様負担。\n\n返品受付は管理画面「注文詳細 → 返品登録」。"},
		{ID: "2", Question: "届いた商品が破損していた・中身が違った", Answer: "まずお詫びします。破損・誤配送は**送料当社負担で交換**です。"},
		{ID: "3", Question: "間違えて注文してしまった", Answer: "発送前ならキャンセル\x1b]52;c;ZXZpbA==\x07または内容変更で対応します。"},
	}
	var out []crmclient.FAQEntry
	for _, e := range all {
		if q == "" || strings.Contains(e.Question+e.Answer, q) {
			out = append(out, e)
		}
	}
	return out[:min(len(out), limit)], nil
}

func panesKey(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

// panesType types text into the pane one key at a time and returns the seq
// of the last edit.
func panesType(t *testing.T, p faqPane, crm CRM, text string) faqPane {
	t.Helper()
	for _, r := range text {
		p, _ = p.Update(panesKey(string(r)), crm)
	}
	return p
}

func TestFAQDebounceSequencing(t *testing.T) {
	crm := &panesFAQCRM{}
	p := newFAQPane(LangJA)
	if p.Open() == nil || !p.Typing() {
		t.Fatal("Open must focus the field and start the timer")
	}
	opened := p.seq
	p = panesType(t, p, crm, "返品")
	if p.seq != opened+2 {
		t.Fatalf("two edits: seq %d, want %d", p.seq, opened+2)
	}
	// the ticks of the earlier edits (and of Open) do nothing
	for s := opened; s < p.seq; s++ {
		var cmd tea.Cmd
		if p, cmd = p.Update(faqTickMsg{seq: s}, crm); cmd != nil {
			t.Fatalf("stale tick %d started a search", s)
		}
	}
	p, cmd := p.Update(faqTickMsg{seq: p.seq}, crm)
	if cmd == nil {
		t.Fatal("the latest tick did not search")
	}
	res := cmd().(faqResultsMsg)
	if len(crm.queries) != 1 || crm.queries[0] != "返品" {
		t.Fatalf("queries %q, want exactly [返品]", crm.queries)
	}
	p, _ = p.Update(res, crm)
	if len(p.results) != 1 || p.results[0].ID != "1" {
		t.Fatalf("results %v", p.results)
	}
	// a key that does not edit (cursor left) starts no timer
	before := p.seq
	p, _ = p.Update(tea.KeyPressMsg{Code: tea.KeyLeft}, crm)
	if p.seq != before {
		t.Error("cursor movement bumped the sequence")
	}
}

func TestFAQStaleResultsDropped(t *testing.T) {
	crm := &panesFAQCRM{}
	p := newFAQPane(LangJA)
	p.Open()
	p = panesType(t, p, crm, "返")
	_, cmd := p.Update(faqTickMsg{seq: p.seq}, crm)
	old := cmd().(faqResultsMsg) // search for "返" in flight…
	p = panesType(t, p, crm, "品")
	p, cmd = p.Update(faqTickMsg{seq: p.seq}, crm)
	fresh := cmd().(faqResultsMsg)
	p, _ = p.Update(fresh, crm)
	p, _ = p.Update(old, crm) // …lands after the newer answer
	if p.searched != "返品" || len(p.results) != 1 {
		t.Fatalf("stale results shown: query %q, %d results", p.searched, len(p.results))
	}
	// and stale results are dropped even before the fresh ones arrive
	p = panesType(t, p, crm, "x")
	p, _ = p.Update(fresh, crm)
	if !p.searching && p.searched != "返品" {
		t.Fatal("state changed by a stale answer")
	}
}

func TestFAQErrorsAreSentences(t *testing.T) {
	cases := []struct {
		lang Lang
		crm  CRM
		err  error
		want string
	}{
		{LangEN, &panesFAQCRM{err: crmclient.ErrUnavailable}, nil, "FAQ search failed: CRM unreachable"},
		{LangJA, &panesFAQCRM{err: crmclient.ErrUnavailable}, nil, "FAQ検索に失敗しました：CRMに接続できません"},
		{LangEN, nil, nil, "FAQ search failed: no CRM configured"},
		{LangEN, nil, context.DeadlineExceeded, "FAQ search failed: CRM did not answer in time"},
	}
	for _, c := range cases {
		p := newFAQPane(c.lang)
		p.Open()
		p = panesType(t, p, c.crm, "a")
		var cmd tea.Cmd
		p, cmd = p.Update(faqTickMsg{seq: p.seq}, c.crm)
		res := cmd().(faqResultsMsg)
		if c.err != nil {
			res.err = c.err
		}
		p, _ = p.Update(res, c.crm)
		if v := ansi.Strip(p.View(80, 10)); !strings.Contains(v, c.want) {
			t.Errorf("%s: view lacks %q:\n%s", c.lang, c.want, v)
		}
	}
}

func TestFAQPickOpenBackClose(t *testing.T) {
	for _, keys := range []*keymap.Map{nil, keymap.Default()} {
		crm := &panesFAQCRM{}
		p := newFAQPane(LangJA)
		p.SetKeys(keys)
		p.Open()
		_, cmd := p.Update(faqTickMsg{seq: p.seq}, crm) // the empty query lists all
		p, _ = p.Update(cmd(), crm)
		if len(p.results) != 3 {
			t.Fatalf("empty query: %d results", len(p.results))
		}
		for _, k := range []string{"down", "down", "down", "up"} {
			p, _ = p.Update(panesKey(k), crm)
		}
		if p.sel != 1 {
			t.Fatalf("sel %d, want 1", p.sel)
		}
		p, _ = p.Update(panesKey("down"), crm)
		p, _ = p.Update(panesKey("enter"), crm)
		if p.Typing() {
			t.Fatal("answer open but the field still has the keys")
		}
		v := p.View(40, 12)
		if strings.Contains(v, "\x1b]") || strings.Contains(v, "52;") {
			t.Fatalf("OSC survived in the answer: %q", v)
		}
		if !strings.Contains(ansi.Strip(v), "Q. 間違えて注文してしまった") || !strings.Contains(ansi.Strip(v), "内容変更で対応") {
			t.Fatalf("answer not shown:\n%s", ansi.Strip(v))
		}
		for _, l := range strings.Split(v, "\n") {
			if ansi.StringWidth(l) > 40 {
				t.Fatalf("line too wide: %q", ansi.Strip(l))
			}
		}
		p, _ = p.Update(panesKey("esc"), crm)
		if !p.IsOpen() || !p.Typing() {
			t.Fatal("esc from the answer must go back to the results")
		}
		p, _ = p.Update(panesKey("esc"), crm)
		if p.IsOpen() {
			t.Fatal("esc from the results must close")
		}
	}
}

func TestFAQViewFits(t *testing.T) {
	crm := &panesFAQCRM{}
	p := newFAQPane(LangEN)
	p.Open()
	p = panesType(t, p, crm, "返品")
	_, cmd := p.Update(faqTickMsg{seq: p.seq}, crm)
	p, _ = p.Update(cmd(), crm)
	for _, sz := range [][2]int{{80, 24}, {20, 4}, {12, 3}} {
		v := p.View(sz[0], sz[1])
		lines := strings.Split(v, "\n")
		if len(lines) > sz[1] {
			t.Errorf("%v: %d lines", sz, len(lines))
		}
		for _, l := range lines {
			if ansi.StringWidth(l) > sz[0] {
				t.Errorf("%v: %q too wide", sz, ansi.Strip(l))
			}
		}
	}
	if v := ansi.Strip(p.View(80, 24)); !strings.Contains(v, "› 返品・交換の条件を教えてください") {
		t.Errorf("result not listed:\n%s", v)
	}
}
