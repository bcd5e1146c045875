package crmserver

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/opdesk/opdesk/crmclient"
)

// TestSeededScripts: the two demo scripts are walkable graphs whose fields the
// desktop knows, and the outbound one carries the Specified Commercial Transactions
// Act disclosures as required checklist items.
func TestSeededScripts(t *testing.T) {
	crm := newTestCRM(t, 0)
	ctx := context.Background()
	agent := crm.client(t, "agent1")
	list, err := agent.Scripts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, []string{ScriptInboundSupport, ScriptOutboundTeiki}) {
		t.Fatalf("scripts %v", ids)
	}
	me, _ := agent.Me(ctx)
	cust := crmclient.Customer{Name: "佐藤　陽子", NameKana: "サトウ　ヨウコ"}
	vars := crmclient.ScriptFields(&cust, me, "ヘルシーライフ")
	for _, s := range list {
		if _, ok := s.Node(s.Start); !ok {
			t.Errorf("%s: start %q is not a node", s.ID, s.Start)
		}
		reach := map[string]bool{s.Start: true}
		queue := []string{s.Start}
		for len(queue) > 0 {
			n, _ := s.Node(queue[0])
			queue = queue[1:]
			for _, c := range n.Choices {
				if _, ok := s.Node(c.Next); !ok {
					t.Errorf("%s/%s: choice %q goes to missing %q", s.ID, n.ID, c.Label, c.Next)
				}
				if !reach[c.Next] {
					reach[c.Next] = true
					queue = append(queue, c.Next)
				}
			}
			out, unknown := crmclient.RenderScript(n.Body, vars)
			if len(unknown) > 0 || strings.Contains(out, "{{") {
				t.Errorf("%s/%s: unknown fields %v in %q", s.ID, n.ID, unknown, out)
			}
		}
		if len(reach) != len(s.Nodes) {
			t.Errorf("%s: %d of %d nodes reachable from %s", s.ID, len(reach), len(s.Nodes), s.Start)
		}
	}
	out, err := agent.GetScript(ctx, ScriptOutboundTeiki)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"会社名", "担当者名", "商品", "勧誘目的"} {
		if !slices.ContainsFunc(out.Checklist, func(c crmclient.ChecklistItem) bool {
			return c.Required && strings.Contains(c.LabelJA, want)
		}) {
			t.Errorf("outbound checklist lacks a required %s item: %+v", want, out.Checklist)
		}
	}
	greet, _ := out.Node(out.Start)
	if s, _ := crmclient.RenderScript(greet.Body, vars); !strings.Contains(s, "ヘルシーライフ") || !strings.Contains(s, me.DisplayName) ||
		!strings.Contains(s, "佐藤　陽子様") {
		t.Errorf("rendered opening: %q", s)
	}
	if _, err := agent.GetScript(ctx, "no-such-script"); !errors.Is(err, crmclient.ErrNotFound) {
		t.Errorf("unknown script: %v", err)
	}
}

func validScript() crmclient.ScriptInput {
	return crmclient.ScriptInput{
		ID: "renewal-call", Name: "契約更新のご案内", Start: "hello",
		Nodes: []crmclient.ScriptNode{
			{ID: "hello", Title: "第一声", Body: "{{company.name}}の{{agent.display_name}}です。",
				Choices: []crmclient.ScriptChoice{{Label: "ご本人", Next: "offer"}, {Label: "不在", Next: "bye"}}},
			{ID: "offer", Title: "ご提案", Body: "更新のご案内です。", Choices: []crmclient.ScriptChoice{{Label: "次へ", Next: "bye"}}},
			{ID: "bye", Title: "終了", Body: "ありがとうございました。"},
		},
		Checklist: []crmclient.ChecklistItem{{ID: "purpose", Label: "Stated the purpose", LabelJA: "勧誘目的を伝えた", Required: true}},
	}
}

