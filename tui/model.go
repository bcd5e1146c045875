// Package tui is the agent desktop: a Bubble Tea v2 program that shows who is
// calling before the call is answered (the screen pop), the talk script, the
// FAQ and the wrap-up form, and drives the phone from the keyboard.
//
// The root Model owns the call as the desktop sees it and decides which key
// contexts are active (see contexts); the panes (customer, script, FAQ,
// wrap-up, dialer, agent state, help) only render and react to what the root
// hands them. All I/O — the phone, the CRM, the outbox — runs in tea.Cmds that
// come back as messages (messages.go), so Update never waits on the network
// and the screen keeps redrawing when the CRM hangs. The model keeps copies of
// the core's values (sip.Status, crmclient.Card), never pointers into it.
//
// Nothing is printed to stdout or stderr: the terminal belongs to Bubble Tea,
// and everything worth keeping goes to Options.Log.
package tui

import (
	"io"
	"log/slog"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmclient/outbox"
	"github.com/opdesk/opdesk/keymap"
	"github.com/opdesk/opdesk/sip"
)

// Defaults.
const (
	defaultPopTimeout = 800 * time.Millisecond
	tickEvery         = 100 * time.Millisecond
	crmTimeout        = 5 * time.Second
	phoneTimeout      = 10 * time.Second
	// sentWait is how long a save waits for the outbox to deliver before the
	// bar says "waiting in outbox".
	sentWait = 1500 * time.Millisecond
)

// callState is the current call as the desktop sees it, built from events.
type callState struct {
	id         string
	number     string // cleaned user part of the remote URI; "" = withheld
	name       string // cleaned display name
	inbound    bool
	state      string // ringing, dialing, alerting, active, held, ended
	evTime     time.Time
	answeredAt time.Time
	held       bool
	remoteHeld bool
	muted      bool
	cardLogged bool
	campaign   *crmclient.Campaign
	leadID     string // the campaign lead this call dials ("" for other calls)
	rang       bool   // a 180/183 came (an outbound call was alerting)
	sipID      string // the SIP Call-ID (call events, monitor grants name it)
	monitor    bool   // the supervisor's monitor session, not a customer call
}

// transferPrompt is the blind-transfer target being typed.
type transferPrompt struct {
	open   bool
	target string
}

// situation is what the desktop is doing, coarser than contexts.
type situation int

const (
	sitIdle situation = iota
	sitRinging
	sitCall
	sitWrap
	sitList
	sitLead  // idle in a campaign: a lead (or the wait for one) on screen
	sitBoard // idle with the wallboard on screen (supervisors)
)

// Model is the root of the desktop. New returns a *Model; its methods have
// pointer receivers and Update returns the same pointer, so the program and
// tests share one value.
type Model struct {
	o      Options
	keys   *keymap.Map
	lang   Lang
	now    func() time.Time
	log    *slog.Logger
	st     styles
	notice string

	width, height int

	events <-chan sip.Event
	unsub  func()

	status  sip.Status
	obStats outbox.Stats
	hasOB   bool

	call     *callState
	cust     customerPane
	dial     dialer
	agent    agentState
	dev      devicePicker
	script   scriptPane
	faq      faqPane
	transfer transferPrompt
	helpOpen bool

	wrap       wrapupForm
	wrapOpen   bool
	wrapScript bool // the script pane has the keys while the form is open
	wrapRec    callRecord
	wrapCamp   crmclient.Campaign
	acwStart   time.Time
	saving     bool
	readySeq   int

	campaigns       []crmclient.Campaign
	campaignsLoaded bool
	scripts         map[string]crmclient.Script

	camp      *campaignRun // the outbound campaign being worked; nil = none
	campGen   int          // bumped per campaign entered: answers for an older run are dropped
	picker    campaignPicker
	board     board      // the wallboard (supervisors)
	monitored *monitored // a supervisor on this operator's call

	// modeSet and progressive keep the dial mode the operator last chose
	// (keymap DialMode) for the next campaign; until then the config's.
	modeSet, progressive bool

	flash      string
	flashAt    time.Time
	flashAlert bool
	quitArmed  bool
}

