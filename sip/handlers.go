package sip

import (
	"github.com/emiago/sipgo"
	gsip "github.com/emiago/sipgo/sip"
)

// handle registers one handler per SIP method. Handlers run on their own
// goroutines (one per request). It runs before the socket is served (sipgo's
// handler map is not safe to write while requests arrive); a request that
// comes while New is still setting the phone up gets 503 (see whenReady).
func (p *Phone) handle() {
	if p.cfg.AcceptRegister {
		p.loc = newLocationService()
		p.srv.OnRegister(p.whenReady(p.onRegister))
	}
	p.srv.OnInvite(p.whenReady(p.onInvite))
	p.srv.OnAck(p.whenReady(p.onAck))
	p.srv.OnBye(p.whenReady(p.onBye))
	p.srv.OnOptions(p.whenReady(p.onOptions))
	p.srv.OnRefer(p.whenReady(p.onRefer))
	p.srv.OnNotify(p.whenReady(p.onNotify))
	p.srv.OnInfo(p.whenReady(p.onInfo))
	p.srv.OnCancel(func(req *gsip.Request, tx gsip.ServerTransaction) {
		// A CANCEL that matched a transaction was handled by sipgo.
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	})
	p.srv.OnNoRoute(func(req *gsip.Request, tx gsip.ServerTransaction) {
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil))
	})
}

// whenReady holds a handler back until New has finished (the dialog UA and
// the phone's context exist): before that a request is answered 503, an
// ACK dropped.
func (p *Phone) whenReady(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *gsip.Request, tx gsip.ServerTransaction) {
		if !p.ready.Load() {
			if !req.IsAck() {
				_ = tx.Respond(gsip.NewResponseFromRequest(req, 503, "Service Unavailable", nil))
			}
			return
		}
		h(req, tx)
	}
}

// onOptions answers keep-alive and capability queries (RFC 3261 §11.2).
func (p *Phone) onOptions(req *gsip.Request, tx gsip.ServerTransaction) {
	res := gsip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(gsip.NewHeader("Allow", allowMethods))
	res.AppendHeader(gsip.NewHeader("Accept", "application/sdp"))
	res.AppendHeader(gsip.NewHeader("Supported", "replaces"))
	_ = tx.Respond(res)
}
