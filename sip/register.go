package sip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	gsip "github.com/emiago/sipgo/sip"
)

// registration is the REGISTER client state (RFC 3261 §10.2): one Call-ID
// for the life of the phone and a CSeq that only grows, and where the
// binding is.
type registration struct {
	mu      sync.Mutex
	state   RegState
	expires int
	lastErr string
	callID  string
	fromTag string
	cseq    uint32
	at      *target // the registrar the binding is at; nil: none yet
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

// bound records a binding granted at t for expires seconds and reports
// whether the phone was registered already (somewhere).
func (r *registration) bound(t target, expires int) (was RegState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	was = r.state
	r.state, r.expires, r.lastErr, r.at = RegRegistered, expires, "", &t
	return was
}

// drop forgets a binding at t.
func (r *registration) drop(t target) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.at != nil && r.at.addr() == t.addr() {
		r.at = nil
	}
}

// target is the registrar the binding is at, if any.
func (r *registration) target() (target, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.at == nil {
		return target{}, false
	}
	return *r.at, true
}

// isRegistered reports whether the phone holds a binding now.
func (p *Phone) isRegistered() bool {
	st, _, _ := p.reg.get()
	return st == RegRegistered
}

// Registration timing.
const (
	regBackoffMin = 1 * time.Second
	regBackoffMax = 60 * time.Second
	// probeEvery is the pause between rounds of probes while no registrar
	// answers (plus up to probeJitter, so that a room of phones does not
	// probe in step).
	probeEvery  = 1 * time.Second
	probeJitter = 500 * time.Millisecond
	// regWait bounds one REGISTER to a registrar that answered a probe:
	// shorter than Timer F (64·T1), so that a registrar that went silent
	// again is probed anew soon.
	regWait = 10 * time.Second
	// directEvery: while no registrar answers probes, a REGISTER is still
	// tried this often, for a registrar that ignores OPTIONS.
	directEvery = 60 * time.Second
	directWait  = 4 * time.Second
	// resolveEvery is how long DNS answers for the registrars are used.
	resolveEvery = 60 * time.Second
	// remindEvery is how often an unchanged "unreachable" is published
	// again, for subscribers that came later.
	remindEvery = 30 * time.Second
)

// failKind sorts registration failures by what the loop does next.
type failKind int

const (
	// failRefused: the registrar answered no (401, 403, 404...): back
	// off, stay with it.
	failRefused failKind = iota
	// failNoAnswer: a timeout or transport error: probe every second or
	// two, try the next registrar.
	failNoAnswer
	// failUnusable: it answered but cannot serve (503, a certificate that
	// fails verification): back off, try the next registrar.
	failUnusable
)

// regError is a registration failure of a kind.
type regError struct {
	kind failKind
	err  error
}

func (e *regError) Error() string { return e.err.Error() }
func (e *regError) Unwrap() error { return e.err }

func noAnswer(t target, err error) error {
	return &regError{kind: failNoAnswer, err: fmt.Errorf("registrar %s did not answer: %w", t.name(), err)}
}

func kindOf(err error) failKind {
	var re *regError
	if errors.As(err, &re) {
		return re.kind
	}
	return failRefused
}

// regLoop is the registration state machine's memory. It belongs to
// registerLoop's goroutine, and to Close once that has ended.
type regLoop struct {
	p          *Phone
	targets    []target
	resolvedAt time.Time
	flows      map[string]*flow // TCP/TLS: open connections by target address
	answered   string           // UDP: the address that answered last
	justLost   string           // the address lost last: the next round tries the others first
	down       time.Time        // since when no registrar answers; zero while one does
	backoff    time.Duration
	lastDirect time.Time
	told       time.Time // when a failure was last published
}

func newRegLoop(p *Phone) *regLoop {
	// The first REGISTER without a probe answered comes after directEvery.
	return &regLoop{p: p, flows: map[string]*flow{}, backoff: regBackoffMin, lastDirect: time.Now()}
}

// registerLoop keeps the binding alive (RFC 5626 §4.4 in spirit): it
// registers at the first registrar, in order, that answers; refreshes at
// 80 % of the granted expiry; checks the way there every Keepalive; and
// when it breaks, probes every second or two and registers again as soon
// as one answers, going back to an earlier registrar once it answers again.
func (p *Phone) registerLoop() {
	defer p.wg.Done()
	l := p.rl
	for !p.closing() {
		t, wait, err := l.reach()
		if err == nil {
			err = l.register(t, wait)
		}
		if err != nil {
			if p.closing() {
				return
			}
			l.fail(err)
			if !l.sleep(l.retryIn(err)) {
				return
			}
			continue
		}
		if !l.hold(t) {
			return
		}
	}
}

