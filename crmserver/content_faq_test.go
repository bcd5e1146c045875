package crmserver

import (
	"cmp"
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/opdesk/opdesk/crmclient"
)

func questions(list []crmclient.FAQEntry) []string {
	var out []string
	for _, e := range list {
		out = append(out, e.Question)
	}
	return out
}

// referenceFAQ is SearchFAQ's contract evaluated in Go over every entry, without
// the index: every term in some field, ranked by terms in the question, then in the
// answer, then id.
func referenceFAQ(all []faqRow, query string, limit int) []string {
	var terms []string
	for _, f := range strings.Fields(query) {
		if t := foldSearch(f); t != "" && !slices.Contains(terms, t) {
			terms = append(terms, t)
		}
	}
	type hit struct {
		q            string
		id, inQ, inA int64
	}
	var hits []hit
	for _, e := range all {
		in := crmclient.FAQInput{Question: e.Question, Answer: e.Answer, Tags: e.Tags, Category: e.Category}
		fields := strings.Split(faqKey(in), searchSep)
		h := hit{q: e.Question, id: e.id}
		ok := true
		for _, t := range terms {
			switch {
			case strings.Contains(fields[0], t):
				h.inQ++
			case strings.Contains(fields[1], t):
				h.inA++
			default:
				ok = ok && slices.ContainsFunc(fields[2:], func(f string) bool { return strings.Contains(f, t) })
			}
		}
		if ok {
			hits = append(hits, h)
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		return cmp.Or(cmp.Compare(b.inQ, a.inQ), cmp.Compare(b.inA, a.inA), cmp.Compare(a.id, b.id))
	})
	var out []string
	for _, h := range hits[:min(limit, len(hits))] {
		out = append(out, h.q)
	}
	return out
}

