package tui

// The campaign run as the root model drives it: entering and leaving a
// campaign, asking the CRM for the next lead, the progressive countdown, the
// checks before every dial, automatic outcomes, skips, callbacks and the
// day's counters. Every CRM and phone call runs in a tea.Cmd; answers carry
// the run's generation and sequence number, and one that no longer matches
// (the operator moved on) is dropped.

import (
	"context"
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/opdesk/opdesk/crmclient"
)

// Defaults of Options.Outbound.
const (
	defaultRingTimeout = 30 * time.Second
	defaultLeadPoll    = 30 * time.Second
	// callbacksEvery is how often the callbacks list is read again, so one
	// that falls due is announced within this time.
	callbacksEvery = 30 * time.Second
	// catchUp is how long the desktop waits before asking again when the CRM
	// hands back a lead this desk has just finished (the outbox is still
	// delivering the result).
	catchUp = time.Second
)

// Messages of the campaign run.
type (
	// leadMsg is the answer of NextLead (after a release, when the two were
	// chained). pending is the outbox's undelivered items when it was asked.
	leadMsg struct {
		gen, seq int
		lead     crmclient.Lead
		err      error
		pending  int
	}
	// askLeadMsg asks for a lead again after a wait.
	askLeadMsg struct{ gen, seq int }
	// dialDueMsg ends the progressive countdown.
	dialDueMsg struct{ gen, seq int }
	// dncMsg is the pre-dial do-not-call check of phone; leadID is "" for a
	// number typed into the dialer.
	dncMsg struct {
		gen, seq int
		leadID   string
		phone    string // E.164
		target   string // what is dialed
		entry    crmclient.DNCEntry
		err      error
	}
	// attemptSavedMsg says an automatic outcome went into the outbox (and was
	// delivered within a moment, or waits there).
	attemptSavedMsg struct {
		gen    int
		leadID string
		sent   bool
		err    error
	}
	// callbacksMsg is the answer of Callbacks; callbacksTickMsg reads them again.
	callbacksMsg struct {
		gen  int
		list []crmclient.Callback
		err  error
	}
	callbacksTickMsg struct{ gen int }
	// countersMsg is the day's counters as the CRM has them (entering a campaign).
	countersMsg struct {
		gen int
		c   crmclient.AgentCounters
		err error
	}
	// countersPostedMsg is the answer of PutCounters.
	countersPostedMsg struct{ err error }
	// releasedMsg says a skipped or refused lead was given back.
	releasedMsg struct {
		leadID string
		err    error
	}
)

// outbound is Options.Outbound with the defaults filled in.
func (m *Model) outbound() Outbound {
	o := m.o.Outbound
	if o.Countdown < 0 {
		o.Countdown = 0
	}
	if o.RingTimeout <= 0 {
		o.RingTimeout = defaultRingTimeout
	}
	if o.Poll <= 0 {
		o.Poll = defaultLeadPoll
	}
	return o
}

// openPicker opens the list of outbound campaigns (with "leave" first when
// one is being worked).
func (m *Model) openPicker() tea.Cmd {
	if m.o.CRM == nil {
		m.setFlash(T(m.lang, "camp.no_crm"), true)
		return nil
	}
	var rows []crmclient.Campaign
	if m.camp != nil {
		rows = append(rows, crmclient.Campaign{}) // "leave the campaign"
	}
	for _, c := range m.campaigns {
		if c.Direction == crmclient.Outbound {
			rows = append(rows, c)
		}
	}
	if len(rows) == 0 {
		m.setFlash(T(m.lang, "camp.none"), true)
		if !m.campaignsLoaded {
			return m.campaignsCmd()
		}
		return nil
	}
	m.picker = campaignPicker{open: true, rows: rows}
	return nil
}

// pickCampaign acts on the picker's row.
func (m *Model) pickCampaign() tea.Cmd {
	p := m.picker
	m.picker = campaignPicker{}
	if p.pick >= len(p.rows) {
		return nil
	}
	if c := p.rows[p.pick]; c.ID != "" {
		return m.enterCampaign(c)
	}
	return m.leaveCampaign()
}

