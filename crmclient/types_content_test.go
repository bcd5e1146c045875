package crmclient

import (
	"slices"
	"testing"
)

func TestRenderScript(t *testing.T) {
	vars := map[string]string{
		FieldCustomerName:     "佐藤　陽子",
		FieldAgentDisplayName: "山田 花子",
		FieldCompanyName:      "ヘルシーライフ",
		"evil":                "{{company.name}}",
		"empty":               "",
	}
	for _, tt := range []struct {
		in, want string
		unknown  []string
	}{
		{"{{company.name}}の{{agent.display_name}}です。", "ヘルシーライフの山田 花子です。", nil},
		{"{{ customer.name }}様", "佐藤　陽子様", nil},
		{"{{customer.name_kana}}様（{{customer.name}}）", "{{customer.name_kana}}様（佐藤　陽子）", []string{FieldCustomerNameKana}},
		{"{{order.id}} {{x}} {{order.id}}", "{{order.id}} {{x}} {{order.id}}", []string{"order.id", "x"}},
		{"値：{{evil}}", "値：{{company.name}}", nil}, // values are not expanded again
		{"[{{empty}}]", "[]", nil},
		{"{{}} と {{ }}", "{{}} と {{ }}", nil},
		{"閉じない {{customer.name", "閉じない {{customer.name", nil},
		{"{{ {{customer.name}}", "{{ 佐藤　陽子", nil},
		{"}}{{company.name}}{{", "}}ヘルシーライフ{{", nil},
		{"no fields", "no fields", nil},
		{"", "", nil},
	} {
		got, unknown := RenderScript(tt.in, vars)
		if got != tt.want || !slices.Equal(unknown, tt.unknown) {
			t.Errorf("RenderScript(%q) = %q, %q; want %q, %q", tt.in, got, unknown, tt.want, tt.unknown)
		}
	}
}

func TestScriptFields(t *testing.T) {
	agent := User{Name: "agent1", DisplayName: "山田 花子"}
	v := ScriptFields(nil, agent, "ヘルシーライフ")
	if out, unknown := RenderScript("{{customer.name}}様、{{company.name}}です", v); out != "{{customer.name}}様、ヘルシーライフです" ||
		!slices.Equal(unknown, []string{FieldCustomerName}) {
		t.Errorf("unknown caller: %q %v", out, unknown)
	}
	c := Customer{Name: "佐藤　陽子", NameKana: "サトウ　ヨウコ"}
	v = ScriptFields(&c, agent, "ヘルシーライフ")
	if out, unknown := RenderScript("{{customer.name_kana}} {{agent.display_name}}", v); out != "サトウ　ヨウコ 山田 花子" || unknown != nil {
		t.Errorf("known caller: %q %v", out, unknown)
	}
}

func FuzzRenderScript(f *testing.F) {
	for _, s := range []string{"{{customer.name}}", "{{ {{x}} }}", "}}{{", "{{{{}}}}"} {
		f.Add(s)
	}
	vars := map[string]string{FieldCustomerName: "佐藤"}
	f.Fuzz(func(t *testing.T, s string) {
		out, unknown := RenderScript(s, map[string]string{})
		if out != s {
			t.Errorf("with no values, %q became %q", s, out)
		}
		for _, u := range unknown {
			if u == "" {
				t.Errorf("empty unknown field from %q", s)
			}
		}
		RenderScript(s, vars)
	})
}
