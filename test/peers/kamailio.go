package peers

import (
	"cmp"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// KamailioOptions configures [StartKamailio].
type KamailioOptions struct {
	// TCP adds a TCP listener on the same port as UDP.
	TCP bool
	// TLS adds a TLS listener on a port of its own (Kamailio.TLSPort) with
	// a certificate for 127.0.0.1 and localhost signed by a fresh CA
	// (Kamailio.CA). Requests over TLS get a connection alias for their
	// Via's sent-by (force_tcp_alias), so requests for a contact there go
	// back over the client's own connection.
	TLS bool
	// Port fixes the SIP port; 0 picks a free one.
	Port int
	// MaxExpires caps the registration expiry Kamailio grants (default
	// 3600), so tests can see a refresh within seconds.
	MaxExpires int
	// Routes send numbers elsewhere, as a PBX sends them to a carrier
	// gateway: see [Route].
	Routes []Route
}

// Route relays out-of-dialog requests for this proxy's domain (an initial
// INVITE, OPTIONS, MESSAGE...) whose Request-URI user starts with Prefix to
// Target, before the location lookup; INVITEs are record-routed, so the
// dialog's ACK, re-INVITEs and BYEs pass the proxy too. The Request-URI is
// kept (sip:0312345678@127.0.0.1:PORT), as a gateway expects. The longest
// matching prefix wins. A routed request is logged as a ROUTED line (see
// [Kamailio.Routed]).
type Route struct {
	// Prefix is digits, optionally after a leading '+': "0", "03", "+81".
	Prefix string
	// Target is "host:port", e.g. a sipp UAS's [Sipp.Addr].
	Target string
}

// check reports what is wrong with r, or nil.
func (r Route) check() error {
	digits := strings.TrimPrefix(r.Prefix, "+")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return fmt.Errorf("route prefix %q: want digits, optionally after a leading +", r.Prefix)
	}
	host, port, err := net.SplitHostPort(r.Target)
	if err != nil || !hostChars(host) {
		return fmt.Errorf("route target %q: want host:port", r.Target)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("route target %q: port %q is not 1–65535", r.Target, port)
	}
	return nil
}

// hostChars reports whether host is a non-empty name or IP address: letters,
// digits, '.', '-' and ':' (IPv6) only, nothing that could end a config
// string.
func hostChars(host string) bool {
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == ':') {
			return false
		}
	}
	return host != ""
}

// kamailioRoute is a Route as the config template uses it.
type kamailioRoute struct {
	Route
	Regex string // matches the Request-URI user ("^[+]81")
}

// kamailioRoutes checks routes and orders them longest prefix first, so the
// first match in the config is the longest.
func kamailioRoutes(routes []Route) ([]kamailioRoute, error) {
	out := make([]kamailioRoute, 0, len(routes))
	for _, r := range routes {
		if err := r.check(); err != nil {
			return nil, err
		}
		out = append(out, kamailioRoute{Route: r, Regex: "^" + strings.Replace(r.Prefix, "+", "[+]", 1)})
	}
	slices.SortStableFunc(out, func(a, b kamailioRoute) int { return cmp.Compare(len(b.Prefix), len(a.Prefix)) })
	return out, nil
}

// Kamailio is a running Kamailio registrar and proxy. Every user may register
// with password "secret" (realm = the From domain, "127.0.0.1"); locations
// live in memory only, so a restart forgets all registrations.
type Kamailio struct {
	Host   string // "127.0.0.1"
	Port   int    // SIP port (UDP, and TCP when enabled)
	Domain string // SIP domain and digest realm: "127.0.0.1"
	TCP    bool
	// TLSPort is the TLS listener's port and CA the authority that signed
	// its certificate (CA.File is the PEM to trust); zero and nil without
	// KamailioOptions.TLS.
	TLSPort int
	CA      *CA

	t       testing.TB
	dir     string
	cfg     string
	logPath string

	mu   sync.Mutex
	proc *proc
}

// kamailioModulePaths are where Debian and a source build put the modules.
var kamailioModulePaths = []string{
	"/usr/lib/x86_64-linux-gnu/kamailio/modules",
	"/usr/lib/aarch64-linux-gnu/kamailio/modules",
	"/usr/lib/kamailio/modules",
	"/usr/lib64/kamailio/modules",
	"/usr/local/lib64/kamailio/modules",
	"/usr/local/lib/kamailio/modules",
}

func kamailioModulePath() string {
	globbed, _ := filepath.Glob("/usr/lib/*/kamailio/modules")
	for _, d := range append(globbed, kamailioModulePaths...) {
		if _, err := os.Stat(filepath.Join(d, "tm.so")); err == nil {
			return d + "/"
		}
	}
	return kamailioModulePaths[0] + "/"
}

