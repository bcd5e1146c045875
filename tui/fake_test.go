package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmclient/outbox"
	"github.com/opdesk/opdesk/keymap"
	"github.com/opdesk/opdesk/sip"
)

// Fakes of the desktop's backends, and a harness that runs the root model's
// commands synchronously enough for deterministic screens.

// deskNow is the pinned clock of every desk test: a weekday afternoon in Tokyo.
var deskNow = time.Date(2025, 6, 18, 14, 30, 0, 0, time.FixedZone("JST", 9*3600))

// fakePhone records what the desktop asks and publishes events to the
// subscriber like *sip.Phone does.
type fakePhone struct {
	mu     sync.Mutex
	ch     chan sip.Event
	calls  []string // "answer c1", "dtmf c1 5", …
	status sip.Status
	muted  bool
	dialID string
}

func newFakePhone() *fakePhone {
	return &fakePhone{ch: make(chan sip.Event, 256), dialID: "out-1",
		status: sip.Status{Registration: sip.RegRegistered, AOR: "sip:1001@pbx.example",
			Audio: sip.AudioStatus{MicPeakDBFS: -96, SpeakerPeakDBFS: -96}}}
}

func (p *fakePhone) record(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, s)
}

func (p *fakePhone) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

func (p *fakePhone) Subscribe(int) (<-chan sip.Event, func()) { return p.ch, func() {} }
func (p *fakePhone) Status() sip.Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.status
	st.Muted = p.muted
	st.Calls = append([]sip.CallInfo(nil), st.Calls...)
	return st
}
func (p *fakePhone) Dial(_ context.Context, target string) (string, error) {
	p.record("dial " + target)
	return p.dialID, nil
}
func (p *fakePhone) DialWith(_ context.Context, target string, o sip.DialOptions) (string, error) {
	if o.Grant != "" {
		p.record("monitor " + target + " " + o.Grant)
		return p.dialID, nil
	}
	p.record(fmt.Sprintf("dialwith %s callerid=%s header=%s ring=%v", target, o.CallerID, o.CallerIDHeader, o.RingTimeout))
	return p.dialID, nil
}
func (p *fakePhone) SendGrant(_ context.Context, id, grant string) error {
	p.record("grant " + id + " " + grant)
	if strings.HasPrefix(grant, "bad") {
		return fmt.Errorf("%w: 403 Forbidden", sip.ErrRefused)
	}
	return nil
}
func (p *fakePhone) Answer(id string) (string, error) { p.record("answer " + id); return id, nil }
func (p *fakePhone) Hangup(id string) (string, error) { p.record("hangup " + id); return id, nil }
func (p *fakePhone) Hold(id string) (string, error)   { p.record("hold " + id); return id, nil }
func (p *fakePhone) Resume(id string) (string, error) { p.record("resume " + id); return id, nil }
func (p *fakePhone) SendDTMF(id, d string) (string, error) {
	p.record("dtmf " + id + " " + d)
	return id, nil
}
func (p *fakePhone) SetMuted(m bool) {
	p.mu.Lock()
	p.muted = m
	p.mu.Unlock()
	p.record(fmt.Sprintf("mute %v", m))
}
func (p *fakePhone) Record(id string, on bool) (string, error) {
	p.record(fmt.Sprintf("record %s %v", id, on))
	return id, nil
}
func (p *fakePhone) Transfer(id, target string) (string, error) {
	p.record("transfer " + id + " " + target)
	return id, nil
}

// fakeCRM serves the seed-like fixtures below. down makes every call fail as
// an unreachable CRM does; hang makes ScreenPop wait for its context; stale
// returns cards as the client's cache does when the CRM is down.
type fakeCRM struct {
	mu      sync.Mutex
	cards   map[string]crmclient.Card // by the number as signalled
	hints   map[string][]crmclient.Hint
	down    bool
	hang    bool
	stale   bool
	hung    time.Duration // how long a hanging ScreenPop waited
	states  []crmclient.AgentStateRequest
	created []crmclient.CustomerInput

	// Outbound: NextLead hands out leads in order (each earlier one counts
	// as settled), then leadErr (default: no_leads).
	leads     []crmclient.Lead
	leadErr   error
	asked     int      // NextLead calls
	released  []string // "ID reason"
	dnc       map[string]crmclient.DNCEntry
	dncDown   bool
	callbacks []crmclient.Callback
	stored    crmclient.AgentCounters // what MyCounters answers
	posted    []crmclient.AgentCounters
	campaigns []crmclient.Campaign // Campaigns' answer when set (else the fixtures)

	// Supervisors.
	callEvents []crmclient.CallEventRequest
	board      crmclient.Wallboard
	boardReads int
	grants     []crmclient.GrantRequest
}

