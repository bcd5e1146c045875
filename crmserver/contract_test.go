package crmserver

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// TestContract drives every client method against the real server over HTTP.
func TestContract(t *testing.T) {
	crm := newTestCRM(t, 2000)
	ctx := context.Background()
	agent := crm.client(t, "agent1")
	fx := addFixtures(t, agent)

	t.Run("Login", func(t *testing.T) {
		cl, _ := crmclient.New(crm.srv.URL)
		res, err := cl.Login(ctx, "sv1", "sv1-demo")
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Token) != 43 || cl.Token() != res.Token {
			t.Errorf("token %d chars, client keeps %d", len(res.Token), len(cl.Token()))
		}
		if res.User.Role != crmclient.RoleSupervisor || res.User.DisplayName != "佐藤 恵子" {
			t.Errorf("user = %+v", res.User)
		}
		if d := time.Until(res.ExpiresAt); d < 11*time.Hour || d > 13*time.Hour {
			t.Errorf("expires in %v, want about 12h", d)
		}
		_, err = cl.Login(ctx, "sv1", "wrong-password")
		var ae *crmclient.APIError
		if !errors.As(err, &ae) || ae.Code != crmclient.CodeInvalidCredentials || !errors.Is(err, crmclient.ErrUnauthorized) {
			t.Errorf("wrong password: %v", err)
		}
	})

	t.Run("Me", func(t *testing.T) {
		u, err := agent.Me(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := crmclient.User{Name: "agent1", DisplayName: "山田 花子", Role: crmclient.RoleAgent, Campaigns: []string{"inbound"}}
		if u.Name != want.Name || u.DisplayName != want.DisplayName || u.Role != want.Role || !slices.Equal(u.Campaigns, want.Campaigns) {
			t.Errorf("Me = %+v, want %+v", u, want)
		}
	})

	t.Run("PutAgentState and Agents", func(t *testing.T) {
		st, err := agent.PutAgentState(ctx, crmclient.AgentStateRequest{State: crmclient.StatusNotReady, Reason: "休憩"})
		if err != nil {
			t.Fatal(err)
		}
		if st.User != "agent1" || st.State != crmclient.StatusNotReady || st.Reason != "休憩" || time.Since(st.Since) > time.Minute {
			t.Errorf("state = %+v", st)
		}
		if _, err := agent.PutAgentState(ctx, crmclient.AgentStateRequest{State: crmclient.StatusACW}); err != nil {
			t.Fatal(err)
		}
		if _, err := agent.Agents(ctx); !errors.Is(err, crmclient.ErrForbidden) {
			t.Errorf("agent listing agents: err = %v, want ErrForbidden", err)
		}
		list, err := crm.client(t, "sv1").Agents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].User != "agent1" || list[0].State != crmclient.StatusACW || list[0].Reason != "" ||
			list[1].User != "agent2" || list[1].State != crmclient.StatusNotReady || list[1].Reason != "offline" {
			t.Errorf("Agents = %+v", list)
		}
	})

	t.Run("LookupByPhone", func(t *testing.T) {
		for _, tt := range []struct {
			phone string
			want  []string
		}{
			{"03-1234-5678", []string{fx.solo.ID}},
			{"０３（１２３４）５６７８", []string{fx.solo.ID}},
			{"+81 3 1234 5678", []string{fx.solo.ID}},
			{"0312345678", []string{fx.solo.ID}},
			{"03-2222-3333", []string{fx.famA.ID, fx.famB.ID}},
			{"070-1234-5678", []string{fx.famA.ID}},
			{"03-1234-9999", nil},
		} {
			got, err := agent.LookupByPhone(ctx, tt.phone)
			if err != nil {
				t.Fatalf("%s: %v", tt.phone, err)
			}
			if ids := customerIDs(got); !slices.Equal(ids, tt.want) {
				t.Errorf("LookupByPhone(%q) = %v, want %v", tt.phone, ids, tt.want)
			}
		}
		got, _ := agent.LookupByPhone(ctx, "03-2222-3333")
		if len(got) == 2 && !slices.Equal(got[0].Phones, []string{"+81322223333", "+817012345678"}) {
			t.Errorf("phones of the first match = %v", got[0].Phones)
		}
		if _, err := agent.LookupByPhone(ctx, "12"); !errors.Is(err, crmclient.ErrInvalidPhone) {
			t.Errorf("invalid number: err = %v", err)
		}
	})

	t.Run("SearchCustomers", func(t *testing.T) {
		for _, tt := range []struct {
			q    string
			want []string
		}{
			{"伊集院", []string{fx.solo.ID}},     // kanji prefix
			{"集院", []string{fx.solo.ID}},      // kanji substring
			{"伊集院光", []string{fx.solo.ID}},    // space ignored
			{"イジュウイン", []string{fx.solo.ID}},  // katakana
			{"いじゅういん", []string{fx.solo.ID}},  // hiragana typed by the operator
			{"ｲｼﾞｭｳｲﾝ", []string{fx.solo.ID}}, // half-width katakana
			{"ヒカル", []string{fx.solo.ID}},
			{"テシガワラ", []string{fx.famA.ID, fx.famB.ID}},
			{"勅使河原　徹", []string{fx.famB.ID}},
			{"存在しない名前", nil},
		} {
			got, err := agent.SearchCustomers(ctx, tt.q)
			if err != nil {
				t.Fatalf("%s: %v", tt.q, err)
			}
			if ids := customerIDs(got); !slices.Equal(ids, tt.want) {
				t.Errorf("SearchCustomers(%q) = %v, want %v", tt.q, ids, tt.want)
			}
		}
		// A common seeded surname gives a page of results, all of them matching.
		got, err := agent.SearchCustomers(ctx, "さとう")
		if err != nil || len(got) != defSearchLimit {
			t.Fatalf("search さとう: %d results, %v", len(got), err)
		}
		for _, c := range got {
			if !strings.Contains(foldSearch(c.NameKana), "サトウ") {
				t.Errorf("%s (%s) does not match さとう", c.Name, c.NameKana)
			}
		}
	})

	t.Run("GetCustomer", func(t *testing.T) {
		c, err := agent.GetCustomer(ctx, fx.solo.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != "伊集院　光" || c.NameKana != "イジュウイン　ヒカル" || !slices.Equal(c.Phones, []string{"+81312345678"}) ||
			c.Email != "hikaru@example.com" || c.Address != "〒150-0041 東京都渋谷区神南1-2-3" || c.Notes != "定期便のお届けは月末希望。" ||
			c.CreatedAt.IsZero() {
			t.Errorf("GetCustomer = %+v", c)
		}
		for _, id := range []string{"999999999", "abc", "-1", "0"} {
			if _, err := agent.GetCustomer(ctx, id); !errors.Is(err, crmclient.ErrNotFound) {
				t.Errorf("GetCustomer(%q): err = %v, want ErrNotFound", id, err)
			}
		}
	})

	t.Run("CreateCustomer", func(t *testing.T) {
		c, err := agent.CreateCustomer(ctx, crmclient.CustomerInput{Name: " 新規　顧客 ", NameKana: "シンキ　コキャク",
			Phones: []string{"080-9999-0001", "０８０－９９９９－０００１", ""}})
		if err != nil {
			t.Fatal(err)
		}
		if c.ID == "" || c.Name != "新規　顧客" || !slices.Equal(c.Phones, []string{"+818099990001"}) {
			t.Errorf("created %+v", c)
		}
		_, err = agent.CreateCustomer(ctx, crmclient.CustomerInput{Name: ""})
		var ae *crmclient.APIError
		if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != crmclient.CodeInvalidRequest {
			t.Errorf("empty name: %v", err)
		}
	})

	t.Run("UpdateCustomer", func(t *testing.T) {
		in := crmclient.CustomerInput{Name: "伊集院　光", NameKana: "イジュウイン　ヒカル", Phones: []string{"06-1234-5678"},
			Notes: "転居のため電話番号変更。"}
		c, err := agent.UpdateCustomer(ctx, fx.solo.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.Phones, []string{"+81612345678"}) || c.Notes != in.Notes || c.Email != "" {
			t.Errorf("updated %+v", c)
		}
		if got, _ := agent.LookupByPhone(ctx, "03-1234-5678"); len(got) != 0 {
			t.Errorf("old number still finds %v", customerIDs(got))
		}
		if got, _ := agent.LookupByPhone(ctx, "06-1234-5678"); !slices.Equal(customerIDs(got), []string{fx.solo.ID}) {
			t.Errorf("new number finds %v", customerIDs(got))
		}
		if _, err := agent.UpdateCustomer(ctx, "999999999", in); !errors.Is(err, crmclient.ErrNotFound) {
			t.Errorf("update unknown: %v", err)
		}
	})

	t.Run("Orders", func(t *testing.T) {
		shipped := seedNow.Add(-24 * time.Hour)
		want := crmclient.Order{Items: []crmclient.OrderItem{{SKU: "HL-120", Name: "薬用育毛ローション 120mL", Quantity: 1, UnitPriceJPY: 4980}},
			AmountJPY: 5530, Status: crmclient.OrderShipped, OrderedAt: seedNow.Add(-48 * time.Hour), ShippedAt: &shipped, Subscription: true}
		if _, err := crm.st.AddOrder(ctx, fx.famA.ID, want); err != nil {
			t.Fatal(err)
		}
		got, err := agent.Orders(ctx, fx.famA.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Status != want.Status || !got[0].ShippedAt.Equal(shipped) || got[0].DeliveredAt != nil ||
			!got[0].Subscription || got[0].AmountJPY != 5530 || got[0].Items[0] != want.Items[0] || got[0].CustomerID != fx.famA.ID {
			t.Errorf("Orders = %+v", got)
		}
		if got, err := agent.Orders(ctx, fx.famB.ID); err != nil || got == nil || len(got) != 0 {
			t.Errorf("no orders: %v, %v", got, err)
		}
		if _, err := agent.Orders(ctx, "999999999"); !errors.Is(err, crmclient.ErrNotFound) {
			t.Errorf("orders of unknown customer: %v", err)
		}
		seeded, err := agent.Orders(ctx, "1")
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(seeded); i++ {
			if seeded[i].OrderedAt.After(seeded[i-1].OrderedAt) {
				t.Errorf("orders not newest first: %v after %v", seeded[i].OrderedAt, seeded[i-1].OrderedAt)
			}
		}
	})

	t.Run("CallHistory", func(t *testing.T) {
		for i, n := range []string{"お届け日の変更希望。", "定期便を1回スキップ。"} {
			_, err := crm.st.AddCall(ctx, fx.famB.ID, crmclient.CallEntry{StartedAt: seedNow.Add(time.Duration(i) * time.Hour),
				Agent: "山田 花子", Direction: crmclient.Inbound, DurationSeconds: 125, Disposition: "delivery_change", Notes: n})
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := agent.CallHistory(ctx, fx.famB.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Notes != "定期便を1回スキップ。" || got[1].Agent != "山田 花子" ||
			got[1].DurationSeconds != 125 || got[1].Direction != crmclient.Inbound {
			t.Errorf("CallHistory = %+v", got)
		}
		if _, err := agent.CallHistory(ctx, "x"); !errors.Is(err, crmclient.ErrNotFound) {
			t.Errorf("calls of unknown customer: %v", err)
		}
	})
}

func customerIDs(cs []crmclient.Customer) []string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}
