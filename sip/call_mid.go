package sip

import (
	"context"
	"fmt"
	"strings"
	"time"

	gsip "github.com/emiago/sipgo/sip"

	"github.com/opdesk/opdesk/sip/sdp"
)

// Hangup ends a call in whatever way its state needs: CANCEL while it
// rings out, 486 while it rings here, BYE once answered.
func (p *Phone) Hangup(id string) (string, error) {
	c, err := p.find(id, nil)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	c.hangup(ctx, CauseLocalHangup, "you hung up")
	return c.id, nil
}

func (c *call) hangup(ctx context.Context, cause, text string) {
	switch st := c.getState(); st {
	case StateIncoming:
		c.reject(486)
		select {
		case <-c.done:
		case <-ctx.Done():
		}
	case StateDialing, StateRinging, StateEarly:
		c.mu.Lock()
		cancel := c.cancelDial
		c.mu.Unlock()
		if cancel != nil {
			if cause == CauseLocalHangup {
				cancel(errLocalCancel)
			} else {
				cancel(errCallEnded)
			}
		}
		select {
		case <-c.done:
		case <-ctx.Done():
			c.end(cause, 0, text)
		case <-time.After(5 * time.Second):
			// No provisional ever came, so no CANCEL could be sent.
			c.end(CauseCancelled, 0, "you cancelled the call before it was answered")
		}
	case StateActive, StateHeld:
		c.byeCtx(ctx)
		c.end(cause, 0, text)
	case StateEnded:
	}
}

func (c *call) bye() {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	c.byeCtx(ctx)
}

func (c *call) byeCtx(ctx context.Context) {
	c.mu.Lock()
	uac, uas := c.uac, c.uas
	c.mu.Unlock()
	var err error
	switch {
	case uac != nil:
		err = uac.Bye(ctx)
	case uas != nil:
		err = uas.Bye(ctx)
	}
	if err != nil {
		c.p.log.Warn("BYE failed", "call", c.id, "err", err)
	}
}

// Hold puts an answered call on hold with a re-INVITE (a=sendonly).
func (p *Phone) Hold(id string) (string, error) {
	return p.setHold(id, true)
}

// Resume takes a held call off hold (a=sendrecv).
func (p *Phone) Resume(id string) (string, error) {
	return p.setHold(id, false)
}

func (p *Phone) setHold(id string, hold bool) (string, error) {
	want := StateActive
	if !hold {
		want = StateHeld
	}
	c, err := p.find(id, func(s CallState) bool { return s == want })
	if err != nil {
		return "", err
	}
	if !c.getState().established() {
		return "", ErrBadState
	}
	c.mu.Lock()
	was := c.held
	c.held = hold
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	if err := c.reinvite(ctx); err != nil {
		c.mu.Lock()
		c.held = was
		c.mu.Unlock()
		return "", err
	}
	if hold {
		c.setState(StateHeld)
		p.publish(c.event(EvHeld, "call on hold"))
	} else {
		c.setState(StateActive)
		p.publish(c.event(EvResumed, "call taken off hold"))
	}
	return c.id, nil
}

// reinvite sends our current SDP in a re-INVITE and applies the answer.
func (c *call) reinvite(ctx context.Context) error {
	d := c.dialog()
	if d == nil {
		return ErrBadState
	}
	offer, err := c.sess.Offer(c.local())
	if err != nil {
		return err
	}
	target := c.remoteTarget()
	for attempt := 0; ; attempt++ {
		req := gsip.NewRequest(gsip.INVITE, target)
		req.SetBody(offer)
		req.AppendHeader(gsip.NewHeader("Content-Type", "application/sdp"))
		res, err := d.Do(ctx, req)
		if err != nil {
			return fmt.Errorf("re-INVITE: %w", err)
		}
		if res.StatusCode == 491 && attempt < 2 {
			// Glare (RFC 3261 §14.1): wait a random while and try again.
			time.Sleep(time.Duration(2100+attempt*700) * time.Millisecond)
			continue
		}
		if !res.IsSuccess() {
			_, text := causeFromStatus(res.StatusCode, res.Reason)
			return fmt.Errorf("%w: the other side refused the change: %s", ErrCallFailed, text)
		}
		ack := gsip.NewRequest(gsip.ACK, target)
		if err := d.WriteRequest(ack); err != nil {
			c.p.log.Warn("ACK for re-INVITE failed", "call", c.id, "err", err)
		}
		m, err := c.sess.ParseAnswer(res.Body())
		if err != nil {
			return fmt.Errorf("re-INVITE answer: %w", err)
		}
		return c.applyMedia(m, false, false)
	}
}

