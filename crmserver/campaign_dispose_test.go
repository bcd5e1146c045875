package crmserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// postRaw sends a disposition as bytes with an optional key and returns status and body.
func postRaw(t *testing.T, crm *testCRM, token, key string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", crm.srv.URL+"/v1/dispositions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := crm.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestDispositionValidation: a wrap-up that breaks the campaign's form is refused
// with 422 and a message naming the field; nothing is stored.
func TestDispositionValidation(t *testing.T) {
	crm := newTestCRM(t, 0, WithClock(newClock(seedNow).Now))
	ctx := context.Background()
	mustCampaign(t, crm.st, testCampaign("form"))
	lead := importNumbers(t, crm.st, "form", 400, 1)[0]
	cl := addAgent(t, crm, "former", "form")
	base := func() crmclient.DispositionInput {
		return crmclient.DispositionInput{CampaignID: "form", LeadID: lead, StartedAt: seedNow.Add(-5 * time.Minute),
			DurationSeconds: 180, Code: "sale", Fields: map[string]any{"plan": "毎月"}}
	}
	cb := seedNow.Add(24 * time.Hour)
	for _, tt := range []struct {
		name string
		edit func(*crmclient.DispositionInput)
		msg  string
	}{
		{"unknown code", func(d *crmclient.DispositionInput) { d.Code = "maybe" }, `code "maybe" is not a result of campaign form; use one of sale, later`},
		{"missing required", func(d *crmclient.DispositionInput) { d.Fields = nil }, "fields.plan (コース) is required for result sale"},
		{"blank required", func(d *crmclient.DispositionInput) { d.Fields["plan"] = " " }, "fields.plan (コース) is required"},
		{"choice not listed", func(d *crmclient.DispositionInput) { d.Fields["plan"] = "毎週" }, "fields.plan must be one of 毎月, 隔月"},
		{"number as text", func(d *crmclient.DispositionInput) { d.Fields["qty"] = "three" }, "fields.qty must be a number"},
		{"bad date", func(d *crmclient.DispositionInput) { d.Fields["start"] = "2025/06/20" }, "fields.start must be a date like 2025-06-20"},
		{"bad datetime", func(d *crmclient.DispositionInput) { d.Fields["visit"] = "tomorrow" }, "fields.visit must be a date and time"},
		{"bool as string", func(d *crmclient.DispositionInput) { d.Fields["ok"] = "yes" }, "fields.ok must be true or false"},
		{"text as number", func(d *crmclient.DispositionInput) { d.Fields["memo"] = 3.0 }, "fields.memo must be text"},
		{"unknown field", func(d *crmclient.DispositionInput) { d.Fields["colour"] = "red" }, "fields.colour is not a field of campaign form's form"},
		{"callback without time", func(d *crmclient.DispositionInput) { d.Code, d.Fields = "later", nil }, "callback_at is required for result later (再架電)"},
		{"callback without scope", func(d *crmclient.DispositionInput) { d.Code, d.Fields, d.CallbackAt = "later", nil, &cb }, "callback_scope must be personal or team"},
		{"callback in the past", func(d *crmclient.DispositionInput) {
			past := seedNow.Add(-time.Hour)
			d.Code, d.Fields, d.CallbackAt, d.CallbackScope = "later", nil, &past, crmclient.CallbackTeam
		}, "callback_at must be after the call"},
		{"callback time on a sale", func(d *crmclient.DispositionInput) { d.CallbackAt = &cb }, "only for results with a callback"},
		{"escalate without whom", func(d *crmclient.DispositionInput) { d.Code, d.Fields = "boss", nil }, "escalate_to is required for result boss"},
		{"escalate on a sale", func(d *crmclient.DispositionInput) { d.EscalateTo = "sv1" }, "escalate_to is only for results that escalate"},
		{"no start", func(d *crmclient.DispositionInput) { d.StartedAt = time.Time{} }, "started_at is required"},
		{"negative duration", func(d *crmclient.DispositionInput) { d.DurationSeconds = -1 }, "duration_seconds must be 0–86400"},
		{"unknown lead", func(d *crmclient.DispositionInput) { d.LeadID = "987654" }, `lead_id: there is no lead "987654"`},
		{"unknown customer", func(d *crmclient.DispositionInput) { d.CustomerID = "987654" }, `customer_id: there is no customer "987654"`},
		{"dnc without a number", func(d *crmclient.DispositionInput) { d.Code, d.Fields, d.LeadID = "dnc", nil, "" }, "phone is required for result dnc"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.edit(&in)
			_, err := cl.Dispose(ctx, newKey(), in)
			status, code, msg := apiCode(err)
			if status != http.StatusUnprocessableEntity || code != crmclient.CodeInvalidRequest || !strings.Contains(msg, tt.msg) {
				t.Errorf("got %d %s %q; want 422 invalid_request containing %q", status, code, msg, tt.msg)
			}
		})
	}
	var n int
	if err := crm.st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM dispositions`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d dispositions stored by refused requests", n)
	}

	// Transport-level mistakes are 400s.
	token := cl.Token()
	good, _ := json.Marshal(base())
	if st, b := postRaw(t, crm, token, "", good); st != 400 || !bytes.Contains(b, []byte("Idempotency-Key header is required")) {
		t.Errorf("without a key: %d %s", st, b)
	}
	if st, b := postRaw(t, crm, token, "key with spaces", good); st != 400 {
		t.Errorf("key with spaces: %d %s", st, b)
	}
	if st, b := postRaw(t, crm, token, newKey(), []byte(`{"campaign_id":"form","code":1}`)); st != 400 || !bytes.Contains(b, []byte("invalid_json")) {
		t.Errorf("wrong type: %d %s", st, b)
	}
	if st, b := postRaw(t, crm, token, newKey(), []byte(`{"campaign_id":"form","code":"sale","phone":"12"}`)); st != 400 ||
		!bytes.Contains(b, []byte("invalid_phone")) {
		t.Errorf("bad phone: %d %s", st, b)
	}
	if st, b := postRaw(t, crm, token, newKey(), []byte(`{"code":"sale"}`)); st != 422 || !bytes.Contains(b, []byte("campaign_id is required")) {
		t.Errorf("no campaign: %d %s", st, b)
	}
}

// TestDispositionEffects: one transaction writes the history line, settles the
// lead and frees its lease; a repeated key gets the same bytes and changes
// nothing, also when the repeats race; another body with the key is refused.
func TestDispositionEffects(t *testing.T) {
	crm := newTestCRM(t, 0, WithClock(newClock(seedNow).Now))
	ctx := context.Background()
	mustCampaign(t, crm.st, testCampaign("eff"))
	res, err := crm.st.ImportLeads(ctx, "eff", []LeadRow{{Line: 1, Phone: testPhone(500), Name: "効果　花子"}})
	if err != nil || res[0].Status != LeadAdded {
		t.Fatalf("%+v %v", res, err)
	}
	cl := addAgent(t, crm, "effie", "eff")
	lead, err := cl.NextLead(ctx, "eff")
	if err != nil {
		t.Fatal(err)
	}
	in := crmclient.DispositionInput{CampaignID: "eff", LeadID: lead.ID, CallID: "a84b4c76e66710@pc33.example.jp",
		StartedAt: seedNow.Add(-4 * time.Minute), DurationSeconds: 222, Code: "sale", Notes: "毎月コースで申込。初回は6/20着。",
		Fields: map[string]any{"plan": "毎月", "qty": 2.0, "start": "2025-06-20", "ok": true}}
	body, _ := json.Marshal(in)
	key := newKey()

	// Eight copies of the same request at once: one effect, one answer.
	var wg sync.WaitGroup
	answers := make([][]byte, 8)
	statuses := make([]int, 8)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], answers[i] = postRaw(t, crm, cl.Token(), key, body)
		}()
	}
	wg.Wait()
	for i := range answers {
		if statuses[i] != 201 || !bytes.Equal(answers[i], answers[0]) {
			t.Fatalf("copy %d: %d %s; copy 0: %d %s", i, statuses[i], answers[i], statuses[0], answers[0])
		}
	}
	var d crmclient.Disposition
	if err := json.Unmarshal(answers[0], &d); err != nil {
		t.Fatal(err)
	}
	if d.LeadID != lead.ID || d.CustomerID != lead.CustomerID || d.CallEntryID == "" || d.Phone != testPhone(500) ||
		d.Agent != "effie" || d.Direction != crmclient.Outbound || d.Code != "sale" || d.DNCAdded || d.Fields["qty"] != 2.0 {
		t.Errorf("disposition = %+v", d)
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := crm.st.db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT COUNT(*) FROM dispositions`); n != 1 {
		t.Errorf("%d dispositions after 8 copies", n)
	}
	hist, err := cl.CallHistory(ctx, lead.CustomerID)
	if err != nil || len(hist) != 1 || hist[0].ID != d.CallEntryID || hist[0].Disposition != "sale" ||
		hist[0].DurationSeconds != 222 || hist[0].Agent != "担当 effie" || hist[0].Notes != in.Notes {
		t.Errorf("history = %+v, %v", hist, err)
	}
	l, _ := crm.st.Lead(ctx, lead.ID)
	if l.Status != crmclient.LeadDone || l.Attempts != 1 || l.LastResult != "sale" || l.LeasedTo != "" {
		t.Errorf("lead after sale = %+v", l)
	}

	// Later: the same key once more through the client, and with another body.
	again, err := cl.Dispose(ctx, key, in)
	if err != nil || again.ID != d.ID || !again.CreatedAt.Equal(d.CreatedAt) {
		t.Errorf("repeat = %+v, %v", again, err)
	}
	in.Notes = "別の内容"
	_, err = cl.Dispose(ctx, key, in)
	if status, code, msg := apiCode(err); status != 409 || code != crmclient.CodeIdempotencyMismatch || !strings.Contains(msg, "different request") {
		t.Errorf("same key, other body: %d %s %q", status, code, msg)
	}
	// Another user reusing someone's key cannot read their answer either.
	other := addAgent(t, crm, "mallory", "eff")
	in.Notes = "毎月コースで申込。初回は6/20着。"
	if _, err := other.Dispose(ctx, key, in); !crmclient.HasCode(err, crmclient.CodeIdempotencyMismatch) {
		t.Errorf("other user, same key: %v", err)
	}
	if n := count(`SELECT COUNT(*) FROM calls`); n != 1 {
		t.Errorf("%d history lines, want 1", n)
	}
}