func (c *fakeCRM) PostCallEvent(_ context.Context, ev crmclient.CallEventRequest) (crmclient.CallEventAck, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.callEvents = append(c.callEvents, ev)
	return crmclient.CallEventAck{EventID: int64(len(c.callEvents))}, nil
}

func (c *fakeCRM) Wallboard(context.Context, string, time.Duration) (crmclient.Wallboard, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.boardReads++
	if c.down {
		return crmclient.Wallboard{}, errCRMDown
	}
	return c.board, nil
}

func (c *fakeCRM) CreateMonitorGrant(_ context.Context, req crmclient.GrantRequest) (crmclient.Grant, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.grants = append(c.grants, req)
	return crmclient.Grant{Grant: "grant-" + string(req.Mode) + "-" + req.Agent, ExpiresAt: deskNow.Add(time.Minute)}, nil
}

func (c *fakeCRM) NextLead(_ context.Context, campaignID string) (crmclient.Lead, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked++
	if len(c.leads) == 0 {
		if c.leadErr != nil {
			return crmclient.Lead{}, c.leadErr
		}
		return crmclient.Lead{}, &crmclient.APIError{Status: 404, Code: crmclient.CodeNoLeads, Message: "campaign " + campaignID + " has no lead to call now"}
	}
	l := c.leads[0]
	c.leads = c.leads[1:]
	return l, nil
}

func (c *fakeCRM) ReleaseLead(_ context.Context, id, reason string) (crmclient.Lead, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.released = append(c.released, id+" "+reason)
	return crmclient.Lead{ID: id}, nil
}

func (c *fakeCRM) CheckDNC(_ context.Context, phone string) (crmclient.DNCEntry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dncDown || c.down {
		return crmclient.DNCEntry{}, errCRMDown
	}
	if e, ok := c.dnc[phone]; ok {
		return e, nil
	}
	return crmclient.DNCEntry{Phone: phone}, nil
}

func (c *fakeCRM) Callbacks(context.Context, bool) ([]crmclient.Callback, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]crmclient.Callback(nil), c.callbacks...), nil
}

func (c *fakeCRM) MyCounters(_ context.Context, campaignID, day string) (crmclient.AgentCounters, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.stored
	k.CampaignID, k.Day = campaignID, day
	return k, nil
}

func (c *fakeCRM) PutCounters(_ context.Context, in crmclient.AgentCounters) (crmclient.AgentCounters, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.posted = append(c.posted, in)
	return in, nil
}

var errCRMDown = errors.New("crm: unreachable: connection refused")

func (c *fakeCRM) ScreenPop(ctx context.Context, phone string) (crmclient.Card, error) {
	c.mu.Lock()
	hang, down, stale := c.hang, c.down, c.stale
	if strings.HasPrefix(phone, "+81") { // the client normalises; the fixtures are keyed nationally
		phone = "0" + phone[3:]
	}
	card, ok := c.cards[phone]
	c.mu.Unlock()
	if hang {
		start := time.Now()
		<-ctx.Done()
		c.mu.Lock()
		c.hung = time.Since(start)
		c.mu.Unlock()
		return crmclient.Card{}, fmt.Errorf("crm: %w", ctx.Err())
	}
	if phone == "garbage" {
		return crmclient.Card{}, fmt.Errorf("%w: not a number", crmclient.ErrInvalidPhone)
	}
	if stale && ok {
		card.Stale, card.StaleReason = true, errCRMDown.Error()
		return card, nil
	}
	if down {
		return crmclient.Card{}, errCRMDown
	}
	if !ok {
		return crmclient.Card{Phone: "+81" + strings.TrimPrefix(phone, "0"), FetchedAt: deskNow}, nil
	}
	return card, nil
}

