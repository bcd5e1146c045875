package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// popKind says what the screen pop found, and so what the customer pane shows.
type popKind int

const (
	popNone     popKind = iota // no lookup (idle)
	popLoading                 // asked the CRM, no answer yet
	popCard                    // one customer: the card
	popMany                    // several customers share the number: pick one
	popNew                     // nobody has the number: new caller
	popDown                    // the CRM failed and nothing is cached
	popWithheld                // number withheld: nothing to look up
	popBad                     // the caller's "number" is not one
	popNoCRM                   // the desktop runs without a CRM
)

// customerPane is the screen pop: the caller's card, the intent/cross-sell
// banner, orders and call history, the pick list when a number belongs to
// several customers, and the quick-create form for a new caller. Every text in
// it came from the network or the CRM and is cleaned as it arrives.
type customerPane struct {
	lang   Lang
	number string // the caller's number as signalled (cleaned), "" = withheld
	name   string // the SIP display name (cleaned)
	kind   popKind
	card   crmclient.Card // cleaned copy
	chosen int            // index into card.Customers, -1 until picked
	pick   int            // cursor in the pick list
	hints  []crmclient.Hint
	scroll int
	// listRow says the pop is for a campaign lead being previewed: a number
	// nobody in the CRM has is a row of the call list, not a new caller to
	// register (that form is for calls).
	listRow bool

	form newCallerForm
}

// newCallerForm is the quick-create form: name and kana, phone prefilled.
type newCallerForm struct {
	open  bool
	field int // 0 name, 1 kana
	name  string
	kana  string
	busy  bool
}

func newCustomerPane(lang Lang) customerPane { return customerPane{lang: lang, chosen: -1} }

// reset starts a new pop for a call from number (display name name).
func (p *customerPane) reset(number, name string, kind popKind) {
	*p = customerPane{lang: p.lang, number: number, name: name, kind: kind, chosen: -1}
}

// setCard takes the CRM's answer, cleaning every string in it.
func (p *customerPane) setCard(c crmclient.Card) {
	c = cleanCard(c)
	p.card, p.chosen, p.pick, p.scroll = c, -1, 0, 0
	switch len(c.Customers) {
	case 0:
		p.kind = popNew
	case 1:
		p.kind, p.chosen = popCard, 0
	default:
		p.kind = popMany
	}
}

// customer is the customer on the card, nil when none is known (yet).
func (p *customerPane) customer() *crmclient.Customer {
	if p.chosen < 0 || p.chosen >= len(p.card.Customers) {
		return nil
	}
	c := p.card.Customers[p.chosen]
	return &c
}

// picking reports whether the pick list waits for the operator.
func (p *customerPane) picking() bool { return p.kind == popMany && p.chosen < 0 }

// hasResult reports whether the pane shows an answer (anything but loading).
func (p *customerPane) hasResult() bool { return p.kind != popNone && p.kind != popLoading }

func (p *customerPane) move(d int) {
	p.pick = max(0, min(len(p.card.Customers)-1, p.pick+d))
}

func (p *customerPane) choose() {
	if p.picking() && len(p.card.Customers) > 0 {
		p.chosen, p.kind = p.pick, popCard
		// Orders and calls come with a single match only; the pick list's
		// card shows the customer's own data.
	}
}

