package sip

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	gsip "github.com/emiago/sipgo/sip"
)

// registration is the REGISTER client state (RFC 3261 §10.2): one Call-ID
// for the life of the phone and a CSeq that only grows.
type registration struct {
	mu      sync.Mutex
	state   RegState
	expires int
	lastErr string
	callID  string
	fromTag string
	cseq    uint32
}

func (r *registration) set(st RegState, expires int, lastErr string) {
	r.mu.Lock()
	r.state, r.expires, r.lastErr = st, expires, lastErr
	r.mu.Unlock()
}

func (r *registration) get() (RegState, int, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state, r.expires, r.lastErr
}

// Backoff bounds after a failed REGISTER.
const (
	regBackoffMin = 1 * time.Second
	regBackoffMax = 60 * time.Second
)

// registerLoop keeps the binding alive: refresh at 80 % of the granted
// expiry, back off with jitter when the registrar fails.
func (p *Phone) registerLoop() {
	defer p.wg.Done()
	backoff := regBackoffMin
	wasOK := false
	for {
		ctx, cancel := context.WithTimeout(p.ctx, 32*time.Second)
		granted, err := p.register(ctx, int(p.cfg.Expires/time.Second))
		cancel()
		if p.closing() {
			return
		}
		var wait time.Duration
		if err != nil {
			text := err.Error()
			p.reg.set(RegFailed, 0, text)
			p.log.Warn("registration failed", "registrar", p.registrar.String(), "err", text)
			p.publish(Event{Type: EvRegistrationFailed, Text: text})
			wasOK = false
			// Full jitter around the current step, so a team of phones does
			// not hammer a PBX that just came back all at the same moment.
			wait = time.Duration(float64(backoff) * (0.5 + rand.Float64()))
			backoff = min(backoff*2, regBackoffMax)
		} else {
			p.reg.set(RegRegistered, granted, "")
			if !wasOK {
				p.log.Info("registered", "aor", p.aor.String(), "expires", granted)
				p.publish(Event{Type: EvRegistered, Text: fmt.Sprintf("registered as %s for %d s", p.aor.String(), granted)})
			}
			wasOK = true
			backoff = regBackoffMin
			wait = time.Duration(granted) * time.Second * 8 / 10
		}
		t := time.NewTimer(wait)
		select {
		case <-p.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// register sends one REGISTER (expires 0 removes the binding) and answers
// a 401/407 challenge. It returns the expiry the registrar granted.
func (p *Phone) register(ctx context.Context, expires int) (int, error) {
	r := &p.reg
	r.mu.Lock()
	if r.callID == "" {
		r.callID = gsip.GenerateTagN(24) + "@" + p.host
		r.fromTag = gsip.GenerateTagN(16)
	}
	r.cseq++
	cseq := r.cseq
	callID, fromTag := r.callID, r.fromTag
	r.mu.Unlock()

	req := gsip.NewRequest(gsip.REGISTER, *p.registrar)
	from := &gsip.FromHeader{DisplayName: p.cfg.DisplayName, Address: p.aor, Params: gsip.NewParams()}
	from.Params.Add("tag", fromTag)
	req.AppendHeader(from)
	req.AppendHeader(&gsip.ToHeader{Address: p.aor})
	cid := gsip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&gsip.CSeqHeader{SeqNo: cseq, MethodName: gsip.REGISTER})
	contact := p.contact.Clone()
	req.AppendHeader(contact)
	exp := gsip.ExpiresHeader(expires)
	req.AppendHeader(&exp)
	req.AppendHeader(gsip.NewHeader("Allow", allowMethods))
	if p.transport == "tcp" {
		req.SetTransport("TCP")
	}

	res, err := p.cli.Do(ctx, req, sipgo.ClientRequestBuild)
	if err != nil {
		return 0, fmt.Errorf("registrar %s did not answer: %w", p.registrar.Host, err)
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		if p.cfg.Password == "" {
			return 0, fmt.Errorf("the PBX asks for a password (%d) and none is configured (set OPDESK_SIP_PASSWORD)", res.StatusCode)
		}
		res, err = p.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.cfg.User, Password: p.cfg.Password})
		if err != nil {
			return 0, fmt.Errorf("registrar %s did not answer: %w", p.registrar.Host, err)
		}
		r.mu.Lock()
		if c := req.CSeq(); c != nil && c.SeqNo > r.cseq {
			r.cseq = c.SeqNo
		}
		r.mu.Unlock()
	}
	switch {
	case res.StatusCode == 401 || res.StatusCode == 407 || res.StatusCode == 403:
		return 0, fmt.Errorf("the PBX rejected the user name or password (%d %s)", res.StatusCode, Clean(res.Reason))
	case res.StatusCode == 423:
		// Interval Too Brief: retry with the minimum it asks for.
		if h := res.GetHeader("Min-Expires"); h != nil && expires != 0 {
			if m, err := strconv.Atoi(h.Value()); err == nil && m > expires && m < 86400 {
				return p.register(ctx, m)
			}
		}
		return 0, fmt.Errorf("the PBX refused the expiry (423)")
	case !res.IsSuccess():
		return 0, fmt.Errorf("the PBX refused the registration (%d %s)", res.StatusCode, Clean(res.Reason))
	}
	return grantedExpiry(res, p.contact.Address, expires), nil
}

// grantedExpiry reads the expiry the registrar granted for our contact
// (RFC 3261 §10.2.4): the contact's expires parameter, else Expires.
func grantedExpiry(res *gsip.Response, ours gsip.Uri, asked int) int {
	for _, h := range res.GetHeaders("Contact") {
		ch, ok := h.(*gsip.ContactHeader)
		if !ok || ch.Address.Host != ours.Host || ch.Address.Port != ours.Port || ch.Address.User != ours.User {
			continue
		}
		if v, ok := ch.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return n
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(h.Value()); err == nil && n > 0 {
			return n
		}
	}
	return asked
}
