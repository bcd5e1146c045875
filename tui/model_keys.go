package tui

// Key dispatch: overlays and text fields first, then digits (dialer or DTMF),
// then the keymap in the active contexts. Tests press the keys the keymap
// binds, so a rebinding cannot silently break a flow.

import (
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/keymap"
)

// key dispatches one key press. Order matters: overlays and text fields
// first, then digits (dialer or DTMF, never actions), then the keymap in the
// active contexts.
func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	ks := k.String()
	if m.helpOpen {
		m.helpOpen = false
		if a, ok := m.keys.Match(ks, keymap.Global); ok && (a == keymap.Help || a == keymap.Back) {
			return nil
		}
	}
	// Quit works everywhere; with a call up it asks once more.
	if a, ok := m.keys.Match(ks, keymap.Global); ok && a == keymap.Quit {
		if m.call != nil && !m.quitArmed {
			m.quitArmed = true
			m.setFlash(T(m.lang, "call.quit_in_call", ks), true)
			return nil
		}
		if m.unsub != nil {
			m.unsub()
		}
		return tea.Quit
	}
	m.quitArmed = false

	if m.transfer.open {
		return m.transferKey(k)
	}
	if m.cust.form.open {
		return m.newCallerKey(k)
	}
	if m.faq.IsOpen() {
		if cmd, ok := m.callControl(ks); ok {
			return cmd
		}
		if a, ok := m.keys.Match(ks, keymap.Global); ok && a == keymap.Help && !printable(k) {
			m.helpOpen = true
			return nil
		}
		var cmd tea.Cmd
		m.faq, cmd = m.faq.Update(k, m.o.CRM)
		return cmd
	}
	if m.wrapOpen && !m.wrapScript {
		return m.formKey(k)
	}

	// Digits: DTMF in a call, the dialer when idle.
	if c := m.call; c != nil && (c.state == "active" || c.state == "held" || c.state == "alerting") && isDTMFDigit(ks) {
		id := c.id
		m.setFlash(T(m.lang, "dtmf.sent", ks), false)
		return m.phoneCmd("dtmf", id, func() (string, error) { return m.o.Phone.SendDTMF(id, ks) })
	}
	if sit := m.situation(); (sit == sitIdle || sit == sitLead) && !m.wrapOpen {
		if isDialDigit(ks) {
			m.dial.typeKey(ks)
			return nil
		}
		if ks == "backspace" {
			m.dial.backspace()
			return nil
		}
	}

	a, ok := m.keys.Match(ks, m.contexts()...)
	if !ok {
		return nil
	}
	return m.do(a)
}

// callControl lets the call be handled while a field or overlay has the
// keys: only keys that print nothing (f2, f4, …) and only call actions.
func (m *Model) callControl(ks string) (tea.Cmd, bool) {
	if m.call == nil || len([]rune(ks)) == 1 {
		return nil, false
	}
	ctx := keymap.Call
	if m.call.state == "ringing" {
		ctx = keymap.Ringing
	}
	a, ok := m.keys.Match(ks, ctx)
	if !ok {
		return nil, false
	}
	switch a {
	case keymap.Answer, keymap.Reject, keymap.Hangup, keymap.Hold, keymap.Mute, keymap.Record:
		return m.do(a), true
	}
	return nil, false
}

// formKey handles a key while the wrap-up form has the keys.
func (m *Model) formKey(k tea.KeyPressMsg) tea.Cmd {
	ks := k.String()
	if cmd, ok := m.callControl(ks); ok {
		return cmd // a new call rings while the last one is wrapped up
	}
	typing := m.wrap.Typing() && printable(k)
	if !typing {
		if a, ok := m.keys.Match(ks, keymap.Form, keymap.Global); ok {
			if n, isResult := a.Nth("result"); isResult {
				if cmd, took := m.wrap.PickResult(n); took {
					return cmd
				}
			}
			switch a {
			case keymap.Save:
				return m.save()
			case keymap.Help:
				m.helpOpen = true
				return nil
			case keymap.Back:
				if m.script.Loaded() {
					m.wrapScript = true
					return nil
				}
			case keymap.FAQ:
				return m.faq.Open()
			}
		}
		// Ready and not-ready are refused while the form is unsaved, with
		// the reason on the bar.
		if a, ok := m.keys.Match(ks, keymap.Idle); ok && (a == keymap.Ready || a == keymap.NotReady) {
			m.setFlash(T(m.lang, "agent.unsaved"), true)
			return nil
		}
	}
	var cmd tea.Cmd
	m.wrap, cmd = m.wrap.Update(k)
	return cmd
}

