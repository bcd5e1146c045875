package sip

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	gsip "github.com/emiago/sipgo/sip"

	"github.com/opdesk/opdesk/sip/sdp"
)

// inboundRingLimit is how long an incoming call may ring unanswered
// before it is refused with 480.
const inboundRingLimit = 3 * time.Minute

// onInvite handles a new INVITE, or a re-INVITE when it carries a To tag.
// It blocks until the INVITE has a final response: sipgo terminates the
// server transaction when the handler returns. An INVITE carrying a grant
// is a supervisor's monitor session (monitor.go): it never rings.
func (p *Phone) onInvite(req *gsip.Request, tx gsip.ServerTransaction) {
	if to := req.To(); to != nil {
		if _, ok := to.Params.Get("tag"); ok {
			p.onReInvite(req, tx)
			return
		}
	}
	if p.closing() {
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 503, "Service Unavailable", nil))
		return
	}
	_ = tx.Respond(gsip.NewResponseFromRequest(req, 100, "Trying", nil))
	if h := req.GetHeader(grantHeader); h != nil {
		p.onMonitorInvite(req, tx, strings.TrimSpace(h.Value()))
		return
	}

	var replaced *call
	if h := req.GetHeader("Replaces"); h != nil {
		replaced = p.matchReplaces(h.Value())
		if replaced == nil {
			_ = tx.Respond(gsip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
			return
		}
	}

	c, sess, answer, neg := p.takeInvite(req, tx, nil)
	if c == nil {
		return
	}
	defer sess.Close()

	if replaced != nil {
		// Attended transfer to us (RFC 3891): take the new call at once.
		c.answerCh <- struct{}{}
	} else {
		_ = sess.Respond(180, "Ringing", nil)
		ev := c.event(EvIncoming, "incoming call from "+displayOf(c))
		p.publish(ev)
		c.startRinger()
		p.log.Info("incoming call", "call", c.id, "from", c.remote.String())
	}

	// A PBX cancels a call nobody answers; a scanner's INVITE is never
	// cancelled and would ring on the operator's screen for ever.
	ringLimit := time.NewTimer(inboundRingLimit)
	defer ringLimit.Stop()
	select {
	case <-c.answerCh:
	case code := <-c.rejectCh:
		reason := "Busy Here"
		if code == 603 {
			reason = "Decline"
		}
		// Ended before the answer goes out: a caller that never ACKs (a
		// scanner) must not keep the operator's hang-up waiting.
		c.end(CauseRejected, code, "you rejected the call")
		_ = sess.Respond(code, reason, nil)
		return
	case <-ringLimit.C:
		c.end(CauseNoAnswer, 480, fmt.Sprintf("nobody answered within %v", inboundRingLimit))
		_ = sess.Respond(480, "Temporarily Unavailable", nil)
		return
	case <-sess.Context().Done():
		c.end(CauseRemoteCancel, 487, "the caller hung up before the call was answered")
		return
	case <-c.done:
		return
	case <-p.ctx.Done():
		_ = sess.Respond(480, "Temporarily Unavailable", nil)
		c.end(CauseShutdown, 480, "opdesk was shut down")
		return
	}

	c.markAnswered(req, neg)
	c.answeredMedia()
	p.publish(c.event(EvAnswered, "answered"))
	if replaced != nil {
		go replaced.hangup(p.ctx, CauseReplaced, "the call was taken over by a transfer")
	}
	c.confirm(sess, answer, "the caller's phone never confirmed the answer (no ACK)")
}

// markAnswered starts the media the INVITE's offer negotiated and marks c
// answered.
func (c *call) markAnswered(req *gsip.Request, neg sdp.Media) {
	if len(req.Body()) > 0 {
		if err := c.applyMedia(neg, false, true); err != nil {
			c.p.log.Warn("media start failed", "call", c.id, "err", err)
		}
	}
	c.setState(StateActive)
	close(c.answered)
}

// confirm sends our 200 OK with answer (and hdrs) and waits for the ACK:
// sipgo retransmits the 200 until it comes, or for 64*T1 (RFC 3261
// §13.3.1.4). Without one the call ends with a BYE and noACK as the words.
func (c *call) confirm(sess *sipgo.DialogServerSession, answer []byte, noACK string, hdrs ...gsip.Header) {
	res := gsip.NewSDPResponseFromRequest(sess.InviteRequest, answer) // it carries our To tag
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := sess.WriteResponse(res); err != nil && c.getState() != StateEnded {
		c.p.log.Warn("no ACK for our 200 OK", "call", c.id, "err", err)
		c.bye()
		c.end(CauseError, 0, noACK)
	}
}