func (c *fakeCRM) Hints(_ context.Context, id string) ([]crmclient.Hint, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return nil, errCRMDown
	}
	return c.hints[id], nil
}

func (c *fakeCRM) Campaigns(context.Context) ([]crmclient.Campaign, error) {
	if c.campaigns != nil {
		return c.campaigns, nil
	}
	return []crmclient.Campaign{fixtureOutboundCampaign(), fixtureInboundCampaign()}, nil
}

func (c *fakeCRM) GetScript(_ context.Context, id string) (crmclient.Script, error) {
	if id != fixtureScript().ID {
		return crmclient.Script{}, errors.New("crm: no such script")
	}
	return fixtureScript(), nil
}

func (c *fakeCRM) SearchFAQ(_ context.Context, q string, limit int) ([]crmclient.FAQEntry, error) {
	var out []crmclient.FAQEntry
	for _, e := range fixtureFAQ() {
		if q == "" || strings.Contains(e.Question+e.Answer, q) {
			out = append(out, e)
		}
	}
	return out[:min(len(out), limit)], nil
}

func (c *fakeCRM) CreateCustomer(_ context.Context, in crmclient.CustomerInput) (crmclient.Customer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.created = append(c.created, in)
	return crmclient.Customer{ID: "C-NEW", Name: in.Name, NameKana: in.NameKana, Phones: in.Phones}, nil
}

func (c *fakeCRM) PutAgentState(_ context.Context, st crmclient.AgentStateRequest) (crmclient.AgentState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.states = append(c.states, st)
	return crmclient.AgentState{State: st.State, Reason: st.Reason, Since: deskNow}, nil
}

func (c *fakeCRM) States() []crmclient.AgentStateRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]crmclient.AgentStateRequest(nil), c.states...)
}

// fakeOutbox keeps what was Put; delivered says whether Stats reports it sent.
type fakeOutbox struct {
	mu        sync.Mutex
	items     []outbox.Item
	delivered bool
}

func (o *fakeOutbox) Put(_ context.Context, kind string, body []byte) (outbox.Item, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	it := outbox.Item{ID: int64(len(o.items) + 1), Kind: kind, Body: body, Created: deskNow}
	o.items = append(o.items, it)
	return it, nil
}

func (o *fakeOutbox) Stats() outbox.Stats {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.delivered {
		return outbox.Stats{Sent: uint64(len(o.items))}
	}
	st := outbox.Stats{Pending: len(o.items)}
	if len(o.items) > 0 {
		st.LastError = errCRMDown.Error()
	}
	return st
}

func (o *fakeOutbox) Items() []outbox.Item {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]outbox.Item(nil), o.items...)
}

// Fixtures, after the reference CRM's seed (crmserver/seed_data.go,
// content_seed.go, campaign_seed.go).

const (
	satoNumber   = "0312345678"
	familyNumber = "0451112222"
)

func fixtureSato() crmclient.Customer {
	return crmclient.Customer{ID: "C-0001", Name: "佐藤　陽子", NameKana: "サトウ　ヨウコ",
		Phones: []string{"+81312345678"}, Email: "yoko.sato@example.jp",
		Address: "東京都世田谷区桜新町1-2-3", Notes: "定期便(育毛ローション)を2年継続。午前中の配達希望。"}
}

