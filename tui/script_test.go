package tui

import (
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/keymap"
)

// panesTeikiScript is the seeded outbound script (crmserver/content_seed.go),
// trimmed to the nodes the tests walk.
func panesTeikiScript() crmclient.Script {
	ch := func(l, n string) crmclient.ScriptChoice { return crmclient.ScriptChoice{Label: l, Next: n} }
	return crmclient.Script{
		ID: "outbound-teiki", Name: "アウトバウンド（定期便のご案内）", Start: "opening",
		Nodes: []crmclient.ScriptNode{
			{ID: "opening", Title: "第一声（会社名・担当者名）",
				Body: "お世話になっております。**{{company.name}}**の**{{agent.display_name}}**と申します。\n\n" +
					"{{customer.name}}様のお電話でよろしいでしょうか。",
				Choices: []crmclient.ScriptChoice{ch("ご本人", "purpose"), ch("ご本人以外・不在", "absent")}},
			{ID: "absent", Title: "ご本人以外・不在", Body: "改めてお電話いたします。",
				Choices: []crmclient.ScriptChoice{ch("終了（再架電）", "end")}},
			{ID: "purpose", Title: "勧誘目的・商品の告知",
				Body: "本日は、先日お買い求めいただいた商品の**定期便のご案内**でお電話いたしました。\n\n" +
					"> 特定商取引法：会社名・担当者名に続けて、**勧誘目的であること**と**商品の種類**を最初に伝える。",
				Choices: []crmclient.ScriptChoice{ch("聞いていただける", "proposal"), ch("今は都合が悪い", "callback"), ch("不要・お断り", "refused")}},
			{ID: "refused", Title: "お断り", Body: "承知いたしました。", Choices: []crmclient.ScriptChoice{ch("次へ", "end"), ch("壊れた選択肢", "nowhere")}},
			{ID: "end", Title: "通話終了", Body: "結果を登録してください。"},
		},
		Checklist: []crmclient.ChecklistItem{
			{ID: "company", Label: "Stated the company name", LabelJA: "会社名を名乗った", Required: true},
			{ID: "agent-name", Label: "Stated own name", LabelJA: "担当者名を名乗った", Required: true},
			{ID: "terms", Label: "On sign-up: terms read out", LabelJA: "申込時：条件を説明", Required: false},
		},
	}
}

func panesTeikiVars() map[string]string {
	return crmclient.ScriptFields(&crmclient.Customer{Name: "佐藤 陽子", NameKana: "サトウ ヨウコ"},
		crmclient.User{DisplayName: "山田"}, "ヘルシーライフ")
}

func TestScriptBranchWalkAndBack(t *testing.T) {
	steps := []struct {
		do      keymap.Action
		handled bool
		node    string
	}{
		{keymap.Choice3, false, "opening"}, // opening has two choices
		{keymap.Choice1, true, "purpose"},
		{keymap.Choice3, true, "refused"},
		{keymap.Choice2, false, "refused"}, // "nowhere" is not a node: ignored
		{keymap.ChoiceDown, true, "refused"},
		{keymap.ChoiceUp, true, "refused"},
		{keymap.Choose, true, "end"}, // cursor on choice 1
		{keymap.ScriptBack, true, "refused"},
		{keymap.ScriptBack, true, "purpose"},
		{keymap.ScriptBack, true, "opening"},
		{keymap.ScriptBack, false, "opening"},
		{keymap.ChoiceDown, true, "opening"},
		{keymap.Choose, true, "absent"}, // cursor on choice 2
	}
	p := newScriptPane(LangJA)
	if p.Do(keymap.Choice1) {
		t.Fatal("an empty pane handled a choice")
	}
	p.Load(panesTeikiScript(), panesTeikiVars())
	for i, s := range steps {
		if got := p.Do(s.do); got != s.handled {
			t.Errorf("step %d %s: handled=%v, want %v", i, s.do, got, s.handled)
		}
		if p.node != s.node {
			t.Fatalf("step %d %s: at %q, want %q", i, s.do, p.node, s.node)
		}
	}
	if got, want := p.Path(), []string{"第一声（会社名・担当者名）", "ご本人以外・不在"}; !slices.Equal(got, want) {
		t.Errorf("Path = %q, want %q", got, want)
	}
}

