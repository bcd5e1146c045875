package sip

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Supervisor monitoring: listen, whisper and barge.
//
// A supervisor's opdesk places a monitor session: an INVITE to the agent's
// opdesk carrying a short-lived grant the CRM signed (DialOptions.Grant, sent
// in an X-Opdesk-Grant header). The agent's phone hands the grant to
// Config.AuthorizeMonitor; with a valid one it answers at once, without
// ringing and without an incoming-call event, and mixes the session into
// the call the grant names (monitor_audio.go). Anything else gets 403 and an
// EvMonitorRefused for the log: the operator is not disturbed.
//
// The session is a call of its own on the agent's phone, listed in Status
// with CallInfo.Monitor.IsSession, but it never opens the sound card, is
// never recorded, is not muted by SetMuted, is not picked by an action
// that names no call id, and publishes monitor_* events instead of the
// call events (incoming, answered, ended, dtmf, remote_held).
//
// Decisions:
//   - One session per monitored call: a second supervisor gets 486 Busy
//     Here while the first is on; the first is never replaced silently.
//   - The mode changes with a SIP INFO in the session's dialog carrying a
//     new grant (SendGrant; RFC 6086 §2 legacy INFO usage, no Info Package
//     negotiation): the hook checks it like the first; 200 and the gains
//     change (ramped over one frame), or 403 and nothing changes.
//   - The supervisor leaving (BYE) never touches the monitored call; the
//     monitored call ending (hang-up, transfer) ends the session with a BYE.
//   - Recording: a monitored call records what it recorded before, what
//     the operator sent and what was played to the operator. In barge, what
//     the customer hears includes the supervisor, and that is recorded as
//     part of the call; a whisper is private to the operator and is not.
//   - Hold keeps it simple: a held call's media clock neither pulls the
//     microphone nor plays to the operator (the microphone may be the
//     operator's other call's by then), so while the monitored call is on
//     hold the supervisor hears silence and a whisper does not reach the
//     operator; both resume with the call.
//   - Mute keeps the customer from hearing the operator, not the
//     supervisor (see callSource).

// Grant transport: the INVITE header and the INFO body's content type.
const (
	grantHeader      = "X-Opdesk-Grant"
	grantContentType = "application/x-opdesk-grant"
	// modeHeader tells the supervisor's phone the mode the agent's phone
	// applied, on the 200 OK to the INVITE and to each INFO.
	modeHeader = "X-Opdesk-Monitor-Mode"
	// maxGrantLen bounds a grant (a signed token is a few hundred bytes).
	maxGrantLen = 4096
	// monitorHookBudget is how long AuthorizeMonitor should take at most;
	// a slower hook is logged (it holds the SIP transaction meanwhile).
	monitorHookBudget = 2 * time.Second
)

// Causes of EvMonitorEnded beyond the call causes (local_hangup,
// shutdown, ...).
const (
	// CauseSupervisorLeft: the supervisor hung up the session.
	CauseSupervisorLeft = "supervisor_left"
	// CauseCallEnded: the monitored call ended, and the session with it.
	CauseCallEnded = "call_ended"
)

// MonitorRequest is what Config.AuthorizeMonitor is asked to judge.
type MonitorRequest struct {
	Grant string   // the token from X-Opdesk-Grant (or the INFO body)
	Calls []string // SIP Call-IDs of this phone's answered (active or held) calls, other monitor sessions excluded
	From  string   // the INVITE's From URI, for the log
}

// MonitorGrant is what a valid grant allows.
type MonitorGrant struct {
	CallID     string // SIP Call-ID of the call to monitor (must be one of Calls)
	Mode       string // "listen", "whisper" or "barge"
	Supervisor string // who, for the operator's indicator and the log
}

// MonitorInfo is the monitor side of a CallInfo.
type MonitorInfo struct {
	Supervisor string `json:"supervisor"`
	Mode       string `json:"mode"`
	Session    string `json:"session"`              // on the monitored call: the session's phone id; on the session itself: the monitored call's id
	IsSession  bool   `json:"is_session,omitempty"` // this CallInfo is the monitor session itself
}

// monitor is one supervisor's session on one monitored call.
type monitor struct {
	p       *Phone
	target  *call // the monitored call
	session *call // set by makeCall, before anything can end the session
	au      *monitorAudio
	from    string // the supervisor's From URI

	mu         sync.Mutex
	mode       string
	supervisor string
	started    bool // attached and announced: its end is announced too
}