// New builds the desktop. opts.Phone is required.
func New(opts Options) *Model {
	m := &Model{o: opts, keys: opts.Keys, lang: opts.Lang, now: opts.Now, log: opts.Log}
	if m.keys == nil {
		m.keys = keymap.Default()
	}
	if m.lang == "" {
		m.lang = LangEN
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if m.o.PopTimeout <= 0 {
		m.o.PopTimeout = defaultPopTimeout
	}
	m.st = newStyles(true)
	m.notice = cleanLine(opts.Notice)
	m.width, m.height = 80, 24
	m.cust = newCustomerPane(m.lang)
	m.dial = dialer{lang: m.lang}
	m.agent = agentState{lang: m.lang}
	m.agent.set(crmclient.StatusNotReady, "", m.now())
	m.script = newScriptPane(m.lang)
	m.faq = newFAQPane(m.lang)
	m.faq.SetKeys(m.keys)
	m.scripts = map[string]crmclient.Script{}
	m.hasOB = opts.Outbox != nil
	return m
}

// Init subscribes to the phone, asks for the terminal background, fetches the
// campaigns and starts the status tick.
func (m *Model) Init() tea.Cmd {
	m.events, m.unsub = m.o.Phone.Subscribe(256)
	cmds := []tea.Cmd{listen(m.events), tea.RequestBackgroundColor, m.pollCmd()}
	if m.o.CRM != nil {
		cmds = append(cmds, m.campaignsCmd())
	}
	if m.o.BoardEvents != nil {
		cmds = append(cmds, listenBoard(m.o.BoardEvents))
	}
	if m.supervisor() {
		// A supervisor's desktop opens on the wallboard.
		cmds = append(cmds, m.toggleBoard())
	}
	if !m.o.NoTick {
		cmds = append(cmds, tick())
	}
	return tea.Batch(cmds...)
}

func listen(ch <-chan sip.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return phoneClosedMsg{}
		}
		return phoneEventMsg{ev}
	}
}

