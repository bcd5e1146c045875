package crmserver

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// hintFixture is a store at a pinned clock with crafted customers and orders.
type hintFixture struct {
	crm *testCRM
	now time.Time
	t   *testing.T
}

func (f *hintFixture) customer(name string) string {
	f.t.Helper()
	c, err := f.crm.st.CreateCustomer(context.Background(), crmclient.CustomerInput{Name: name})
	if err != nil {
		f.t.Fatal(err)
	}
	return c.ID
}

// order adds an order dated relative to now; shipped and delivered are offsets
// from now too (nil: not yet).
func (f *hintFixture) order(cust string, status crmclient.OrderStatus, ordered time.Duration, shipped, delivered *time.Duration, sub bool, skus ...string) string {
	f.t.Helper()
	at := func(d *time.Duration) *time.Time {
		if d == nil {
			return nil
		}
		t := f.now.Add(*d)
		return &t
	}
	var items []crmclient.OrderItem
	for _, s := range skus {
		i := slices.IndexFunc(products, func(p product) bool { return p.sku == s })
		items = append(items, crmclient.OrderItem{SKU: s, Name: products[i].name, Quantity: 1, UnitPriceJPY: products[i].price})
	}
	o, err := f.crm.st.AddOrder(context.Background(), cust, crmclient.Order{Items: items, AmountJPY: 1000, Status: status,
		OrderedAt: f.now.Add(ordered), ShippedAt: at(shipped), DeliveredAt: at(delivered), Subscription: sub})
	if err != nil {
		f.t.Fatal(err)
	}
	return o.ID
}

func days(n float64) *time.Duration {
	d := time.Duration(n * float64(24*time.Hour))
	return &d
}

func newHintFixture(t *testing.T) *hintFixture {
	now := seedNow
	return &hintFixture{crm: newTestCRM(t, 0, WithClock(func() time.Time { return now })), now: now, t: t}
}

type hintSummary struct{ rule, order, sku string }

func summarize(hs []crmclient.Hint) []hintSummary {
	out := []hintSummary{}
	for _, h := range hs {
		out = append(out, hintSummary{h.Rule, h.OrderID, h.SKU})
	}
	return out
}

// TestIntentHints: each default rule fires on the order state it describes, at
// the store's clock, and only inside its window.
func TestIntentHints(t *testing.T) {
	f := newHintFixture(t)
	ctx := context.Background()
	agent := f.crm.client(t, "agent1")

	inTransit := f.customer("配送中　花子")
	f.order(inTransit, crmclient.OrderDelivered, -*days(40), days(-39), days(-38), false, "KS-60")
	shipped := f.order(inTransit, crmclient.OrderShipped, -*days(2), days(-1), nil, false, "HC-50")

	lateShip := f.customer("遅延　次郎")
	late := f.order(lateShip, crmclient.OrderShipped, -*days(6), days(-5), nil, false, "HC-50")

	delivered := f.customer("到着　三郎")
	justIn := f.order(delivered, crmclient.OrderDelivered, -*days(4), days(-3), days(-2), false, "HL-120")

	sub := f.customer("定期　四郎")
	f.order(sub, crmclient.OrderDelivered, -*days(50), days(-49), days(-48), true, "AO-30")
	subNew := f.order(sub, crmclient.OrderDelivered, -*days(20), days(-19), days(-18), true, "AO-30")

	cancelled := f.customer("解約　五郎")
	f.order(cancelled, crmclient.OrderDelivered, -*days(35), days(-34), days(-33), true, "AO-30")
	cxl := f.order(cancelled, crmclient.OrderCancelled, -*days(5), nil, nil, true, "AO-30")

	returned := f.customer("返品　六子")
	ret := f.order(returned, crmclient.OrderReturned, -*days(25), days(-24), days(-20), false, "GL-80")
	f.order(returned, crmclient.OrderReturned, -*days(60), days(-59), days(-45), false, "GL-80")

	fresh := f.customer("新規　七子")
	placed := f.order(fresh, crmclient.OrderOrdered, -*days(1), nil, nil, false, "TB-01")

	quiet := f.customer("平穏　八郎")
	f.order(quiet, crmclient.OrderDelivered, -*days(100), days(-99), days(-98), false, "HC-50")

	for _, tt := range []struct {
		cust string
		want []hintSummary
	}{
		{inTransit, []hintSummary{{"in-transit", shipped, ""}}},
		{lateShip, []hintSummary{}}, // shipped 5 days ago: outside the 3-day window
		{delivered, []hintSummary{{"just-delivered", justIn, ""}}},
		{sub, []hintSummary{{"subscription", subNew, ""}}},
		{cancelled, []hintSummary{{"refund-check", cxl, ""}}}, // the newest delivery is cancelled: not active
		{returned, []hintSummary{{"refund-check", ret, ""}}},
		{fresh, []hintSummary{{"not-shipped", placed, ""}}},
		{quiet, []hintSummary{}},
	} {
		hs, err := agent.Hints(ctx, tt.cust)
		if err != nil {
			t.Fatal(err)
		}
		if got := summarize(hs); !slices.Equal(got, tt.want) {
			t.Errorf("customer %s: hints %+v, want %+v", tt.cust, got, tt.want)
		}
	}
	hs, _ := agent.Hints(ctx, inTransit)
	if len(hs) == 1 && (hs[0].Kind != crmclient.HintIntent || hs[0].TextJA != "配送の件の可能性：日時変更・キャンセル" ||
		!strings.Contains(hs[0].Text, "delivery")) {
		t.Errorf("in-transit hint %+v", hs[0])
	}
	for _, id := range []string{"999999", "abc"} {
		if _, err := agent.Hints(ctx, id); !errors.Is(err, crmclient.ErrNotFound) {
			t.Errorf("hints of %q: %v", id, err)
		}
	}

	// Rules are data: widening the window makes the late shipment a hint.
	sv := f.crm.client(t, "sv1")
	rules, err := agent.HintRules(ctx)
	if err != nil || !slices.Equal(rules, DefaultHintRules()) {
		t.Fatalf("rules %+v, %v", rules, err)
	}
	rules[0].Days = 7
	if _, err := agent.PutHintRules(ctx, rules); !errors.Is(err, crmclient.ErrForbidden) {
		t.Errorf("agent put rules: %v", err)
	}
	if _, err := sv.PutHintRules(ctx, rules); err != nil {
		t.Fatal(err)
	}
	if hs, _ := agent.Hints(ctx, lateShip); !slices.Equal(summarize(hs), []hintSummary{{"in-transit", late, ""}}) {
		t.Errorf("after widening: %+v", summarize(hs))
	}
}

