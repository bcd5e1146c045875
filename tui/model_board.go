package tui

// The wallboard as the root model drives it (board.go draws it): reading
// the figures, applying the event stream, and the supervisor's monitoring.
//
// Monitoring a call takes one of two ways, per mode:
//   - the PBX's own feature (Options.Supervisor templates such as Asterisk
//     ChanSpy "*222{ext}"): a plain call to the template with the agent's
//     extension; switching the mode calls the other template;
//   - peer monitoring: the CRM signs a grant for the agent, the call and the
//     mode (POST /v1/monitor/grants); the call to the agent's desktop carries
//     it, and that desktop checks it and answers by itself. A mode switch is
//     a new grant sent in the session (Phone.SendGrant); the agent's desktop
//     checks it again.
// The session is an ordinary call on the supervisor's side (hold, mute and
// hangup work as always), but it posts no call events, changes no agent
// state and opens no wrap-up form.

import (
	"context"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/sip"
)

const (
	// boardRefresh is how often the figures are read while the board is
	// shown (times in state tick on screen without it).
	boardRefresh = 10 * time.Second
	// boardSettle batches refetches after events: a burst of call ends
	// costs one read.
	boardSettle = time.Second
	// boardInterval is the chart's interval.
	boardInterval = 15 * time.Minute
)

type (
	// boardEventMsg is one event of the supervisors' stream.
	boardEventMsg struct{ ev crmclient.Event }
	// boardStreamClosedMsg says the stream's channel was closed (shutdown).
	boardStreamClosedMsg struct{}
	// boardMsg is the answer of CRM.Wallboard.
	boardMsg struct {
		data crmclient.Wallboard
		err  error
	}
	// boardTickMsg reads the figures again (periodic or after events).
	boardTickMsg struct{ periodic bool }
	// grantMsg is the CRM's grant for a monitor session (switch: for a
	// session already up).
	grantMsg struct {
		agent     string
		mode      crmclient.MonitorMode
		target    string
		grant     crmclient.Grant
		err       error
		switching bool
	}
	// grantSentMsg is the agent desktop's answer to a mode switch.
	grantSentMsg struct {
		mode crmclient.MonitorMode
		err  error
	}
	// callEventPostedMsg is the answer of CRM.PostCallEvent.
	callEventPostedMsg struct{ err error }
)

func listenBoard(ch <-chan crmclient.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return boardStreamClosedMsg{}
		}
		return boardEventMsg{ev}
	}
}

// boardShown reports whether the wallboard fills the body: it is open and
// nothing else (a customer's call, a campaign, the wrap-up) has the screen.
func (m *Model) boardShown() bool {
	return m.board.open && !m.wrapOpen && m.camp == nil && (m.call == nil || m.call.monitor)
}

// overlayOpen reports whether a pick list or prompt covers the body.
func (m *Model) overlayOpen() bool {
	return m.agent.reasonsOpen || m.dev.open || m.picker.open || m.faq.IsOpen() || m.transfer.open
}

// supervisor reports whether the logged-in user may see the wallboard.
func (m *Model) supervisor() bool {
	return m.o.CRM != nil && m.o.Agent.Role == crmclient.RoleSupervisor
}

// toggleBoard shows or hides the wallboard.
func (m *Model) toggleBoard() tea.Cmd {
	if !m.supervisor() {
		m.setFlash(T(m.lang, "board.not_sv"), true)
		return nil
	}
	m.board.open = !m.board.open
	if m.board.open {
		return tea.Batch(m.boardFetchCmd(), m.boardTick(true))
	}
	return nil
}

func (m *Model) boardFetchCmd() tea.Cmd {
	if m.board.fetching || m.o.CRM == nil {
		return nil
	}
	m.board.fetching, m.board.dirty = true, false
	crm := m.o.CRM
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), crmTimeout)
		defer cancel()
		w, err := crm.Wallboard(ctx, "", boardInterval)
		return boardMsg{w, err}
	}
}

func (m *Model) boardTick(periodic bool) tea.Cmd {
	d := boardSettle
	if periodic {
		d = boardRefresh
	}
	return tea.Tick(d, func(time.Time) tea.Msg { return boardTickMsg{periodic} })
}

func (m *Model) gotBoard(msg boardMsg) tea.Cmd {
	b := &m.board
	b.fetching = false
	if msg.err != nil {
		m.log.Warn("wallboard", "err", msg.err)
		b.live = false
		b.problem = T(m.lang, "board.crm_down", apiMessage(msg.err))
		return nil
	}
	b.data, b.loaded, b.problem, b.fetchedAt = msg.data, true, "", m.now()
	if b.dirty {
		return m.boardTick(false)
	}
	return nil
}

