package tui

// The call's life as the desktop follows it: phone events drive the screen
// pop, the script, the agent state and the wrap-up; saving the wrap-up puts
// it in the outbox.

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/sip"
)

// event follows the phone: the call's life drives the screen pop, the
// script, the agent state and the wrap-up.
func (m *Model) event(ev sip.Event) tea.Cmd {
	m.log.Debug("phone event", "type", ev.Type, "call", ev.CallID)
	if ev.Time.IsZero() {
		ev.Time = m.now()
	}
	c := m.call
	mine := c != nil && (c.id == ev.CallID || c.id == "")
	switch ev.Type {
	case sip.EvMonitorStarted, sip.EvMonitorMode, sip.EvMonitorEnded, sip.EvMonitorRefused:
		m.monitorEvent(ev)
		return nil
	case sip.EvIncoming:
		if c != nil {
			// One call at a time on this desktop: a second one rings on the
			// phone (the core answers 486 or queues it); say so and go on.
			m.setFlash(T(m.lang, "call.from", callerLabel(ev)), false)
			return nil
		}
		return m.startCall(ev, true)
	case sip.EvDialing:
		if c == nil {
			return m.startCall(ev, false)
		}
		if c.id == "" {
			c.id = ev.CallID
		}
	case sip.EvRinging, sip.EvEarlyMedia:
		if mine {
			c.state, c.rang = "alerting", true
		}
	case sip.EvAnswered:
		if !mine {
			return nil
		}
		c.id, c.state, c.answeredAt = ev.CallID, "active", ev.Time
		if ev.SIPCallID != "" {
			c.sipID = ev.SIPCallID
		}
		if c.monitor {
			return nil // the supervisor's session: no customer, no state change
		}
		m.loadScript()
		cmd := tea.Batch(m.setAgent(crmclient.StatusOnCall, ""), m.postCallCmd(c, crmclient.CallStarted, false, ev.Time))
		if m.campaignCall(c) {
			m.bumpCounters(func(k *crmclient.AgentCounters) { k.Connected++ })
			cmd = tea.Batch(cmd, m.postCountersCmd())
		}
		return cmd
	case sip.EvHeld:
		if mine {
			c.held, c.state = true, "held"
		}
	case sip.EvResumed:
		if mine {
			c.held, c.state = false, "active"
		}
	case sip.EvRemoteHeld, sip.EvRemoteResumed:
		if mine {
			c.remoteHeld = ev.Type == sip.EvRemoteHeld
		}
	case sip.EvMuted, sip.EvUnmuted:
		if c != nil {
			c.muted = ev.Type == sip.EvMuted
		}
	case sip.EvEnded:
		if mine {
			return m.endCall(ev)
		}
	case sip.EvTransferred, sip.EvTransferFailed, sip.EvRegistrationFailed, sip.EvWarning:
		if ev.Text != "" {
			m.setFlash(cleanLine(ev.Text), ev.Type != sip.EvTransferred)
		}
	}
	return nil
}

func callerLabel(ev sip.Event) string {
	n := userPart(ev.Remote)
	if name := cleanLine(ev.RemoteName); name != "" {
		return name + " " + n
	}
	return n
}

// userPart is the number in a SIP URI ("sip:0312345678@pbx" → "0312345678");
// "" when the caller withheld it ("anonymous").
func userPart(uri string) string {
	s := strings.TrimSpace(uri)
	if i := strings.IndexByte(s, '<'); i >= 0 {
		s = s[i+1:]
		if j := strings.IndexByte(s, '>'); j >= 0 {
			s = s[:j]
		}
	}
	for _, p := range []string{"sips:", "sip:", "tel:"} {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			s = s[len(p):]
			break
		}
	}
	if i := strings.IndexAny(s, "@;?"); i >= 0 {
		s = s[:i]
	}
	s = cleanLine(s)
	if len(s) > maxDialLen*2 {
		s = s[:maxDialLen*2]
	}
	switch strings.ToLower(s) {
	case "anonymous", "unknown", "unavailable", "restricted", "private", "":
		return ""
	}
	return s
}

