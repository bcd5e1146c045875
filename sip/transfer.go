package sip

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	gsip "github.com/emiago/sipgo/sip"
)

// transferState follows a REFER we sent (RFC 3515) through its NOTIFYs.
type transferState struct {
	target   string
	replaces *call // attended: the consultation call
	done     chan struct{}
}

// Transfer hands an answered call over to target (blind transfer, REFER).
func (p *Phone) Transfer(id, target string) (string, error) {
	c, err := p.find(id, func(s CallState) bool { return s.established() })
	if err != nil {
		return "", err
	}
	uri, err := p.targetURI(target)
	if err != nil {
		return "", err
	}
	return c.id, c.refer("<"+uri.String()+">", &transferState{target: uri.String()})
}

// AttendedTransfer connects the parties of two calls and drops out: the
// party on call id is REFERred to the party on call with, replacing that
// dialog (RFC 3891 Replaces in Refer-To, RFC 5589 §7).
func (p *Phone) AttendedTransfer(id, with string) (string, error) {
	if id == "" || with == "" || id == with {
		return "", fmt.Errorf("%w: attended transfer needs two different call ids", ErrBadTarget)
	}
	c, err := p.find(id, nil)
	if err != nil {
		return "", err
	}
	other, err := p.find(with, nil)
	if err != nil {
		return "", err
	}
	if !c.getState().established() || !other.getState().established() {
		return "", fmt.Errorf("both calls must be answered: %w", ErrBadState)
	}
	local, remote := other.tags()
	// The tags as the target sees them: to-tag is its own (our remote).
	replaces := fmt.Sprintf("%s;to-tag=%s;from-tag=%s", other.callID, remote, local)
	other.mu.Lock()
	tu := other.remote
	other.mu.Unlock()
	referTo := fmt.Sprintf("<%s?Replaces=%s>", tu.String(), escapeHeaderValue(replaces))
	return c.id, c.refer(referTo, &transferState{target: tu.String(), replaces: other})
}

// escapeHeaderValue escapes a value for a URI header (RFC 3261 §19.1.1).
func escapeHeaderValue(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func (c *call) refer(referTo string, ts *transferState) error {
	d := c.dialog()
	if d == nil {
		return ErrBadState
	}
	ts.done = make(chan struct{})
	c.mu.Lock()
	c.transfer = ts
	c.mu.Unlock()
	req := gsip.NewRequest(gsip.REFER, c.remoteTarget())
	req.AppendHeader(gsip.NewHeader("Refer-To", referTo))
	req.AppendHeader(gsip.NewHeader("Referred-By", "<"+c.p.aor.String()+">"))
	ctx, cancel := context.WithTimeout(c.p.ctx, 10*time.Second)
	defer cancel()
	res, err := d.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("%w: REFER: %v", ErrTransfer, err)
	}
	if res.StatusCode != 202 && res.StatusCode != 200 {
		_, text := causeFromStatus(res.StatusCode, res.Reason)
		return fmt.Errorf("%w: the other side refused the transfer: %s", ErrTransfer, text)
	}
	ev := c.event(EvTransferring, "transferring to "+ts.target)
	ev.Target = ts.target
	c.p.publish(ev)
	c.p.wg.Add(1)
	go func() {
		defer c.p.wg.Done()
		select {
		case <-ts.done:
		case <-c.done:
		case <-c.p.ctx.Done():
		case <-time.After(60 * time.Second):
			c.transferResult(ts, 408, "no result from the transfer within 60 s")
		}
	}()
	return nil
}

// transferResult finishes a transfer we started with the final status the
// transferee reported.
func (c *call) transferResult(ts *transferState, code int, reason string) {
	c.mu.Lock()
	if c.transfer != ts {
		c.mu.Unlock()
		return
	}
	c.transfer = nil
	c.mu.Unlock()
	close(ts.done)
	if code >= 200 && code < 300 {
		ev := c.event(EvTransferred, "transferred to "+ts.target)
		ev.Target, ev.Code = ts.target, code
		c.p.publish(ev)
		go func() {
			c.hangup(c.p.ctx, CauseTransferred, "the call was transferred to "+ts.target)
			if ts.replaces != nil {
				// The target should drop the replaced dialog itself; make sure.
				select {
				case <-ts.replaces.done:
				case <-time.After(3 * time.Second):
					ts.replaces.hangup(c.p.ctx, CauseTransferred, "the call was joined to another by a transfer")
				}
			}
		}()
		return
	}
	_, text := causeFromStatus(code, reason)
	ev := c.event(EvTransferFailed, "the transfer failed: "+text)
	ev.Target, ev.Code = ts.target, code
	c.p.publish(ev)
}

