package sip

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/audio/jitter"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	gsip "github.com/emiago/sipgo/sip"
)

// Config is what the phone needs to know. Durations of zero take defaults.
type Config struct {
	User        string
	Password    string // never logged
	Domain      string // empty: the registrar's host
	DisplayName string
	// Registrar is a SIP URI ("sip:pbx.example.com:5060"); empty means no
	// registration: calls go directly to the URI dialled. A host name
	// without a port is looked up in DNS SRV (RFC 3263: _sip._udp,
	// _sip._tcp or _sips._tcp by transport), else its A/AAAA records on
	// 5060 (5061 for tls). A sips: URI needs the tls transport.
	Registrar string
	Listen    string // host:port; port 0 picks a free one
	// Transport is udp, tcp or tls. With tls the phone listens for no
	// connections (it has no certificate): it takes calls over the
	// connection it keeps open to the registrar, whose Contact the
	// registrar must send back over it (Kamailio: force_tcp_alias or
	// fix_nated_register; Asterisk: rewrite_contact).
	Transport string
	Expires   time.Duration
	UserAgent string

	// Failover lists further registrars (SIP URIs), tried in order when
	// the one before does not answer (a timeout, a transport error, a
	// certificate that fails, 503); the phone moves back to an earlier one
	// once it answers again.
	Failover []string
	// TLSCAFile is a PEM file of CAs trusted besides the system's for the
	// tls transport; TLSServerName is the name the registrar's certificate
	// must carry and the SNI sent (default: the registrar's host).
	// Certificates are always verified.
	TLSCAFile     string
	TLSServerName string
	// Keepalive is the interval of CRLF pings (TCP/TLS) or OPTIONS (UDP)
	// to the registrar; zero turns them off.
	Keepalive time.Duration

	// Encryption is SRTP with SDES keys: EncryptionRequired,
	// EncryptionOptional or EncryptionOff ("" is optional).
	Encryption Encryption

	// RTPIP is the address put in SDP and bound for RTP; empty: the
	// address SIP is reachable on.
	RTPIP      string
	RTPPortMin int
	RTPPortMax int

	// Input and Output are audio endpoint specs (null, tone:HZ,
	// file:PATH.wav, or a sound card: "default" or a device name).
	Input  string
	Output string
	// Device is the sound card, opened once by the program, that calls use
	// for an Input or Output naming a device. Nil with such a spec: the
	// call fails to start media with a clear error. The Phone does not
	// close it.
	Device audio.Device

	// Jitter bounds the receive jitter buffer (zero: its defaults).
	Jitter jitter.Config
	// Record says whether calls are recorded: always (from the answer on),
	// ask (when Record is called) or never. RecordDir is where the stereo
	// WAVs go (named by date, time, number and Call-ID).
	Record    audio.RecordMode
	RecordDir string
	// RecordBeep mixes the recording warning tone (1400 Hz every 15 s) into
	// what the far end hears while a call is recorded.
	RecordBeep bool
	// Tones chooses the ringback and ringer patterns (jp or us).
	Tones audio.ToneSet
	// Ringer, when set, is the playback device incoming calls ring on;
	// nil rings on Device (when no other call is using it).
	Ringer audio.Device

	// RingTimeout ends an unanswered outbound call (default 60 s).
	RingTimeout time.Duration

	// AcceptRegister turns on a tiny location service (registrar.go):
	// REGISTERs from anyone are accepted without authentication and calls
	// dialled to a registered user go to its contact. For a loopback
	// stand-in PBX such as the demo line only; never on a public address.
	AcceptRegister bool
	// SourceFor, when set, opens each call's input instead of Input: the
	// demo line plays a different recorded customer on every call. A
	// returned Source that is an io.Closer is closed when the call ends.
	SourceFor func(dir Direction, remote string) (audio.Source, error)
	// AuthorizeMonitor judges a supervisor's monitor grant (see monitor.go):
	// it returns the call to monitor and the mode, or an error to refuse
	// (403). Nil refuses every monitor session. It is called on the SIP
	// handler goroutine while the request waits: it must return quickly
	// and bound its own time (one short HTTP request with a timeout of at
	// most 2 s); it may be called from several goroutines at once. It must
	// not call the Phone's methods. Its error's words go to the log and to
	// EvMonitorRefused: never put the grant in them.
	AuthorizeMonitor func(MonitorRequest) (MonitorGrant, error)
}