func fixtureCard() crmclient.Card {
	shipped := deskNow.Add(-36 * time.Hour)
	delivered := deskNow.Add(-20 * 24 * time.Hour)
	return crmclient.Card{
		Phone: "+81312345678", Customers: []crmclient.Customer{fixtureSato()}, FetchedAt: deskNow.Add(-2 * time.Hour),
		Orders: []crmclient.Order{
			{ID: "O-10231", CustomerID: "C-0001", Status: crmclient.OrderShipped, AmountJPY: 7480, Subscription: true,
				OrderedAt: deskNow.Add(-3 * 24 * time.Hour), ShippedAt: &shipped,
				Items: []crmclient.OrderItem{{SKU: "HL-120", Name: "薬用育毛ローション 120mL", Quantity: 1, UnitPriceJPY: 5980},
					{SKU: "SP-300", Name: "スカルプシャンプー 300mL", Quantity: 1, UnitPriceJPY: 1500}}},
			{ID: "O-09877", CustomerID: "C-0001", Status: crmclient.OrderDelivered, AmountJPY: 5980, Subscription: true,
				OrderedAt: deskNow.Add(-33 * 24 * time.Hour), DeliveredAt: &delivered,
				Items: []crmclient.OrderItem{{SKU: "HL-120", Name: "薬用育毛ローション 120mL", Quantity: 1, UnitPriceJPY: 5980}}},
		},
		Calls: []crmclient.CallEntry{
			{ID: "H-1", CustomerID: "C-0001", StartedAt: deskNow.Add(-30 * 24 * time.Hour), Agent: "鈴木", Direction: crmclient.Inbound,
				DurationSeconds: 245, Disposition: "change", Notes: "次回のお届け日を25日に変更。午前中指定。"},
		},
	}
}

func fixtureFamilyCard() crmclient.Card {
	a := crmclient.Customer{ID: "C-0100", Name: "高橋　健一", NameKana: "タカハシ　ケンイチ", Phones: []string{"+81451112222"}, Address: "神奈川県横浜市港北区1-1"}
	b := crmclient.Customer{ID: "C-0101", Name: "高橋　美咲", NameKana: "タカハシ　ミサキ", Phones: []string{"+81451112222"}, Address: "神奈川県横浜市港北区1-1"}
	return crmclient.Card{Phone: "+81451112222", Customers: []crmclient.Customer{a, b}, FetchedAt: deskNow}
}

func fixtureHints() []crmclient.Hint {
	return []crmclient.Hint{{Kind: crmclient.HintIntent, Rule: "shipped-3d", OrderID: "O-10231",
		Text: "Shipped 2 days ago — likely about delivery (date change / skip)", TextJA: "2日前に発送済み — お届け日の変更・スキップのご用件かも"}}
}

func fixtureScript() crmclient.Script {
	return crmclient.Script{ID: "inbound-support", Name: "インバウンド（お問い合わせ受付）", Start: "greeting",
		Nodes: []crmclient.ScriptNode{
			{ID: "greeting", Title: "第一声", Body: "お電話ありがとうございます。\n**{{company.name}}**、担当の**{{agent.display_name}}**でございます。",
				Choices: []crmclient.ScriptChoice{{Label: "お客様が名乗った・着信表示あり", Next: "identity"}}},
			{ID: "identity", Title: "ご本人確認", Body: "{{customer.name}}様でいらっしゃいますね。いつもご利用ありがとうございます。\n\n恐れ入りますが、ご本人様確認のため、**ご登録のご住所**をお伺いしてもよろしいでしょうか。",
				Choices: []crmclient.ScriptChoice{{Label: "ご本人と確認できた", Next: "purpose"}, {Label: "確認できない", Next: "greeting"}}},
			{ID: "purpose", Title: "ご用件", Body: "本日はどのようなご用件でしょうか。"},
		},
		Checklist: []crmclient.ChecklistItem{{ID: "identity", Label: "Identity confirmed", LabelJA: "ご本人確認済み", Required: true}},
	}
}

func fixtureInboundCampaign() crmclient.Campaign {
	return crmclient.Campaign{ID: "support", Name: "サポート窓口", Direction: crmclient.Inbound, ScriptID: "inbound-support",
		Disposition: crmclient.DispositionSchema{Results: []crmclient.ResultCode{
			{Code: "delivery", Label: "Delivery inquiry", LabelJA: "配送の問い合わせ"},
			{Code: "order", Label: "New order", LabelJA: "新規注文", Flags: []crmclient.ResultFlag{crmclient.FlagSuccess}},
			{Code: "callback", Label: "Call back later", LabelJA: "折り返し連絡", Flags: []crmclient.ResultFlag{crmclient.FlagCallback}},
		}}}
}

