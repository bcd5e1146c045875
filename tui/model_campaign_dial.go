package tui

// Dialing a campaign's lead: the checks before every INVITE (calling window,
// numbers this desk blocked, a dialable number, the CRM's do-not-call list),
// the call with the campaign's caller ID, and what a call that reached nobody
// becomes (an automatic outcome through the outbox, or a pause when the
// failure was ours).

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmclient/outbox"
	"github.com/opdesk/opdesk/sip"
)

// dialLead runs the local checks on the lead on screen and, when they pass,
// asks the CRM's do-not-call list; the INVITE goes out when that answers.
func (m *Model) dialLead() tea.Cmd {
	r := m.camp
	if r == nil || r.lead == nil || m.call != nil || m.wrapOpen || r.checking || r.leadCall != "" {
		return nil
	}
	r.stopCountdown()
	l := *r.lead
	now := m.now()
	if open, err := r.c.Window.OpenAt(now, l.TimeZone); err != nil {
		// Compliance first: a window nobody can read is not an open one.
		m.log.Warn("calling window", "campaign", r.c.ID, "err", err)
		r.paused = true
		m.setFlash(T(m.lang, "camp.window_bad", cleanLine(err.Error())), true)
		return nil
	} else if !open {
		return m.outsideWindow(l)
	}
	if l.LeaseUntil != nil && !l.LeaseUntil.After(now) {
		// The lease ran out while the lead sat on screen: a colleague may
		// have it now. Ask again (the CRM gives it back if it is still free).
		m.setFlash(T(m.lang, "camp.lease_expired"), false)
		return m.nextLeadCmd()
	}
	if r.blocked[l.Phone] {
		m.setFlash(T(m.lang, "camp.blocked", displayNumber(l.Phone, m.region())), true)
		return m.releaseCmd(l, "on the do-not-call list", true)
	}
	target, err := crmclient.DialString(l.Phone, m.region(), m.outbound().DialFormat)
	if err != nil {
		m.log.Info("lead number not dialable", "lead", l.ID, "err", err)
		m.setFlash(T(m.lang, "camp.invalid", cleanLine(l.Phone)), true)
		return m.recordOutcome(l, crmclient.OutcomeInvalidNumber)
	}
	return m.dncCheckCmd(l.ID, l.Phone, target)
}

// outsideWindow refuses a dial outside the campaign's calling hours: the
// lead goes back, and the desktop asks again when the window opens.
func (m *Model) outsideWindow(l crmclient.Lead) tea.Cmd {
	r := m.camp
	now := m.now()
	zone := l.TimeZone
	if zone == "" {
		zone = r.c.Window.TimeZone
	}
	there := now
	if loc, err := time.LoadLocation(zone); err == nil {
		there = now.In(loc)
	}
	text := T(m.lang, "camp.window", r.c.Window.String(), there.Format("15:04"))
	m.log.Info("dial refused: outside calling hours", "lead", l.ID, "window", r.c.Window.String())
	m.setFlash(text, true)
	r.lead, r.wait = nil, text
	m.cust.reset("", "", popNone)
	d := m.outbound().Poll
	if at, err := r.c.Window.NextOpen(now, l.TimeZone); err == nil && at.Sub(now) < d {
		d = max(at.Sub(now), time.Second)
	}
	return tea.Batch(m.releaseCmd(l, "outside calling hours", false), m.askLeadLater(d))
}

// dncCheckCmd asks the CRM whether phone may be called, right before the
// INVITE: a colleague's wrap-up may have put it on the list a moment ago.
func (m *Model) dncCheckCmd(leadID, phone, target string) tea.Cmd {
	r := m.camp
	r.checking = true
	r.seq++
	crm, gen, seq := m.o.CRM, r.gen, r.seq
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), crmTimeout)
		defer cancel()
		e, err := crm.CheckDNC(ctx, phone)
		return dncMsg{gen, seq, leadID, phone, target, e, err}
	}
}

// gotDNC dials when the number may be called, and refuses it otherwise.
func (m *Model) gotDNC(msg dncMsg) tea.Cmd {
	r := m.camp
	if r == nil || msg.gen != r.gen || msg.seq != r.seq {
		return nil
	}
	r.checking = false
	shown := displayNumber(msg.phone, m.region())
	switch {
	case msg.err != nil:
		m.log.Warn("dnc check failed: not dialed", "phone", msg.phone, "err", msg.err)
		m.setFlash(T(m.lang, "camp.dnc_unknown", shown), true)
		if msg.leadID != "" && r.progressive && !r.paused {
			return m.askDialLater()
		}
		return nil
	case msg.entry.DNC:
		r.blocked[msg.phone] = true
		kind := T(m.lang, "dnc."+string(msg.entry.Kind))
		m.log.Info("dial refused: do-not-call list", "phone", msg.phone, "kind", msg.entry.Kind)
		m.setFlash(T(m.lang, "camp.dnc", shown, kind), true)
		if msg.leadID != "" && r.lead != nil && r.lead.ID == msg.leadID {
			return m.releaseCmd(*r.lead, "on the do-not-call list", true)
		}
		return nil
	case m.call != nil || m.wrapOpen:
		return nil // something else started meanwhile; the lead waits
	}
	if msg.leadID != "" {
		if r.lead == nil || r.lead.ID != msg.leadID {
			return nil
		}
		r.leadCall = msg.leadID
	}
	return m.campaignDialCmd(msg.target)
}

