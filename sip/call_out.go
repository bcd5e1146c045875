package sip

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo"
	gsip "github.com/emiago/sipgo/sip"

	"github.com/opdesk/opdesk/sip/sdp"
)

// Dial starts an outbound call to target (a number, a user name or a SIP
// URI) and returns its id at once; progress comes as events. It is DialWith
// with no options.
func (p *Phone) Dial(ctx context.Context, target string) (string, error) {
	return p.DialWith(ctx, target, DialOptions{})
}

var (
	errLocalCancel = errors.New("cancelled by the operator")
	errRingTimeout = errors.New("ring timeout")
)

// DialAs is Dial with another caller: the From is user (separators such
// as "-" stripped) at the phone's domain, with no display name, as a PSTN
// caller's would be. The demo line calls the operator from a seeded
// customer's number with it.
func (p *Phone) DialAs(ctx context.Context, target, user string) (string, error) {
	u := dialString(strings.TrimSpace(user))
	if u == "" {
		return "", fmt.Errorf("%w: caller %q is not a number or user name", ErrBadTarget, user)
	}
	return p.dialOut(ctx, target, outSpec{fromUser: u})
}

// dial places a call; extra headers (Replaces, Referred-By) go on the INVITE.
func (p *Phone) dial(ctx context.Context, target string, extra []gsip.Header) (string, error) {
	return p.dialOut(ctx, target, outSpec{extra: extra})
}

// dialOut places a call shaped by spec and returns its id once the INVITE
// is on its way.
func (p *Phone) dialOut(_ context.Context, target string, spec outSpec) (string, error) {
	if p.closing() {
		return "", ErrClosed
	}
	uri, err := p.targetURI(target)
	if err != nil {
		return "", err
	}
	c, err := p.newCall(Outbound, uri, "")
	if err != nil {
		return "", err
	}
	c.ringTimeout = cmp.Or(spec.ringTimeout, p.cfg.RingTimeout)
	c.grant = spec.grant != ""
	offer, err := c.sess.Offer(c.local())
	if err != nil {
		c.end(CauseError, 0, "could not build the SDP offer: "+err.Error())
		return "", err
	}
	req := p.newInvite(uri, offer, spec)
	c.bindCallID(req.CallID().Value())

	dialCtx, cancel := context.WithCancelCause(p.ctx)
	c.mu.Lock()
	c.cancelDial = cancel
	c.mu.Unlock()
	p.publish(c.event(EvDialing, "calling "+uri.String()))
	p.log.Info("dialing", "call", c.id, "to", uri.String())
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		c.runOutbound(dialCtx, req)
	}()
	return c.id, nil
}

// newInvite builds the initial INVITE to uri carrying the SDP offer.
func (p *Phone) newInvite(uri gsip.Uri, offer []byte, spec outSpec) *gsip.Request {
	req := gsip.NewRequest(gsip.INVITE, p.requestTarget(uri))
	req.SetBody(offer)
	req.AppendHeader(gsip.NewHeader("Content-Type", "application/sdp"))
	from := &gsip.FromHeader{DisplayName: p.cfg.DisplayName, Address: p.aor, Params: gsip.NewParams()}
	if spec.fromUser != "" {
		from.DisplayName, from.Address.User = "", spec.fromUser
	}
	from.Params.Add("tag", gsip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&gsip.ToHeader{Address: gsip.Uri{Scheme: uri.Scheme, User: uri.User, Host: uri.Host, Port: uri.Port}})
	cid := gsip.CallIDHeader(gsip.GenerateTagN(24) + "@" + p.host)
	req.AppendHeader(&cid)
	req.AppendHeader(gsip.NewHeader("Allow", allowMethods))
	req.AppendHeader(gsip.NewHeader("Supported", "replaces"))
	if spec.pai != "" {
		req.AppendHeader(gsip.NewHeader("P-Asserted-Identity", spec.pai))
	}
	for _, h := range spec.extra {
		req.AppendHeader(h)
	}
	if spec.grant != "" {
		req.AppendHeader(gsip.NewHeader(grantHeader, spec.grant))
	}
	if p.registrar != nil {
		// The registrar is our outbound proxy: a pre-loaded route (RFC 3261
		// §8.1.2), which a CANCEL copies, so it takes the INVITE's path.
		req.AppendHeader(&gsip.RouteHeader{Address: p.registrarRoute()})
	}
	if p.transport != "udp" {
		req.SetTransport(p.sipTransport())
	}
	return req
}

// runOutbound sends the INVITE and follows it to an answer or an end.
func (c *call) runOutbound(ctx context.Context, req *gsip.Request) {
	p := c.p
	ringCtx, stop := context.WithTimeoutCause(ctx, c.ringTimeout, errRingTimeout)
	defer stop()
	sess, err := p.dua.WriteInvite(context.Background(), req)
	if err != nil {
		c.end(CauseUnreachable, 0, "could not send the call: "+err.Error())
		return
	}
	c.mu.Lock()
	c.uac = sess
	c.mu.Unlock()

	err = sess.WaitAnswer(ringCtx, sipgo.AnswerOptions{
		Username:   p.cfg.User,
		Password:   p.cfg.Password,
		OnResponse: c.onProvisional,
	})
	if err != nil {
		c.failOutbound(ringCtx, err)
		return
	}
	if err := sess.Ack(context.Background()); err != nil {
		p.log.Warn("ACK failed", "call", c.id, "err", err)
	}
	if c.getState() == StateEnded {
		// Hung up while the 200 was on its way: the ACK confirmed it, now BYE.
		c.bye()
		return
	}
	m, err := c.sess.ParseAnswer(sess.InviteResponse.Body())
	if err != nil {
		p.log.Warn("bad SDP answer", "call", c.id, "err", err)
		c.bye()
		cause, text := c.sdpFailure(err, "answered with")
		c.end(cause, 0, text)
		return
	}
	if err := c.applyMedia(m, false, false); err != nil {
		p.log.Warn("media start failed", "call", c.id, "err", err)
	}
	if c.grant {
		c.noteMonitorMode(sess.InviteResponse)
	}
	if c.setState(StateActive) {
		close(c.answered)
		c.answeredMedia()
		ev := c.event(EvAnswered, "answered")
		p.publish(ev)
		p.log.Info("answered", "call", c.id, "codec", m.Codec, "srtp", srtpSuite(m.SRTP))
	}
}