// view renders the pane in width×height; full shows orders with their items
// and history with whole notes (the wide layout).
func (p *customerPane) view(st styles, width, height int, full bool, now time.Time) string {
	lang := p.lang
	var head, body []string
	who := p.number
	if who == "" {
		who = T(lang, "cust.withheld")
	}
	if p.name != "" {
		who = p.name + "  " + who
	}
	switch p.kind {
	case popNone:
		head = append(head, st.title.Render(T(lang, "cust.title")))
		return block(strings.Join(head, "\n"), width, height)
	case popLoading:
		head = append(head, st.title.Render(who), st.dim.Render(T(lang, "cust.looking", p.number)))
	case popWithheld:
		head = append(head, st.title.Render(who), T(lang, "cust.new"))
	case popNoCRM:
		head = append(head, st.title.Render(who), st.dim.Render(T(lang, "cust.no_crm")))
	case popBad:
		head = append(head, st.title.Render(who), st.warn.Render(T(lang, "cust.bad_number", p.number)))
	case popDown:
		head = append(head, st.title.Render(who), st.alert.Render(T(lang, "cust.down")))
	case popNew:
		if p.listRow {
			head = append(head, st.title.Render(who), st.dim.Render(T(lang, "cust.list_row")))
			break
		}
		head = append(head, st.title.Render(who), st.warn.Render(T(lang, "cust.new")))
		head = append(head, p.formView(st)...)
	case popMany:
		head = append(head, st.title.Render(who))
		if p.card.Stale {
			head = append(head, p.staleLine(st))
		}
		head = append(head, st.warn.Render(T(lang, "cust.many", len(p.card.Customers))))
		for i, c := range p.card.Customers {
			line := fmt.Sprintf("%d. %s (%s)  %s", i+1, c.Name, c.NameKana, c.Address)
			if i == p.pick {
				line = st.selected.Render(fit(line, width))
			}
			head = append(head, line)
		}
	case popCard:
		c := p.customer()
		head = append(head, st.title.Render(c.Name)+"  "+st.dim.Render(c.NameKana))
		if p.card.Stale {
			head = append(head, p.staleLine(st))
		}
		for _, h := range p.hints {
			head = append(head, st.banner.Render("★ "+pick(lang, h.Text, h.TextJA)))
		}
		compact := height < 12
		tel := T(lang, "cust.phone") + ": " + strings.Join(c.Phones, ", ")
		switch {
		case compact:
			// Short pane (80×24 stacked): one line for number and address.
			head = append(head, tel+"  "+c.Address)
		default:
			head = append(head, tel)
			if c.Email != "" {
				head = append(head, T(lang, "cust.email")+": "+c.Email)
			}
			if c.Address != "" {
				head = append(head, T(lang, "cust.address")+": "+c.Address)
			}
		}
		if c.Notes != "" {
			notes := wrapText(c.Notes, max(1, width-2-ansiWidth(T(lang, "cust.notes"))))
			if n := map[bool]int{true: 1, false: 2}[compact]; !full && len(notes) > n {
				notes = notes[:n]
			}
			for i, l := range notes {
				if i == 0 {
					l = T(lang, "cust.notes") + ": " + l
				} else {
					l = "  " + l
				}
				head = append(head, l)
			}
		}
		body = p.ordersAndHistory(st, width, full, now)
	}
	// Orders and history scroll under the fixed head.
	room := height - len(head)
	if room > 0 && len(body) > 0 {
		off := min(p.scroll, max(0, len(body)-room))
		rest := body[off:]
		if len(rest) > room {
			more := len(rest) - room + 1
			rest = append(rest[:room-1:room-1], st.dim.Render(T(lang, "cust.more", more)))
		}
		head = append(head, rest...)
	}
	return block(strings.Join(head, "\n"), width, height)
}

func (p *customerPane) staleLine(st styles) string {
	return st.alert.Render(T(p.lang, "cust.stale", p.card.FetchedAt.Local().Format("15:04")))
}

func (p *customerPane) formView(st styles) []string {
	if !p.form.open {
		return []string{st.dim.Render(T(p.lang, "cust.new_hint"))}
	}
	field := func(i int, label, v string) string {
		cursor := " "
		if p.form.field == i {
			cursor = "▏"
			label = st.keyName.Render(label)
		}
		return label + ": " + v + cursor
	}
	return []string{
		field(0, T(p.lang, "cust.form_name"), p.form.name),
		field(1, T(p.lang, "cust.form_kana"), p.form.kana),
		st.dim.Render(T(p.lang, "cust.form_help")),
	}
}

