package sip

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	gsip "github.com/emiago/sipgo/sip"
)

// Keep-alive and probe timing.
const (
	// pongWait is how long a CRLF ping may go unanswered (RFC 5626
	// §4.4.1: 10 s) before the connection counts as broken.
	pongWait = 10 * time.Second
	// optionsWait bounds an OPTIONS keep-alive or probe over UDP: its
	// retransmissions at 0.5 and 1.5 s fit inside.
	optionsWait = 2 * time.Second
	// dialWait bounds opening a TCP or TLS connection to a registrar.
	dialWait = 5 * time.Second
)

// flow is a TCP or TLS connection the phone opened to a registrar (RFC
// 5626 §3: a flow). It is handed to sipgo, which reads requests and
// responses from it and sends what goes to the registrar's address over
// it, so the registrar can send calls back over it. Reading notes when
// the connection last said anything, pongs included.
type flow struct {
	net.Conn

	lastRead atomic.Int64 // unix nanoseconds
	ponged   atomic.Bool  // a CRLF pong came: the registrar answers pings
	done     chan struct{}
	once     sync.Once
}

func newFlow(c net.Conn) *flow {
	f := &flow{Conn: c, done: make(chan struct{})}
	f.lastRead.Store(time.Now().UnixNano())
	return f
}

// Read is sipgo's read loop: it must not block beyond the connection.
func (f *flow) Read(b []byte) (int, error) {
	n, err := f.Conn.Read(b)
	if n > 0 {
		f.lastRead.Store(time.Now().UnixNano())
		if n <= 4 && len(bytes.Trim(b[:n], "\r\n")) == 0 {
			f.ponged.Store(true)
		}
	}
	if err != nil {
		f.end()
	}
	return n, err
}

// Close ends the flow; sipgo's read loop then drops it from its pool.
func (f *flow) Close() error {
	f.end()
	return f.Conn.Close()
}

func (f *flow) end() { f.once.Do(func() { close(f.done) }) }

// closed reports whether the connection is gone.
func (f *flow) closed() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// ping sends a CRLF keep-alive (RFC 5626 §3.5.1) and returns when it went.
func (f *flow) ping() (time.Time, error) {
	at := time.Now()
	_ = f.SetWriteDeadline(at.Add(dialWait))
	_, err := f.Write([]byte("\r\n\r\n"))
	_ = f.SetWriteDeadline(time.Time{})
	return at, err
}

// silentSince reports whether nothing came since t from a registrar that
// has answered pings before. One that never did (it may not implement RFC
// 5626) is judged by the connection alone.
func (f *flow) silentSince(t time.Time) bool {
	return f.ponged.Load() && f.lastRead.Load() < t.UnixNano()
}

// connFeed is a net.Listener that hands sipgo the connections the phone
// opened itself, as if it had accepted them: sipgo then reads from them
// and pools them by remote address, so requests to the registrar and
// responses to what came over them reuse them.
type connFeed struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newConnFeed(addr net.Addr) *connFeed {
	return &connFeed{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *connFeed) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connFeed) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *connFeed) Addr() net.Addr { return l.addr }

// serveFeed lets sipgo serve the connections the phone opens to
// registrars (keepalive.go) until the feed is closed.
func (p *Phone) serveFeed(serve func(net.Listener) error) {
	p.lnWG.Add(1)
	go func() {
		defer p.lnWG.Done()
		_ = serve(p.feed)
	}()
}

// closers closes several things as one.
type closers []io.Closer

