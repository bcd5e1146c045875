package sip

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	gsip "github.com/emiago/sipgo/sip"
)

// The signalling of monitor sessions: the agent's side (a monitor INVITE,
// a grant INFO) and the supervisor's (SendGrant). See monitor.go.

var (
	errMonitorBusy = errors.New("another supervisor is monitoring that call")
	errMonitorGone = errors.New("the call is no longer answered")
)

// refusal is why a grant was refused: the response and the words for the
// log and EvMonitorRefused. The hook's own words stay in the log: the
// response says only which kind of refusal it was.
type refusal struct {
	code   int
	reason string
	text   string
}

// checkGrant checks a grant before it goes into a header or a body: one
// to maxGrantLen visible ASCII characters, so it cannot carry SIP syntax.
func checkGrant(grant string) error {
	if grant == "" || len(grant) > maxGrantLen {
		return fmt.Errorf("%w: it must be 1 to %d characters", ErrBadGrant, maxGrantLen)
	}
	for i := 0; i < len(grant); i++ {
		if grant[i] < 0x21 || grant[i] > 0x7e {
			return fmt.Errorf("%w: only visible ASCII characters, no spaces", ErrBadGrant)
		}
	}
	return nil
}

// authorizeMonitor asks Config.AuthorizeMonitor about grant and checks its
// answer against this phone's calls. It runs the hook on the calling
// (SIP handler) goroutine: the hook must bound its own time.
func (p *Phone) authorizeMonitor(grant, from string) (MonitorGrant, *call, *refusal) {
	hook := p.cfg.AuthorizeMonitor
	if hook == nil {
		return MonitorGrant{}, nil, &refusal{403, "Monitoring Not Enabled", "monitoring is not enabled on this desk"}
	}
	if checkGrant(grant) != nil {
		return MonitorGrant{}, nil, &refusal{403, "Monitor Grant Refused", "the grant is empty, too long or not plain text"}
	}
	req := MonitorRequest{Grant: grant, Calls: p.monitorableCalls(), From: from}
	start := time.Now()
	g, err := hook(req)
	if took := time.Since(start); took > monitorHookBudget {
		p.log.Warn("AuthorizeMonitor is slow: it holds a SIP transaction", "took", took.Round(time.Millisecond))
	}
	refused := func(text string) (MonitorGrant, *call, *refusal) {
		return MonitorGrant{}, nil, &refusal{403, "Monitor Grant Refused", text}
	}
	switch {
	case err != nil:
		return refused("the grant was refused: " + Clean(err.Error()))
	case !slices.Contains(req.Calls, g.CallID):
		return refused("the grant names no answered call on this desk")
	}
	if _, _, ok := modeGains(g.Mode); !ok {
		return refused(fmt.Sprintf("the grant's mode %q is not listen, whisper or barge", Clean(g.Mode)))
	}
	t := p.callBySIPID(g.CallID)
	if t == nil || t.mon != nil || !t.getState().established() {
		return refused("the call the grant names is no longer answered")
	}
	return g, t, nil
}

// refuseMonitor answers a monitor request with r; see monitorRefused.
func (p *Phone) refuseMonitor(req *gsip.Request, tx gsip.ServerTransaction, from string, m *monitor, r *refusal) {
	_ = tx.Respond(gsip.NewResponseFromRequest(req, r.code, r.reason, nil))
	p.monitorRefused(from, m, r)
}

// monitorRefused says in the log and an EvMonitorRefused (which the
// desktop does not show the operator) that a request from from was
// refused. m is the session an INFO came in, nil for an INVITE.
func (p *Phone) monitorRefused(from string, m *monitor, r *refusal) {
	p.log.Warn("monitor request refused", "from", from, "code", r.code, "why", r.text)
	ev := Event{Type: EvMonitorRefused, Remote: from, Code: r.code, Text: r.text}
	if m != nil {
		ev.CallID, ev.Target = m.target.id, m.session.id
	}
	p.publish(ev)
}

// fromURI is a request's From URI, for the log.
func fromURI(req *gsip.Request) string {
	if f := req.From(); f != nil {
		return f.Address.String()
	}
	return ""
}