// enterCampaign starts working campaign c: the first lead, the day's
// counters, the callbacks and the script.
func (m *Model) enterCampaign(c crmclient.Campaign) tea.Cmd {
	var cmds []tea.Cmd
	if m.camp != nil {
		cmds = append(cmds, m.leaveCampaign())
	}
	m.campGen++
	progressive := m.outbound().Progressive
	if m.modeSet {
		progressive = m.progressive
	}
	r := newCampaignRun(c, progressive, m.now())
	r.gen = m.campGen
	m.camp = r
	if m.call == nil && !m.wrapOpen {
		m.cust.reset("", "", popNone) // a ringing call's card stays
	}
	m.log.Info("campaign", "id", c.ID, "progressive", r.progressive)
	m.setFlash(T(m.lang, "camp.entered", cleanLine(c.Name)), false)
	cmds = append(cmds, m.nextLeadCmd(), m.countersCmd(), m.callbacksCmd())
	if m.call == nil && !m.wrapOpen && m.agent.state != crmclient.StatusReady {
		cmds = append(cmds, m.setAgent(crmclient.StatusReady, "")) // working the list
	}
	if c.ScriptID != "" {
		if _, ok := m.scripts[c.ScriptID]; !ok {
			cmds = append(cmds, m.scriptCmd(c.ScriptID))
		}
	}
	return tea.Batch(cmds...)
}

// leaveCampaign stops working the campaign; the lead on screen goes back.
func (m *Model) leaveCampaign() tea.Cmd {
	r := m.camp
	if r == nil {
		return nil
	}
	m.camp = nil
	m.log.Info("campaign left", "id", r.c.ID)
	if m.call == nil && !m.wrapOpen {
		m.cust.reset("", "", popNone)
	}
	if r.lead != nil && r.leadCall == "" {
		return m.releaseCmd(*r.lead, "left the campaign", false)
	}
	return nil
}

// nextLeadCmd asks the CRM for the next lead.
func (m *Model) nextLeadCmd() tea.Cmd {
	r := m.camp
	r.seq++
	r.asking, r.lead, r.again = true, nil, time.Time{}
	crm, ob, id, gen, seq := m.o.CRM, m.o.Outbox, r.c.ID, r.gen, r.seq
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), crmTimeout)
		defer cancel()
		return askNext(ctx, crm, ob, id, gen, seq)
	}
}

// askNext asks the CRM for campaign's next lead, noting the outbox's
// undelivered items first (see campaignRun.settled).
func askNext(ctx context.Context, crm CRM, ob Outbox, campaign string, gen, seq int) leadMsg {
	msg := leadMsg{gen: gen, seq: seq}
	if ob != nil {
		msg.pending = ob.Stats().Pending
	}
	msg.lead, msg.err = crm.NextLead(ctx, campaign)
	return msg
}

// releaseCmd gives lead l back with reason; with next it then asks for the
// next lead in the same command, so the CRM sees the two in order.
func (m *Model) releaseCmd(l crmclient.Lead, reason string, next bool) tea.Cmd {
	crm, ob := m.o.CRM, m.o.Outbox
	var (
		gen, seq int
		campaign string
	)
	if next && m.camp != nil {
		r := m.camp
		r.seq++
		r.asking, r.lead = true, nil
		gen, seq, campaign = r.gen, r.seq, r.c.ID
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), crmTimeout)
		defer cancel()
		_, err := crm.ReleaseLead(ctx, l.ID, reason)
		if !next {
			return releasedMsg{l.ID, err}
		}
		if err != nil && !crmclient.HasCode(err, crmclient.CodeLeaseNotHeld) {
			return leadMsg{gen: gen, seq: seq, err: err}
		}
		return askNext(ctx, crm, ob, campaign, gen, seq)
	}
}

// gotLead shows the lead the CRM handed out, or says why there is none and
// when the desktop asks again.
func (m *Model) gotLead(msg leadMsg) tea.Cmd {
	r := m.camp
	if r == nil || msg.gen != r.gen || msg.seq != r.seq {
		return nil
	}
	r.asking = false
	if msg.err != nil {
		return m.noLead(msg.err)
	}
	l := msg.lead
	if before, ok := r.settled[l.ID]; ok && l.Attempts <= before {
		if msg.pending > 0 {
			// The CRM has not recorded this desk's last call to the lead
			// yet: never dial it twice on the strength of a stale answer.
			r.wait = T(m.lang, "camp.catching_up")
			return m.askLeadLater(catchUp)
		}
		// Everything was delivered and the CRM still offers it (it refused
		// the result, which the outbox parked): the lead is callable.
		delete(r.settled, l.ID)
	}
	r.lead, r.wait, r.again, r.due = &l, "", time.Time{}, time.Time{}
	m.log.Info("lead", "campaign", r.c.ID, "lead", l.ID, "attempts", l.Attempts, "status", l.Status)
	var cmds []tea.Cmd
	if m.call == nil && !m.wrapOpen {
		m.showLeadCard(l)
		cmds = append(cmds, m.popCmd(leadKey(l.ID), l.Phone))
	}
	if r.progressive && !r.paused {
		cmds = append(cmds, m.startCountdown())
	}
	return tea.Batch(cmds...)
}