func (cs closers) Close() error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// openFlow connects to t over TCP or TLS (verifying its certificate as
// t.tlsName), hands the connection to sipgo and returns once sipgo has
// pooled it.
func (p *Phone) openFlow(ctx context.Context, t target) (*flow, error) {
	ctx, cancel := context.WithTimeout(ctx, dialWait)
	defer cancel()
	d := net.Dialer{}
	if ip := net.ParseIP(p.host); ip != nil {
		d.LocalAddr = &net.TCPAddr{IP: ip}
	}
	c, err := d.DialContext(ctx, "tcp", t.addr())
	if err != nil {
		return nil, noAnswer(t, err)
	}
	if p.transport == "tls" {
		tc := tls.Client(c, tlsConfig(p.roots, t.tlsName))
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = c.Close()
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil, noAnswer(t, err)
			}
			return nil, &regError{kind: failUnusable, err: tlsFailure(err, t.tlsName)}
		}
		c = tc
	}
	f := newFlow(c)
	select {
	case p.feed.conns <- f:
	case <-p.feed.done:
		_ = c.Close()
		return nil, ErrClosed
	case <-ctx.Done():
		_ = c.Close()
		return nil, noAnswer(t, ctx.Err())
	}
	// sipgo pools an accepted connection before it accepts the next one:
	// wait until it is there, so the REGISTER cannot open another. The
	// reference taken is the flow's for its life.
	pool := p.ua.TransportLayer().Pool(p.transport)
	remote := c.RemoteAddr().String()
	for !pooled(pool, remote, f) {
		if f.closed() {
			return nil, noAnswer(t, errors.New("the connection closed at once"))
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, noAnswer(t, ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
	p.log.Info("connected to registrar", "registrar", t.name(), "addr", t.addr(), "transport", p.transport, "local", c.LocalAddr().String())
	return f, nil
}

// pooled reports whether sipgo's pool holds f for addr, taking a
// reference when it does.
func pooled(pool *gsip.ConnectionPool, addr string, f *flow) bool {
	c := pool.Get(addr)
	if c == nil {
		return false
	}
	if tc, ok := c.(*gsip.TCPConnection); ok && tc.Conn == net.Conn(f) {
		return true
	}
	_, _ = c.TryClose() // another connection to addr: give its reference back
	return false
}

// options sends an OPTIONS to the registrar at t (RFC 3261 §11) and
// returns nil on any response: it answered.
func (p *Phone) options(ctx context.Context, t target) error {
	ctx, cancel := context.WithTimeout(ctx, optionsWait)
	defer cancel()
	ruri := gsip.Uri{Scheme: t.reg.Scheme, Host: t.reg.Host, Port: t.reg.Port}
	req := gsip.NewRequest(gsip.OPTIONS, ruri)
	from := &gsip.FromHeader{Address: p.aor, Params: gsip.NewParams()}
	from.Params.Add("tag", gsip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&gsip.ToHeader{Address: ruri})
	req.AppendHeader(gsip.NewHeader("Accept", "application/sdp"))
	p.toTarget(req, t)
	res, err := p.cli.Do(ctx, req, sipgo.ClientRequestBuild)
	if err != nil {
		return noAnswer(t, err)
	}
	p.log.Debug("registrar answered OPTIONS", "registrar", t.name(), "code", res.StatusCode)
	return nil
}

// toTarget sends req to t's address over the phone's transport.
func (p *Phone) toTarget(req *gsip.Request, t target) {
	req.SetTransport(p.sipTransport())
	req.SetDestination(t.addr())
}

// sipTransport is the phone's transport as a Via names it: UDP, TCP or TLS.
func (p *Phone) sipTransport() string { return strings.ToUpper(p.transport) }

// probe checks whether t answers: an OPTIONS over UDP, a connection over
// TCP and TLS (returned, to register over).
func (p *Phone) probe(ctx context.Context, t target) (*flow, error) {
	if p.transport == "udp" {
		return nil, p.options(ctx, t)
	}
	return p.openFlow(ctx, t)
}

// keepalive checks the way to the registrar in use (RFC 5626 §4.4): an
// OPTIONS over UDP; a CRLF ping over the connection, whose pong the caller
// checks for later against the time returned. An error means the
// registrar is lost.
func (p *Phone) keepalive(ctx context.Context, t target, f *flow) (pingAt time.Time, err error) {
	if f == nil {
		return time.Time{}, p.options(ctx, t)
	}
	at, err := f.ping()
	if err != nil {
		_ = f.Close()
		return time.Time{}, noAnswer(t, fmt.Errorf("keep-alive: %w", err))
	}
	return at, nil
}

// hold keeps the binding at t until its refresh is due, the way there
// breaks, or a registrar earlier in the list answers again; false when the
// phone closes.
func (l *regLoop) hold(t target) bool {
	p := l.p
	_, granted, _ := p.reg.get()
	refresh := time.NewTimer(time.Duration(granted) * time.Second * 8 / 10)
	defer refresh.Stop()
	var tick <-chan time.Time
	if ka := p.cfg.Keepalive; ka > 0 {
		tk := time.NewTicker(ka)
		defer tk.Stop()
		tick = tk.C
	}
	f := l.flows[t.addr()]
	var broke <-chan struct{}
	if f != nil {
		broke = f.done
	}
	var pong <-chan time.Time
	var pingAt time.Time
	for {
		select {
		case <-p.ctx.Done():
			return false
		case <-refresh.C:
			return true
		case <-broke:
			l.lost(t, errors.New("the connection closed"))
			return true
		case <-tick:
			if l.earlierAnswers(t) {
				return true
			}
			at, err := p.keepalive(p.ctx, t, f)
			if p.closing() {
				return false
			}
			if err != nil {
				l.lost(t, err)
				return true
			}
			if f != nil {
				// Before the next ping, so one pong is never judged late
				// against a later ping.
				pingAt, pong = at, time.After(min(pongWait, p.cfg.Keepalive/2))
			}
		case <-pong:
			pong = nil
			if f.silentSince(pingAt) {
				l.lost(t, errors.New("no pong to the keep-alive"))
				return true
			}
		}
	}
}

// lost notes that the way to t broke: the registration counts as failed
// until a registrar answers again.
func (l *regLoop) lost(t target, why error) {
	l.p.log.Warn("lost the registrar", "registrar", t.name(), "addr", t.addr(), "err", why.Error())
	l.forget(t)
	l.justLost = t.addr()
	l.fail(noAnswer(t, why))
}

// earlierAnswers probes the registrars before t in the list and reports
// whether one answers: the phone then moves back to it.
func (l *regLoop) earlierAnswers(t target) bool {
	for _, e := range l.targets {
		if e.addr() == t.addr() {
			return false
		}
		if f, err := l.p.probe(l.p.ctx, e); err == nil {
			l.p.log.Info("an earlier registrar answers again", "registrar", e.name(), "addr", e.addr())
			l.answeredBy(e, f)
			return true
		}
	}
	return false
}
