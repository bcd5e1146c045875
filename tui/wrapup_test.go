package tui

import (
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmserver"
)

var panesNow = time.Date(2025, 6, 20, 14, 0, 0, 0, time.FixedZone("JST", 9*3600))

func panesCampaign(t *testing.T, dir crmclient.Direction) crmclient.Campaign {
	for _, c := range crmserver.SeedCampaigns() {
		if c.Direction == dir {
			return c
		}
	}
	t.Fatal("no seeded campaign")
	return crmclient.Campaign{}
}

func panesWrapup(t *testing.T, lang Lang, c crmclient.Campaign) wrapupForm {
	w := newWrapup(lang, c, callRecord{CallID: "abc@pbx", Phone: "+819012345678", CustomerID: "42",
		CampaignID: c.ID, Direction: c.Direction, StartedAt: panesNow.Add(-5 * time.Minute), Duration: 184600 * time.Millisecond})
	w.SetClock(func() time.Time { return panesNow })
	return w
}

func TestWrapupInputFieldTypes(t *testing.T) {
	c := panesCampaign(t, crmclient.Outbound)
	c.Disposition.Fields = append(c.Disposition.Fields,
		crmclient.FormField{Name: "memo", Label: "Memo", LabelJA: "備考", Type: crmclient.FieldText},
		crmclient.FormField{Name: "visit", Label: "Visit", LabelJA: "訪問日時", Type: crmclient.FieldDateTime})
	type vals struct {
		plan, first, qty, memo, visit string
		consent                       bool
	}
	good := vals{"毎月", "2025-07-01", "2", "  玄関前に置き配 ", "2025-07-02 10:30", true}
	cases := []struct {
		name string
		v    vals
		err  string // substring; "" = ok
	}{
		{"ok", good, ""},
		{"bad number", vals{"毎月", "2025-07-01", "二", "", "", true}, "「1回あたりの個数」は数字"},
		{"bad date", vals{"毎月", "7/1", "", "", "", true}, "「初回お届け日」は 2025-06-20 の形式"},
		{"bad datetime", vals{"毎月", "2025-07-01", "", "", "明日", true}, "「訪問日時」は 2025-06-20 14:30 の形式"},
		{"choice not offered", vals{"毎週", "2025-07-01", "", "", "", true}, "「お届け周期」は選択肢から"},
		{"required missing", vals{"", "2025-07-01", "", "", "", true}, "「お届け周期」を入力してください"},
		{"consent not given", vals{"毎月", "2025-07-01", "", "", "", false}, "「契約内容の読み上げ・同意」を入力"},
	}
	for _, tc := range cases {
		w := panesWrapup(t, LangJA, c)
		w.v.code = "success"
		*w.v.text["plan"], *w.v.text["first_delivery"], *w.v.text["quantity"] = tc.v.plan, tc.v.first, tc.v.qty
		*w.v.text["memo"], *w.v.text["visit"] = tc.v.memo, tc.v.visit
		*w.v.bools["consent"] = tc.v.consent
		in, err := w.Input(nil)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want := map[string]any{"plan": "毎月", "first_delivery": "2025-07-01", "quantity": 2.0, "consent": true,
			"memo": "玄関前に置き配", "visit": "2025-07-02T10:30:00+09:00"}
		if !reflect.DeepEqual(in.Fields, want) {
			t.Errorf("fields %#v\nwant   %#v", in.Fields, want)
		}
		if in.Code != "success" || in.CampaignID != c.ID || in.Phone != "+819012345678" || in.CallID != "abc@pbx" ||
			in.CustomerID != "42" || in.DurationSeconds != 185 || !in.StartedAt.Equal(panesNow.Add(-5*time.Minute)) ||
			in.CallbackAt != nil || in.EscalateTo != "" {
			t.Errorf("input %+v", in)
		}
	}
}