// TestScriptWrite: supervisors create and replace scripts; agents get 403; every
// broken graph is refused with the place to fix.
func TestScriptWrite(t *testing.T) {
	crm := newTestCRM(t, 0)
	ctx := context.Background()
	agent, sv := crm.client(t, "agent1"), crm.client(t, "sv1")

	if _, err := agent.CreateScript(ctx, validScript()); !errors.Is(err, crmclient.ErrForbidden) {
		t.Errorf("agent create: %v", err)
	}
	s, err := sv.CreateScript(ctx, validScript())
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "renewal-call" || len(s.Nodes) != 3 || s.Nodes[2].Choices == nil || s.UpdatedAt.IsZero() {
		t.Errorf("created %+v", s)
	}
	if _, err := sv.CreateScript(ctx, validScript()); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate create: %v", err)
	}
	upd := validScript()
	upd.ID = ""
	upd.Name = "契約更新（改訂版）"
	upd.Nodes[1].Body = "新しいご案内です。"
	if _, err := agent.UpdateScript(ctx, "renewal-call", upd); !errors.Is(err, crmclient.ErrForbidden) {
		t.Errorf("agent update: %v", err)
	}
	if _, err := sv.UpdateScript(ctx, "renewal-call", upd); err != nil {
		t.Fatal(err)
	}
	got, err := agent.GetScript(ctx, "renewal-call")
	if err != nil || got.Name != "契約更新（改訂版）" || got.Nodes[1].Body != "新しいご案内です。" {
		t.Errorf("after update: %+v, %v", got, err)
	}
	if _, err := sv.UpdateScript(ctx, "no-such", validScript()); !errors.Is(err, crmclient.ErrNotFound) {
		t.Errorf("update unknown: %v", err)
	}

	for _, tt := range []struct {
		name  string
		edit  func(*crmclient.ScriptInput)
		inMsg string
	}{
		{"no start", func(s *crmclient.ScriptInput) { s.Start = "" }, `start "" is not a node of this script`},
		{"missing start", func(s *crmclient.ScriptInput) { s.Start = "nowhere" }, `start "nowhere" is not a node`},
		{"dangling choice", func(s *crmclient.ScriptInput) { s.Nodes[0].Choices[1].Next = "gone" },
			`nodes[0].choices[1].next "gone" (choice "不在" of node "hello") is not a node of this script`},
		{"duplicate node", func(s *crmclient.ScriptInput) { s.Nodes[2].ID = "offer" }, `nodes[2].id "offer" is also the id of nodes[1]`},
		{"bad node id", func(s *crmclient.ScriptInput) { s.Nodes[1].ID = "Offer 1" }, `nodes[1].id "Offer 1" must be`},
		{"bad script id", func(s *crmclient.ScriptInput) { s.ID = "../etc" }, `id "../etc" must be`},
		{"no name", func(s *crmclient.ScriptInput) { s.Name = " " }, "name is required"},
		{"no nodes", func(s *crmclient.ScriptInput) { s.Nodes = nil }, "at least one node"},
		{"no title", func(s *crmclient.ScriptInput) { s.Nodes[0].Title = "" }, "nodes[0].title is required"},
		{"empty label", func(s *crmclient.ScriptInput) { s.Nodes[0].Choices[0].Label = " " }, "nodes[0].choices[0].label is required"},
		{"ten choices", func(s *crmclient.ScriptInput) {
			for range 8 {
				s.Nodes[0].Choices = append(s.Nodes[0].Choices, crmclient.ScriptChoice{Label: "x", Next: "bye"})
			}
		}, "nodes[0] has 10 choices; at most 9"},
		{"checklist twice", func(s *crmclient.ScriptInput) { s.Checklist = append(s.Checklist, s.Checklist[0]) }, `checklist[1].id "purpose" is used twice`},
		{"checklist label", func(s *crmclient.ScriptInput) { s.Checklist[0].Label = "" }, "checklist[0].label is required"},
		{"NUL body", func(s *crmclient.ScriptInput) { s.Nodes[2].Body = "a\x00" }, "nodes[2].body contains a NUL"},
	} {
		in := validScript()
		in.ID = "broken"
		tt.edit(&in)
		_, err := sv.CreateScript(ctx, in)
		var ae *crmclient.APIError
		if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != crmclient.CodeInvalidRequest || !strings.Contains(ae.Message, tt.inMsg) {
			t.Errorf("%s: %v; want 400 invalid_request containing %q", tt.name, err, tt.inMsg)
		}
	}
	mismatch := validScript()
	mismatch.ID = "other"
	if _, err := sv.UpdateScript(ctx, "renewal-call", mismatch); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("id mismatch: %v", err)
	}
	if _, err := agent.GetScript(ctx, "broken"); !errors.Is(err, crmclient.ErrNotFound) {
		t.Errorf("a refused script was stored: %v", err)
	}
	status, _, eb := rawCall(t, crm, "POST", "/v1/scripts", "Bearer "+sv.Token(), "",
		[]byte(`{"id":"x","name":"x","start":"a","nodes":[{"id":"a","title":"t","body":"","choices":[],"next":"b"}]}`))
	if status != 400 || eb.Error.Code != crmclient.CodeInvalidJSON || !strings.Contains(eb.Error.Message, `unknown field "next"`) {
		t.Errorf("unknown field: %d %+v", status, eb)
	}
}