func fixtureOutboundCampaign() crmclient.Campaign {
	return crmclient.Campaign{ID: "teiki", Name: "定期便 乗り換えキャンペーン", Direction: crmclient.Outbound,
		CallerID: "+81345670000",
		Window:   crmclient.CallingWindow{Start: "09:00", End: "21:00", TimeZone: "Asia/Tokyo"},
		Retry: crmclient.RetryPolicy{MaxAttempts: 3, DelaySeconds: map[crmclient.AttemptOutcome]int64{
			crmclient.OutcomeNoAnswer: 7200, crmclient.OutcomeBusy: 900}},
		Disposition: crmclient.DispositionSchema{Results: []crmclient.ResultCode{
			{Code: "success", Label: "Switched", LabelJA: "定期便へ乗り換え", Flags: []crmclient.ResultFlag{crmclient.FlagSuccess}},
			{Code: "not_interested", Label: "Not interested", LabelJA: "興味なし"},
			{Code: "callback", Label: "Call back", LabelJA: "再架電の約束", Flags: []crmclient.ResultFlag{crmclient.FlagCallback}},
			{Code: "refused", Label: "Refused — never call again", LabelJA: "今後の勧誘お断り",
				Flags: []crmclient.ResultFlag{crmclient.FlagRefusedNeverCall}},
		}}}
}

// fixtureLeads are the outbound list's first rows: a customer with a card, a
// retry, and a row with no customer record.
func fixtureLeads() []crmclient.Lead {
	last := deskNow.Add(-26 * time.Hour)
	return []crmclient.Lead{
		{ID: "L1", CampaignID: "teiki", Phone: "+81312345678", CustomerID: "C-0001", Name: "佐藤　陽子", NameKana: "サトウ　ヨウコ",
			Status: crmclient.LeadOpen, Fields: map[string]string{"おすすめ商品": "薬用育毛ローション 120mL"}},
		{ID: "L2", CampaignID: "teiki", Phone: "+819012345678", Name: "田中　一郎", NameKana: "タナカ　イチロウ",
			Status: crmclient.LeadOpen, Attempts: 1, LastResult: "no_answer", LastAttemptAt: &last, Fields: map[string]string{}},
		{ID: "L3", CampaignID: "teiki", Phone: "+81667778888", Name: "中村　花", Status: crmclient.LeadOpen, Fields: map[string]string{}},
	}
}

func fixtureFAQ() []crmclient.FAQEntry {
	return []crmclient.FAQEntry{
		{ID: "F1", Question: "返品・交換の条件を教えてください", Category: "返品・交換",
			Answer: "- **未開封**：商品到着後**8日以内**にご連絡いただければ返品可。送料はお客様負担。\n\n返品受付は管理画面「注文詳細 → 返品登録」。"},
		{ID: "F2", Question: "届いた商品が破損していた・中身が違った", Category: "返品・交換",
			Answer: "まずお詫びします。破損・誤配送は**送料当社負担で交換**です。返品は不要です。"},
		{ID: "F3", Question: "送料はいくらですか？", Category: "配送", Answer: "全国一律**550円**。"},
	}
}

// desk is one model under test with its fakes.
type desk struct {
	t     *testing.T
	m     *Model
	phone *fakePhone
	crm   *fakeCRM
	ob    *fakeOutbox
	keys  *keymap.Map
	now   time.Time
	quiet time.Duration // how long run waits for a command's answer
}

func newDesk(t *testing.T, lang Lang, w, h int, mod ...func(*Options)) *desk {
	t.Helper()
	d := &desk{t: t, phone: newFakePhone(), ob: &fakeOutbox{delivered: true}, keys: keymap.Default(), now: deskNow,
		quiet: 150 * time.Millisecond}
	d.crm = &fakeCRM{
		cards: map[string]crmclient.Card{satoNumber: fixtureCard(), familyNumber: fixtureFamilyCard()},
		hints: map[string][]crmclient.Hint{"C-0001": fixtureHints()},
	}
	o := Options{Phone: d.phone, CRM: d.crm, Outbox: d.ob, Keys: d.keys, Lang: lang,
		Agent:   crmclient.User{Name: "tanaka", DisplayName: "田中"},
		Company: "ヘルシーライフ通販", Region: "JP", NoTick: true,
		PopTimeout: 60 * time.Millisecond, Now: func() time.Time { return d.now }}
	for _, f := range mod {
		f(&o)
	}
	d.m = New(o)
	d.send(tea.WindowSizeMsg{Width: w, Height: h})
	d.run(d.m.campaignsCmd())
	d.run(d.m.pollCmd())
	return d
}