func TestWrapupAppliesTo(t *testing.T) {
	c := panesCampaign(t, crmclient.Inbound)
	w := panesWrapup(t, LangEN, c)
	*w.v.text["new_date"] = "2025-07-01"
	*w.v.text["order_id"] = "A-1001"
	w.v.code = "delivery" // new_date belongs to "change" only
	in, err := w.Input(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := in.Fields["new_date"]; ok || in.Fields["order_id"] != "A-1001" {
		t.Errorf("fields %v: new_date must be left out, order_id kept", in.Fields)
	}
	w.v.code = "change"
	*w.v.text["new_date"] = ""
	if _, err := w.Input(nil); err == nil || err.Error() != "New delivery date is required" {
		t.Errorf("change without date: %v", err)
	}
	w.v.code = ""
	if _, err := w.Input(nil); err == nil || err.Error() != "choose a result" {
		t.Errorf("no result: %v", err)
	}
	w.v.code = "delivery"
	if _, err := w.Input([]string{"Identity confirmed", "Request read back"}); err == nil ||
		err.Error() != "checklist not complete: Identity confirmed, Request read back" {
		t.Errorf("checklist: %v", err)
	}
}

func TestWrapupCallbackAndEscalation(t *testing.T) {
	c := panesCampaign(t, crmclient.Inbound)
	cases := []struct {
		code, date, tm, scope, dept, promise, phone string
		err                                         string
	}{
		{"callback", "", "", "", "", "", "+81312345678", "Callback is required"},
		{"callback", "2025-06-20", "13:59", "", "", "", "+81312345678", "must be in the future"},
		{"callback", "2025-06-20", "14:00", "", "", "", "+81312345678", "must be in the future"},
		{"callback", "2025-06-20", "25:00", "", "", "", "+81312345678", "like 2025-06-20 14:30"},
		{"callback", "2025-06-21", "10:00", "team", "", "", "", "withheld"},
		{"callback", "2025-06-21", "10:00", "team", "", "", "+81312345678", ""},
		{"complaint", "", "", "", "", "", "+81312345678", "name the department"},
		{"complaint", "", "", "", "  ", "", "+81312345678", "name the department"},
		{"complaint", "", "", "", "品質管理部", "2025-06-19 10:00", "+81312345678", "must be in the future"},
		{"complaint", "", "", "", "品質管理部", "2025-06-21 10:00", "", ""},
		{"escalate", "2025-06-21", "10:00", "", "", "", "+81312345678", "name the department"},
		{"escalate", "2025-06-21", "10:00", "", "店長", "", "+81312345678", ""},
	}
	for i, tc := range cases {
		w := panesWrapup(t, LangEN, c)
		w.rec.Phone = tc.phone
		w.v.code, w.v.cbDate, w.v.cbTime, w.v.escDept, w.v.escPromise = tc.code, tc.date, tc.tm, tc.dept, tc.promise
		if tc.scope != "" {
			w.v.cbScope = tc.scope
		}
		in, err := w.Input(nil)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%d %s: err %v, want %q", i, tc.code, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%d %s: %v", i, tc.code, err)
		}
		r, _ := c.Disposition.Result(tc.code)
		if r.Has(crmclient.FlagCallback) {
			want := time.Date(2025, 6, 21, 10, 0, 0, 0, panesNow.Location())
			if in.CallbackAt == nil || !in.CallbackAt.Equal(want) {
				t.Errorf("%d: callback at %v, want %v", i, in.CallbackAt, want)
			}
			if tc.scope == "team" && in.CallbackScope != crmclient.CallbackTeam ||
				tc.scope == "" && in.CallbackScope != crmclient.CallbackPersonal {
				t.Errorf("%d: scope %q", i, in.CallbackScope)
			}
		} else if in.CallbackAt != nil || in.CallbackScope != "" {
			t.Errorf("%d: callback set for %s, which the CRM rejects", i, tc.code)
		}
		if r.Has(crmclient.FlagEscalate) && in.EscalateTo != strings.TrimSpace(tc.dept) {
			t.Errorf("%d: escalate to %q", i, in.EscalateTo)
		}
		if tc.promise != "" && !strings.Contains(in.Notes, "Callback promised for 2025-06-21 10:00") {
			t.Errorf("%d: promise not in notes: %q", i, in.Notes)
		}
	}
}

// panesPump feeds a command's messages back into the form, as Bubble Tea
// would, skipping anything slower than 20 ms (cursor blink timers).
func panesPump(w wrapupForm, cmd tea.Cmd, depth int) wrapupForm {
	if cmd == nil || depth > 20 {
		return w
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-ch:
	case <-time.After(20 * time.Millisecond):
		return w
	}
	if msg == nil {
		return w
	}
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
		for i := range v.Len() {
			w = panesPump(w, v.Index(i).Interface().(tea.Cmd), depth+1)
		}
		return w
	}
	var next tea.Cmd
	w, next = w.Update(msg)
	return panesPump(w, next, depth+1)
}