// onProvisional handles 1xx responses. They may come late or out of order
// (sipgo delivers on goroutines); setState ignores what is stale.
func (c *call) onProvisional(r *gsip.Response) error {
	if !r.IsProvisional() || r.StatusCode == 100 {
		return nil
	}
	if alerting(r.StatusCode) {
		c.rang.Store(true) // onWire has usually said so already
	}
	if body := r.Body(); len(body) > 0 && r.StatusCode == 183 || len(body) > 0 && r.StatusCode == 180 {
		m, err := c.sess.ParseAnswer(body)
		if err == nil && c.getState() < StateActive {
			c.stopTone() // the network's own ringback or message plays now
			if err := c.applyMedia(m, true, false); err == nil && c.setState(StateEarly) {
				c.p.publish(c.event(EvEarlyMedia, "the network is playing a message or ringback"))
			}
			return nil
		}
	}
	if r.StatusCode == 180 && c.setState(StateRinging) {
		c.startRingback()
		c.p.publish(c.event(EvRinging, "ringing"))
	}
	return nil
}

// failOutbound ends a call whose INVITE did not get a 2xx.
func (c *call) failOutbound(ctx context.Context, err error) {
	if res, ok := errorsAsResponse(err); ok {
		cause, text := causeFromStatus(res.StatusCode, res.Reason)
		if res.StatusCode == 488 && c.p.srtpPolicy() == sdp.SRTPRequired {
			text = textSRTPRefused
		}
		if w := res.GetHeader("Warning"); w != nil && res.StatusCode == 488 {
			text += ": " + Clean(w.Value())
		}
		if c.grant {
			text = monitorFailText(res.StatusCode, res.Reason, text)
		}
		c.end(cause, res.StatusCode, text)
		return
	}
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errLocalCancel):
		c.end(CauseCancelled, 487, "you cancelled the call before it was answered")
	case errors.Is(cause, errRingTimeout):
		c.end(CauseNoAnswer, 0, "no answer after "+roundDuration(c.ringTimeout).String())
	case errors.Is(cause, errCallEnded):
		// ended elsewhere (shutdown, replaced)
	case ctx.Err() != nil:
		c.end(CauseShutdown, 0, "opdesk was shut down")
	case strings.Contains(err.Error(), "timer_b") || strings.Contains(strings.ToLower(err.Error()), "timeout"):
		c.end(CauseUnreachable, 408, "the PBX or phone did not answer at all (timeout)")
	default:
		c.end(CauseUnreachable, 0, "the call could not be placed: "+err.Error())
	}
}

// targetURI turns what an operator typed into a SIP URI.
func (p *Phone) targetURI(target string) (gsip.Uri, error) {
	t := strings.TrimSpace(target)
	var u gsip.Uri
	if t == "" {
		return u, fmt.Errorf("%w: empty target", ErrBadTarget)
	}
	lower := strings.ToLower(t)
	switch {
	case strings.HasPrefix(lower, "sip:") || strings.HasPrefix(lower, "sips:"):
		if err := gsip.ParseUri(t, &u); err != nil || u.Host == "" {
			return u, fmt.Errorf("%w: %q", ErrBadTarget, target)
		}
		return u, nil
	case strings.HasPrefix(lower, "tel:"):
		t = t[4:]
		if i := strings.IndexByte(t, ';'); i >= 0 {
			t = t[:i]
		}
	}
	if strings.Contains(t, "@") {
		if err := gsip.ParseUri("sip:"+t, &u); err != nil || u.Host == "" {
			return u, fmt.Errorf("%w: %q", ErrBadTarget, target)
		}
		return u, nil
	}
	user := dialString(t)
	if user == "" {
		return u, fmt.Errorf("%w: %q has no digits or name to dial", ErrBadTarget, target)
	}
	if p.loc != nil && p.cfg.Domain == "" {
		// A phone with its own location service is its own domain.
		return gsip.Uri{Scheme: "sip", User: user, Host: p.aor.Host}, nil
	}
	if p.cfg.Domain == "" && p.registrar == nil {
		return u, fmt.Errorf("%q: %w", target, ErrNoRegistrar)
	}
	host, port := p.dialDomain()
	return gsip.Uri{Scheme: "sip", User: user, Host: host, Port: port}, nil
}

// dialString strips visual separators from a number ("03-1234-5678") and
// rejects characters that cannot be in a SIP user part.
func dialString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case strings.ContainsRune("- ().\u3000ー－‐−（）", r): // ASCII and full-width separators
			continue
		case r >= '０' && r <= '９': // full-width digits
			b.WriteRune('0' + (r - '０'))
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z',
			r == '+', r == '*', r == '#', r == '_', r == '~', r == '!':
			b.WriteRune(r)
		default:
			return ""
		}
	}
	return b.String()
}