// leadKey is what the customer pane's pop answers are matched with while a
// lead is previewed (a call's id while a call is up).
func leadKey(id string) string { return "lead:" + id }

// showLeadCard starts the customer pane for lead l.
func (m *Model) showLeadCard(l crmclient.Lead) {
	m.cust.reset(displayNumber(l.Phone, m.region()), cleanLine(l.Name), popLoading)
	m.cust.listRow = true
}

// noLead says why there is no lead and schedules the next question: at the
// CRM's retry_at when it gave one (a retry falling due, the window opening),
// else after the poll interval.
func (m *Model) noLead(err error) tea.Cmd {
	r := m.camp
	text := apiMessage(err)
	switch {
	case crmclient.HasCode(err, crmclient.CodeNoLeads):
		r.wait = T(m.lang, "camp.no_leads")
	case crmclient.HasCode(err, crmclient.CodeOutsideCallingHours):
		r.wait = T(m.lang, "camp.outside", text)
		m.setFlash(r.wait, true)
	case errors.Is(err, crmclient.ErrForbidden):
		m.setFlash(T(m.lang, "camp.forbidden", text), true)
		return m.leaveCampaign()
	case errors.Is(err, crmclient.ErrUnavailable):
		r.wait = T(m.lang, "camp.crm_down")
	default:
		r.wait = T(m.lang, "camp.lead_fail", text)
	}
	m.log.Info("no lead", "campaign", r.c.ID, "why", text)
	if m.cust.kind != popNone && m.call == nil && !m.wrapOpen {
		m.cust.reset("", "", popNone)
	}
	d := m.outbound().Poll
	r.due = time.Time{}
	if at, ok := crmclient.RetryAt(err); ok {
		r.due = at
		if at.Sub(m.now()) < d {
			d = max(at.Sub(m.now()), time.Second)
		}
	}
	return m.askLeadLater(d)
}

// askLeadLater asks for a lead again after d.
func (m *Model) askLeadLater(d time.Duration) tea.Cmd {
	m.camp.again = m.now().Add(d)
	return m.campTimer(d, func(gen, seq int) tea.Msg { return askLeadMsg{gen, seq} })
}

// campTimer sends msg(gen, seq) after d, with a new seq: whatever the run
// does meanwhile (another request, a pause) makes it stale.
func (m *Model) campTimer(d time.Duration, msg func(gen, seq int) tea.Msg) tea.Cmd {
	r := m.camp
	r.seq++
	gen, seq := r.gen, r.seq
	return tea.Tick(d, func(time.Time) tea.Msg { return msg(gen, seq) })
}

func (m *Model) gotAskLead(msg askLeadMsg) tea.Cmd {
	r := m.camp
	if r == nil || msg.gen != r.gen || msg.seq != r.seq || r.lead != nil || m.call != nil || m.wrapOpen {
		return nil
	}
	return m.nextLeadCmd()
}

// startCountdown starts the progressive countdown to the lead on screen.
func (m *Model) startCountdown() tea.Cmd {
	r := m.camp
	d := m.outbound().Countdown
	if d == 0 {
		return m.dialLead()
	}
	r.dialAt = m.now().Add(d)
	return m.campTimer(d, func(gen, seq int) tea.Msg { return dialDueMsg{gen, seq} })
}

func (m *Model) gotDialDue(msg dialDueMsg) tea.Cmd {
	r := m.camp
	if r == nil || msg.gen != r.gen || msg.seq != r.seq || !r.counting() {
		return nil
	}
	r.dialAt = time.Time{}
	return m.dialLead()
}

// togglePause pauses the dialer (the countdown stops) or resumes it.
func (m *Model) togglePause() tea.Cmd {
	r := m.camp
	r.paused = !r.paused
	m.log.Info("dialer", "paused", r.paused)
	if r.paused {
		r.stopCountdown()
		m.setFlash(T(m.lang, "camp.paused"), false)
		return nil
	}
	return m.resume()
}

// resume carries on after a pause or a mode change: the countdown restarts
// for the lead on screen, or the desktop asks for one.
func (m *Model) resume() tea.Cmd {
	r := m.camp
	switch {
	case m.call != nil || m.wrapOpen || r.asking || r.checking:
		return nil
	case r.lead == nil:
		return m.nextLeadCmd()
	case r.progressive && !r.paused && !r.counting():
		return m.startCountdown()
	}
	return nil
}

// toggleMode switches between preview and progressive dialing.
func (m *Model) toggleMode() tea.Cmd {
	r := m.camp
	r.progressive = !r.progressive
	m.modeSet, m.progressive = true, r.progressive
	if !r.progressive {
		r.stopCountdown()
		return nil
	}
	return m.resume()
}