func TestScriptChecklistGating(t *testing.T) {
	p := newScriptPane(LangJA)
	p.Load(panesTeikiScript(), panesTeikiVars())
	if got, want := p.Missing(), []string{"会社名を名乗った", "担当者名を名乗った"}; !slices.Equal(got, want) {
		t.Fatalf("Missing = %q, want %q", got, want)
	}
	// opening has 2 choices; the 3rd row is the first checklist item.
	p.Do(keymap.ChoiceDown)
	p.Do(keymap.ChoiceDown)
	if !p.Do(keymap.Choose) || p.node != "opening" {
		t.Fatal("Choose on a checklist item must tick it, not follow a branch")
	}
	if got, want := p.Missing(), []string{"担当者名を名乗った"}; !slices.Equal(got, want) {
		t.Fatalf("after tick: Missing = %q, want %q", got, want)
	}
	// the cursor stops at the last row
	for range 10 {
		p.Do(keymap.ChoiceDown)
	}
	p.Do(keymap.Choose) // ticks the optional item
	p.Do(keymap.ChoiceUp)
	p.Do(keymap.Choose)
	if m := p.Missing(); len(m) != 0 {
		t.Fatalf("all required ticked, Missing = %q", m)
	}
	// ticks survive branches and back, untick works
	p.Do(keymap.Choice1)
	p.Do(keymap.ScriptBack)
	if m := p.Missing(); len(m) != 0 {
		t.Fatalf("ticks lost on navigation: %q", m)
	}
	p.Do(keymap.ChoiceDown)
	p.Do(keymap.ChoiceDown)
	p.Do(keymap.Choose)
	if got, want := p.Missing(), []string{"会社名を名乗った"}; !slices.Equal(got, want) {
		t.Fatalf("untick: Missing = %q, want %q", got, want)
	}
	// Load clears ticks
	p.Load(panesTeikiScript(), panesTeikiVars())
	if len(p.Missing()) != 2 {
		t.Fatal("Load kept ticks")
	}
	p.Clear()
	if p.Loaded() || p.Missing() != nil {
		t.Fatal("Clear left a script")
	}
}

func TestScriptMissingLanguage(t *testing.T) {
	for _, c := range []struct {
		lang Lang
		want []string
	}{
		{LangJA, []string{"会社名を名乗った", "担当者名を名乗った"}},
		{LangEN, []string{"Stated the company name", "Stated own name"}},
	} {
		p := newScriptPane(c.lang)
		p.Load(panesTeikiScript(), nil)
		if got := p.Missing(); !slices.Equal(got, c.want) {
			t.Errorf("%s: Missing = %q, want %q", c.lang, got, c.want)
		}
	}
}

func TestScriptView(t *testing.T) {
	p := newScriptPane(LangJA)
	p.Load(panesTeikiScript(), panesTeikiVars())
	for _, sz := range [][2]int{{80, 24}, {38, 12}, {30, 6}, {100, 40}} {
		v := p.View(sz[0], sz[1])
		lines := strings.Split(v, "\n")
		if len(lines) > sz[1] {
			t.Errorf("%v: %d lines", sz, len(lines))
		}
		for _, l := range lines {
			if w := ansi.StringWidth(l); w > sz[0] {
				t.Errorf("%v: line %q is %d wide", sz, ansi.Strip(l), w)
			}
		}
		plain := ansi.Strip(v)
		if !strings.Contains(plain, "› 1. ご本人") {
			t.Errorf("%v: selected first choice not shown:\n%s", sz, plain)
		}
	}
	plain := ansi.Strip(p.View(80, 24))
	for _, want := range []string{"ヘルシーライフの山田と申します", "佐藤 陽子様", "2. ご本人以外・不在", "[ ] 会社名を名乗った（必須）", "確認事項"} {
		if !strings.Contains(plain, want) {
			t.Errorf("view lacks %q:\n%s", want, plain)
		}
	}
	// an unknown caller: the field stays visible for the operator to ask
	p.Load(panesTeikiScript(), crmclient.ScriptFields(nil, crmclient.User{DisplayName: "山田"}, "ヘルシーライフ"))
	if !strings.Contains(ansi.Strip(p.View(80, 24)), "{{customer.name}}様") {
		t.Error("unknown field not shown as written")
	}
	// the cursor on the last checklist item stays visible in a short pane
	for range 5 {
		p.Do(keymap.ChoiceDown)
	}
	if v := ansi.Strip(p.View(40, 5)); !strings.Contains(v, "› [ ] 申込時") {
		t.Errorf("cursor scrolled away:\n%s", v)
	}
}

// TestScriptTickNext: one key per disclosure, in the order listed; the
// wrap-up is unblocked once every required item is ticked.
func TestScriptTickNext(t *testing.T) {
	var p scriptPane
	p.lang = LangEN
	s := fixtureScript()
	s.Checklist = append(s.Checklist, crmclient.ChecklistItem{ID: "purpose", Label: "Purpose stated", LabelJA: "目的を伝えた", Required: true})
	p.Load(s, nil)
	if len(p.Missing()) != 2 {
		t.Fatalf("missing %v", p.Missing())
	}
	if !p.Do(keymap.TickNext) || !slices.Equal(p.Missing(), []string{"Purpose stated"}) {
		t.Fatalf("after one tick: %v", p.Missing())
	}
	if !p.Do(keymap.TickNext) || len(p.Missing()) != 0 {
		t.Fatalf("after two ticks: %v", p.Missing())
	}
	if p.Do(keymap.TickNext) {
		t.Error("a third tick did something with every item ticked")
	}
}