// startCall begins a call on screen and starts its screen pop, campaign
// and script prefetch — all while it rings.
func (m *Model) startCall(ev sip.Event, inbound bool) tea.Cmd {
	c := &callState{id: ev.CallID, number: userPart(ev.Remote), name: cleanLine(ev.RemoteName),
		inbound: inbound, state: "dialing", evTime: ev.Time, sipID: ev.SIPCallID}
	if inbound {
		c.state = "ringing"
	}
	if c.name == c.number {
		c.name = ""
	}
	m.call, m.quitArmed, m.transfer = c, false, transferPrompt{}
	if s := m.board.session; s != nil && !inbound && s.callID == "" {
		// The supervisor's session call: no screen pop, no campaign.
		s.callID, c.monitor = ev.CallID, true
		m.log.Info("monitor session", "call", c.id, "agent", s.agent, "mode", s.mode)
		return nil
	}
	var cmds []tea.Cmd
	r := m.camp
	if r != nil && !inbound {
		r.stopCountdown()
		c.campaign = &r.c
		if r.leadCall != "" && r.lead != nil && r.leadCall == r.lead.ID {
			c.leadID = r.leadCall
		}
		m.bumpCounters(func(k *crmclient.AgentCounters) { k.Dialed++ })
		cmds = append(cmds, m.postCountersCmd())
	}
	keepCard := c.leadID != "" && m.cust.hasResult() && m.cust.card.Phone == r.lead.Phone
	if !keepCard {
		m.closeWrapIfSaved()
	}
	m.script.Clear()
	m.log.Info("call", "event", ev.Type, "call", ev.CallID, "number", c.number, "lead", c.leadID)
	switch {
	case keepCard:
		// The lead's card is on screen already (the preview's pop); in the
		// call a number nobody has is a new caller who can be registered.
		m.cust.listRow = false
	case m.o.CRM == nil:
		m.cust.reset(c.number, c.name, popNoCRM)
	case c.number == "":
		m.cust.reset(c.number, c.name, popWithheld)
	default:
		m.cust.reset(c.number, c.name, popLoading)
		cmds = append(cmds, m.popCmd(c.id, c.number))
	}
	if m.o.CRM != nil && !m.campaignsLoaded {
		cmds = append(cmds, m.campaignsCmd())
	}
	if c.campaign == nil {
		c.campaign = m.campaignFor(inbound)
	}
	if cp := c.campaign; cp != nil && cp.ScriptID != "" {
		if _, ok := m.scripts[cp.ScriptID]; !ok {
			cmds = append(cmds, m.scriptCmd(cp.ScriptID))
		}
	}
	return tea.Batch(cmds...)
}

// campaignFor is the campaign a call belongs to: the first inbound campaign
// for inbound calls, the first outbound one for calls from the dialer.
func (m *Model) campaignFor(inbound bool) *crmclient.Campaign {
	want := crmclient.Outbound
	if inbound {
		want = crmclient.Inbound
	}
	for i := range m.campaigns {
		if m.campaigns[i].Direction == want {
			c := m.campaigns[i]
			return &c
		}
	}
	return nil
}

func (m *Model) gotCampaigns(msg campaignsMsg) tea.Cmd {
	if msg.err != nil {
		m.log.Warn("campaigns", "err", msg.err)
		m.setFlash(T(m.lang, "campaigns.fail", cleanLine(msg.err.Error())), true)
		return nil
	}
	m.campaigns, m.campaignsLoaded = msg.list, true
	if c := m.call; c != nil && c.campaign == nil {
		c.campaign = m.campaignFor(c.inbound)
		if cp := c.campaign; cp != nil && cp.ScriptID != "" {
			if _, ok := m.scripts[cp.ScriptID]; !ok {
				return m.scriptCmd(cp.ScriptID)
			}
		}
	}
	return nil
}

// popOwner is what the customer pane's pop belongs to: the call's id, the
// previewed lead's key, or "" (nothing is being looked up).
func (m *Model) popOwner() string {
	switch {
	case m.call != nil:
		return m.call.id
	case m.camp != nil && m.camp.lead != nil && !m.wrapOpen:
		return leadKey(m.camp.lead.ID)
	}
	return ""
}

// campaignCall reports whether c belongs to the campaign being worked.
func (m *Model) campaignCall(c *callState) bool {
	return m.camp != nil && !c.inbound && c.campaign != nil && c.campaign.ID == m.camp.c.ID
}

func (m *Model) gotPop(msg popMsg) tea.Cmd {
	if msg.callID == "" || m.popOwner() != msg.callID {
		return nil // the caller hung up; a late card must not show on the next call
	}
	if msg.err != nil {
		m.log.Warn("screen pop", "call", msg.callID, "err", msg.err)
		if errors.Is(msg.err, crmclient.ErrInvalidPhone) {
			m.cust.kind = popBad
		} else {
			m.cust.kind = popDown
		}
		return nil
	}
	if msg.card.Stale {
		m.log.Warn("screen pop: stale card", "call", msg.callID, "reason", msg.card.StaleReason)
	}
	m.cust.setCard(msg.card)
	if c := m.cust.customer(); c != nil && !msg.card.Stale {
		return m.hintsCmd(msg.callID, c.ID)
	}
	return nil
}