// TestCrossSellHints: co-purchase counts follow the documented definition
// (direction, window, only fully observed buyers), and a customer is offered B only
// when they bought A and never B.
func TestCrossSellHints(t *testing.T) {
	f := newHintFixture(t)
	ctx := context.Background()
	delivered := func(c string, ago float64, sku string) {
		f.order(c, crmclient.OrderDelivered, -*days(ago), days(-ago+1), days(-ago+2), false, sku)
	}
	for i := range 30 { // 30 fully observed buyers of the shampoo
		c := f.customer("購入者" + strconv.Itoa(i))
		delivered(c, 300, "SH-400")
		switch {
		case i < 12: // 12 bought the treatment within 6 months of it
			delivered(c, 270, "TR-400")
		case i < 15: // 3 bought 青汁 200 days later: outside the window
			delivered(c, 100, "AO-30")
		case i == 15: // the treatment long before the shampoo does not count
			delivered(c, 550, "TR-400")
		}
	}
	for i := range 5 { // recent buyers: not yet observed for a whole window
		c := f.customer("最近" + strconv.Itoa(i))
		delivered(c, 100, "SH-400")
		delivered(c, 90, "AO-30")
	}
	if err := f.crm.st.RecomputeCoPurchases(ctx); err != nil {
		t.Fatal(err)
	}
	var na, nab int
	if err := f.crm.st.db.QueryRowContext(ctx, `SELECT buyers_a, buyers_ab FROM co_purchases WHERE a_sku = 'SH-400' AND b_sku = 'TR-400'`).
		Scan(&na, &nab); err != nil || na != 30 || nab != 12 {
		t.Errorf("SH-400→TR-400 = %d/%d, %v; want 12/30", nab, na, err)
	}
	var n int
	f.crm.st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM co_purchases WHERE a_sku = 'TR-400' AND b_sku = 'SH-400'`).Scan(&n)
	if n != 0 {
		t.Errorf("TR-400→SH-400 counted: shampoo came before or too long after the treatment")
	}
	f.crm.st.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(buyers_ab), 0) FROM co_purchases WHERE a_sku = 'SH-400' AND b_sku = 'AO-30'`).Scan(&n)
	if n != 0 {
		t.Errorf("SH-400→AO-30 = %d, want 0 (outside the window, or not observed)", n)
	}

	agent := f.crm.client(t, "agent1")
	target := f.customer("対象　一子")
	delivered(target, 30, "SH-400")
	both := f.customer("両方　二子")
	delivered(both, 30, "SH-400")
	delivered(both, 60, "TR-400")
	cancelled := f.customer("取消　三子")
	f.order(cancelled, crmclient.OrderCancelled, -*days(30), nil, nil, false, "SH-400")

	hs, err := agent.Hints(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || hs[0].Kind != crmclient.HintCrossSell || hs[0].SKU != "TR-400" || hs[0].Share != 0.4 ||
		hs[0].Text != "Bought アミノ酸シャンプー 400mL: 40% of such customers also buy ヘアトリートメント 400g within 6 months" ||
		hs[0].TextJA != "アミノ酸シャンプー 400mLをご購入のお客様の40%が、6か月以内にヘアトリートメント 400gもご購入" {
		t.Errorf("target hints %+v", hs)
	}
	for _, c := range []string{both, cancelled} {
		if hs, _ := agent.Hints(ctx, c); slices.ContainsFunc(hs, func(h crmclient.Hint) bool { return h.Kind == crmclient.HintCrossSell }) {
			t.Errorf("customer %s offered %+v", c, hs)
		}
	}
	// Above the threshold only: at 50 % the 40 % pair is not offered.
	rules := DefaultHintRules()
	rules[len(rules)-1].MinPercent = 50
	if _, err := f.crm.st.PutHintRules(ctx, rules); err != nil {
		t.Fatal(err)
	}
	if hs, _ := agent.Hints(ctx, target); len(hs) != 0 {
		t.Errorf("at 50%%: %+v", hs)
	}
}