// reach returns the first registrar, in order, that answers, and how long
// its REGISTER may take. The one in use is taken as answering while its
// connection (TCP, TLS) is open or it answered last (UDP); the others are
// probed.
func (l *regLoop) reach() (target, time.Duration, error) {
	p := l.p
	if l.targets == nil || time.Since(l.resolvedAt) > resolveEvery {
		ts, err := p.resolveTargets(p.ctx)
		if err != nil {
			return target{}, 0, &regError{kind: failNoAnswer, err: fmt.Errorf("cannot find the registrar: %w", err)}
		}
		l.targets, l.resolvedAt = ts, time.Now()
	}
	var errs []error
	skip := l.justLost
	l.justLost = ""
	for _, t := range l.targets {
		if t.addr() == skip && len(l.targets) > 1 {
			continue
		}
		if l.answering(t) {
			return t, regWait, nil
		}
		f, err := p.probe(p.ctx, t)
		if p.closing() {
			return target{}, 0, ErrClosed
		}
		if err == nil {
			l.answeredBy(t, f)
			return t, regWait, nil
		}
		p.log.Debug("registrar probe failed", "registrar", t.name(), "addr", t.addr(), "err", err)
		errs = append(errs, err)
	}
	if p.transport == "udp" && time.Since(l.lastDirect) >= directEvery {
		l.lastDirect = time.Now()
		return l.targets[0], directWait, nil
	}
	return target{}, 0, telling(errs)
}

// telling picks the error to show from one per registrar: the first that
// says more than "did not answer", else the first.
func telling(errs []error) error {
	for _, err := range errs {
		if kindOf(err) != failNoAnswer {
			return err
		}
	}
	return errs[0]
}

// answering reports whether t is known to answer without a probe.
func (l *regLoop) answering(t target) bool {
	if f := l.flows[t.addr()]; f != nil {
		return !f.closed()
	}
	return l.answered == t.addr()
}

// answeredBy notes that t answered a probe, over f (TCP, TLS).
func (l *regLoop) answeredBy(t target, f *flow) {
	if f == nil {
		l.answered = t.addr()
		return
	}
	if old := l.flows[t.addr()]; old != nil && old != f {
		_ = old.Close()
	}
	l.flows[t.addr()] = f
}

// forget drops what is known about t answering, closing its connection;
// a binding there counts as lost (it is not removed when the phone moves
// on).
func (l *regLoop) forget(t target) {
	l.p.reg.drop(t)
	if l.answered == t.addr() {
		l.answered = ""
	}
	if f := l.flows[t.addr()]; f != nil {
		_ = f.Close()
		delete(l.flows, t.addr())
	}
}