// TestCallbacksAndDNC: a callback result puts the lead first in its agent's
// queue and on the callback lists; refusals put the number on the DNC list for
// good; the DNC list blocks next-lead in every campaign.
func TestCallbacksAndDNC(t *testing.T) {
	clk := newClock(seedNow)
	crm := newTestCRM(t, 0, WithClock(clk.Now))
	ctx := context.Background()
	mustCampaign(t, crm.st, testCampaign("cb"))
	mustCampaign(t, crm.st, testCampaign("cb2"))
	ids := importNumbers(t, crm.st, "cb", 600, 4)
	ids2 := importNumbers(t, crm.st, "cb2", 600, 1) // the same number as ids[0], in another campaign
	ann, ben := addAgent(t, crm, "ann", "cb", "cb2", "inbound"), addAgent(t, crm, "ben", "cb")
	sv := crm.client(t, "sv1")

	// ann promises a personal callback on her lead, ben a team one.
	la, _ := ann.NextLead(ctx, "cb")
	lb, _ := ben.NextLead(ctx, "cb")
	at := seedNow.Add(30 * time.Minute)
	d, err := ann.Dispose(ctx, newKey(), crmclient.DispositionInput{CampaignID: "cb", LeadID: la.ID, StartedAt: seedNow.Add(-time.Minute),
		Code: "later", CallbackAt: &at, CallbackScope: crmclient.CallbackPersonal, Notes: "夕方以降希望"})
	if err != nil || d.CallbackAt == nil || !d.CallbackAt.Equal(at) {
		t.Fatalf("callback: %+v %v", d, err)
	}
	if _, err := ben.Dispose(ctx, newKey(), crmclient.DispositionInput{CampaignID: "cb", LeadID: lb.ID, StartedAt: seedNow,
		Code: "later", CallbackAt: &at, CallbackScope: crmclient.CallbackTeam}); err != nil {
		t.Fatal(err)
	}
	mine, err := ann.Callbacks(ctx, false)
	if err != nil || len(mine) != 2 || mine[0].LeadID != la.ID || mine[0].Agent != "ann" || mine[0].Scope != crmclient.CallbackPersonal ||
		mine[1].LeadID != lb.ID || mine[1].Scope != crmclient.CallbackTeam || mine[0].Missed {
		t.Errorf("ann's callbacks = %+v, %v", mine, err)
	}
	if list, _ := ben.Callbacks(ctx, false); len(list) != 1 || list[0].LeadID != lb.ID {
		t.Errorf("ben sees %+v; want only the team callback", list)
	}
	clk.Set(at)
	// Due now: each gets the callbacks first (ann her own, ben the team's).
	if l, err := ann.NextLead(ctx, "cb"); err != nil || l.ID != la.ID {
		t.Errorf("ann at callback time: %+v %v", l, err)
	}
	if l, err := ben.NextLead(ctx, "cb"); err != nil || l.ID != lb.ID {
		t.Errorf("ben at callback time: %+v %v", l, err)
	}
	clk.Set(at.Add(16 * time.Minute))
	if missed, err := sv.Callbacks(ctx, true); err != nil || len(missed) != 2 || !missed[0].Missed {
		t.Errorf("missed callbacks = %+v, %v", missed, err)
	}
	// Both leases have run out; wrap-ups still land (they report calls that happened).
	for _, w := range []struct {
		cl *crmclient.Client
		id string
	}{{ann, la.ID}, {ben, lb.ID}} {
		if _, err := w.cl.Dispose(ctx, newKey(), crmclient.DispositionInput{CampaignID: "cb", LeadID: w.id,
			StartedAt: clk.Now(), Code: "no"}); err != nil {
			t.Fatal(err)
		}
	}
	if left, err := sv.Callbacks(ctx, false); err != nil || len(left) != 0 {
		t.Errorf("callbacks after the calls were made: %+v, %v", left, err)
	}

	// An inbound call with a callback and no lead creates one in the inbound campaign.
	fx := addFixtures(t, sv)
	inb, err := ann.Dispose(ctx, newKey(), crmclient.DispositionInput{CampaignID: "inbound", Phone: "03-1234-5678",
		StartedAt: clk.Now().Add(-3 * time.Minute), DurationSeconds: 95, Code: "callback", CallbackAt: ptr(clk.Now().Add(2 * time.Hour)),
		CallbackScope: crmclient.CallbackTeam, Notes: "在庫確認のうえ折り返し"})
	if err != nil || inb.LeadID == "" || inb.CustomerID != fx.solo.ID || inb.Direction != crmclient.Inbound || inb.Phone != "+81312345678" {
		t.Fatalf("inbound callback: %+v %v", inb, err)
	}
	if h, _ := sv.CallHistory(ctx, fx.solo.ID); len(h) != 1 || h[0].Disposition != "callback" || h[0].Direction != crmclient.Inbound {
		t.Errorf("inbound history = %+v", h)
	}
	// A family landline names no single customer: no history line, still stored.
	fam, err := ann.Dispose(ctx, newKey(), crmclient.DispositionInput{CampaignID: "inbound", Phone: "03-2222-3333",
		StartedAt: clk.Now(), Code: "delivery"})
	if err != nil || fam.CustomerID != "" || fam.CallEntryID != "" || fam.LeadID != "" {
		t.Errorf("family landline: %+v %v", fam, err)
	}

	// ids[2]: refused. On the list for good, and its twin in cb2 is closed.
	clk.Add(time.Hour)
	l3, err := ann.NextLead(ctx, "cb")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := ann.Dispose(ctx, newKey(), crmclient.DispositionInput{CampaignID: "cb", LeadID: l3.ID, StartedAt: clk.Now(), Code: "never"})
	if err != nil || !ref.DNCAdded {
		t.Fatalf("refusal: %+v %v", ref, err)
	}
	e, err := ann.CheckDNC(ctx, l3.Phone)
	if err != nil || !e.DNC || e.Kind != crmclient.DNCRefusedNeverCall || e.CampaignID != "cb" || e.AddedBy != "ann" || e.Reason != "お断り" {
		t.Errorf("DNC entry = %+v, %v", e, err)
	}
	err = sv.RemoveDNC(ctx, l3.Phone)
	if status, code, msg := apiCode(err); status != 409 || code != crmclient.CodeNeverCall || !strings.Contains(msg, "特定商取引法") {
		t.Errorf("removing a refusal: %d %s %q", status, code, msg)
	}
	if err := ann.RemoveDNC(ctx, l3.Phone); !errorsIsForbidden(err) {
		t.Errorf("agent removing DNC: %v", err)
	}
	if l, _ := crm.st.Lead(ctx, l3.ID); l.Status != crmclient.LeadDone || l.LastResult != "never" {
		t.Errorf("refused lead = %+v", l)
	}
	// A manual entry blocks next-lead in every campaign and can be removed.
	if l3.Phone != testPhone(602) {
		t.Fatalf("unexpected lead order: %s", l3.Phone)
	}
	if _, err := ann.AddDNC(ctx, crmclient.DNCRequest{Phone: testPhone(600)}); !errorsIsForbidden(err) {
		t.Errorf("agent adding DNC: %v", err)
	}
	e, err = sv.AddDNC(ctx, crmclient.DNCRequest{Phone: "03-1000-0600", Reason: "本人より電話で申告"})
	if err != nil || !e.DNC || e.Kind != crmclient.DNCDoNotCall || e.AddedBy != "sv1" {
		t.Fatalf("add DNC: %+v %v", e, err)
	}
	if l, _ := crm.st.Lead(ctx, ids2[0]); l.Status != crmclient.LeadBlocked {
		t.Errorf("twin lead in cb2 is %s, want dnc", l.Status)
	}
	if _, err := ann.NextLead(ctx, "cb2"); !crmclient.HasCode(err, crmclient.CodeNoLeads) {
		t.Errorf("cb2 with its only number on the DNC list: %v", err)
	}
	if err := sv.RemoveDNC(ctx, testPhone(600)); err != nil {
		t.Fatal(err)
	}
	if e, _ := ann.CheckDNC(ctx, testPhone(600)); e.DNC {
		t.Error("still on the list after removal")
	}
	if l, err := ann.NextLead(ctx, "cb2"); err != nil || l.ID != ids2[0] {
		t.Errorf("cb2 after removal: %+v %v", l, err)
	}
	if err := sv.RemoveDNC(ctx, testPhone(600)); !errorsIsNotFound(err) {
		t.Errorf("removing a number not on the list: %v", err)
	}
	// A number added while its lead sits in the pool is skipped even if the
	// lead was not closed (an import racing the list).
	if _, err := crm.st.db.ExecContext(ctx, `INSERT INTO dnc (e164, kind, added_by, added_at) VALUES (?, 'dnc', 'x', 0)`, testPhone(603)); err != nil {
		t.Fatal(err)
	}
	if l, err := ben.NextLead(ctx, "cb"); !crmclient.HasCode(err, crmclient.CodeNoLeads) {
		t.Errorf("ben: %+v %v; want no_leads (the last lead is on the DNC list)", l, err)
	}
	// The support line's promise outlives a refusal of sales calls.
	if _, err := sv.AddDNC(ctx, crmclient.DNCRequest{Phone: "+81312345678", Kind: crmclient.DNCRefusedNeverCall}); err != nil {
		t.Fatal(err)
	}
	clk.Set(*inb.CallbackAt)
	if l, err := ann.NextLead(ctx, "inbound"); err != nil || l.ID != inb.LeadID || l.Status != crmclient.LeadCallback {
		t.Errorf("inbound callback after a DNC entry: %+v %v", l, err)
	}
	_ = ids
}