// onMonitorInvite takes an INVITE carrying a grant: refused at once with
// 403 (or 486 while the call has a session), or answered at once without
// ringing. Like onInvite it holds the transaction until the ACK.
func (p *Phone) onMonitorInvite(req *gsip.Request, tx gsip.ServerTransaction, grant string) {
	from := fromURI(req)
	g, target, ref := p.authorizeMonitor(grant, from)
	if ref == nil && target.isWatched() {
		ref = &refusal{486, "Busy Here", errMonitorBusy.Error()}
	}
	if ref != nil {
		p.refuseMonitor(req, tx, from, nil, ref)
		return
	}
	m := newMonitor(p, target, g, from)
	c, sess, answer, neg := p.takeInvite(req, tx, m)
	if c == nil {
		return
	}
	defer sess.Close()
	if err := m.attach(); err != nil {
		r := &refusal{403, "Monitor Grant Refused", err.Error()}
		if errors.Is(err, errMonitorBusy) {
			r.code, r.reason = 486, "Busy Here"
		}
		_ = sess.Respond(r.code, r.reason, nil)
		c.end(CauseRejected, r.code, r.text)
		p.monitorRefused(from, nil, r)
		return
	}
	c.markAnswered(req, neg)
	p.log.Info("monitor session started", "call", target.id, "session", c.id,
		"supervisor", m.supervisorName(), "mode", g.Mode, "from", from)
	p.publish(m.event(EvMonitorStarted, g.Mode))
	c.confirm(sess, answer, "the supervisor's phone never confirmed the answer (no ACK)",
		gsip.NewHeader(modeHeader, g.Mode))
}

func (m *monitor) supervisorName() string {
	_, s := m.state()
	return s
}

// isWatched reports whether a monitor session is on c.
func (c *call) isWatched() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.watched != nil
}

// onGrantInfo switches a session's mode with the new grant an INFO carries:
// 200 once the gains have changed, 403 and nothing changes.
func (p *Phone) onGrantInfo(c *call, req *gsip.Request, tx gsip.ServerTransaction) {
	from := fromURI(req)
	m := c.mon
	if m == nil {
		p.refuseMonitor(req, tx, from, nil, &refusal{403, "Not A Monitor Session",
			"a grant came in call " + c.id + ", which is not a monitor session"})
		return
	}
	g, target, ref := p.authorizeMonitor(strings.TrimSpace(string(req.Body())), from)
	if ref == nil && target != m.target {
		ref = &refusal{403, "Monitor Grant Refused", "the new grant names another call than the one monitored"}
	}
	if ref != nil {
		p.refuseMonitor(req, tx, from, m, ref)
		return
	}
	m.setMode(g)
	res := gsip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(gsip.NewHeader(modeHeader, g.Mode))
	_ = tx.Respond(res)
	p.log.Info("monitor mode changed", "call", m.target.id, "session", c.id, "mode", g.Mode)
	p.publish(m.event(EvMonitorMode, g.Mode))
}

// SendGrant sends a new grant in the monitor dialog of call id (INFO,
// Content-Type application/x-opdesk-grant, RFC 6086 §2 legacy usage), to
// switch the session's mode. It returns nil on 200, an error wrapping
// ErrRefused on 403 (with the reason phrase's words), ErrBadGrant for a
// grant that cannot be sent, and other errors as they come. The grant is
// never logged.
func (p *Phone) SendGrant(ctx context.Context, id, grant string) error {
	if err := checkGrant(grant); err != nil {
		return err
	}
	c, err := p.find(id, func(s CallState) bool { return s.established() })
	if err != nil {
		return err
	}
	d := c.dialog()
	if d == nil || !c.getState().established() {
		return ErrBadState
	}
	req := gsip.NewRequest(gsip.INFO, c.remoteTarget())
	req.SetBody([]byte(grant))
	req.AppendHeader(gsip.NewHeader("Content-Type", grantContentType))
	res, err := d.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("send grant on call %s: %w", c.id, err)
	}
	switch {
	case res.IsSuccess():
		c.noteMonitorMode(res)
		return nil
	case res.StatusCode == 403:
		return fmt.Errorf("%w: 403 %s", ErrRefused, Clean(res.Reason))
	}
	return fmt.Errorf("send grant on call %s: %w: %d %s", c.id, ErrCallFailed, res.StatusCode, Clean(res.Reason))
}

// noteMonitorMode keeps the mode the agent's phone says it applied, on the
// supervisor's side of a session (CallInfo.Monitor).
func (c *call) noteMonitorMode(res *gsip.Response) {
	h := res.GetHeader(modeHeader)
	if h == nil {
		return
	}
	mode := strings.TrimSpace(h.Value())
	if _, _, ok := modeGains(mode); !ok {
		return
	}
	c.mu.Lock()
	c.svMode = mode
	c.mu.Unlock()
}

// monitorFailText says in words why the agent's desk did not take a monitor
// session.
func monitorFailText(code int, reason, text string) string {
	switch code {
	case 403:
		return fmt.Sprintf("the agent's desk refused the monitor grant (403 %s)", Clean(reason))
	case 486:
		return "another supervisor is already on that call (486)"
	}
	return text
}