// register binds the phone at t and, when the binding was at another
// registrar before, removes that one.
func (l *regLoop) register(t target, wait time.Duration) error {
	p := l.p
	ctx, cancel := context.WithTimeout(p.ctx, wait)
	defer cancel()
	if f := l.flows[t.addr()]; f != nil {
		// A REGISTER on a connection that broke is not answered: do not
		// wait for its timer. The goroutine ends with ctx at the latest.
		go func() {
			select {
			case <-f.done:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	granted, err := p.register(ctx, t, int(p.cfg.Expires/time.Second))
	if err != nil {
		if kindOf(err) != failRefused {
			l.forget(t)
		}
		return err
	}
	prev, hadPrev := p.reg.target()
	was := p.reg.bound(t, granted)
	l.answered = t.addr()
	if was != RegRegistered || !l.down.IsZero() || (hadPrev && prev.addr() != t.addr()) {
		text := fmt.Sprintf("registered as %s at %s for %d s", p.aor.String(), t.name(), granted)
		if !l.down.IsZero() {
			text += fmt.Sprintf(" (no registrar answered from %s)", l.down.Format(time.TimeOnly))
		}
		p.log.Info("registered", "aor", p.aor.String(), "registrar", t.name(), "addr", t.addr(), "expires", granted)
		p.publish(Event{Type: EvRegistered, Text: text})
	}
	l.down, l.backoff = time.Time{}, regBackoffMin
	if hadPrev && prev.addr() != t.addr() {
		l.unbind(prev)
	}
	return nil
}

// unbind removes the binding at a registrar the phone moved away from,
// best effort, and closes the connection there.
func (l *regLoop) unbind(t target) {
	ctx, cancel := context.WithTimeout(l.p.ctx, optionsWait)
	defer cancel()
	if _, err := l.p.register(ctx, t, 0); err != nil {
		l.p.log.Info("could not remove the binding at the registrar left", "registrar", t.name(), "err", err)
	}
	l.forget(t)
}

// fail records a failed attempt: status, log, and an event when what the
// operator should read changed.
func (l *regLoop) fail(err error) {
	p := l.p
	text := err.Error()
	if kindOf(err) == failNoAnswer {
		if l.down.IsZero() {
			l.down = time.Now()
		}
		text = fmt.Sprintf("%s did not answer: unreachable since %s — retrying", l.names(), l.down.Format(time.TimeOnly))
		var dns *net.DNSError
		if errors.As(err, &dns) {
			text = fmt.Sprintf("%s cannot be found in DNS (%s) since %s — retrying", l.names(), dns.Err, l.down.Format(time.TimeOnly))
		}
	}
	l.answered = ""
	was, _, last := p.reg.get()
	p.reg.set(RegFailed, 0, text)
	// Every refusal is told (they are a back-off apart); while nothing
	// answers, what changed and a reminder now and then, not every probe.
	if kindOf(err) == failNoAnswer && was == RegFailed && last == text && time.Since(l.told) < remindEvery {
		p.log.Debug("registration failed", "registrars", l.names(), "err", err.Error())
		return
	}
	l.told = time.Now()
	p.log.Warn("registration failed", "registrars", l.names(), "err", err.Error())
	p.publish(Event{Type: EvRegistrationFailed, Text: text})
}

// names lists the configured registrars for the operator.
func (l *regLoop) names() string {
	names := make([]string, 0, len(l.p.registrars))
	for _, u := range l.p.registrars {
		names = append(names, target{reg: u}.name())
	}
	if len(names) == 1 {
		return "registrar " + names[0]
	}
	return "registrars " + strings.Join(names, ", ")
}

// retryIn is the pause after a failed attempt: a probe round every second
// or two while nothing answers; growing back-off while a registrar says no.
func (l *regLoop) retryIn(err error) time.Duration {
	if kindOf(err) == failNoAnswer {
		return probeEvery + rand.N(probeJitter)
	}
	// Full jitter around the current step, so a team of phones does not
	// hammer a PBX that just came back all at the same moment.
	wait := time.Duration(float64(l.backoff) * (0.5 + rand.Float64()))
	l.backoff = min(l.backoff*2, regBackoffMax)
	return wait
}

// sleep waits d; false when the phone closes first.
func (l *regLoop) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-l.p.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// closeFlows closes every connection to a registrar (the phone closes).
func (l *regLoop) closeFlows() {
	for addr, f := range l.flows {
		_ = f.Close()
		delete(l.flows, addr)
	}
}

// register sends one REGISTER to t (expires 0 removes the binding) and
// answers a 401/407 challenge. It returns the expiry the registrar granted.
func (p *Phone) register(ctx context.Context, t target, expires int) (int, error) {
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

	req := gsip.NewRequest(gsip.REGISTER, t.reg)
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
	p.toTarget(req, t)

	res, err := p.cli.Do(ctx, req, sipgo.ClientRequestBuild)
	if err != nil {
		return 0, noAnswer(t, err)
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		if p.cfg.Password == "" {
			return 0, fmt.Errorf("the PBX asks for a password (%d) and none is configured (set OPDESK_SIP_PASSWORD)", res.StatusCode)
		}
		res, err = p.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.cfg.User, Password: p.cfg.Password})
		if err != nil {
			return 0, noAnswer(t, err)
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
				return p.register(ctx, t, m)
			}
		}
		return 0, fmt.Errorf("the PBX refused the expiry (423)")
	case res.StatusCode == 503:
		// RFC 3263 §4.3: try the next one.
		return 0, &regError{kind: failUnusable, err: fmt.Errorf("the PBX refused the registration (503 %s)", Clean(res.Reason))}
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