// TestFAQSearch: Japanese search as you type over the seeded FAQ, over HTTP.
func TestFAQSearch(t *testing.T) {
	crm := newTestCRM(t, 0)
	ctx := context.Background()
	agent := crm.client(t, "agent1")

	first := func(q string) string {
		t.Helper()
		list, err := agent.SearchFAQ(ctx, q, 0)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		if len(list) == 0 {
			return ""
		}
		return list[0].Question
	}
	for q, want := range map[string]string{
		"配送":         "配送日時の変更はできますか？", // the word is in the question: first
		"配送 変更":      "配送日時の変更はできますか？",
		"配送　日時":      "配送日時の変更はできますか？", // full-width space separates terms too
		"スキップ":       "定期便を1回お休み（スキップ）したい",
		"すきっぷ":       "定期便を1回お休み（スキップ）したい", // hiragana finds katakana
		"ｽｷｯﾌﾟ":      "定期便を1回お休み（スキップ）したい", // half-width kana
		"解約":         "定期便を解約したい",
		"領収書":        "領収書を発行してほしい",
		"ＶＩＳＡ":       "使える支払い方法は？", // only in the answer; full-width query
		"visa":       "使える支払い方法は？",
		"receipt":    "領収書を発行してほしい", // an English tag
		"送料":         "送料はいくらですか？",
		"パスワード":      "マイページのパスワードを忘れた",
		"青汁":         "青汁のおいしい飲み方は？",
		"不在 再配達":     "不在で受け取れなかった（不在票が入っていた）",
		"ていき":        "", // 定期 is stored in kanji: a reading does not find it
		"配送 存在しない語句": "",
	} {
		if got := first(q); got != want {
			t.Errorf("SearchFAQ(%q) first = %q, want %q", q, got, want)
		}
	}

	// Against the reference evaluation: same entries, same order, for many shapes of
	// query (1-character terms, '%' which an answer holds, tags, no match).
	all, err := crm.st.queryFAQ(ctx, `SELECT `+faqCols+` FROM faq f`)
	if err != nil || len(all) < 30 {
		t.Fatalf("%d seeded entries, %v", len(all), err)
	}
	for _, q := range []string{"配送", "定期便", "便", "定期便 スキップ", "変更 便", "%", "_", "'", "subscription", "SUBSCRIPTION",
		"delivery 住所", "返品", "へんぴん", "商品", "医師", "する", "で", "の 送料", "カード", "ｶｰﾄﾞ", "a b c"} {
		got, err := agent.SearchFAQ(ctx, q, maxFAQLimit)
		if err != nil {
			t.Fatal(err)
		}
		if want := referenceFAQ(all, q, maxFAQLimit); !slices.Equal(questions(got), want) {
			t.Errorf("SearchFAQ(%q):\n got  %q\n want %q", q, questions(got), want)
		}
	}
	if got, _ := agent.SearchFAQ(ctx, "%", 0); len(got) == 0 || len(got) == len(all) {
		t.Errorf("'%%' matched %d of %d entries; want only those holding a %%", len(got), len(all))
	}

	// Empty query: the first entries in the FAQ's own order, 20 by default.
	list, err := agent.SearchFAQ(ctx, "", 0)
	if err != nil || len(list) != defFAQLimit || list[0].Question != seedFAQ[0].Question || list[1].Question != seedFAQ[1].Question {
		t.Errorf("empty query: %d entries, first %q, %v", len(list), questions(list)[:min(1, len(list))], err)
	}
	if list, _ := agent.SearchFAQ(ctx, "  ", 3); len(list) != 3 {
		t.Errorf("blank query, limit 3: %d entries", len(list))
	}
	if list, _ := agent.SearchFAQ(ctx, "の", 0); len(list) != defFAQLimit {
		t.Errorf("common character: %d entries, want a default page of %d", len(list), defFAQLimit)
	}

	e, err := agent.GetFAQ(ctx, list[0].ID)
	if err != nil || e.Question != seedFAQ[0].Question || !slices.Contains(e.Tags, "delivery") || e.Category != "配送" {
		t.Errorf("GetFAQ: %+v, %v", e, err)
	}
	for _, id := range []string{"999999", "abc", "0"} {
		if _, err := agent.GetFAQ(ctx, id); !errors.Is(err, crmclient.ErrNotFound) {
			t.Errorf("GetFAQ(%q): %v", id, err)
		}
	}
}

func TestFAQBadQueries(t *testing.T) {
	crm := newTestCRM(t, 0)
	bearer := "Bearer " + crm.client(t, "agent1").Token()
	for _, tt := range []struct {
		query  string
		status int
		msg    string
	}{
		{"limit=0", 400, "limit must be an integer from 1 to 50"},
		{"limit=51", 400, "limit must be an integer from 1 to 50"},
		{"limit=x", 400, "limit"},
		{"q=" + url.QueryEscape(strings.Repeat("あ", 101)), 400, "too long"},
		{"q=" + url.QueryEscape("a b c d e f g h i j k"), 400, "at most 10 search terms"},
		{"q=%zz", 400, "malformed query string"},
		{"q=" + url.QueryEscape("\x00"), 200, ""},
		{"q=" + url.QueryEscape("' OR 1=1 --"), 200, ""},
	} {
		status, _, eb := rawCall(t, crm, "GET", "/v1/faq?"+tt.query, bearer, "", nil)
		if status != tt.status || !strings.Contains(eb.Error.Message, tt.msg) {
			t.Errorf("GET /v1/faq?%s: %d %q; want %d %q", tt.query, status, eb.Error.Message, tt.status, tt.msg)
		}
	}
}