// do performs action a (already matched in the active contexts).
func (m *Model) do(a keymap.Action) tea.Cmd {
	ph := m.o.Phone
	c := m.call
	id := ""
	if c != nil {
		id = c.id
	}
	switch a {
	case keymap.Help:
		m.helpOpen = true
	case keymap.FAQ:
		return m.faq.Open()
	case keymap.Back:
		switch {
		case m.picker.open:
			m.picker = campaignPicker{}
		case m.camp != nil && m.camp.skipOpen:
			m.camp.skipOpen = false
		case m.agent.reasonsOpen:
			m.agent.reasonsOpen = false
		case m.dev.open:
			m.dev.open = false
		case m.wrapOpen && m.wrapScript:
			m.wrapScript = false
		}
	case keymap.FocusNext, keymap.FocusPrev:
		if m.cust.kind == popNew && c != nil && m.o.CRM != nil {
			m.cust.form = newCallerForm{open: true}
		}
	case keymap.ScrollUp:
		m.cust.scroll = max(0, m.cust.scroll-5)
	case keymap.ScrollDown:
		m.cust.scroll += 5

	case keymap.DialNumber, keymap.Redial:
		target := m.dial.digits
		if a == keymap.Redial {
			target = m.dial.last
		}
		if target == "" {
			m.setFlash(T(m.lang, "dial.nothing"), false)
			return nil
		}
		m.dial.last, m.dial.digits = target, ""
		m.log.Info("dial", "target", target)
		if m.camp != nil {
			return m.manualDial(target)
		}
		return m.dialCmd(target)
	case keymap.ClearDialer:
		m.dial.digits = ""
	case keymap.Ready:
		if m.wrapOpen {
			m.setFlash(T(m.lang, "agent.unsaved"), true)
			return nil
		}
		return m.setAgent(crmclient.StatusReady, "")
	case keymap.NotReady:
		if m.wrapOpen {
			m.setFlash(T(m.lang, "agent.unsaved"), true)
			return nil
		}
		m.agent.reasonsOpen, m.agent.reasonPick = true, 0
	case keymap.SwitchAudio:
		return m.listDevicesCmd()
	case keymap.Campaign:
		return m.openPicker()
	case keymap.Wallboard:
		return m.toggleBoard()
	case keymap.Sort:
		m.board.sortBy = (m.board.sortBy + 1) % sortCount
	case keymap.Reverse:
		m.board.desc = !m.board.desc
	case keymap.Filter:
		m.board.filter, m.board.sel = (m.board.filter+1)%len(boardFilters), 0
	case keymap.Listen:
		return m.monitor(crmclient.MonitorListen)
	case keymap.Whisper:
		return m.monitor(crmclient.MonitorWhisper)
	case keymap.Barge:
		return m.monitor(crmclient.MonitorBarge)
	case keymap.DialLead:
		if m.dial.digits != "" {
			return m.do(keymap.DialNumber) // digits typed over the lead: dial those
		}
		if m.camp == nil || m.camp.lead == nil {
			m.setFlash(T(m.lang, "camp.no_lead"), false)
			return nil
		}
		return m.dialLead()
	case keymap.SkipLead:
		if m.camp != nil && m.camp.lead != nil && !m.camp.checking && m.camp.leadCall == "" {
			m.camp.stopCountdown()
			m.camp.skipOpen, m.camp.skipPick = true, 0
		}
	case keymap.Pause:
		if m.camp != nil {
			return m.togglePause()
		}
	case keymap.DialMode:
		if m.camp != nil {
			return m.toggleMode()
		}

	case keymap.Up, keymap.Down:
		d := 1
		if a == keymap.Up {
			d = -1
		}
		switch {
		case m.picker.open:
			m.picker.pick = max(0, min(len(m.picker.rows)-1, m.picker.pick+d))
		case m.camp != nil && m.camp.skipOpen:
			m.camp.skipPick = max(0, min(len(skipReasons)-1, m.camp.skipPick+d))
		case m.agent.reasonsOpen:
			m.agent.reasonPick = max(0, min(len(notReadyReasons)-1, m.agent.reasonPick+d))
		case m.boardShown():
			m.board.sel = max(0, min(len(m.board.rows(m.now()))-1, m.board.sel+d))
		case m.dev.open:
			m.dev.move(d)
		case m.cust.picking():
			m.cust.move(d)
		}
	case keymap.Select:
		switch {
		case m.picker.open:
			return m.pickCampaign()
		case m.camp != nil && m.camp.skipOpen:
			return m.skipLead()
		case m.agent.reasonsOpen:
			m.agent.reasonsOpen = false
			return m.setAgent(crmclient.StatusNotReady, notReadyReasons[m.agent.reasonPick])
		case m.dev.open:
			return m.switchDeviceCmd()
		case m.cust.picking():
			m.cust.choose()
			var cmds []tea.Cmd
			if cu := m.cust.customer(); cu != nil && c != nil && m.o.CRM != nil {
				cmds = append(cmds, m.hintsCmd(c.id, cu.ID))
				if c.state != "ringing" && m.script.Loaded() {
					m.loadScript() // the customer's name in the script
				}
			}
			return tea.Batch(cmds...)
		}

	case keymap.Answer:
		if c != nil && c.state == "ringing" {
			return m.phoneCmd("answer", id, func() (string, error) { return ph.Answer(id) })
		}
	case keymap.Reject, keymap.Hangup:
		if c != nil {
			return m.phoneCmd(string(a), id, func() (string, error) { return ph.Hangup(id) })
		}
	case keymap.Hold:
		if c != nil && c.held {
			return m.phoneCmd("hold", id, func() (string, error) { return ph.Resume(id) })
		} else if c != nil {
			return m.phoneCmd("hold", id, func() (string, error) { return ph.Hold(id) })
		}
	case keymap.Mute:
		muted := !(m.status.Muted || (c != nil && c.muted))
		if c != nil {
			c.muted = muted
		}
		m.status.Muted = muted
		return func() tea.Msg { ph.SetMuted(muted); return nil }
	case keymap.Record:
		on := true
		if info := m.activeCallInfo(); info != nil && info.Recording != "" {
			on = false
		}
		return m.phoneCmd("record", id, func() (string, error) { return ph.Record(id, on) })
	case keymap.Transfer:
		if c != nil && c.answeredAt != (time.Time{}) {
			m.transfer = transferPrompt{open: true}
		}
	case keymap.WrapUp:
		if c != nil && !m.wrapOpen && !c.answeredAt.IsZero() {
			// Open the form during the call; the call goes on.
			cmd := m.openWrapDuringCall(c)
			return cmd
		}

	case keymap.Save:
		if m.wrapOpen {
			return m.save()
		}

	default:
		if m.script.Loaded() {
			m.script.Do(a)
		}
	}
	return nil
}