// onReInvite answers an INVITE inside a dialog: hold from the other side,
// a session refresh, a codec change (RFC 3261 §14.2).
func (p *Phone) onReInvite(req *gsip.Request, tx gsip.ServerTransaction) {
	c := p.callBySIPID(req.CallID().Value())
	if c == nil || c.getState() == StateEnded {
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	if !c.acceptRemoteCSeq(req) {
		// RFC 3261 §12.2.2: a lower CSeq than the last one is out of order.
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
		return
	}
	p.log.Info("re-INVITE from the other side", "call", c.id, "sdp", len(req.Body()) > 0)
	var body []byte
	var neg sdp.Media
	var err error
	offer := req.Body()
	if len(offer) > 0 {
		body, neg, err = c.sess.Answer(offer, c.local())
		if err != nil {
			code, reason := offerRefusal(err)
			p.log.Info("re-INVITE refused", "call", c.id, "code", code, "err", err)
			res := gsip.NewResponseFromRequest(req, code, reason, nil)
			res.AppendHeader(gsip.NewHeader("Warning", `305 opdesk "`+warningText(err)+`"`))
			_ = tx.Respond(res)
			return
		}
	} else if body, err = c.sess.Offer(c.local()); err != nil {
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
		return
	}
	res := gsip.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(p.contact.Clone())
	if err := tx.Respond(res); err != nil {
		p.log.Warn("re-INVITE response failed", "call", c.id, "err", err)
		return
	}
	if len(offer) > 0 {
		if err := c.applyMedia(neg, false, true); err != nil {
			p.log.Warn("media update failed", "call", c.id, "err", err)
		}
	}
	// Keep the server transaction until the ACK (or timeout) so 200
	// retransmissions are matched.
	select {
	case <-tx.Acks():
	case <-tx.Done():
	case <-time.After(2 * time.Second):
	}
}

// onBye ends the dialog the BYE belongs to.
func (p *Phone) onBye(req *gsip.Request, tx gsip.ServerTransaction) {
	c := p.callBySIPID(req.CallID().Value())
	if c == nil {
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	c.mu.Lock()
	uac, uas := c.uac, c.uas
	c.mu.Unlock()
	var err error
	switch {
	case uac != nil && !c.getState().established():
		// BYE on an early dialog (RFC 3261 §15: a callee should not, some
		// gateways do): end the call but leave the INVITE transaction to
		// take and ACK its final response.
		// No CANCEL either: the far end owes the INVITE a final response.
		c.mu.Lock()
		c.cancelDial = nil
		c.mu.Unlock()
		if err := tx.Respond(gsip.NewResponseFromRequest(req, 200, "OK", nil)); err != nil {
			p.log.Warn("BYE response", "call", c.id, "err", err)
		}
		c.end(CauseRemoteHangup, 0, "the other side hung up during early media")
		return
	case uac != nil:
		err = uac.ReadBye(req, tx)
	case uas != nil:
		err = uas.ReadBye(req, tx)
	default:
		err = tx.Respond(gsip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	if err != nil {
		p.log.Warn("BYE handling", "call", c.id, "err", err)
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	c.end(CauseRemoteHangup, 0, "the other side hung up")
}

// onAck confirms an answered inbound call; a delayed-offer answer rides on it.
func (p *Phone) onAck(req *gsip.Request, tx gsip.ServerTransaction) {
	c := p.callBySIPID(req.CallID().Value())
	if c == nil {
		return
	}
	c.mu.Lock()
	uas := c.uas
	c.mu.Unlock()
	if uas != nil {
		_ = uas.ReadAck(req, tx)
	}
	if body := req.Body(); len(body) > 0 {
		m, err := c.sess.ParseAnswer(body)
		if err != nil {
			p.log.Warn("bad SDP in ACK", "call", c.id, "err", err)
			cause, text := c.sdpFailure(err, "answered with")
			go c.hangup(p.ctx, cause, text)
			return
		}
		if err := c.applyMedia(m, false, false); err != nil {
			p.log.Warn("media start failed", "call", c.id, "err", err)
		}
	}
}

// acceptRemoteCSeq checks and records the CSeq of a request from the other
// side. The remote CSeq space is its own: for a dialog we started, the first
// request from the other side sets it.
func (c *call) acceptRemoteCSeq(req *gsip.Request) bool {
	cs := req.CSeq()
	if cs == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.uas != nil {
		// sipgo tracks the caller's CSeq for the ACK match; keep it informed.
		if err := c.uas.ReadRequest(req, nil); err != nil {
			return false
		}
		return true
	}
	if c.remoteCSeq != 0 && cs.SeqNo <= c.remoteCSeq {
		return false
	}
	c.remoteCSeq = cs.SeqNo
	return true
}

// onInfo takes DTMF sent as SIP INFO (application/dtmf-relay or application/dtmf).
func (p *Phone) onInfo(req *gsip.Request, tx gsip.ServerTransaction) {
	c := p.callBySIPID(req.CallID().Value())
	if c == nil {
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(h.Value())
	}
	if strings.HasPrefix(ct, grantContentType) {
		p.onGrantInfo(c, req, tx)
		return
	}
	digit := ""
	switch {
	case strings.HasPrefix(ct, "application/dtmf-relay"):
		for _, line := range strings.Split(string(req.Body()), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				digit = strings.TrimSpace(v)
			}
		}
	case strings.HasPrefix(ct, "application/dtmf"):
		digit = strings.TrimSpace(string(req.Body()))
	}
	_ = tx.Respond(gsip.NewResponseFromRequest(req, 200, "OK", nil))
	if d := normDigit(digit); d != 0 {
		c.onDTMF(d)
	}
}

func normDigit(s string) rune {
	if s == "10" {
		return '*'
	}
	if s == "11" {
		return '#'
	}
	if len(s) != 1 {
		return 0
	}
	r := rune(s[0])
	switch {
	case r >= '0' && r <= '9', r == '*', r == '#':
		return r
	case r >= 'A' && r <= 'D':
		return r
	case r >= 'a' && r <= 'd':
		return r - 'a' + 'A'
	}
	return 0
}

// SendDTMF sends digits in-band as RFC 4733 events on a call.
func (p *Phone) SendDTMF(id, digits string) (string, error) {
	for _, r := range digits {
		if normDigit(string(r)) == 0 {
			return "", fmt.Errorf("%q: %w", digits, ErrBadDTMF)
		}
	}
	c, err := p.find(id, func(s CallState) bool { return s == StateActive })
	if err != nil {
		return "", err
	}
	if c.getState() != StateActive {
		return "", ErrBadState
	}
	if err := c.stream.SendDTMF(strings.ToUpper(digits)); err != nil {
		return "", err
	}
	if len(digits) == 1 && p.outputIsDevice() {
		_ = p.au.feedback.Press(rune(digits[0])) // the operator hears the key
	}
	return c.id, nil
}

// SetMuted mutes or unmutes the microphone on every call.
func (p *Phone) SetMuted(m bool) {
	p.mu.Lock()
	p.muted = m
	p.mu.Unlock()
	calls := p.snapshot()
	for _, c := range calls {
		if c.mon == nil { // a monitor session is the supervisor's ear
			c.stream.SetMuted(m)
		}
	}
	if m {
		p.publish(Event{Type: EvMuted, Text: "microphone muted"})
	} else {
		p.publish(Event{Type: EvUnmuted, Text: "microphone on"})
	}
}
