package sip

import (
	gsip "github.com/emiago/sipgo/sip"
)

// handle registers one handler per SIP method. Handlers run on their own
// goroutines (one per request).
func (p *Phone) handle() {
	p.srv.OnInvite(p.onInvite)
	p.srv.OnAck(p.onAck)
	p.srv.OnBye(p.onBye)
	p.srv.OnOptions(p.onOptions)
	p.srv.OnRefer(p.onRefer)
	p.srv.OnNotify(p.onNotify)
	p.srv.OnInfo(p.onInfo)
	p.srv.OnCancel(func(req *gsip.Request, tx gsip.ServerTransaction) {
		// A CANCEL that matched a transaction was handled by sipgo.
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	})
	p.srv.OnNoRoute(func(req *gsip.Request, tx gsip.ServerTransaction) {
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil))
	})
}

// onOptions answers keep-alive and capability queries (RFC 3261 §11.2).
func (p *Phone) onOptions(req *gsip.Request, tx gsip.ServerTransaction) {
	res := gsip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(gsip.NewHeader("Allow", allowMethods))
	res.AppendHeader(gsip.NewHeader("Accept", "application/sdp"))
	res.AppendHeader(gsip.NewHeader("Supported", "replaces"))
	_ = tx.Respond(res)
}