// StartKamailio renders a registrar/proxy config, starts Kamailio with it and
// waits (up to 10 s) until it answers an OPTIONS request. It is stopped in
// t.Cleanup.
func StartKamailio(t testing.TB, opts KamailioOptions) *Kamailio {
	t.Helper()
	Require(t, "kamailio")
	dir := t.TempDir()
	port := opts.Port
	if port == 0 {
		if opts.TCP {
			port = FreePort(t)
		} else {
			port = FreeUDPPort(t)
		}
	}
	k := &Kamailio{
		Host: Host, Port: port, Domain: Host, TCP: opts.TCP,
		t: t, dir: dir,
		cfg:     filepath.Join(dir, "kamailio.cfg"),
		logPath: filepath.Join(dir, "kamailio.log"),
	}
	if err := os.MkdirAll(filepath.Join(dir, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	routes, err := kamailioRoutes(opts.Routes)
	if err != nil {
		t.Fatal(err)
	}
	modules := kamailioModulePath()
	data := map[string]any{
		"Host": Host, "Port": port, "TCP": opts.TCP, "ModulePath": modules,
		"MaxExpires": cmp.Or(opts.MaxExpires, 3600), "MinExpires": min(cmp.Or(opts.MaxExpires, 3600), 60),
		"Routes": routes, "TLSPort": 0,
	}
	if opts.TLS {
		maps.Copy(data, k.setupTLS(t, modules))
	}
	if err := render("kamailio.cfg.tmpl", k.cfg, data); err != nil {
		t.Fatal(err)
	}
	logOnFailure(t, "kamailio", k.logPath)
	t.Cleanup(k.Stop)
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	return k
}

// ConfigPath is the rendered kamailio.cfg.
func (k *Kamailio) ConfigPath() string { return k.cfg }

// LogPath is the file Kamailio's stdout and stderr go to.
func (k *Kamailio) LogPath() string { return k.logPath }

// URI is the proxy's SIP URI, "sip:127.0.0.1:PORT".
func (k *Kamailio) URI() string { return "sip:" + k.Host + ":" + strconv.Itoa(k.Port) }

// AOR is the address of record of user on this registrar,
// "sip:USER@127.0.0.1:PORT".
func (k *Kamailio) AOR(user string) string {
	return "sip:" + user + "@" + k.Host + ":" + strconv.Itoa(k.Port)
}

// Addr is "127.0.0.1:PORT".
func (k *Kamailio) Addr() string { return net.JoinHostPort(k.Host, strconv.Itoa(k.Port)) }

// Start (re)starts Kamailio on the same ports (and certificate) and waits
// until it answers.
// It is a no-op while it runs. Registrations made before a Stop are gone.
func (k *Kamailio) Start() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.proc != nil && !k.proc.exited() {
		return nil
	}
	run := filepath.Join(k.dir, "run")
	p, err := startProc("kamailio", k.dir, k.logPath, nil, os.DevNull,
		"kamailio", "-f", k.cfg, "-DD", "-E", "-Y", run, "-m", "64", "-M", "8")
	if err != nil {
		return err
	}
	k.proc = p
	if err := waitFor(p, 10*time.Second, k.answers); err != nil {
		p.stop()
		return fmt.Errorf("kamailio on %s: %w", k.Addr(), err)
	}
	return nil
}

// Stop kills Kamailio and its workers and waits until they are gone; the
// port then stays silent (requests get no answer, not an ICMP error from a
// bound socket). Safe to call when stopped.
func (k *Kamailio) Stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.proc != nil {
		k.proc.stop()
	}
}

// Running reports whether the Kamailio process is alive.
func (k *Kamailio) Running() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.proc != nil && !k.proc.exited()
}

// answers sends one OPTIONS over UDP and reports whether any response came.
func (k *Kamailio) answers() bool {
	c, err := net.Dial("udp4", k.Addr())
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := c.Write([]byte(optionsRequest(k.Addr(), c.LocalAddr().String()))); err != nil {
		return false
	}
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	return err == nil && strings.HasPrefix(string(buf[:n]), "SIP/2.0 ")
}

// optionsRequest is a minimal out-of-dialog OPTIONS to the server itself.
func optionsRequest(to, from string) string {
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	return "OPTIONS sip:" + to + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + from + ";branch=z9hG4bK" + tag + ";rport\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:probe@" + from + ">;tag=" + tag + "\r\n" +
		"To: <sip:" + to + ">\r\n" +
		"Call-ID: probe-" + tag + "@" + Host + "\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Content-Length: 0\r\n\r\n"
}