func (m *Model) gotBoardTick(msg boardTickMsg) tea.Cmd {
	if !m.board.open {
		return nil
	}
	var cmds []tea.Cmd
	if msg.periodic {
		cmds = append(cmds, m.boardTick(true))
	}
	if msg.periodic || m.board.dirty {
		cmds = append(cmds, m.boardFetchCmd())
	}
	return tea.Batch(cmds...)
}

// gotBoardEvent applies an event at once (a state change is on screen within
// the frame) and reads the figures again shortly when they moved.
func (m *Model) gotBoardEvent(ev crmclient.Event) tea.Cmd {
	b := &m.board
	if !b.apply(ev) {
		return nil
	}
	if ev.Kind == crmclient.EventReady {
		m.log.Info("event stream connected")
		if b.problem != "" {
			b.problem = ""
		}
	}
	if !b.open {
		return nil
	}
	if b.fetching || b.dirty {
		b.dirty = true
		return nil
	}
	b.dirty = true
	return m.boardTick(false)
}

// monitor starts a session on the selected agent's call in mode, or switches
// the running session to mode.
func (m *Model) monitor(mode crmclient.MonitorMode) tea.Cmd {
	b := &m.board
	now := m.now()
	r := b.selected(now)
	if s := b.session; s != nil {
		switch {
		case r == nil || r.Agent != s.agent:
			m.setFlash(T(m.lang, "board.busy_session", cleanLine(s.name)), true)
			return nil
		case mode == s.mode || s.switching != "":
			return nil
		case s.pbx:
			// The PBX's feature codes are one per mode: call the other one.
			s.switching = mode
			id := s.callID
			return m.phoneCmd("hangup", id, func() (string, error) { return m.o.Phone.Hangup(id) })
		}
		s.switching = mode
		return m.grantCmd(s.agent, r.Call, mode, "", true)
	}
	switch {
	case r == nil:
		m.setFlash(T(m.lang, "board.no_agent"), false)
		return nil
	case m.call != nil:
		m.setFlash(T(m.lang, "board.in_call"), true)
		return nil
	case r.Call == nil:
		m.setFlash(T(m.lang, "board.no_call", cleanLine(r.DisplayName)), false)
		return nil
	}
	ext := extension(r.State.SIPURI, r.Agent)
	if tmpl := m.o.Supervisor.template(mode); tmpl != "" {
		b.session = &monitorSession{agent: r.Agent, name: r.DisplayName, mode: mode, pbx: true}
		target := strings.ReplaceAll(tmpl, "{ext}", ext)
		m.log.Info("monitor through the PBX", "agent", r.Agent, "mode", mode, "target", target)
		return m.dialCmd(target)
	}
	if r.State.SIPURI == "" {
		m.setFlash(T(m.lang, "board.no_address", cleanLine(r.DisplayName)), true)
		return nil
	}
	b.session = &monitorSession{agent: r.Agent, name: r.DisplayName, mode: mode}
	return m.grantCmd(r.Agent, r.Call, mode, ext, false)
}

// extension is the user part of an agent's SIP address (what the PBX calls
// the extension), else the agent's user name.
func extension(uri, agent string) string {
	if u := userPart(uri); u != "" {
		return u
	}
	return agent
}

// grantCmd asks the CRM for a grant to call's agent in mode.
func (m *Model) grantCmd(agent string, call *crmclient.CallEvent, mode crmclient.MonitorMode, target string, switching bool) tea.Cmd {
	crm := m.o.CRM
	callID := ""
	if call != nil {
		callID = call.CallID
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), crmTimeout)
		defer cancel()
		g, err := crm.CreateMonitorGrant(ctx, crmclient.GrantRequest{Agent: agent, CallID: callID, Mode: mode})
		return grantMsg{agent: agent, mode: mode, target: target, grant: g, err: err, switching: switching}
	}
}