// openWrapDuringCall opens the form early (WrapUp key) without ending the call.
func (m *Model) openWrapDuringCall(c *callState) tea.Cmd {
	if c.campaign == nil || m.o.Outbox == nil {
		m.setFlash(T(m.lang, "wrap.no_campaign"), true)
		return nil
	}
	talk := m.now().Sub(c.answeredAt)
	rec := callRecord{CallID: c.id, CampaignID: c.campaign.ID, StartedAt: c.answeredAt, Duration: talk,
		Direction: crmclient.Outbound, Phone: m.cust.card.Phone}
	if c.inbound {
		rec.Direction = crmclient.Inbound
	}
	if cu := m.cust.customer(); cu != nil {
		rec.CustomerID = cu.ID
	}
	m.wrapRec, m.wrapCamp = rec, *c.campaign
	m.wrap = newWrapup(m.lang, *c.campaign, rec)
	m.wrap.SetClock(m.now)
	m.wrapOpen, m.wrapScript = true, false
	return m.wrap.Init()
}

func (m *Model) transferKey(k tea.KeyPressMsg) tea.Cmd {
	switch ks := k.String(); {
	case ks == "esc":
		m.transfer = transferPrompt{}
	case ks == "enter":
		t := strings.TrimSpace(m.transfer.target)
		m.transfer = transferPrompt{}
		if t != "" && m.call != nil {
			id := m.call.id
			return m.phoneCmd("transfer", id, func() (string, error) { return m.o.Phone.Transfer(id, t) })
		}
	case ks == "backspace":
		if r := []rune(m.transfer.target); len(r) > 0 {
			m.transfer.target = string(r[:len(r)-1])
		}
	case printable(k) && len(m.transfer.target) < 64:
		m.transfer.target += k.Text
	}
	return nil
}

func (m *Model) newCallerKey(k tea.KeyPressMsg) tea.Cmd {
	f := &m.cust.form
	if cmd, ok := m.callControl(k.String()); ok {
		return cmd
	}
	field := &f.name
	if f.field == 1 {
		field = &f.kana
	}
	switch ks := k.String(); {
	case ks == "esc":
		*f = newCallerForm{}
	case ks == "tab", ks == "shift+tab":
		f.field = 1 - f.field
	case ks == "enter":
		if f.field == 0 {
			f.field = 1
			return nil
		}
		if strings.TrimSpace(f.name) == "" || f.busy || m.call == nil {
			f.field = 0
			return nil
		}
		f.busy = true
		phone := m.cust.card.Phone
		if phone == "" {
			phone, _ = crmclient.NormalizePhone(m.call.number, m.region())
		}
		in := crmclient.CustomerInput{Name: strings.TrimSpace(f.name), NameKana: strings.TrimSpace(f.kana)}
		if phone != "" {
			in.Phones = []string{phone}
		}
		return m.createCustomerCmd(m.call.id, in)
	case ks == "backspace":
		if r := []rune(*field); len(r) > 0 {
			*field = string(r[:len(r)-1])
		}
	case printable(k) && len([]rune(*field)) < 64:
		*field += k.Text
	}
	return nil
}

// skipLead gives the lead on screen back with the picked reason and asks for
// the next one.
func (m *Model) skipLead() tea.Cmd {
	r := m.camp
	r.skipOpen = false
	if r.lead == nil {
		return nil
	}
	reason := skipReasons[r.skipPick]
	m.log.Info("lead skipped", "lead", r.lead.ID, "reason", reason)
	m.setFlash(T(m.lang, "camp.skipped", T(m.lang, "skip."+reason)), false)
	m.cust.reset("", "", popNone)
	return m.releaseCmd(*r.lead, reason, true)
}
