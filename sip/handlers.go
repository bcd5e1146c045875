package sip

import (
	"fmt"
	"runtime/debug"
	"strconv"

	"github.com/emiago/sipgo"
	gsip "github.com/emiago/sipgo/sip"
)

// handle registers one handler per SIP method. Handlers run on their own
// goroutines (one per request). It runs before the socket is served (sipgo's
// handler map is not safe to write while requests arrive); a request that
// comes while New is still setting the phone up gets 503.
func (p *Phone) handle() {
	if p.cfg.AcceptRegister {
		p.loc = newLocationService()
	}
	r := p.newRouter(newRateLimiter(p.log))
	for m := range r.routes {
		p.srv.OnRequest(m, r.serve)
	}
	p.srv.OnNoRoute(r.serve)
}

// router is what sipgo's server calls for every request that starts a
// server transaction: the guard (ready, rate limit, well-formed), then the
// method's handler.
type router struct {
	p      *Phone
	lim    *rateLimiter
	routes map[gsip.RequestMethod]sipgo.RequestHandler
}

func (p *Phone) newRouter(lim *rateLimiter) *router {
	routes := map[gsip.RequestMethod]sipgo.RequestHandler{
		gsip.INVITE:  p.onInvite,
		gsip.ACK:     p.onAck,
		gsip.BYE:     p.onBye,
		gsip.OPTIONS: p.onOptions,
		gsip.REFER:   p.onRefer,
		gsip.NOTIFY:  p.onNotify,
		gsip.INFO:    p.onInfo,
		gsip.CANCEL:  onStrayCancel,
	}
	if p.loc != nil {
		routes[gsip.REGISTER] = p.onRegister
	}
	return &router{p: p, lim: lim, routes: routes}
}

// serve guards and dispatches one request. In order, before any work: a
// phone still starting answers 503; a source over its rate limit gets 503
// with Retry-After, or nothing once far over (ratelimit.go); a request
// without the headers every handler relies on gets 400 (RFC 3261 §8.2.2);
// then the method's handler runs (405 for a method opdesk does not take).
// A handler that panics is logged and answered 500 instead of taking the
// whole desk, and the operator's live call, down with it.
func (r *router) serve(req *gsip.Request, tx gsip.ServerTransaction) {
	p := r.p
	if !p.ready.Load() {
		respond(req, tx, 503, "Service Unavailable")
		return
	}
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("SIP handler panicked", "method", string(req.Method), "source", req.Source(),
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			respond(req, tx, 500, "Server Internal Error")
		}
	}()
	if !p.inLiveDialog(req) {
		switch v, retry := r.lim.check(req.Source(), req.Method); v {
		case discard:
			return
		case refuse:
			respond(req, tx, 503, "Service Unavailable", gsip.NewHeader("Retry-After", strconv.Itoa(retry)))
			return
		}
	}
	if reason := malformed(req); reason != "" {
		respond(req, tx, 400, reason)
		return
	}
	h, ok := r.routes[req.Method]
	if !ok {
		h = methodNotAllowed
	}
	h(req, tx)
}

// respond answers req with a body-less response; an ACK is never answered.
func respond(req *gsip.Request, tx gsip.ServerTransaction, code int, reason string, hdrs ...gsip.Header) {
	if req.IsAck() {
		return
	}
	res := gsip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	_ = tx.Respond(res)
}

// inLiveDialog reports whether req belongs to a call that has not ended:
// it carries a To tag and the Call-ID of one of our calls. Such requests
// are never rate limited.
func (p *Phone) inLiveDialog(req *gsip.Request) bool {
	to, cid := req.To(), req.CallID()
	if to == nil || cid == nil {
		return false
	}
	if tag, ok := to.Params.Get("tag"); !ok || tag == "" {
		return false
	}
	c := p.callBySIPID(cid.Value())
	return c != nil && c.getState() != StateEnded
}

// malformed names what is missing from a request that every handler relies
// on (RFC 3261 §8.1.1: To, From, CSeq, Call-ID, Via), or returns "".
func malformed(req *gsip.Request) string {
	switch {
	case req.CallID() == nil || req.CallID().Value() == "":
		return "Missing Call-ID"
	case req.From() == nil:
		return "Missing From"
	case req.To() == nil:
		return "Missing To"
	case req.Via() == nil:
		return "Missing Via"
	case req.CSeq() == nil:
		return "Missing CSeq"
	case req.CSeq().MethodName != req.Method:
		return "CSeq Method Does Not Match"
	}
	return ""
}

// onStrayCancel answers a CANCEL that matched no transaction (one that did
// was handled by sipgo).
func onStrayCancel(req *gsip.Request, tx gsip.ServerTransaction) {
	respond(req, tx, 481, "Call/Transaction Does Not Exist")
}

// methodNotAllowed answers a method opdesk does not take, with the ones it
// does (RFC 3261 §21.4.6).
func methodNotAllowed(req *gsip.Request, tx gsip.ServerTransaction) {
	respond(req, tx, 405, "Method Not Allowed", gsip.NewHeader("Allow", allowMethods))
}

// onOptions answers keep-alive and capability queries (RFC 3261 §11.2).
func (p *Phone) onOptions(req *gsip.Request, tx gsip.ServerTransaction) {
	res := gsip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(gsip.NewHeader("Allow", allowMethods))
	res.AppendHeader(gsip.NewHeader("Accept", "application/sdp"))
	res.AppendHeader(gsip.NewHeader("Supported", "replaces"))
	_ = tx.Respond(res)
}