// loadScript shows the call's campaign script with the fields filled.
func (m *Model) loadScript() {
	c := m.call
	if c == nil || c.campaign == nil || c.campaign.ScriptID == "" {
		return
	}
	s, ok := m.scripts[c.campaign.ScriptID]
	if !ok {
		return
	}
	var lead *crmclient.Lead
	if r := m.camp; r != nil && c.leadID != "" && r.lead != nil && r.lead.ID == c.leadID {
		lead = r.lead
	}
	m.script.Load(s, m.scriptVars(lead))
}

// scriptVars are what a script's fields are filled with, cleaned: the
// customer on the card (for a call list row without a customer record, the
// name on the list), the operator, the company, and a lead's own columns as
// {{lead.COLUMN}} ({{lead.おすすめ商品}}).
func (m *Model) scriptVars(lead *crmclient.Lead) map[string]string {
	cust := m.cust.customer()
	if cust == nil && lead != nil {
		cust = &crmclient.Customer{Name: lead.Name, NameKana: lead.NameKana}
	}
	vars := crmclient.ScriptFields(cust, m.o.Agent, m.o.Company)
	if lead != nil {
		for k, v := range lead.Fields {
			vars["lead."+k] = v
		}
	}
	for k, v := range vars {
		vars[k] = cleanLine(v)
	}
	return vars
}

// endCall closes the call; an answered call goes to after-call work and its
// wrap-up form.
func (m *Model) endCall(ev sip.Event) tea.Cmd {
	c := m.call
	m.call, m.transfer = nil, transferPrompt{}
	text := cleanLine(ev.Text)
	if text == "" {
		text = cleanLine(ev.Cause)
	}
	m.log.Info("call ended", "call", c.id, "cause", ev.Cause, "answered", !c.answeredAt.IsZero())
	if c.monitor {
		return m.sessionEnded(ev)
	}
	if c.answeredAt.IsZero() {
		// Missed, rejected or unanswered: nothing to wrap up.
		m.cust.reset("", "", popNone)
		m.script.Clear()
		if text != "" {
			m.setFlash(T(m.lang, "call.ended_cause", text), false)
		}
		if c.inbound {
			// Offered and not answered: the answer and abandon rates count it.
			return m.postCallCmd(c, crmclient.CallMissed, ev.Cause == sip.CauseRemoteCancel, ev.Time)
		}
		if c.leadID != "" {
			return m.leadCallEnded(c, ev)
		}
		if m.camp != nil {
			return m.resume()
		}
		return nil
	}
	talk := ev.Time.Sub(c.answeredAt)
	m.agent.calls++
	m.agent.talk += talk
	if text != "" {
		m.setFlash(T(m.lang, "call.ended_cause", text), false)
	}
	cmds := []tea.Cmd{m.postCallCmd(c, crmclient.CallEnded, false, ev.Time)}
	if m.campaignCall(c) {
		m.bumpCounters(func(k *crmclient.AgentCounters) { k.TalkSeconds += int(talk.Round(time.Second) / time.Second) })
		cmds = append(cmds, m.postCountersCmd())
	}
	if r := m.camp; r != nil && c.leadID != "" {
		r.leadCall = ""
	}
	return tea.Batch(append(cmds, m.openWrap(c, talk))...)
}

// openWrap opens the wrap-up form for call c and puts the operator in ACW.
func (m *Model) openWrap(c *callState, talk time.Duration) tea.Cmd {
	m.acwStart = m.now()
	cmd := m.setAgent(crmclient.StatusACW, "")
	if c.campaign == nil || m.o.Outbox == nil {
		if m.o.CRM != nil || m.o.Outbox != nil {
			m.setFlash(T(m.lang, "wrap.no_campaign"), true)
		}
		// Nothing to save: after-call work ends when the operator says ready.
		return cmd
	}
	rec := callRecord{CallID: c.id, CampaignID: c.campaign.ID, StartedAt: c.answeredAt, Duration: talk,
		Direction: crmclient.Outbound, LeadID: c.leadID}
	if c.inbound {
		rec.Direction = crmclient.Inbound
	}
	if cu := m.cust.customer(); cu != nil {
		rec.CustomerID = cu.ID
	}
	if r := m.camp; r != nil && c.leadID != "" && r.lead != nil && r.lead.ID == c.leadID {
		rec.Phone = r.lead.Phone
	} else if p := m.cust.card.Phone; p != "" {
		rec.Phone = p
	} else if n, err := crmclient.NormalizePhone(c.number, m.region()); err == nil {
		rec.Phone = n
	}
	m.wrapRec, m.wrapCamp = rec, *c.campaign
	m.wrap = newWrapup(m.lang, *c.campaign, rec)
	m.wrap.SetClock(m.now)
	m.wrapOpen, m.wrapScript = true, false
	m.faq.Close()
	return tea.Batch(cmd, m.wrap.Init())
}