// takeInvite reads a new INVITE into a dialog and a new call (mon: the
// call is mon's monitor session) with our SDP for it. When it cannot, it
// has responded, closed the dialog and returns a nil call; else the caller
// closes sess once the INVITE has its final response.
func (p *Phone) takeInvite(req *gsip.Request, tx gsip.ServerTransaction, mon *monitor) (c *call, sess *sipgo.DialogServerSession, answer []byte, neg sdp.Media) {
	sess, err := p.dua.ReadInvite(req, tx)
	if err != nil {
		p.log.Warn("bad INVITE", "err", err)
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return nil, nil, nil, neg
	}
	remote, name := callerOf(req)
	if c, err = p.makeCall(Inbound, remote, name, mon); err != nil {
		p.log.Error("cannot take call", "err", err)
		_ = sess.Respond(500, "Server Internal Error", nil)
		_ = sess.Close()
		if mon == nil {
			p.publish(Event{Type: EvWarning, Remote: remote.String(), Text: "an incoming call could not be taken: " + err.Error()})
		}
		return nil, nil, nil, neg
	}
	c.mu.Lock()
	c.uas = sess
	c.mu.Unlock()
	c.bindCallID(req.CallID().Value())
	answer, neg, ok := c.answerInvite(sess, req)
	if !ok {
		_ = sess.Close()
		return nil, nil, nil, neg
	}
	return c, sess, answer, neg
}

// answerInvite builds our SDP for an INVITE: the answer to its offer, or
// our offer when it has none (delayed offer: the ACK answers). When there
// is none to give it responds with the error, ends c and returns !ok.
func (c *call) answerInvite(sess *sipgo.DialogServerSession, req *gsip.Request) (answer []byte, neg sdp.Media, ok bool) {
	offer := req.Body()
	var err error
	if len(offer) == 0 {
		if answer, err = c.sess.Offer(c.local()); err != nil {
			_ = sess.Respond(500, "Server Internal Error", nil)
			c.end(CauseError, 500, err.Error())
			return nil, neg, false
		}
		return answer, neg, true
	}
	if answer, neg, err = c.sess.Answer(offer, c.local()); err != nil {
		code, reason := offerRefusal(err)
		hdr := gsip.NewHeader("Warning", `305 opdesk "`+warningText(err)+`"`)
		_ = sess.Respond(code, reason, nil, hdr)
		cause, text := c.sdpFailure(err, "offered")
		c.p.log.Info("incoming call refused", "call", c.id, "code", code, "err", err)
		c.end(cause, code, "an incoming call was refused: "+text)
		return nil, neg, false
	}
	return answer, neg, true
}

// offerRefusal is the response to an offer Session.Answer refused: 400
// for SDP we cannot read, 488 Not Acceptable Here for media we cannot do
// (codec, profile, SRTP, no stream at all: RFC 3261 §13.3.1.4).
func offerRefusal(err error) (int, string) {
	if errors.Is(err, sdp.ErrMalformed) {
		return 400, "Bad Request"
	}
	return 488, "Not Acceptable Here"
}

// warningText makes an error fit inside a quoted Warning header text.
func warningText(err error) string { return warningQuotes.Replace(Clean(err.Error())) }

var warningQuotes = strings.NewReplacer(`"`, "'", `\`, "'")

// callerOf picks who is calling: P-Asserted-Identity when present, else From.
func callerOf(req *gsip.Request) (gsip.Uri, string) {
	if h := req.GetHeader("P-Asserted-Identity"); h != nil {
		var u gsip.Uri
		name, uri := splitNameAddr(h.Value())
		if err := gsip.ParseUri(uri, &u); err == nil && u.Host != "" {
			return u, name
		}
	}
	f := req.From()
	if f == nil {
		return gsip.Uri{}, ""
	}
	return f.Address, f.DisplayName
}

// splitNameAddr splits `"Name" <sip:x@y>` into its parts.
func splitNameAddr(v string) (name, uri string) {
	lt, gt := -1, -1
	for i, r := range v {
		if r == '<' && lt < 0 {
			lt = i
		}
		if r == '>' {
			gt = i
		}
	}
	if lt < 0 || gt < lt {
		return "", v
	}
	name = strings.Trim(v[:lt], ` "`)
	return name, v[lt+1 : gt]
}

func displayOf(c *call) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.remoteName != "" {
		return c.remoteName + " <" + c.remote.String() + ">"
	}
	return c.remote.String()
}

// Answer answers a ringing inbound call (id "" = the only one ringing).
func (p *Phone) Answer(id string) (string, error) {
	c, err := p.find(id, func(s CallState) bool { return s == StateIncoming })
	if err != nil {
		return "", err
	}
	if c.getState() != StateIncoming {
		return "", ErrBadState
	}
	select {
	case c.answerCh <- struct{}{}:
	default:
	}
	select {
	case <-c.answered:
		return c.id, nil
	case <-c.done:
		return "", ErrCallFailed
	case <-time.After(5 * time.Second):
		return c.id, nil
	}
}

// Reject refuses a ringing inbound call with 486 Busy Here or 603 Decline.
func (c *call) reject(code int) {
	select {
	case c.rejectCh <- code:
	default:
	}
}
