package sip

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	gsip "github.com/emiago/sipgo/sip"
	"github.com/opdesk/opdesk/test/peers"
)

// fakeRegistrar is a registrar for the registration loop's tests: sipgo on
// a fixed loopback port that answers every REGISTER 200 (for the expiry
// asked) and OPTIONS 200, and can be stopped and started again on the same
// port, as a PBX that restarts.
type fakeRegistrar struct {
	t         *testing.T
	transport string
	addr      string
	tlsConf   *tls.Config // tls: the server's certificate

	mu     sync.Mutex
	regs   []fakeReg
	ua     *sipgo.UserAgent
	closer io.Closer
}

// fakeReg is one REGISTER the fake answered.
type fakeReg struct {
	source  string // where it came from: the phone's connection
	via     string
	contact string
	expires int
}

func startFakeRegistrar(t *testing.T, transport string, tlsConf *tls.Config) *fakeRegistrar {
	t.Helper()
	port := peers.FreeUDPPort(t)
	if transport != "udp" {
		port = peers.FreeTCPPort(t)
	}
	r := &fakeRegistrar{t: t, transport: transport, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), tlsConf: tlsConf}
	r.start()
	t.Cleanup(r.stop)
	return r
}

// uri is the registrar's URI as a phone configures it.
func (r *fakeRegistrar) uri() string { return "sip:" + r.addr }

func (r *fakeRegistrar) start() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("fake-registrar"))
	if err != nil {
		r.t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		r.t.Fatal(err)
	}
	srv.OnRegister(r.onRegister)
	srv.OnOptions(func(req *gsip.Request, tx gsip.ServerTransaction) {
		_ = tx.Respond(gsip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	switch r.transport {
	case "udp":
		c, err := net.ListenPacket("udp4", r.addr)
		if err != nil {
			r.t.Fatal(err)
		}
		go func() { _ = srv.ServeUDP(c) }()
		r.closer = c
	default:
		ln, err := net.Listen("tcp4", r.addr)
		if err != nil {
			r.t.Fatal(err)
		}
		r.closer = ln
		if r.transport == "tls" {
			ln = tls.NewListener(ln, r.tlsConf)
			go func() { _ = srv.ServeTLS(ln) }()
		} else {
			go func() { _ = srv.ServeTCP(ln) }()
		}
	}
	r.ua = ua
}

// stop closes the socket and every connection, as a PBX that dies.
func (r *fakeRegistrar) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ua == nil {
		return
	}
	_ = r.closer.Close()
	_ = r.ua.Close()
	r.ua = nil
}

func (r *fakeRegistrar) onRegister(req *gsip.Request, tx gsip.ServerTransaction) {
	reg := fakeReg{source: req.Source(), expires: -1}
	if v := req.Via(); v != nil {
		reg.via = v.Value()
	}
	res := gsip.NewResponseFromRequest(req, 200, "OK", nil)
	if c := req.Contact(); c != nil {
		reg.contact = c.Address.String()
		res.AppendHeader(c.Clone())
	}
	if h := req.GetHeader("Expires"); h != nil {
		reg.expires, _ = strconv.Atoi(h.Value())
		res.AppendHeader(gsip.NewHeader("Expires", h.Value()))
	}
	r.mu.Lock()
	r.regs = append(r.regs, reg)
	r.mu.Unlock()
	_ = tx.Respond(res)
}

// registers is every REGISTER answered so far.
func (r *fakeRegistrar) registers() []fakeReg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]fakeReg(nil), r.regs...)
}

// optionsTo sends an OPTIONS to user over the connection its last
// REGISTER came on, as a registrar sends a call to a phone it cannot
// connect to (Kamailio's force_tcp_alias), and returns the status code.
func (r *fakeRegistrar) optionsTo(user string) (int, error) {
	regs := r.registers()
	last := regs[len(regs)-1]
	r.mu.Lock()
	ua := r.ua
	r.mu.Unlock()
	cli, err := sipgo.NewClient(ua)
	if err != nil {
		return 0, err
	}
	req := gsip.NewRequest(gsip.OPTIONS, gsip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1"})
	req.SetTransport(strings.ToUpper(r.transport))
	req.SetDestination(last.source)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	res, err := cli.Do(ctx, req)
	if err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

// phoneAt starts a phone registering at r with short keep-alives.
func phoneAt(t *testing.T, cfg Config, r *fakeRegistrar, failover ...*fakeRegistrar) (*Phone, <-chan Event) {
	t.Helper()
	cfg.User, cfg.Registrar, cfg.Transport = "alice", r.uri(), r.transport
	for _, f := range failover {
		cfg.Failover = append(cfg.Failover, f.uri())
	}
	if cfg.Keepalive == 0 {
		cfg.Keepalive = 300 * time.Millisecond
	}
	p := newLocalPhone(t, cfg)
	ev, stop := p.Subscribe(256)
	t.Cleanup(stop)
	return p, ev
}

// waitRegisteredAt waits until p is registered at r and returns how long
// that took.
func waitRegisteredAt(t *testing.T, p *Phone, r *fakeRegistrar, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	waitFor(t, d, "registered at "+r.uri(), func() bool {
		st := p.Status()
		return st.Registration == RegRegistered && st.Registrar == r.uri()
	})
	return time.Since(start)
}

// testTLS is a CA file the phone trusts and the fake's certificate from it.
func testTLS(t *testing.T, names ...string) (caFile string, conf *tls.Config) {
	t.Helper()
	ca := peers.NewCA(t, "loop test CA")
	certFile, keyFile := ca.Issue(t, names...)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return ca.File, &tls.Config{Certificates: []tls.Certificate{cert}}
}

// TestRegisterRecovers: the registrar goes away; the phone says so within
// a keep-alive and a probe, and registers again within two seconds of the
// registrar answering again, over every transport.
func TestRegisterRecovers(t *testing.T) {
	for _, transport := range []string{"udp", "tcp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			var cfg Config
			var conf *tls.Config
			if transport == "tls" {
				cfg.TLSCAFile, conf = testTLS(t, "127.0.0.1", "localhost")
			}
			r := startFakeRegistrar(t, transport, conf)
			p, ev := phoneAt(t, cfg, r)
			waitRegisteredAt(t, p, r, 3*time.Second)
			reg := r.registers()[0]
			if !strings.Contains(reg.via, "SIP/2.0/"+strings.ToUpper(transport)) || !strings.Contains(reg.via, ";rport") {
				t.Errorf("Via %q: want transport %s and rport (RFC 3581)", reg.via, transport)
			}
			if transport != "udp" && !strings.Contains(reg.contact, ";transport="+transport) {
				t.Errorf("Contact %q: want ;transport=%s", reg.contact, transport)
			}

			r.stop()
			failed := nextEvent(t, ev, EvRegistrationFailed, 5*time.Second)
			if !strings.Contains(failed.Text, "registrar "+r.addr+" did not answer: unreachable since ") || !strings.Contains(failed.Text, "retrying") {
				t.Errorf("failure text %q", failed.Text)
			}
			if st := p.Status(); st.Registration != RegFailed || st.LastError != failed.Text {
				t.Errorf("status while down: %+v", st)
			}
			time.Sleep(time.Second)
			n := len(r.registers())
			r.start()
			took := waitRegisteredAt(t, p, r, 4*time.Second)
			t.Logf("%s: registered again %s after the registrar came back", transport, took.Round(time.Millisecond))
			if len(r.registers()) <= n {
				t.Error("no new REGISTER after the restart")
			}
			if ok := nextEvent(t, ev, EvRegistered, time.Second); !strings.Contains(ok.Text, "no registrar answered from") {
				t.Errorf("registered text %q does not say since when it was down", ok.Text)
			}
		})
	}
}