// Option configures a Phone.
type Option func(*Phone)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(p *Phone) { p.log = l } }

// WithResolver sets the DNS resolver for registrars and SIP URIs
// (default: net.DefaultResolver).
func WithResolver(r *net.Resolver) Option { return func(p *Phone) { p.resolver = r } }

// Phone is one SIP user agent with its calls.
type Phone struct {
	cfg Config
	log *slog.Logger
	au  *phoneAudio

	devMu    sync.Mutex // guards devUsers and devTimer
	devUsers int        // calls that need the sound card
	devTimer *time.Timer

	ua  *sipgo.UserAgent
	srv *sipgo.Server
	cli *sipgo.Client
	dua *sipgo.DialogUA

	transport  string
	host       string // advertised host for Via/Contact
	port       int
	rtpIP      string
	aor        gsip.Uri
	contact    gsip.ContactHeader
	registrar  *gsip.Uri  // the first registrar: the preferred one
	registrars []gsip.Uri // Registrar, then Failover
	resolver   *net.Resolver
	roots      *x509.CertPool // tls: the CAs a registrar's certificate must chain to
	feed       *connFeed      // tcp, tls: hands sipgo the connections to registrars
	rl         *regLoop
	domainPort int       // port for dialled targets when the domain came from the registrar
	domainReg  bool      // the domain came from the registrar
	closer     io.Closer // the SIP socket or listener
	lnWG       sync.WaitGroup
	hub        *hub
	reg        registration
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	closeOnce  sync.Once
	mu         sync.Mutex
	calls      map[string]*call // by our id
	byCallID   map[string]*call
	loc        *locationService // nil unless Config.AcceptRegister
	ready      atomic.Bool      // New has finished: handlers may run
	fileOut    atomic.Bool      // a call holds the file: output (heldSink)
	nextCallID int
	muted      bool
}