func panesPress(w wrapupForm, keys ...string) wrapupForm {
	for _, k := range keys {
		var cmd tea.Cmd
		if len([]rune(k)) > 1 && k != "enter" && k != "esc" && k != "up" && k != "down" && k != "tab" &&
			k != "shift+tab" && k != "backspace" {
			for _, r := range k { // typed text
				w, cmd = w.Update(panesKey(string(r)))
				w = panesPump(w, cmd, 0)
			}
			continue
		}
		w, cmd = w.Update(panesKey(k))
		w = panesPump(w, cmd, 0)
	}
	return w
}

func TestWrapupKeyboardOnly(t *testing.T) {
	c := panesCampaign(t, crmclient.Inbound)
	w := panesWrapup(t, LangJA, c)
	w = panesPump(w, w.Init(), 0)
	v := ansi.Strip(w.View(80, 20))
	if !strings.Contains(v, "結果") || !strings.Contains(v, "— 選択してください —") {
		t.Fatalf("first page:\n%s", v)
	}
	if w.Typing() {
		t.Fatal("the result select is not a text field")
	}
	w = panesPress(w, "enter") // nothing chosen: stays
	if w.v.code != "" || !strings.Contains(ansi.Strip(w.View(80, 20)), "結果を選択してください") {
		t.Fatalf("enter without a result moved on (code %q)\n%s", w.v.code, ansi.Strip(w.View(80, 20)))
	}
	// results: 0 choose, 1 delivery, … 8 callback
	for range 8 {
		w = panesPress(w, "down")
	}
	if w.v.code != "callback" {
		t.Fatalf("code %q after 8 downs", w.v.code)
	}
	w = panesPress(w, "enter")
	v = ansi.Strip(w.View(80, 20))
	if !strings.Contains(v, "折り返し日") || !w.Typing() {
		t.Fatalf("callback page not shown:\n%s", v)
	}
	w = panesPress(w, "2025-06-21", "enter", "10:30", "enter", "down", "enter")
	v = ansi.Strip(w.View(80, 20))
	if strings.Contains(v, "エスカレーション") || !strings.Contains(v, "注文番号") {
		t.Fatalf("want the details page (no escalation for callback):\n%s", v)
	}
	w = panesPress(w, "A-1001", "enter", "明日の午前中に折り返し希望")
	in, err := w.Input(nil)
	if err != nil {
		t.Fatal(err)
	}
	if in.Code != "callback" || in.CallbackScope != crmclient.CallbackTeam || in.Fields["order_id"] != "A-1001" ||
		in.Notes != "明日の午前中に折り返し希望" || in.CallbackAt == nil || in.CallbackAt.Hour() != 10 {
		t.Fatalf("input %+v", in)
	}
	// finishing the last page starts over, answers kept
	w = panesPress(w, "enter")
	if !strings.Contains(ansi.Strip(w.View(80, 20)), "入力完了") || w.v.code != "callback" {
		t.Fatalf("after the last page:\n%s", ansi.Strip(w.View(80, 20)))
	}
	for _, sz := range [][2]int{{80, 24}, {40, 12}, {120, 30}} {
		lines := strings.Split(w.View(sz[0], sz[1]), "\n")
		if len(lines) > sz[1] {
			t.Errorf("%v: %d lines", sz, len(lines))
		}
		for _, l := range lines {
			if ansi.StringWidth(l) > sz[0] {
				t.Errorf("%v: %q too wide", sz, ansi.Strip(l))
			}
		}
	}
}

func TestWrapupHidesPagesThatDoNotApply(t *testing.T) {
	c := panesCampaign(t, crmclient.Inbound)
	w := panesWrapup(t, LangJA, c)
	w = panesPump(w, w.Init(), 0)
	w = panesPress(w, "down", "down", "down", "down", "enter") // 4: cancel
	v := ansi.Strip(w.View(80, 24))
	if !strings.Contains(v, "解約理由") || strings.Contains(v, "返品理由") {
		t.Fatalf("cancel page:\n%s", v)
	}
	w = panesWrapup(t, LangJA, c)
	w = panesPump(w, w.Init(), 0)
	w = panesPress(w, "down", "enter") // delivery: no own fields, no callback
	v = ansi.Strip(w.View(80, 24))
	if !strings.Contains(v, "注文番号") || strings.Contains(v, "解約理由") || strings.Contains(v, "折り返し日") {
		t.Fatalf("delivery should go straight to the details:\n%s", v)
	}
}