func newMonitor(p *Phone, target *call, g MonitorGrant, from string) *monitor {
	m := &monitor{p: p, target: target, au: newMonitorAudio(), from: from,
		mode: g.Mode, supervisor: Clean(g.Supervisor)}
	m.au.setMode(g.Mode)
	return m
}

// setMode applies a newly granted mode.
func (m *monitor) setMode(g MonitorGrant) {
	m.mu.Lock()
	m.mode = g.Mode
	if s := Clean(g.Supervisor); s != "" {
		m.supervisor = s
	}
	m.mu.Unlock()
	m.au.setMode(g.Mode)
}

func (m *monitor) state() (mode, supervisor string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mode, m.supervisor
}

// event is a monitor_* event: CallID the monitored call, Target the
// session, Text the supervisor.
func (m *monitor) event(t EventType, cause string) Event {
	_, sup := m.state()
	m.target.mu.Lock()
	sipID := m.target.callID
	m.target.mu.Unlock()
	return Event{Type: t, CallID: m.target.id, Target: m.session.id, SIPCallID: sipID,
		Remote: m.from, Text: sup, Cause: cause}
}

// info is the MonitorInfo of the monitored call (isSession false) or of
// the session.
func (m *monitor) info(isSession bool) *MonitorInfo {
	mode, sup := m.state()
	mi := &MonitorInfo{Supervisor: sup, Mode: mode, Session: m.session.id}
	if isSession {
		mi.Session, mi.IsSession = m.target.id, true
	}
	return mi
}

// attach taps m into its monitored call. It fails with errMonitorBusy while
// another session is on the call, errMonitorGone once the call is no longer
// answered.
func (m *monitor) attach() error {
	t := m.target
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case !t.state.established():
		return errMonitorGone
	case t.watched != nil:
		return errMonitorBusy
	}
	t.watched = m
	t.taps.attach(m.au)
	m.mu.Lock()
	m.started = true
	m.mu.Unlock()
	return nil
}

// detach untaps m from its monitored call, if it is still tapped there.
func (m *monitor) detach() {
	t := m.target
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.watched == m {
		t.watched = nil
		t.taps.attach(nil)
	}
}

// ended is the session's end: it leaves the monitored call as it was and
// announces the end of a session that had started.
func (m *monitor) ended(cause string) {
	m.detach()
	m.mu.Lock()
	started := m.started
	m.mu.Unlock()
	if !started {
		m.p.log.Info("monitor session not started", "session", m.session.id, "cause", cause)
		return
	}
	if cause == CauseRemoteHangup {
		cause = CauseSupervisorLeft
	}
	_, sup := m.state()
	m.p.log.Info("monitor session ended", "call", m.target.id, "session", m.session.id,
		"supervisor", sup, "cause", cause)
	m.p.publish(m.event(EvMonitorEnded, cause))
}

// endWatch runs when a monitored call ends: its session ends too, with a
// BYE to the supervisor, on a goroutine the phone owns (end must not wait
// for a transaction).
func (c *call) endWatch() {
	c.mu.Lock()
	m := c.watched
	c.watched = nil
	c.taps.attach(nil)
	c.mu.Unlock()
	if m == nil {
		return
	}
	p := c.p
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
		defer cancel()
		m.session.hangup(ctx, CauseCallEnded, "the monitored call ended")
	}()
}

// callTaps are a call's source and sink wrappers, where a monitor session
// taps in. Zero for a session itself.
type callTaps struct {
	src  *callSource
	sink *callSink
}

// attach points both wrappers at au (nil: none). The wrappers see the
// change at their next frame.
func (t callTaps) attach(au *monitorAudio) {
	if t.src != nil {
		t.src.mon.Store(au)
	}
	if t.sink != nil {
		t.sink.mon.Store(au)
	}
}

// monitorableCalls is MonitorRequest.Calls: the SIP Call-IDs of the
// answered calls that are not monitor sessions, sorted.
func (p *Phone) monitorableCalls() []string {
	ids := []string{}
	for _, c := range p.snapshot() {
		if c.mon != nil {
			continue
		}
		c.mu.Lock()
		if c.state.established() && c.callID != "" {
			ids = append(ids, c.callID)
		}
		c.mu.Unlock()
	}
	sort.Strings(ids)
	return ids
}
