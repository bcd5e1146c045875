package crmserver

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// DemoUsers are created by Seed: two agents and one supervisor. Their passwords are
// public (they are in this file) and exist for demos and tests only: never seed a
// CRM that holds real customers.
var DemoUsers = []NewUser{
	{Name: "agent1", DisplayName: "山田 花子", Role: crmclient.RoleAgent, Password: "agent1-demo", Campaigns: []string{"inbound"}},
	{Name: "agent2", DisplayName: "鈴木 一郎", Role: crmclient.RoleAgent, Password: "agent2-demo", Campaigns: []string{"inbound", "renewal"}},
	{Name: "sv1", DisplayName: "佐藤 恵子", Role: crmclient.RoleSupervisor, Password: "sv1-demo", Campaigns: []string{"inbound", "renewal"}},
}

// SeedOptions says how much to generate and from which randomness.
type SeedOptions struct {
	Customers int
	// Rand drives every random choice, so the same seed and Now give the same data.
	// Nil means a fixed seed.
	Rand *rand.Rand
	// Now anchors dates (recent shipments are relative to it). Zero means the store's clock.
	Now time.Time
	// Batch is the number of customers per transaction (default 2000). Batching is
	// what makes a million customers take minutes instead of hours: SQLite syncs
	// once per commit, not once per row.
	Batch int
}

// Seed fills an empty store with demo users and realistic Japanese mail-order
// customers, their orders (every status, subscriptions, shipments in the last days)
// and call history with operators' notes.
//
// Phone numbers are derived from the customer's index through bijections, so they
// never collide by accident; about 2 % of customers share a landline with the
// previous customer (same family and address), which is what makes a lookup return
// two customers. Seeded numbers never start with 03-1, 03-2 or 06-1, so tests can use
// those without colliding.
func Seed(ctx context.Context, st *Store, opt SeedOptions) error {
	if opt.Rand == nil {
		opt.Rand = rand.New(rand.NewPCG(1, 2))
	}
	if opt.Now.IsZero() {
		opt.Now = st.now()
	}
	opt.Now = opt.Now.Truncate(time.Second)
	if opt.Batch <= 0 {
		opt.Batch = 2000
	}
	var n int
	if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&n); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("seed: %w", invalidf("the store already has %d customers; seed needs an empty one", n))
	}
	for _, u := range DemoUsers {
		var exists bool
		if err := st.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE name = ?)`, u.Name).
			Scan(&exists); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		if exists {
			continue
		}
		if _, err := st.CreateUser(ctx, u); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	g := &seedGen{r: opt.Rand, now: opt.Now}
	for start := 0; start < opt.Customers; start += opt.Batch {
		end := min(start+opt.Batch, opt.Customers)
		if err := st.inTx(ctx, func(tx *tx) error { return g.batch(ctx, tx, start, end) }); err != nil {
			return fmt.Errorf("seed customers %d–%d: %w", start, end, err)
		}
	}
	if err := st.syncIDs(ctx, "customers", "orders", "calls"); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := seedContent(ctx, st, opt); err != nil {
		return fmt.Errorf("seed scripts and FAQ: %w", err)
	}
	if err := seedCampaigns(ctx, st, opt); err != nil {
		return fmt.Errorf("seed campaigns: %w", err)
	}
	return nil
}

// seedGen carries the state that spans customers: the previous household, whose
// landline the next customer may share.
type seedGen struct {
	r        *rand.Rand
	now      time.Time
	prevLine string
	prevSur  reading
	prevAddr string
	prevArea string
}

type seedStmts struct {
	cust, phone, order, call *sql.Stmt
	grams                    *gramBuffer // the customers' search index rows (search.go)
}

func (g *seedGen) batch(ctx context.Context, tx *tx, start, end int) error {
	var s seedStmts
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&s.cust, `INSERT INTO customers (id, name, name_kana, email, address, notes, search_key, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&s.phone, `INSERT INTO customer_phones (e164, customer_id, position) VALUES (?, ?, ?)`},
		{&s.order, insertOrderSQL},
		{&s.call, insertCallSQL},
	} {
		st, err := tx.PrepareContext(ctx, p.sql)
		if err != nil {
			return err
		}
		defer st.Close()
		*p.dst = st
	}
	s.grams = newGramBuffer(customerGrams, tx)
	for i := start; i < end; i++ {
		if err := g.customer(ctx, &s, i); err != nil {
			return err
		}
	}
	return s.grams.flush(ctx)
}