// askDialLater retries the dial of the lead on screen after the poll
// interval (the do-not-call list could not be read).
func (m *Model) askDialLater() tea.Cmd {
	d := m.outbound().Poll
	m.camp.dialAt = m.now().Add(d)
	return m.campTimer(d, func(gen, seq int) tea.Msg { return dialDueMsg{gen, seq} })
}

// campaignDialCmd places a campaign call with the campaign's caller ID and
// the outbound ring timeout.
func (m *Model) campaignDialCmd(target string) tea.Cmd {
	ph, o := m.o.Phone, m.outbound()
	opts := sip.DialOptions{CallerID: m.camp.c.CallerID, CallerIDHeader: o.CallerIDHeader, RingTimeout: o.RingTimeout}
	m.dial.last = target
	m.log.Info("dial", "target", target, "campaign", m.camp.c.ID, "lead", m.camp.leadCall)
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), phoneTimeout)
		defer cancel()
		id, err := ph.DialWith(ctx, target, opts)
		return dialedMsg{target: target, callID: id, err: err, campaign: true}
	}
}

// manualDial dials a number typed (or redialed) while a campaign is worked:
// a phone number is checked against the do-not-call list first and goes out
// with the campaign's caller ID; a SIP user name (a colleague) goes as it is.
func (m *Model) manualDial(target string) tea.Cmd {
	r := m.camp
	e164, err := crmclient.NormalizePhone(target, m.region())
	if err != nil {
		return m.dialCmd(target)
	}
	if r.blocked[e164] {
		m.setFlash(T(m.lang, "camp.blocked", displayNumber(e164, m.region())), true)
		return nil
	}
	r.stopCountdown()
	return m.dncCheckCmd("", e164, target)
}

// recordOutcome records an automatic outcome of lead l through the outbox.
func (m *Model) recordOutcome(l crmclient.Lead, o crmclient.AttemptOutcome) tea.Cmd {
	r := m.camp
	r.settled[l.ID] = l.Attempts
	r.lead, r.leadCall = nil, ""
	r.asking = true // the next lead is asked for once the outcome is delivered
	m.log.Info("lead outcome", "lead", l.ID, "outcome", o)
	if m.o.Outbox == nil {
		return func() tea.Msg { return attemptSavedMsg{gen: r.gen, leadID: l.ID, err: errors.New("no outbox")} }
	}
	body, err := json.Marshal(crmclient.AttemptItem{LeadID: l.ID, Outcome: o, At: m.now()})
	if err != nil {
		return func() tea.Msg { return attemptSavedMsg{gen: r.gen, leadID: l.ID, err: err} }
	}
	ob, gen := m.o.Outbox, r.gen
	return func() tea.Msg {
		sent, err := putAndWait(ob, outbox.KindAttempt, body)
		return attemptSavedMsg{gen, l.ID, sent, err}
	}
}

func (m *Model) gotAttemptSaved(msg attemptSavedMsg) tea.Cmd {
	r := m.camp
	if msg.err != nil {
		m.log.Error("attempt not stored", "lead", msg.leadID, "err", msg.err)
		m.setFlash(T(m.lang, "camp.attempt_fail", cleanLine(msg.err.Error())), true)
	}
	if r == nil || msg.gen != r.gen {
		return nil
	}
	r.asking = false
	return m.afterLead()
}

// afterLead carries on once a lead is settled: in progressive mode the next
// lead comes (and its countdown starts); in preview mode too, waiting for
// enter. A paused dialer still shows the next lead.
func (m *Model) afterLead() tea.Cmd {
	r := m.camp
	if r == nil || m.call != nil || m.wrapOpen {
		return nil
	}
	return m.nextLeadCmd()
}

// leadCallEnded settles a lead whose call reached nobody: an automatic
// outcome, or — when the failure was ours — the lead back and the dialer
// paused with the reason.
func (m *Model) leadCallEnded(c *callState, ev sip.Event) tea.Cmd {
	r := m.camp
	if r == nil {
		return nil
	}
	l := r.lead
	r.leadCall = ""
	if l == nil || l.ID != c.leadID {
		return nil
	}
	o, kind := leadOutcome(ev, c.rang || ev.Rang)
	switch kind {
	case endCounted:
		return m.recordOutcome(*l, o)
	case endNotTried:
		// The operator hung up before it rang: no attempt, the lead stays.
		r.paused = true
		m.setFlash(T(m.lang, "camp.paused"), false)
		return nil
	}
	r.paused = true
	r.stopCountdown()
	m.setFlash(T(m.lang, "camp.system", cleanLine(ev.Text)), true)
	m.log.Warn("dialer paused: the call failed on our side", "lead", l.ID, "cause", ev.Cause, "code", ev.Code)
	return nil
}