func ptr[T any](v T) *T { return &v }

func errorsIsForbidden(err error) bool {
	s, _, _ := apiCode(err)
	return s == http.StatusForbidden
}

func errorsIsNotFound(err error) bool {
	s, _, _ := apiCode(err)
	return s == http.StatusNotFound
}

// TestCampaignBadInput: the campaign routes answer bad requests with the right
// status, code and a message that says what to fix.
func TestCampaignBadInput(t *testing.T) {
	crm := newTestCRM(t, 50, WithClock(newClock(seedNow).Now))
	agent1, agent2, sv := crm.client(t, "agent1"), crm.client(t, "agent2"), crm.client(t, "sv1")
	a1, a2, s := "Bearer "+agent1.Token(), "Bearer "+agent2.Token(), "Bearer "+sv.Token()
	lead, err := agent2.NextLead(context.Background(), "renewal")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, method, path, token, body string
		status                          int
		code, msg                       string
	}{
		{"not assigned", "POST", "/v1/campaigns/renewal/leads/next", a1, "", 403, "forbidden", "you are not assigned to campaign renewal"},
		{"odd campaign id", "GET", "/v1/campaigns/%27x%27", a1, "", 403, "forbidden", `campaign "'x'"`},
		{"unknown lead", "POST", "/v1/leads/abc/release", a2, `{}`, 404, "not_found", "abc"},
		{"release without body", "POST", "/v1/leads/" + lead.ID + "/release", a2, ``, 400, "invalid_json", "empty"},
		{"attempt without key", "POST", "/v1/leads/" + lead.ID + "/attempts", a2, `{"outcome":"busy"}`, 400, "invalid_request", "Idempotency-Key"},
		{"bad missed", "GET", "/v1/callbacks?missed=maybe", a2, "", 400, "invalid_request", "missed must be true or false"},
		{"bad number", "GET", "/v1/dnc/abc", a1, "", 400, "invalid_phone", "abc"},
		{"agent adds DNC", "POST", "/v1/dnc", a1, `{"phone":"03-1000-0999"}`, 403, "forbidden", "supervisor"},
		{"agent removes DNC", "DELETE", "/v1/dnc/0310000999", a1, "", 403, "forbidden", "supervisor"},
		{"bad DNC kind", "POST", "/v1/dnc", s, `{"phone":"03-1000-0999","kind":"maybe"}`, 400, "invalid_request", "kind must be dnc or refused_never_call"},
		{"DNC unknown field", "POST", "/v1/dnc", s, `{"phone":"03-1000-0999","why":"x"}`, 400, "invalid_json", `unknown field "why"`},
		{"remove unlisted", "DELETE", "/v1/dnc/%2B81310000999", s, "", 404, "not_found", "not on the do-not-call list"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, _, eb := rawCall(t, crm, tt.method, tt.path, tt.token, "", []byte(tt.body))
			if status != tt.status || eb.Error.Code != tt.code || !strings.Contains(eb.Error.Message, tt.msg) {
				t.Errorf("got %d %s %q; want %d %s containing %q", status, eb.Error.Code, eb.Error.Message, tt.status, tt.code, tt.msg)
			}
		})
	}
	// With a key, an unknown outcome is a 422 naming the field.
	_, err = agent2.RecordAttempt(context.Background(), newKey(), lead.ID, crmclient.AttemptRequest{Outcome: "hung_up"})
	if status, code, msg := apiCode(err); status != 422 || code != crmclient.CodeInvalidRequest || !strings.Contains(msg, "outcome must be one of") {
		t.Errorf("unknown outcome: %d %s %q", status, code, msg)
	}
}