// customer writes customer number i (id i+1) with phones, orders and calls.
func (g *seedGen) customer(ctx context.Context, s *seedStmts, i int) error {
	r := g.r
	id := int64(i + 1)
	sur := surnames[r.IntN(len(surnames))]
	given := givenFemale[r.IntN(len(givenFemale))]
	if r.IntN(10) < 3 { // mail-order health and beauty customers are mostly women
		given = givenMale[r.IntN(len(givenMale))]
	}
	tw := towns[r.IntN(len(towns))]
	addr := fmt.Sprintf("〒%s %s%s%s%d-%d-%d", tw.postal, tw.pref, tw.city, tw.town, 1+r.IntN(5), 1+r.IntN(30), 1+r.IntN(20))
	if r.IntN(3) == 0 {
		addr += fmt.Sprintf(" %s%d%02d", buildings[r.IntN(len(buildings))], 1+r.IntN(9), 1+r.IntN(12))
	}
	area := tw.area

	var phones []string
	family := g.prevLine != "" && r.IntN(50) == 0
	if family { // same household as the previous customer: their surname, address, landline
		sur, addr, area = g.prevSur, g.prevAddr, g.prevArea
		phones = append(phones, g.prevLine)
	}
	line := ""
	switch k := r.IntN(20); {
	case !family && area != "" && k < 6: // landline only
		line = landline(area, i)
		phones = append(phones, line)
	case !family && area != "" && k < 10: // both
		line = landline(area, i)
		phones = append(phones, mobile(i), line)
	default:
		phones = append(phones, mobile(i))
	}
	g.prevLine, g.prevSur, g.prevAddr, g.prevArea = line, sur, addr, area

	name := sur.kanji + "　" + given.kanji
	kana := sur.kana + "　" + given.kana
	email := ""
	if r.IntN(10) < 7 {
		email = fmt.Sprintf("%s.%s%d@%s", given.roma, sur.roma, i, []string{"example.com", "example.net", "example.org"}[r.IntN(3)])
	}
	notes := ""
	if r.IntN(10) < 3 {
		notes = customerNotes[r.IntN(len(customerNotes))]
	}
	created := g.now.Add(-time.Duration(r.IntN(5*365*24)) * time.Hour)
	key := searchKey(name, kana)
	if _, err := s.cust.ExecContext(ctx, id, name, kana, email, addr, notes, key,
		created.Unix(), created.Unix()); err != nil {
		return err
	}
	if err := s.grams.add(ctx, id, bigrams(key)); err != nil {
		return err
	}
	for pos, p := range phones {
		if _, err := s.phone.ExecContext(ctx, p, id, pos); err != nil {
			return err
		}
	}
	for _, o := range g.orders(created) {
		if _, err := s.order.ExecContext(ctx, orderArgs(id, o)...); err != nil {
			return err
		}
	}
	for range r.IntN(6) {
		c := g.call(created)
		if _, err := s.call.ExecContext(ctx, id, c.StartedAt.Unix(), c.Agent, c.Direction, c.DurationSeconds,
			c.Disposition, c.Notes); err != nil {
			return err
		}
	}
	return nil
}

// mobile is a unique 090/080 number for index i: an affine bijection on the
// 9×10^7 subscriber numbers that libphonenumber accepts (first digit 1–9).
func mobile(i int) string {
	const span = 90_000_000
	sub := 10_000_000 + (int64(i)*7_777_777+12_345_678)%span // 7777777 is coprime with 2, 3 and 5
	prefix := "+8190"
	if i%2 == 1 {
		prefix = "+8180"
	}
	return prefix + strconv.FormatInt(sub, 10)
}

// landline is a unique Tokyo (03-3/5/6xxx-xxxx) or Osaka (06-6xxx-xxxx) number for index i.
func landline(area string, i int) string {
	rest := (int64(i)*3_333_331 + 1_234_567) % 10_000_000 // coprime with 10: a bijection below 10^7
	first := "6"
	if area == "3" {
		first = []string{"3", "5", "6"}[i%3]
	}
	return fmt.Sprintf("+81%s%s%07d", area, first, rest)
}