func tick() tea.Cmd {
	return tea.Tick(tickEvery, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// Update handles one message. It never blocks.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, nil
	case tea.BackgroundColorMsg:
		m.st = newStyles(msg.IsDark())
		return m, nil
	case tea.KeyPressMsg:
		return m, m.key(msg)
	case phoneEventMsg:
		return m, tea.Batch(m.event(msg.ev), listen(m.events))
	case phoneClosedMsg:
		m.log.Info("phone event stream closed")
		return m, nil
	case tickMsg:
		return m, tea.Batch(m.pollCmd(), tick())
	case statusMsg:
		m.status, m.obStats = msg.st, msg.ob
		return m, nil
	case campaignsMsg:
		return m, m.gotCampaigns(msg)
	case popMsg:
		return m, m.gotPop(msg)
	case popTimeoutMsg:
		if m.popOwner() == msg.callID && m.cust.kind == popLoading {
			m.log.Warn("screen pop timed out", "call", msg.callID, "after", m.o.PopTimeout)
			m.cust.kind = popDown
		}
		return m, nil
	case hintsMsg:
		if msg.err != nil {
			m.log.Warn("hints", "customer", msg.customerID, "err", msg.err)
		} else if c := m.cust.customer(); c != nil && c.ID == msg.customerID {
			m.cust.hints = cleanHints(msg.hints)
		}
		return m, nil
	case scriptMsg:
		if msg.err != nil {
			m.log.Warn("script", "id", msg.id, "err", msg.err)
			m.setFlash(T(m.lang, "script.fail", cleanLine(msg.err.Error())), true)
			return m, nil
		}
		m.scripts[msg.id] = msg.script
		if m.call != nil && m.call.state != "ringing" && !m.script.Loaded() {
			m.loadScript()
		}
		return m, nil
	case phoneResultMsg:
		if msg.err != nil {
			m.log.Warn("phone action failed", "op", msg.op, "call", msg.callID, "err", msg.err)
			// op is an action's name, or "dtmf", which is no action (digits
			// are not in the key map).
			op := tOr(m.lang, "key."+msg.op, T(m.lang, "op."+msg.op))
			m.setFlash(T(m.lang, "call.fail", op, cleanLine(msg.err.Error())), true)
		}
		return m, nil
	case dialedMsg:
		if msg.err != nil {
			m.log.Warn("dial failed", "target", msg.target, "err", msg.err)
			m.setFlash(T(m.lang, "dial.fail", msg.target, cleanLine(msg.err.Error())), true)
			if m.call != nil && m.call.id == "" {
				m.call = nil
			}
			if r := m.camp; msg.campaign && r != nil && r.leadCall != "" {
				// The phone could not place the call (not registered, a bad
				// target): nothing reached the lead. Stop until the operator looks.
				r.leadCall, r.paused = "", true
			}
			return m, nil
		}
		if m.call != nil && m.call.id == "" {
			m.call.id = msg.callID
		}
		return m, nil
	case devicesMsg:
		m.onDevices(msg)
		return m, nil
	case deviceSwitchedMsg:
		m.onDeviceSwitched(msg)
		return m, nil
	case agentPostedMsg:
		if msg.err != nil {
			m.log.Warn("agent state not posted", "state", msg.state, "err", msg.err)
			m.setFlash(T(m.lang, "agent.posted_fail", cleanLine(msg.err.Error())), true)
		}
		return m, nil
	case savedMsg:
		return m, m.gotSaved(msg)
	case autoReadyMsg:
		if msg.seq == m.readySeq && m.call == nil && !m.wrapOpen && m.agent.state == crmclient.StatusACW {
			return m, m.setAgent(crmclient.StatusReady, "")
		}
		return m, nil
	case leadMsg:
		return m, m.gotLead(msg)
	case askLeadMsg:
		return m, m.gotAskLead(msg)
	case dialDueMsg:
		return m, m.gotDialDue(msg)
	case dncMsg:
		return m, m.gotDNC(msg)
	case attemptSavedMsg:
		return m, m.gotAttemptSaved(msg)
	case callbacksMsg:
		return m, m.gotCallbacks(msg)
	case callbacksTickMsg:
		if m.camp != nil && msg.gen == m.camp.gen {
			return m, m.callbacksCmd()
		}
		return m, nil
	case countersMsg:
		m.gotCounters(msg)
		return m, nil
	case countersPostedMsg:
		if msg.err != nil {
			m.log.Warn("counters not posted", "err", msg.err)
		}
		return m, nil
	case releasedMsg:
		if msg.err != nil {
			m.log.Warn("lead not released", "lead", msg.leadID, "err", msg.err)
		}
		return m, nil
	case boardEventMsg:
		return m, tea.Batch(m.gotBoardEvent(msg.ev), listenBoard(m.o.BoardEvents))
	case boardStreamClosedMsg:
		m.log.Info("event stream closed")
		return m, nil
	case boardMsg:
		return m, m.gotBoard(msg)
	case boardTickMsg:
		return m, m.gotBoardTick(msg)
	case grantMsg:
		return m, m.gotGrant(msg)
	case grantSentMsg:
		m.gotGrantSent(msg)
		return m, nil
	case callEventPostedMsg:
		if msg.err != nil {
			m.log.Warn("call event not posted", "err", msg.err)
		}
		return m, nil
	case customerCreatedMsg:
		m.cust.form.busy = false
		if msg.err != nil {
			m.setFlash(T(m.lang, "cust.create_fail", cleanLine(msg.err.Error())), true)
			return m, nil
		}
		if m.call != nil && m.call.id == msg.callID {
			m.cust.form = newCallerForm{}
			m.cust.setCard(crmclient.Card{Phone: m.cust.card.Phone, Customers: []crmclient.Customer{msg.c}, FetchedAt: m.now()})
			m.setFlash(T(m.lang, "cust.created", cleanLine(msg.c.Name)), false)
		}
		return m, nil
	}
	// Anything else belongs to the panes (the FAQ's debounce and results,
	// the form's blink and internal messages).
	var cmds []tea.Cmd
	var c tea.Cmd
	m.faq, c = m.faq.Update(msg, m.o.CRM)
	cmds = append(cmds, c)
	if m.wrapOpen {
		m.wrap, c = m.wrap.Update(msg)
		cmds = append(cmds, c)
	}
	return m, tea.Batch(cmds...)
}