func (m *Model) region() string {
	if m.o.Region != "" {
		return m.o.Region
	}
	return "JP"
}

// closeWrapIfSaved forgets the last call's card and script once its form is
// done (a new call is starting).
func (m *Model) closeWrapIfSaved() {
	if !m.wrapOpen {
		m.cust.reset("", "", popNone)
	}
}

// setAgent changes the agent state locally and posts it to the CRM.
func (m *Model) setAgent(s crmclient.Status, reason string) tea.Cmd {
	if m.agent.state == crmclient.StatusACW && s != crmclient.StatusACW && !m.acwStart.IsZero() {
		m.agent.acw += m.now().Sub(m.acwStart)
		m.acwStart = time.Time{}
	}
	m.agent.set(s, reason, m.now())
	m.log.Info("agent state", "state", s, "reason", reason)
	return m.agentCmd(s, reason)
}

// save validates the form and puts the disposition in the outbox.
func (m *Model) save() tea.Cmd {
	if m.saving {
		return nil
	}
	in, err := m.wrap.Input(m.script.Missing())
	if err != nil {
		m.setFlash(cleanLine(err.Error()), true)
		return nil
	}
	b, err := json.Marshal(in)
	if err != nil {
		m.setFlash(T(m.lang, "wrap.save_fail", err.Error()), true)
		return nil
	}
	res, ok := m.wrapCamp.Disposition.Result(in.Code)
	var cmds []tea.Cmd
	if ok && isConversion(res, in.Code) || !ok && isConversion(crmclient.ResultCode{}, in.Code) {
		m.agent.conversions++
		if r := m.camp; r != nil && r.c.ID == in.CampaignID {
			m.bumpCounters(func(k *crmclient.AgentCounters) { k.Conversions++ })
			cmds = append(cmds, m.postCountersCmd())
		}
	}
	if r := m.camp; r != nil {
		if res.Has(crmclient.FlagRefusedNeverCall) || res.Has(crmclient.FlagDNC) {
			// Never dialed again from here, even before the CRM has it.
			r.blocked[in.Phone] = true
		}
		if in.LeadID != "" && r.lead != nil && r.lead.ID == in.LeadID {
			r.settled[in.LeadID] = r.lead.Attempts
		}
	}
	m.saving = true
	m.log.Info("wrap-up saved", "call", in.CallID, "code", in.Code, "lead", in.LeadID)
	return tea.Batch(append(cmds, m.saveCmd(b))...)
}

func (m *Model) gotSaved(msg savedMsg) tea.Cmd {
	m.saving = false
	if msg.err != nil {
		m.log.Error("wrap-up not stored", "err", msg.err)
		m.setFlash(T(m.lang, "wrap.save_fail", cleanLine(msg.err.Error())), true)
		return nil
	}
	if msg.sent {
		m.setFlash(T(m.lang, "wrap.saved_sent"), false)
	} else {
		m.setFlash(T(m.lang, "wrap.saved_queued"), true)
	}
	m.wrapOpen, m.wrapScript = false, false
	if m.call == nil {
		m.script.Clear()
		m.cust.reset("", "", popNone)
	}
	// ACW time ends at the save.
	if !m.acwStart.IsZero() {
		m.agent.acw += m.now().Sub(m.acwStart)
		m.acwStart = time.Time{}
	}
	if r := m.camp; r != nil && m.call == nil {
		// The next lead: in progressive mode its countdown starts when it
		// is on screen, so the operator is ready for it.
		var cmd tea.Cmd
		if !r.paused {
			// After-call work ends at the save: the next call is the
			// operator's (preview) or the countdown's (progressive).
			cmd = m.setAgent(crmclient.StatusReady, "")
		}
		return tea.Batch(cmd, m.afterLead())
	}
	if m.o.AutoReady > 0 {
		m.readySeq++
		seq := m.readySeq
		return tea.Tick(m.o.AutoReady, func(time.Time) tea.Msg { return autoReadyMsg{seq} })
	}
	return nil
}