// New creates a phone, binds its SIP socket and, when a registrar is
// configured, starts registering. Close it to unregister and hang up.
func New(cfg Config, opts ...Option) (*Phone, error) {
	p := &Phone{
		cfg:      cfg,
		log:      slog.New(slog.DiscardHandler),
		hub:      newHub(),
		calls:    map[string]*call{},
		byCallID: map[string]*call{},
		au:       newPhoneAudio(),
		resolver: net.DefaultResolver,
	}
	p.rl = newRegLoop(p)
	for _, o := range opts {
		o(p)
	}
	// An idle phone lets its sound card sleep (see holdCards).
	p.devMu.Lock()
	p.scheduleSuspend()
	p.devMu.Unlock()
	if err := p.applyDefaults(); err != nil {
		return nil, err
	}
	if err := p.listen(); err != nil {
		return nil, err
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.ready.Store(true)
	if p.registrar != nil {
		p.reg.set(RegRegistering, 0, "")
		p.wg.Add(1)
		go p.registerLoop()
	} else {
		p.reg.set(RegNone, 0, "")
	}
	return p, nil
}

func (p *Phone) applyDefaults() error {
	c := &p.cfg
	if c.Transport == "" {
		c.Transport = "udp"
	}
	c.Transport = strings.ToLower(c.Transport)
	if c.Transport != "udp" && c.Transport != "tcp" && c.Transport != "tls" {
		return fmt.Errorf("transport %q: %w (use udp, tcp or tls)", c.Transport, ErrNotSupported)
	}
	if c.Expires <= 0 {
		c.Expires = 300 * time.Second
	}
	if c.UserAgent == "" {
		c.UserAgent = "opdesk"
	}
	if c.RingTimeout <= 0 {
		c.RingTimeout = 60 * time.Second
	}
	if c.Listen == "" {
		c.Listen = "0.0.0.0:5060"
	}
	if c.Input == "" {
		c.Input = "null"
	}
	if c.Output == "" {
		c.Output = "null"
	}
	if c.User == "" {
		c.User = "opdesk"
	}
	if c.Registrar == "" && len(c.Failover) > 0 {
		return fmt.Errorf("failover registrars without a registrar to try first")
	}
	if c.Registrar != "" {
		for _, s := range append([]string{c.Registrar}, c.Failover...) {
			u, err := parseRegistrar(s, c.Transport)
			if err != nil {
				return err
			}
			p.registrars = append(p.registrars, u)
		}
		u := p.registrars[0]
		p.registrar = &u
		if c.Domain == "" {
			// Numbers and names dialled go to the registrar's domain, with
			// its port when it has one (a proxy on a non-default port only
			// sees host:port as itself).
			c.Domain = u.Host
			p.domainPort, p.domainReg = u.Port, true
		}
	}
	p.transport = c.Transport
	if c.Transport == "tls" {
		roots, err := loadRoots(c.TLSCAFile)
		if err != nil {
			return err
		}
		p.roots = roots
	}
	return nil
}

func (p *Phone) listen() error {
	host, portStr, err := net.SplitHostPort(p.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", p.cfg.Listen, err)
	}
	bindHost := host
	if bindHost == "" {
		bindHost = "0.0.0.0"
	}
	p.host = host
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		p.host = p.outboundIP()
	}
	p.rtpIP = p.cfg.RTPIP
	if p.rtpIP == "" {
		p.rtpIP = p.host
	}

	uaOpts := []sipgo.UserAgentOption{
		sipgo.WithUserAgent(p.cfg.UserAgent), sipgo.WithUserAgentHostname(p.host),
		sipgo.WithUserAgentDNSResolver(p.resolver),
		// sipgo's layers log to the phone's log, not slog's default
		// (stderr, under a TUI): a connection that breaks is logged there.
		sipgo.WithUserAgentTransportLayerOptions(gsip.WithTransportLayerLogger(p.log.With("sipgo", "transport"))),
		sipgo.WithUserAgentTransactionLayerOptions(gsip.WithTransactionLayerLogger(p.log.With("sipgo", "transaction"))),
	}
	if p.roots != nil {
		// For connections sipgo opens itself (a sips: URI dialled): the
		// name is the configured one, else the host dialled.
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(tlsConfig(p.roots, p.cfg.TLSServerName)))
	}
	p.ua, err = sipgo.NewUA(uaOpts...)
	if err != nil {
		return err
	}
	// Before any socket is served: the handler list is not safe to change
	// while messages arrive.
	p.ua.TransportLayer().OnMessage(p.onWire)
	p.srv, err = sipgo.NewServer(p.ua, sipgo.WithServerLogger(p.log.With("sipgo", "server")))
	if err != nil {
		return err
	}
	p.handle()
	network4 := p.transport
	if p.transport == "tls" {
		network4 = "tcp"
	}
	if ip := net.ParseIP(bindHost); ip != nil && ip.To4() != nil {
		network4 += "4"
	}
	addr := net.JoinHostPort(bindHost, portStr)
	var boundAddr string
	switch p.transport {
	case "udp":
		conn, err := net.ListenPacket(network4, addr)
		if err != nil {
			return fmt.Errorf("cannot listen for SIP on udp %s: %w", addr, err)
		}
		p.closer = conn
		boundAddr = conn.LocalAddr().String()
		go func() { _ = p.srv.ServeUDP(conn) }()
	case "tcp":
		ln, err := net.Listen(network4, addr)
		if err != nil {
			return fmt.Errorf("cannot listen for SIP on tcp %s: %w", addr, err)
		}
		p.feed = newConnFeed(ln.Addr())
		p.closer = closers{ln, p.feed}
		boundAddr = ln.Addr().String()
		go func() { _ = p.srv.ServeTCP(ln) }()
		p.serveFeed(p.ua.TransportLayer().ServeTCP)
	case "tls":
		if boundAddr, err = p.listenTLS(network4, addr); err != nil {
			return err
		}
	}
	_, bp, _ := net.SplitHostPort(boundAddr)
	p.port, _ = strconv.Atoi(bp)
	if p.transport == "udp" {
		// Requests must leave from the listening socket (the registrar
		// sends calls to it), so wait until sipgo has pooled it.
		for i := 0; i < 200; i++ {
			if c, _ := p.ua.TransportLayer().GetConnection("udp", boundAddr); c != nil {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	copts := []sipgo.ClientOption{
		sipgo.WithClientHostname(p.host),
		sipgo.WithClientPort(p.port),
		sipgo.WithClientNAT(),
		sipgo.WithClientLogger(p.log.With("sipgo", "client")),
	}
	if p.transport == "udp" {
		copts = append(copts, sipgo.WithClientConnectionAddr(boundAddr))
	}
	p.cli, err = sipgo.NewClient(p.ua, copts...)
	if err != nil {
		return err
	}
	domain := p.cfg.Domain
	if domain == "" {
		domain = p.host
	}
	p.aor = gsip.Uri{Scheme: "sip", User: p.cfg.User, Host: domain}
	p.contact = gsip.ContactHeader{
		DisplayName: p.cfg.DisplayName,
		Address:     gsip.Uri{Scheme: "sip", User: p.cfg.User, Host: p.host, Port: p.port},
	}
	if p.transport != "udp" {
		p.contact.Address.UriParams = gsip.NewParams()
		p.contact.Address.UriParams.Add("transport", p.transport)
	}
	p.dua = &sipgo.DialogUA{Client: p.cli, ContactHDR: p.contact}
	return nil
}

// outboundIP is the local address used to reach the registrar, or a
// loopback address when there is none to ask.
func (p *Phone) outboundIP() string {
	if p.registrar != nil {
		port := p.registrar.Port
		if port == 0 {
			port = 5060
		}
		if c, err := net.Dial("udp", net.JoinHostPort(p.registrar.Host, strconv.Itoa(port))); err == nil {
			defer c.Close()
			if a, ok := c.LocalAddr().(*net.UDPAddr); ok {
				return a.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// Addr is the host:port the phone's SIP socket is reachable on.
func (p *Phone) Addr() string { return net.JoinHostPort(p.host, strconv.Itoa(p.port)) }

// AOR is the phone's address of record.
func (p *Phone) AOR() string { return p.aor.String() }

// Subscribe returns a channel of events and a function that ends the
// subscription. A subscriber that falls more than buf events behind loses
// events (counted in Dropped).
func (p *Phone) Subscribe(buf int) (<-chan Event, func()) { return p.hub.subscribe(buf) }

// Dropped is how many events subscribers lost because they were slow.
func (p *Phone) Dropped() uint64 { return p.hub.dropped.Load() }

func (p *Phone) publish(ev Event) { p.hub.publish(ev) }

// Status returns a snapshot of registration and calls.
func (p *Phone) Status() Status {
	st, exp, lastErr := p.reg.get()
	s := Status{
		Registration: st,
		AOR:          p.aor.String(),
		Contact:      p.contact.Address.String(),
		Expires:      exp,
		LastError:    lastErr,
	}
	if t, ok := p.reg.target(); ok {
		s.Registrar = t.reg.String()
	} else if p.registrar != nil {
		s.Registrar = p.registrar.String()
	}
	s.Muted = p.isMuted()
	s.Audio = p.audioStatus()
	calls := p.snapshot()
	for _, c := range calls {
		s.Calls = append(s.Calls, c.info())
	}
	sortCalls(s.Calls)
	if s.Calls == nil {
		s.Calls = []CallInfo{}
	}
	return s
}

// snapshot returns the current calls; their methods take their own locks.
func (p *Phone) snapshot() []*call {
	p.mu.Lock()
	defer p.mu.Unlock()
	calls := make([]*call, 0, len(p.calls))
	for _, c := range p.calls {
		calls = append(calls, c)
	}
	return calls
}

// Close hangs up every call, unregisters and stops the phone. It waits at
// most until ctx is done.
func (p *Phone) Close(ctx context.Context) error {
	var err error
	p.closeOnce.Do(func() {
		calls := p.snapshot()
		var wg sync.WaitGroup
		for _, c := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.hangup(ctx, CauseShutdown, "opdesk was shut down")
			}()
		}
		wg.Wait()
		p.cancel()
		p.wg.Wait()
		if t, ok := p.reg.target(); ok && p.isRegistered() {
			if _, uerr := p.register(ctx, t, 0); uerr != nil {
				err = fmt.Errorf("unregister: %w", uerr)
			} else {
				p.reg.set(RegUnregistered, 0, "")
				p.publish(Event{Type: EvUnregistered, Text: "unregistered from " + t.name()})
			}
		}
		p.rl.closeFlows()
		p.hub.closeAll()
		_ = p.srv.Close()
		_ = p.ua.Close()
		_ = p.closer.Close()
		p.lnWG.Wait()
	})
	return err
}

func (p *Phone) closing() bool { return p.ctx.Err() != nil }

// errorsAsResponse extracts the SIP response behind a sipgo dialog error.
func errorsAsResponse(err error) (*gsip.Response, bool) {
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) {
		return de.Res, true
	}
	var dv sipgo.ErrDialogResponse
	if errors.As(err, &dv) {
		return dv.Res, true
	}
	return nil, false
}