// send gives msg to Update and runs what it returns.
func (d *desk) send(msg tea.Msg) {
	d.t.Helper()
	_, cmd := d.m.Update(msg)
	d.run(cmd)
}

// run executes cmd and everything it leads to, feeding the results to
// Update in this goroutine. Commands that do not answer within a short quiet
// period (the phone listener, cursor blinks, long timers) are abandoned.
func (d *desk) run(cmd tea.Cmd) {
	d.t.Helper()
	if cmd == nil {
		return
	}
	results := make(chan tea.Msg, 64)
	pending := 0
	start := func(c tea.Cmd) {
		if c == nil {
			return
		}
		pending++
		go func() { results <- c() }()
	}
	start(cmd)
	quiet := time.NewTimer(d.quiet)
	defer quiet.Stop()
	for pending > 0 {
		select {
		case msg := <-results:
			pending--
			switch msg := msg.(type) {
			case nil:
			case tea.BatchMsg:
				for _, c := range msg {
					start(c)
				}
			case tea.QuitMsg:
			default:
				_, c := d.m.Update(msg)
				start(c)
			}
			quiet.Reset(d.quiet)
		case <-quiet.C:
			return
		}
	}
}

// event delivers a phone event as the listener would.
func (d *desk) event(ev sip.Event) {
	d.t.Helper()
	if ev.Time.IsZero() {
		ev.Time = d.now
	}
	d.send(phoneEventMsg{ev})
}

// press presses the first key bound to action a in context c.
func (d *desk) press(a keymap.Action, c keymap.Context) {
	d.t.Helper()
	ks := d.keys.Keys(a, c)
	if len(ks) == 0 {
		d.t.Fatalf("no key bound to %s in %s", a, c)
	}
	d.send(keyMsg(d.t, ks[0]))
}

// typeText types s character by character.
func (d *desk) typeText(s string) {
	d.t.Helper()
	for _, r := range s {
		d.send(keyMsg(d.t, string(r)))
	}
}

func (d *desk) screen() string { return d.m.View().Content }

// keyMsg builds the key press whose String() is s.
func keyMsg(t *testing.T, s string) tea.KeyPressMsg {
	t.Helper()
	var k tea.KeyPressMsg
	rest := s
	for {
		switch {
		case strings.HasPrefix(rest, "ctrl+"):
			k.Mod |= tea.ModCtrl
			rest = rest[5:]
			continue
		case strings.HasPrefix(rest, "alt+"):
			k.Mod |= tea.ModAlt
			rest = rest[4:]
			continue
		case strings.HasPrefix(rest, "shift+"):
			k.Mod |= tea.ModShift
			rest = rest[6:]
			continue
		}
		break
	}
	named := map[string]rune{"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab, "backspace": tea.KeyBackspace,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight, "pgup": tea.KeyPgUp,
		"pgdown": tea.KeyPgDown, "space": tea.KeySpace, "f1": tea.KeyF1, "f2": tea.KeyF2, "f3": tea.KeyF3,
		"f4": tea.KeyF4, "f5": tea.KeyF5, "f6": tea.KeyF6, "f7": tea.KeyF7, "f8": tea.KeyF8, "f9": tea.KeyF9}
	if c, ok := named[rest]; ok {
		k.Code = c
		if rest == "space" && k.Mod == 0 {
			k.Text = " "
		}
	} else {
		r := []rune(rest)
		if len(r) != 1 {
			t.Fatalf("keyMsg: cannot build %q", s)
		}
		k.Code = r[0]
		if k.Mod == 0 {
			k.Text = rest
		}
	}
	if got := k.String(); got != s {
		t.Fatalf("keyMsg(%q).String() = %q", s, got)
	}
	return k
}

// The desk tests run in the operator's zone whatever the machine's, so the
// golden files do not depend on TZ.
func init() { time.Local = time.FixedZone("JST", 9*3600) }