func TestHintRulesValidation(t *testing.T) {
	crm := newTestCRM(t, 0)
	ctx := context.Background()
	sv := crm.client(t, "sv1")
	for _, tt := range []struct {
		edit func(r []crmclient.HintRule) []crmclient.HintRule
		msg  string
	}{
		{func(r []crmclient.HintRule) []crmclient.HintRule { r[0].Condition = "rainy_day"; return r },
			`rules[0].condition "rainy_day" is not one of cancelled_or_returned, co_purchase, delivered`},
		{func(r []crmclient.HintRule) []crmclient.HintRule { r[0].Kind = crmclient.HintCrossSell; return r },
			"rules[0]: condition shipped_not_delivered makes intent hints"},
		{func(r []crmclient.HintRule) []crmclient.HintRule { r[1].Days = 0; return r }, "rules[1].days must be from 1 to 3650"},
		{func(r []crmclient.HintRule) []crmclient.HintRule { r[1].MinPercent = 5; return r }, "min_percent applies to co_purchase rules only"},
		{func(r []crmclient.HintRule) []crmclient.HintRule { r[5].MinPercent = 0; return r }, "rules[5].min_percent must be from 1 to 100"},
		{func(r []crmclient.HintRule) []crmclient.HintRule { r[2].ID = r[1].ID; return r }, `rules[2].id "not-shipped" is used twice`},
		{func(r []crmclient.HintRule) []crmclient.HintRule { r[3].TextJA = " "; return r }, "rules[3]: text and text_ja are required"},
	} {
		_, err := sv.PutHintRules(ctx, tt.edit(DefaultHintRules()))
		var ae *crmclient.APIError
		if !errors.As(err, &ae) || ae.Status != 400 || !strings.Contains(ae.Message, tt.msg) {
			t.Errorf("%v; want 400 containing %q", err, tt.msg)
		}
	}
	if got, _ := sv.HintRules(ctx); !slices.Equal(got, DefaultHintRules()) {
		t.Errorf("a refused PUT changed the rules")
	}
	if got, err := sv.PutHintRules(ctx, []crmclient.HintRule{}); err != nil || len(got) != 0 {
		t.Errorf("clearing rules: %v, %v", got, err)
	}
}

// TestHintsOnSeed: the seed computes the co-purchase table, and hints for seeded
// customers are well-formed.
func TestHintsOnSeed(t *testing.T) {
	crm := newTestCRM(t, 2000, WithClock(func() time.Time { return seedNow }))
	ctx := context.Background()
	var pairs int
	if err := crm.st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM co_purchases WHERE buyers_ab > 0 AND buyers_ab <= buyers_a`).
		Scan(&pairs); err != nil || pairs < 50 {
		t.Errorf("%d co-purchase pairs, %v", pairs, err)
	}
	kinds := map[string]int{}
	for id := 1; id <= 300; id++ {
		hs, err := crm.st.Hints(ctx, strconv.Itoa(id))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			kinds[h.Rule]++
			if h.Text == "" || h.TextJA == "" || strings.Contains(h.Text, "{") || (h.Kind == crmclient.HintIntent) == (h.OrderID == "") ||
				(h.Kind == crmclient.HintCrossSell) != (h.Share > 0 && h.Share <= 1) {
				t.Errorf("customer %d: malformed %+v", id, h)
			}
		}
	}
	for _, r := range []string{"in-transit", "just-delivered", "subscription"} {
		if kinds[r] == 0 {
			t.Errorf("no %s hint among 300 seeded customers: %v", r, kinds)
		}
	}
}

// BenchmarkHints measures GET /v1/customers/{id}/hints over HTTP for random
// customers (p50/p99; the screen-pop budget is 20 ms), at OPDESK_BENCH_CUSTOMERS.
func BenchmarkHints(b *testing.B) {
	n := benchCustomers()
	crm := newTestCRM(b, n, WithClock(func() time.Time { return seedNow }))
	cl := crm.client(b, "agent1")
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 9))
	var lat []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		id := strconv.Itoa(1 + r.IntN(n))
		t0 := time.Now()
		if _, err := cl.Hints(ctx, id); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	reportLatency(b, lat)
	b.ReportMetric(float64(n), "customers")
}