func (m *Model) gotGrant(msg grantMsg) tea.Cmd {
	s := m.board.session
	if s == nil || s.agent != msg.agent {
		return nil
	}
	if msg.err != nil {
		m.log.Warn("monitor grant refused", "agent", msg.agent, "mode", msg.mode, "err", msg.err)
		m.setFlash(T(m.lang, "board.grant_fail", apiMessage(msg.err)), true)
		if msg.switching {
			s.switching = ""
		} else {
			m.board.session = nil
		}
		return nil
	}
	ph, token := m.o.Phone, msg.grant.Grant
	if msg.switching {
		id, mode := s.callID, msg.mode
		return func() tea.Msg {
			ctx, cancel := context.WithTimeout(context.Background(), phoneTimeout)
			defer cancel()
			return grantSentMsg{mode, ph.SendGrant(ctx, id, token)}
		}
	}
	target := msg.target
	m.log.Info("monitor", "agent", msg.agent, "mode", msg.mode, "target", target)
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), phoneTimeout)
		defer cancel()
		id, err := ph.DialWith(ctx, target, sip.DialOptions{Grant: token})
		return dialedMsg{target: target, callID: id, err: err}
	}
}

func (m *Model) gotGrantSent(msg grantSentMsg) {
	s := m.board.session
	if s == nil {
		return
	}
	s.switching = ""
	if msg.err != nil {
		m.log.Warn("monitor mode not switched", "mode", msg.mode, "err", msg.err)
		m.setFlash(T(m.lang, "board.switch_fail", cleanLine(msg.err.Error())), true)
		return
	}
	s.mode = msg.mode
	m.setFlash(T(m.lang, "board.mode_now", T(m.lang, "mode."+string(msg.mode)), cleanLine(s.name)), false)
}

// sessionEnded is the end of the supervisor's session call: a PBX mode
// switch calls the next feature code; otherwise the session is over.
func (m *Model) sessionEnded(ev sip.Event) tea.Cmd {
	s := m.board.session
	if s == nil {
		return nil
	}
	if s.pbx && s.switching != "" {
		s.mode, s.switching, s.callID = s.switching, "", ""
		var ext string
		for _, a := range m.board.data.Agents {
			if a.Agent == s.agent {
				ext = extension(a.State.SIPURI, a.Agent)
			}
		}
		if tmpl := m.o.Supervisor.template(s.mode); tmpl != "" && ext != "" {
			return m.dialCmd(strings.ReplaceAll(tmpl, "{ext}", ext))
		}
	}
	m.board.session = nil
	m.setFlash(T(m.lang, "board.session_end", cleanLine(s.name), cleanLine(ev.Text)), false)
	return nil
}

// monitored is a supervisor on this operator's call, as the phone reports it.
type monitored struct {
	supervisor string
	mode       string
}

// monitorEvent follows a supervisor on this operator's call. The session
// itself never shows as a call here; the team's policy (HideMonitor) says
// whether the operator sees it on the bar. Refused attempts are only logged:
// the operator is not disturbed.
func (m *Model) monitorEvent(ev sip.Event) {
	switch ev.Type {
	case sip.EvMonitorStarted, sip.EvMonitorMode:
		m.monitored = &monitored{supervisor: cleanLine(ev.Text), mode: cleanLine(ev.Cause)}
		m.log.Info("monitored", "supervisor", ev.Text, "mode", ev.Cause, "call", ev.CallID)
	case sip.EvMonitorEnded:
		m.monitored = nil
		m.log.Info("monitoring ended", "call", ev.CallID, "why", ev.Cause)
	case sip.EvMonitorRefused:
		m.log.Warn("monitor INVITE refused", "from", ev.Remote, "why", ev.Text)
	}
}

// postCallCmd announces a call's start, end or miss to the CRM (supervisors
// see it live; the wallboard counts it). A failure is logged: the call
// itself goes on, and its disposition carries the figures that matter.
func (m *Model) postCallCmd(c *callState, phase crmclient.CallPhase, abandoned bool, at time.Time) tea.Cmd {
	if m.o.CRM == nil || c.sipID == "" || c.monitor {
		return nil
	}
	req := crmclient.CallEventRequest{Event: phase, CallID: c.sipID, Direction: crmclient.Outbound,
		Number: c.number, At: at, Abandoned: abandoned}
	if c.inbound {
		req.Direction = crmclient.Inbound
	}
	if n, err := crmclient.NormalizePhone(c.number, m.region()); err == nil {
		req.Number = n
	}
	if cu := m.cust.customer(); cu != nil {
		req.CustomerID = cu.ID
	}
	if c.campaign != nil {
		req.CampaignID = c.campaign.ID
	}
	crm := m.o.CRM
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), crmTimeout)
		defer cancel()
		_, err := crm.PostCallEvent(ctx, req)
		return callEventPostedMsg{err}
	}
}