// View renders the whole screen, exactly width×height.
func (m *Model) View() tea.View {
	w, h := max(m.width, minColumns), max(m.height, barLines+hintLines+1)
	s := m.statusBar(w) + "\n" + m.body(w, h) + "\n" + m.hintsLine(w)
	if c := m.call; c != nil && c.state == "ringing" && !c.cardLogged && m.cust.hasResult() {
		c.cardLogged = true
		m.log.Info("card shown", "call", c.id, "kind", popKindName(m.cust.kind),
			"elapsed", m.now().Sub(c.evTime))
	}
	v := tea.NewView(s)
	v.AltScreen = true
	return v
}

func popKindName(k popKind) string {
	return [...]string{"none", "loading", "card", "many", "new", "crm_down", "withheld", "bad_number", "no_crm"}[k]
}

func (m *Model) setFlash(s string, alert bool) {
	m.flash, m.flashAt, m.flashAlert = s, m.now(), alert
}

// situation is the coarse state the layout and hints follow.
func (m *Model) situation() situation {
	switch {
	case m.wrapOpen:
		return sitWrap
	case m.agent.reasonsOpen, m.cust.picking(), m.dev.open, m.picker.open, m.camp != nil && m.camp.skipOpen:
		return sitList
	case m.call != nil && m.call.state == "ringing":
		return sitRinging
	case m.call != nil:
		return sitCall
	case m.camp != nil:
		return sitLead
	case m.board.open:
		return sitBoard
	}
	return sitIdle
}

// contexts are the active key contexts, most specific first.
func (m *Model) contexts() []keymap.Context {
	var cs []keymap.Context
	switch {
	case m.wrapOpen && m.wrapScript && m.script.Loaded():
		return []keymap.Context{keymap.Script, keymap.Form, keymap.Global}
	case m.wrapOpen:
		if m.faq.IsOpen() {
			cs = append(cs, keymap.List)
		}
		return append(cs, keymap.Form, keymap.Global)
	}
	if m.agent.reasonsOpen || m.cust.picking() || m.faq.IsOpen() || m.dev.open || m.picker.open ||
		m.camp != nil && m.camp.skipOpen {
		cs = append(cs, keymap.List)
	}
	if m.boardShown() && len(cs) == 0 && (m.call == nil || m.call.monitor) {
		cs = append(cs, keymap.Board)
	}
	switch {
	case m.call == nil && m.camp != nil:
		cs = append(cs, keymap.Lead, keymap.Idle)
	case m.call == nil:
		cs = append(cs, keymap.Idle)
	case m.call.state == "ringing":
		cs = append(cs, keymap.Ringing)
	default:
		if m.script.Loaded() {
			cs = append(cs, keymap.Script)
		}
		cs = append(cs, keymap.Call)
	}
	return append(cs, keymap.Global)
}

// printable reports whether a key would type a character.
func printable(k tea.KeyPressMsg) bool {
	return k.Text != "" && k.Mod&^tea.ModShift == 0
}