// onNotify takes the progress of a REFER (message/sipfrag bodies).
func (p *Phone) onNotify(req *gsip.Request, tx gsip.ServerTransaction) {
	c := p.callBySIPID(req.CallID().Value())
	if c == nil {
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 481, "Subscription Does Not Exist", nil))
		return
	}
	_ = tx.Respond(gsip.NewResponseFromRequest(req, 200, "OK", nil))
	code, reason, ok := parseSipfrag(req.Body())
	c.mu.Lock()
	ts := c.transfer
	c.mu.Unlock()
	if !ok || ts == nil || code < 200 {
		return
	}
	c.transferResult(ts, code, reason)
}

// parseSipfrag reads the status line of a message/sipfrag body ("SIP/2.0 200 OK").
func parseSipfrag(b []byte) (int, string, bool) {
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(strings.TrimSpace(line))
	if len(f) < 2 || !strings.HasPrefix(strings.ToUpper(f[0]), "SIP/") {
		return 0, "", false
	}
	code, err := strconv.Atoi(f[1])
	if err != nil || code < 100 || code > 699 {
		return 0, "", false
	}
	return code, strings.Join(f[2:], " "), true
}

// onRefer carries out a transfer the PBX or the other party asked of us:
// call the Refer-To target, report progress by NOTIFY, and drop the
// original call when the new one is answered.
func (p *Phone) onRefer(req *gsip.Request, tx gsip.ServerTransaction) {
	c := p.callBySIPID(req.CallID().Value())
	if c == nil || !c.getState().established() {
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	if c.mon != nil {
		// A supervisor's session may not make the agent's desk dial.
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 403, "Forbidden", nil))
		return
	}
	h := req.GetHeader("Refer-To")
	if h == nil {
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 400, "Missing Refer-To", nil))
		return
	}
	_, raw := splitNameAddr(h.Value())
	target, headers, _ := strings.Cut(raw, "?")
	var u gsip.Uri
	if err := gsip.ParseUri(target, &u); err != nil || u.Host == "" {
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 400, "Bad Refer-To", nil))
		return
	}
	var extra []gsip.Header
	if headers != "" {
		if q, err := url.ParseQuery(headers); err == nil {
			if r := q.Get("Replaces"); r != "" {
				extra = append(extra, gsip.NewHeader("Replaces", r))
			}
		}
	}
	if rb := req.GetHeader("Referred-By"); rb != nil {
		extra = append(extra, gsip.NewHeader("Referred-By", rb.Value()))
	}
	_ = tx.Respond(gsip.NewResponseFromRequest(req, 202, "Accepted", nil))
	ev := c.event(EvReferred, "asked to transfer the call to "+u.String())
	ev.Target = u.String()
	p.publish(ev)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		c.notifyRefer(100, "Trying", false)
		id, err := p.dial(p.ctx, u.String(), extra)
		if err != nil {
			c.notifyRefer(503, "Service Unavailable", true)
			return
		}
		p.mu.Lock()
		nc := p.calls[id]
		p.mu.Unlock()
		if nc == nil {
			c.notifyRefer(503, "Service Unavailable", true)
			return
		}
		select {
		case <-nc.answered:
			c.notifyRefer(200, "OK", true)
			ev := c.event(EvTransferred, "transferred to "+u.String())
			ev.Target = id
			p.publish(ev)
			c.hangup(p.ctx, CauseTransferred, "the call was transferred")
		case <-nc.done:
			nc.mu.Lock()
			code := nc.endCode
			nc.mu.Unlock()
			if code < 300 {
				code = 503
			}
			c.notifyRefer(code, "Failed", true)
		case <-p.ctx.Done():
		}
	}()
}

// notifyRefer reports the progress of a REFER we accepted (RFC 3515 §2.4.5).
func (c *call) notifyRefer(code int, reason string, final bool) {
	d := c.dialog()
	if d == nil {
		return
	}
	req := gsip.NewRequest(gsip.NOTIFY, c.remoteTarget())
	req.AppendHeader(gsip.NewHeader("Event", "refer"))
	state := "active;expires=60"
	if final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(gsip.NewHeader("Subscription-State", state))
	req.AppendHeader(gsip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte(fmt.Sprintf("SIP/2.0 %d %s\r\n", code, reason)))
	ctx, cancel := context.WithTimeout(c.p.ctx, 5*time.Second)
	defer cancel()
	if _, err := d.Do(ctx, req); err != nil {
		c.p.log.Warn("NOTIFY failed", "call", c.id, "err", err)
	}
}

// matchReplaces finds the call a Replaces header names (RFC 3891 §3): its
// to-tag is our local tag and its from-tag the remote one.
func (p *Phone) matchReplaces(v string) *call {
	parts := strings.Split(v, ";")
	c := p.callBySIPID(strings.TrimSpace(parts[0]))
	if c == nil {
		return nil
	}
	var toTag, fromTag string
	for _, kv := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			toTag = val
		case "from-tag":
			fromTag = val
		}
	}
	local, remote := c.tags()
	if toTag != local || fromTag != remote || c.getState() == StateEnded {
		return nil
	}
	return c
}
