package crmserver

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// Hints are computed per request from the customer's orders (at most maxHistory,
// one indexed query), the rules (a few rows) and the co-purchase table (a few rows
// per product the customer bought): a handful of small queries, well inside a
// screen pop's budget. The expensive part, counting co-purchases over every order,
// runs in RecomputeCoPurchases, not per request.

const (
	maxHintRules     = 50
	maxHintText      = 300
	maxHintDays      = 3650
	maxCrossSell     = 2  // suggestions per co_purchase rule: a banner, not a catalogue
	minCoPurchasers  = 20 // fewer buyers of A than this is anecdote, not a pattern
	defCoPurchaseWin = 180
)

// hintConditions maps each known condition to the kind of hint it makes.
var hintConditions = map[string]crmclient.HintKind{
	crmclient.CondOrderedNotShipped:   crmclient.HintIntent,
	crmclient.CondShippedNotDelivered: crmclient.HintIntent,
	crmclient.CondDelivered:           crmclient.HintIntent,
	crmclient.CondSubscriptionActive:  crmclient.HintIntent,
	crmclient.CondCancelledOrReturned: crmclient.HintIntent,
	crmclient.CondCoPurchase:          crmclient.HintCrossSell,
}

// HintRules returns the rules in evaluation order.
func (s *Store) HintRules(ctx context.Context) ([]crmclient.HintRule, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, cond, days, min_percent, text_en, text_ja
		FROM hint_rules ORDER BY position`)
	if err != nil {
		return nil, fmt.Errorf("hint rules: %w", err)
	}
	defer rows.Close()
	out := []crmclient.HintRule{}
	for rows.Next() {
		var r crmclient.HintRule
		if err := rows.Scan(&r.ID, &r.Kind, &r.Condition, &r.Days, &r.MinPercent, &r.Text, &r.TextJA); err != nil {
			return nil, fmt.Errorf("hint rules: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PutHintRules validates and replaces every rule. A new co_purchase window takes
// effect at the next RecomputeCoPurchases.
func (s *Store) PutHintRules(ctx context.Context, rules []crmclient.HintRule) ([]crmclient.HintRule, error) {
	if err := validateHintRules(rules); err != nil {
		return nil, err
	}
	err := s.inTx(ctx, func(tx *tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM hint_rules`); err != nil {
			return err
		}
		for i, r := range rules {
			if _, err := tx.ExecContext(ctx, `INSERT INTO hint_rules (position, id, kind, cond, days, min_percent,
				text_en, text_ja) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, i, r.ID, r.Kind, r.Condition, r.Days, r.MinPercent,
				r.Text, r.TextJA); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("put hint rules: %w", err)
	}
	return s.HintRules(ctx)
}

func validateHintRules(rules []crmclient.HintRule) error {
	if len(rules) > maxHintRules {
		return invalidf("%d rules; at most %d are allowed", len(rules), maxHintRules)
	}
	ids := map[string]bool{}
	for i := range rules {
		r := &rules[i]
		at := fmt.Sprintf("rules[%d]", i)
		r.Text, r.TextJA = strings.TrimSpace(r.Text), strings.TrimSpace(r.TextJA)
		if !scriptID.MatchString(r.ID) {
			return invalidf("%s.id %q must be 1–64 lower-case letters, digits, '-' or '_'", at, r.ID)
		}
		if ids[r.ID] {
			return invalidf("%s.id %q is used twice", at, r.ID)
		}
		ids[r.ID] = true
		kind, known := hintConditions[r.Condition]
		switch {
		case !known:
			names := make([]string, 0, len(hintConditions))
			for c := range hintConditions {
				names = append(names, c)
			}
			slices.Sort(names)
			return invalidf("%s.condition %q is not one of %s", at, r.Condition, strings.Join(names, ", "))
		case r.Kind != kind:
			return invalidf("%s: condition %s makes %s hints, not %q", at, r.Condition, kind, r.Kind)
		case r.Days < 1 || r.Days > maxHintDays:
			return invalidf("%s.days must be from 1 to %d", at, maxHintDays)
		case r.Condition == crmclient.CondCoPurchase && (r.MinPercent < 1 || r.MinPercent > 100):
			return invalidf("%s.min_percent must be from 1 to 100", at)
		case r.Condition != crmclient.CondCoPurchase && r.MinPercent != 0:
			return invalidf("%s.min_percent applies to co_purchase rules only; leave it 0", at)
		case r.Text == "" || r.TextJA == "":
			return invalidf("%s: text and text_ja are required", at)
		}
		if err := checkText(at+".text", r.Text, maxHintText); err != nil {
			return err
		}
		if err := checkText(at+".text_ja", r.TextJA, maxHintText); err != nil {
			return err
		}
	}
	return nil
}

// Hints evaluates the rules on one customer's orders at the store's clock;
// ErrNotFound for an unknown customer. Intent rules give at most one hint each,
// about the newest matching order; co_purchase rules give up to maxCrossSell
// products the customer has not bought, best share first.
func (s *Store) Hints(ctx context.Context, customerID string) ([]crmclient.Hint, error) {
	orders, err := s.Orders(ctx, customerID) // newest first
	if err != nil {
		return nil, err
	}
	rules, err := s.HintRules(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := []crmclient.Hint{}
	for _, r := range rules {
		since := now.Add(-time.Duration(r.Days) * 24 * time.Hour)
		within := func(t *time.Time) bool { return t != nil && !t.Before(since) && !t.After(now) }
		var match func(o *crmclient.Order) bool
		switch r.Condition {
		case crmclient.CondOrderedNotShipped:
			match = func(o *crmclient.Order) bool { return o.Status == crmclient.OrderOrdered && within(&o.OrderedAt) }
		case crmclient.CondShippedNotDelivered:
			match = func(o *crmclient.Order) bool { return o.Status == crmclient.OrderShipped && within(o.ShippedAt) }
		case crmclient.CondDelivered:
			match = func(o *crmclient.Order) bool { return o.Status == crmclient.OrderDelivered && within(o.DeliveredAt) }
		case crmclient.CondSubscriptionActive:
			// Active: the newest subscription delivery is recent and not cancelled.
			i := slices.IndexFunc(orders, func(o crmclient.Order) bool { return o.Subscription })
			match = func(o *crmclient.Order) bool {
				return i >= 0 && o == &orders[i] && o.Status != crmclient.OrderCancelled && within(&o.OrderedAt)
			}
		case crmclient.CondCancelledOrReturned:
			// The store has no cancellation or return date: the latest date the order
			// has stands in for it.
			match = func(o *crmclient.Order) bool {
				last := cmp.Or(o.DeliveredAt, o.ShippedAt, &o.OrderedAt)
				return (o.Status == crmclient.OrderCancelled || o.Status == crmclient.OrderReturned) && within(last)
			}
		case crmclient.CondCoPurchase:
			cs, err := s.crossSell(ctx, r, orders)
			if err != nil {
				return nil, err
			}
			out = append(out, cs...)
			continue
		default:
			continue // a condition this version does not know (written by a newer one)
		}
		for i := range orders {
			if match(&orders[i]) {
				out = append(out, crmclient.Hint{Kind: r.Kind, Rule: r.ID, Text: r.Text, TextJA: r.TextJA, OrderID: orders[i].ID})
				break
			}
		}
	}
	return out, nil
}

// crossSell suggests products B for a co_purchase rule: the customer bought some A
// (in an order neither cancelled nor returned), has never ordered B, and at least
// MinPercent of A's buyers bought B within the window.
func (s *Store) crossSell(ctx context.Context, r crmclient.HintRule, orders []crmclient.Order) ([]crmclient.Hint, error) {
	var bought []any
	has := map[string]bool{}
	for _, o := range orders {
		for _, it := range o.Items {
			has[it.SKU] = true
			if o.Status != crmclient.OrderCancelled && o.Status != crmclient.OrderReturned && !slices.Contains(bought, any(it.SKU)) {
				bought = append(bought, it.SKU)
			}
		}
	}
	if len(bought) == 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT a_name, b_sku, b_name, buyers_a, buyers_ab FROM co_purchases
		WHERE a_sku IN (?`+strings.Repeat(`, ?`, len(bought)-1)+`) AND buyers_a >= ? AND buyers_ab * 100 >= buyers_a * ?`,
		append(bought, minCoPurchasers, r.MinPercent)...)
	if err != nil {
		return nil, fmt.Errorf("co-purchases: %w", err)
	}
	defer rows.Close()
	type cand struct {
		aName, b, bName string
		share           float64
	}
	best := map[string]cand{}
	for rows.Next() {
		var c cand
		var na, nab int64
		if err := rows.Scan(&c.aName, &c.b, &c.bName, &na, &nab); err != nil {
			return nil, fmt.Errorf("co-purchases: %w", err)
		}
		c.share = math.Round(float64(nab)/float64(na)*1000) / 1000
		if !has[c.b] && c.share > best[c.b].share {
			best[c.b] = c
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("co-purchases: %w", err)
	}
	list := make([]cand, 0, len(best))
	for _, c := range best {
		list = append(list, c)
	}
	slices.SortFunc(list, func(x, y cand) int { return cmp.Or(cmp.Compare(y.share, x.share), cmp.Compare(x.b, y.b)) })
	var out []crmclient.Hint
	for _, c := range list[:min(len(list), maxCrossSell)] {
		fill := strings.NewReplacer("{a}", c.aName, "{b}", c.bName, "{share}", strconv.Itoa(int(math.Round(c.share*100)))+"%")
		out = append(out, crmclient.Hint{Kind: r.Kind, Rule: r.ID, Text: fill.Replace(r.Text), TextJA: fill.Replace(r.TextJA),
			SKU: c.b, Share: c.share})
	}
	return out, nil
}

// RecomputeCoPurchases rebuilds the co-purchase table from every order, with the
// window of the first co_purchase rule (180 days without one). Seed runs it; a
// server should run it at start-up, once a day and after orders arrive in bulk. It
// reads every order once: about 1.3 s for the 330 000 orders of 100 000 seeded
// customers. Until it has run, hints carry no cross-sell.
//
// For each pair of products (A, B): buyers_a counts customers whose first A is at
// least a window old (so that each had the whole window to buy B: recent buyers
// would lower the share only because time has not passed yet), buyers_ab those of
// them who bought B from the day of that first A to a window later (the same order
// counts). Cancelled and returned orders are left out.
func (s *Store) RecomputeCoPurchases(ctx context.Context) error {
	return s.recomputeCoPurchases(ctx, s.now())
}

func (s *Store) recomputeCoPurchases(ctx context.Context, now time.Time) error {
	window := defCoPurchaseWin
	rules, err := s.HintRules(ctx)
	if err != nil {
		return err
	}
	if i := slices.IndexFunc(rules, func(r crmclient.HintRule) bool { return r.Condition == crmclient.CondCoPurchase }); i >= 0 {
		window = rules[i].Days
	}
	win := int64(window) * 86400
	observed := now.Unix() - win

	type pair struct{ a, b string }
	buyers := map[string]int64{}
	both := map[pair]int64{}
	names := map[string]string{}
	rows, err := s.db.QueryContext(ctx, `SELECT customer_id, items, ordered_at FROM orders
		WHERE status NOT IN ('cancelled', 'returned') ORDER BY customer_id`)
	if err != nil {
		return fmt.Errorf("co-purchases: %w", err)
	}
	defer rows.Close()
	cur := int64(-1)
	times := map[string][]int64{} // one customer's purchase times per SKU
	flush := func() {
		for a, ta := range times {
			first := slices.Min(ta)
			if first > observed {
				continue
			}
			buyers[a]++
			for b, tb := range times {
				if b != a && slices.ContainsFunc(tb, func(t int64) bool { return t >= first && t <= first+win }) {
					both[pair{a, b}]++
				}
			}
		}
		clear(times)
	}
	var items []struct {
		SKU  string `json:"sku"`
		Name string `json:"name"`
	}
	for rows.Next() {
		var cust, at int64
		var raw string
		if err := rows.Scan(&cust, &raw, &at); err != nil {
			return fmt.Errorf("co-purchases: %w", err)
		}
		if cust != cur {
			flush()
			cur = cust
		}
		items = items[:0]
		if json.Unmarshal([]byte(raw), &items) != nil {
			continue // not ours to repair; the order card shows it as it is
		}
		for _, it := range items {
			if it.SKU == "" {
				continue
			}
			times[it.SKU] = append(times[it.SKU], at)
			if it.Name != "" {
				names[it.SKU] = it.Name
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("co-purchases: %w", err)
	}
	flush()
	rows.Close()

	pairs := make([]pair, 0, len(both))
	for p := range both {
		pairs = append(pairs, p)
	}
	slices.SortFunc(pairs, func(x, y pair) int { return cmp.Or(strings.Compare(x.a, y.a), strings.Compare(x.b, y.b)) })
	return s.inTx(ctx, func(tx *tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM co_purchases`); err != nil {
			return err
		}
		for _, p := range pairs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO co_purchases (a_sku, b_sku, a_name, b_name, buyers_a,
				buyers_ab, window_days) VALUES (?, ?, ?, ?, ?, ?, ?)`, p.a, p.b, cmp.Or(names[p.a], p.a),
				cmp.Or(names[p.b], p.b), buyers[p.a], both[p], window); err != nil {
				return fmt.Errorf("co-purchases: %w", err)
			}
		}
		return nil
	})
}