// orders makes a customer's purchase history: a subscription (monthly deliveries of
// one product, the newest maybe just shipped) or a few one-off orders.
func (g *seedGen) orders(since time.Time) []crmclient.Order {
	r := g.r
	var out []crmclient.Order
	if r.IntN(10) < 3 {
		p := products[r.IntN(7)] // subscribable ones come first
		months := 1 + r.IntN(12)
		// The newest delivery is 0–34 days old, so some shipped in the last 3 days.
		last := g.now.Add(-time.Duration(r.IntN(35*24)) * time.Hour)
		for m := months - 1; m >= 0; m-- {
			at := last.AddDate(0, -m, 0)
			if at.Before(since) {
				continue
			}
			out = append(out, g.order(at, []crmclient.OrderItem{{SKU: p.sku, Name: p.name, Quantity: 1, UnitPriceJPY: p.price}}, true))
		}
	}
	for range r.IntN(4) {
		at := g.now.Add(-time.Duration(r.IntN(2*365*24)) * time.Hour)
		if r.IntN(8) == 0 { // a few orders are very recent
			at = g.now.Add(-time.Duration(r.IntN(72)) * time.Hour)
		}
		var items []crmclient.OrderItem
		for range 1 + r.IntN(3) {
			p := products[r.IntN(len(products))]
			items = append(items, crmclient.OrderItem{SKU: p.sku, Name: p.name, Quantity: 1 + r.IntN(3), UnitPriceJPY: p.price})
		}
		out = append(out, g.order(at, items, false))
	}
	return out
}

// order sets status and dates from the order's age: recent orders are still
// ordered or shipped, older ones delivered, a few cancelled or returned.
func (g *seedGen) order(at time.Time, items []crmclient.OrderItem, sub bool) crmclient.Order {
	r := g.r
	o := crmclient.Order{Items: items, OrderedAt: at, Subscription: sub}
	for _, it := range items {
		o.AmountJPY += int64(it.Quantity) * it.UnitPriceJPY
	}
	if o.AmountJPY < freeShippingJPY {
		o.AmountJPY += shippingJPY
	}
	day := 24 * time.Hour
	ship := at.Add(day/2 + time.Duration(r.IntN(36))*time.Hour)
	deliver := ship.Add(day + time.Duration(r.IntN(36))*time.Hour)
	switch age := g.now.Sub(at); {
	case r.IntN(25) == 0:
		o.Status = crmclient.OrderCancelled
	case ship.After(g.now):
		o.Status = crmclient.OrderOrdered
	case deliver.After(g.now):
		o.Status, o.ShippedAt = crmclient.OrderShipped, &ship
	case age > 14*day && r.IntN(20) == 0:
		o.Status, o.ShippedAt, o.DeliveredAt = crmclient.OrderReturned, &ship, &deliver
	default:
		o.Status, o.ShippedAt, o.DeliveredAt = crmclient.OrderDelivered, &ship, &deliver
	}
	return o
}

// call makes one past call with a disposition and a note in an operator's words.
func (g *seedGen) call(since time.Time) crmclient.CallEntry {
	r := g.r
	k := callKinds[r.IntN(len(callKinds))]
	span := max(g.now.Sub(since), time.Hour)
	at := g.now.Add(-time.Duration(r.Int64N(int64(span))))
	later := at.AddDate(0, 0, 3+r.IntN(10))
	note := strings.Replace(k.notes[r.IntN(len(k.notes))], "%s",
		fmt.Sprintf("%d月%d日", int(later.Month()), later.Day()), 1)
	dir := crmclient.Inbound
	if k.outbound {
		dir = crmclient.Outbound
	}
	dur := 60 + r.IntN(600)
	if k.disposition == "no_answer" {
		dur = r.IntN(30)
	}
	return crmclient.CallEntry{
		StartedAt: at.Truncate(time.Second), Agent: agentsOfOld[r.IntN(len(agentsOfOld))], Direction: dir,
		DurationSeconds: dur, Disposition: k.disposition, Notes: note,
	}
}