func (p *customerPane) ordersAndHistory(st styles, width int, full bool, now time.Time) []string {
	lang := p.lang
	var out []string
	out = append(out, st.title.Render(T(lang, "cust.orders")))
	if len(p.card.Orders) == 0 {
		out = append(out, st.dim.Render(T(lang, "cust.no_orders")))
	}
	orders := p.card.Orders
	if !full && len(orders) > 3 {
		orders = orders[:3]
	}
	for _, o := range orders {
		line := fmt.Sprintf("%s %s %s %s", o.OrderedAt.Local().Format("01/02"), o.ID,
			tOr(lang, "order."+string(o.Status), string(o.Status)), yen(o.AmountJPY))
		if o.Subscription {
			line += " " + T(lang, "cust.subscription")
		}
		out = append(out, line)
		if full {
			for _, it := range o.Items {
				out = append(out, st.dim.Render(fmt.Sprintf("   %s ×%d %s", it.Name, it.Quantity, yen(it.UnitPriceJPY))))
			}
		} else if len(o.Items) > 0 {
			out = append(out, st.dim.Render("   "+o.Items[0].Name))
		}
	}
	out = append(out, st.title.Render(T(lang, "cust.history")))
	if len(p.card.Calls) == 0 {
		out = append(out, st.dim.Render(T(lang, "cust.no_history")))
	}
	calls := p.card.Calls
	if !full && len(calls) > 3 {
		calls = calls[:3]
	}
	for _, c := range calls {
		line := fmt.Sprintf("%s %s %s %s %s", c.StartedAt.Local().Format("01/02 15:04"),
			tOr(lang, "dir."+string(c.Direction), string(c.Direction)), clock(time.Duration(c.DurationSeconds)*time.Second), c.Agent, c.Disposition)
		out = append(out, line)
		if c.Notes != "" {
			notes := wrapText(c.Notes, max(1, width-3))
			if !full && len(notes) > 1 {
				notes = notes[:1]
			}
			for _, n := range notes {
				out = append(out, st.dim.Render("   "+n))
			}
		}
	}
	_ = now
	return out
}

// cleanCard returns c with every string cleaned for display.
func cleanCard(c crmclient.Card) crmclient.Card {
	cs := make([]crmclient.Customer, len(c.Customers))
	for i, x := range c.Customers {
		x.Name, x.NameKana = cleanLine(x.Name), cleanLine(x.NameKana)
		x.Email, x.Address = cleanLine(x.Email), cleanLine(x.Address)
		x.Notes = cleanText(x.Notes)
		ph := make([]string, len(x.Phones))
		for j, p := range x.Phones {
			ph[j] = cleanLine(p)
		}
		x.Phones = ph
		cs[i] = x
	}
	c.Customers = cs
	os := make([]crmclient.Order, len(c.Orders))
	for i, o := range c.Orders {
		o.ID = cleanLine(o.ID)
		o.Status = crmclient.OrderStatus(cleanLine(string(o.Status)))
		items := make([]crmclient.OrderItem, len(o.Items))
		for j, it := range o.Items {
			it.Name, it.SKU = cleanLine(it.Name), cleanLine(it.SKU)
			items[j] = it
		}
		o.Items = items
		os[i] = o
	}
	c.Orders = os
	calls := make([]crmclient.CallEntry, len(c.Calls))
	for i, e := range c.Calls {
		e.Agent, e.Disposition = cleanLine(e.Agent), cleanLine(e.Disposition)
		e.Direction = crmclient.Direction(cleanLine(string(e.Direction)))
		e.Notes = cleanText(e.Notes)
		calls[i] = e
	}
	c.Calls = calls
	c.StaleReason = cleanLine(c.StaleReason)
	return c
}

func cleanHints(hs []crmclient.Hint) []crmclient.Hint {
	out := make([]crmclient.Hint, len(hs))
	for i, h := range hs {
		h.Text, h.TextJA = cleanLine(h.Text), cleanLine(h.TextJA)
		out[i] = h
	}
	return out
}

// yen formats whole yen with thousands separators: ¥12,800.
func yen(v int64) string {
	s := fmt.Sprint(v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-¥" + b.String()
	}
	return "¥" + b.String()
}
