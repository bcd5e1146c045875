package sip

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gsip "github.com/emiago/sipgo/sip"
	"golang.org/x/net/dns/dnsmessage"
)

// testDNS is a DNS server on loopback that knows a few SRV and A records
// and says NXDOMAIN to everything else.
type testDNS struct {
	srv map[string][]net.SRV // by "_sip._udp.pbx.test."
	a   map[string]string    // by "a.pbx.test."
}

// resolver starts the server and returns a resolver that asks only it.
func (d *testDNS) resolver(t *testing.T) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if msg, err := d.answer(buf[:n]); err == nil {
				_, _ = pc.WriteTo(msg, from)
			}
		}
	}()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dialer net.Dialer
		return dialer.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
}

func (d *testDNS) answer(query []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	name := strings.ToLower(q.Name.String())
	srvs, isSRV := d.srv[name]
	ip, isA := d.a[name]
	rcode := dnsmessage.RCodeSuccess
	if !isSRV && !isA {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RCode: rcode})
	_ = b.StartQuestions()
	_ = b.Question(q)
	_ = b.StartAnswers()
	rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
	switch {
	case q.Type == dnsmessage.TypeSRV:
		for _, s := range srvs {
			_ = b.SRVResource(rh, dnsmessage.SRVResource{Priority: s.Priority, Weight: s.Weight, Port: s.Port, Target: dnsmessage.MustNewName(s.Target)})
		}
	case q.Type == dnsmessage.TypeA && isA:
		_ = b.AResource(rh, dnsmessage.AResource{A: [4]byte(net.ParseIP(ip).To4())})
	}
	return b.Finish()
}

// TestLookupHosts: SRV records by transport in priority order (RFC 3263
// §4.2), else the name on the transport's default port, and a URI with an
// address or a port as it is.
func TestLookupHosts(t *testing.T) {
	r := (&testDNS{srv: map[string][]net.SRV{
		"_sip._udp.pbx.test.":  {{Target: "b.pbx.test.", Port: 5082, Priority: 20, Weight: 1}, {Target: "a.pbx.test.", Port: 5081, Priority: 10, Weight: 1}},
		"_sips._tcp.pbx.test.": {{Target: "s.pbx.test.", Port: 5071, Priority: 10}},
		"_sip._udp.off.test.":  {{Target: ".", Port: 0}},
	}}).resolver(t)
	for _, tt := range []struct {
		uri, transport string
		want           []hostPort
	}{
		{"sip:pbx.test", "udp", []hostPort{{"a.pbx.test", 5081}, {"b.pbx.test", 5082}}},
		{"sip:pbx.test", "tls", []hostPort{{"s.pbx.test", 5071}}},
		{"sips:pbx.test", "tls", []hostPort{{"s.pbx.test", 5071}}},
		{"sip:pbx.test", "tcp", []hostPort{{"pbx.test", 5060}}},
		{"sip:plain.test", "tls", []hostPort{{"plain.test", 5061}}},
		{"sip:pbx.test:5099", "udp", []hostPort{{"pbx.test", 5099}}},
		{"sip:127.0.0.1", "udp", []hostPort{{"127.0.0.1", 5060}}},
		{"sip:off.test", "udp", []hostPort{{"off.test", 5060}}},
	} {
		var u gsip.Uri
		if err := gsip.ParseUri(tt.uri, &u); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		got := lookupHosts(ctx, r, u, tt.transport)
		cancel()
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s over %s: %v, want %v", tt.uri, tt.transport, got, tt.want)
		}
	}
}

// TestRegisterBySRV: a registrar named by its domain is found by SRV; when
// the preferred server stops the phone registers at the next one, and
// calls to the domain then go there.
func TestRegisterBySRV(t *testing.T) {
	a := startFakeRegistrar(t, "udp", nil)
	b := startFakeRegistrar(t, "udp", nil)
	port := func(r *fakeRegistrar) uint16 {
		_, p, _ := net.SplitHostPort(r.addr)
		n, _ := strconv.Atoi(p)
		return uint16(n)
	}
	res := (&testDNS{
		srv: map[string][]net.SRV{"_sip._udp.pbx.test.": {
			{Target: "a.pbx.test.", Port: port(a), Priority: 10}, {Target: "b.pbx.test.", Port: port(b), Priority: 20},
		}},
		a: map[string]string{"a.pbx.test.": "127.0.0.1", "b.pbx.test.": "127.0.0.1"},
	}).resolver(t)
	p, err := New(Config{User: "alice", Registrar: "sip:pbx.test", Listen: "127.0.0.1:0", Keepalive: 300 * time.Millisecond}, WithResolver(res))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	registeredAt := func(r *fakeRegistrar) func() bool {
		return func() bool { return p.Status().Registration == RegRegistered && len(r.registers()) > 0 }
	}
	waitFor(t, 3*time.Second, "registered at the priority 10 server", registeredAt(a))
	if st := p.Status(); st.Registrar != "sip:pbx.test" {
		t.Errorf("status registrar %q, want the domain", st.Registrar)
	}
	if host, port := p.dialDomain(); host != "pbx.test" || port != 0 {
		t.Errorf("numbers dialled go to %s:%d, want the domain", host, port)
	}
	a.stop()
	waitFor(t, 8*time.Second, "registered at the priority 20 server", registeredAt(b))
	if r := p.registrarRoute(); net.JoinHostPort(r.Host, strconv.Itoa(r.Port)) != b.addr {
		t.Errorf("calls go by %s, want the server in use %s", r.String(), b.addr)
	}
}

// TestRegistrarNotInDNS: a registrar name that does not resolve is told
// as such, and the phone keeps trying.
func TestRegistrarNotInDNS(t *testing.T) {
	res := (&testDNS{}).resolver(t)
	p, err := New(Config{User: "alice", Registrar: "sip:nowhere.test", Listen: "127.0.0.1:0"}, WithResolver(res))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	waitFor(t, 5*time.Second, "a failure", func() bool { return p.Status().Registration == RegFailed })
	if st := p.Status(); !strings.Contains(st.LastError, "registrar nowhere.test cannot be found in DNS (no such host) since ") {
		t.Errorf("failure %q", st.LastError)
	}
}