// TestFAQWrite: supervisors add and change entries, which search finds at once;
// agents get 403; bad entries get a message that says what to fix.
func TestFAQWrite(t *testing.T) {
	crm := newTestCRM(t, 0)
	ctx := context.Background()
	agent, sv := crm.client(t, "agent1"), crm.client(t, "sv1")
	in := crmclient.FAQInput{Question: "  のし紙の名入れはできますか？ ", Answer: "名入れは**無料**です。", Tags: []string{"gift", " gift", "", "のし"}, Category: "注文"}

	if _, err := agent.CreateFAQ(ctx, in); !errors.Is(err, crmclient.ErrForbidden) {
		t.Errorf("agent create: %v, want ErrForbidden", err)
	}
	e, err := sv.CreateFAQ(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if e.Question != "のし紙の名入れはできますか？" || !slices.Equal(e.Tags, []string{"gift", "のし"}) || e.UpdatedAt.IsZero() {
		t.Errorf("created %+v", e)
	}
	if got, _ := agent.SearchFAQ(ctx, "名入れ", 0); len(got) != 1 || got[0].ID != e.ID {
		t.Errorf("new entry not found: %q", questions(got))
	}
	if _, err := agent.UpdateFAQ(ctx, e.ID, in); !errors.Is(err, crmclient.ErrForbidden) {
		t.Errorf("agent update: %v, want ErrForbidden", err)
	}
	in2 := crmclient.FAQInput{Question: "熨斗に名前を入れられますか？", Answer: "無料で承ります。", Tags: []string{"gift"}, Category: "注文"}
	if _, err := sv.UpdateFAQ(ctx, e.ID, in2); err != nil {
		t.Fatal(err)
	}
	if got, _ := agent.SearchFAQ(ctx, "名入れ", 0); len(got) != 0 {
		t.Errorf("old words still find the entry: %q", questions(got))
	}
	if got, _ := agent.SearchFAQ(ctx, "熨斗 名前", 0); len(got) != 1 || got[0].ID != e.ID {
		t.Errorf("updated entry not found: %q", questions(got))
	}
	if g := gramsOf(t, crm.st, faqGrams, e.ID); !slices.Equal(g, sortedGrams(faqKey(in2))) {
		t.Errorf("index rows after update differ from the entry's bigrams")
	}
	if _, err := sv.UpdateFAQ(ctx, "999999", in2); !errors.Is(err, crmclient.ErrNotFound) {
		t.Errorf("update unknown: %v", err)
	}

	bearer := "Bearer " + sv.Token()
	for _, tt := range []struct{ body, code, msg string }{
		{`{"question":"","answer":"x"}`, "invalid_request", "question and answer are required"},
		{`{"question":"q","answer":"   "}`, "invalid_request", "question and answer are required"},
		{`{"question":"` + strings.Repeat("あ", 201) + `","answer":"x"}`, "invalid_request", "question is 201 characters; at most 200"},
		{`{"question":"q","answer":"a\u0000"}`, "invalid_request", "answer contains a NUL"},
		{`{"question":"q","answer":"a","tags":["` + strings.Repeat("t", 41) + `"]}`, "invalid_request", "tags[0] is 41 characters"},
		{`{"question":"q","answer":"a","tags":"x"}`, "invalid_json", `field "tags" must be an array`},
		{`{"question":"q","answer":"a","views":1}`, "invalid_json", `unknown field "views"`},
	} {
		status, _, eb := rawCall(t, crm, "POST", "/v1/faq", bearer, "", []byte(tt.body))
		if status != 400 || eb.Error.Code != tt.code || !strings.Contains(eb.Error.Message, tt.msg) {
			t.Errorf("POST %s: %d %s %q; want 400 %s %q", tt.body, status, eb.Error.Code, eb.Error.Message, tt.code, tt.msg)
		}
	}
}

// FuzzFAQSearch feeds arbitrary query text to the FAQ search: a documented answer,
// never a 500, whatever the text.
func FuzzFAQSearch(f *testing.F) {
	h, token := fuzzHandler(f)
	for _, s := range []string{"配送 変更", "すきっぷ", "%", "\x1f", " ", "a b c d e f g h i j", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		req := httptest.NewRequest("GET", "/v1/faq?"+url.Values{"q": {q}}.Encode(), nil)
		req.Header.Set("Authorization", token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, rec, 200, 400)
	})
}