// TestFailoverAndBack: the first registrar stops; the phone registers at
// the next; when the first answers again it moves back and removes the
// binding at the other.
func TestFailoverAndBack(t *testing.T) {
	a := startFakeRegistrar(t, "udp", nil)
	b := startFakeRegistrar(t, "udp", nil)
	p, _ := phoneAt(t, Config{}, a, b)
	waitRegisteredAt(t, p, a, 3*time.Second)
	a.stop()
	took := waitRegisteredAt(t, p, b, 8*time.Second)
	t.Logf("moved to the second registrar %s after the first stopped", took.Round(time.Millisecond))
	a.start()
	took = waitRegisteredAt(t, p, a, 4*time.Second)
	t.Logf("back at the first %s after it came back", took.Round(time.Millisecond))
	waitFor(t, 3*time.Second, "the binding at the second removed", func() bool {
		regs := b.registers()
		return regs[len(regs)-1].expires == 0
	})
}

// TestTLSRequestsOverOwnConnection: the registrar sends a request to the
// phone over the TLS connection the phone opened (the phone serves no TLS
// port of its own); the phone answers it there.
func TestTLSRequestsOverOwnConnection(t *testing.T) {
	caFile, conf := testTLS(t, "127.0.0.1")
	r := startFakeRegistrar(t, "tls", conf)
	p, _ := phoneAt(t, Config{TLSCAFile: caFile}, r)
	waitRegisteredAt(t, p, r, 3*time.Second)
	code, err := r.optionsTo("alice")
	if err != nil || code != 200 {
		t.Fatalf("OPTIONS over the phone's connection: %d %v, want 200", code, err)
	}
	if c, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		if n, _ := c.Read(make([]byte, 1)); n > 0 {
			t.Error("the contact's port served something")
		}
		c.Close()
	}
}

// blackhole is a TCP relay that can stop passing bytes while keeping its
// connections open: a registrar lost behind a NAT that forgot the flow.
type blackhole struct {
	ln   net.Listener
	to   string
	drop atomic.Bool
}

func startBlackhole(t *testing.T, to string) *blackhole {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{ln: ln, to: to}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go b.relay(c)
		}
	}()
	return b
}

func (b *blackhole) relay(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp4", b.to)
	if err != nil {
		return
	}
	defer up.Close()
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 4096)
		for {
			n, err := src.Read(buf)
			if err != nil {
				dst.Close()
				return
			}
			if !b.drop.Load() {
				_, _ = dst.Write(buf[:n])
			}
		}
	}
	go pipe(up, c)
	pipe(c, up)
}

// TestKeepaliveNoPong: a registrar that answered CRLF pings goes silent on
// an open connection; the missing pong counts as loss and the phone
// connects again (RFC 5626 §4.4.1).
func TestKeepaliveNoPong(t *testing.T) {
	r := startFakeRegistrar(t, "tcp", nil)
	hole := startBlackhole(t, r.addr)
	p := newLocalPhone(t, Config{User: "alice", Transport: "tcp", Registrar: "sip:" + hole.ln.Addr().String(), Keepalive: 200 * time.Millisecond})
	ev, stop := p.Subscribe(64)
	defer stop()
	waitFor(t, 3*time.Second, "registered", func() bool { return p.Status().Registration == RegRegistered })
	time.Sleep(500 * time.Millisecond) // a pong or two
	hole.drop.Store(true)
	nextEvent(t, ev, EvRegistrationFailed, 8*time.Second)
	n := len(r.registers())
	hole.drop.Store(false)
	// A REGISTER lost in the hole is given up after regWait.
	waitFor(t, regWait+3*time.Second, "registered again", func() bool {
		return p.Status().Registration == RegRegistered && len(r.registers()) > n
	})
}
