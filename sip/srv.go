package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	gsip "github.com/emiago/sipgo/sip"
)

// target is one place a registrar is reached at: a configured registrar
// URI as DNS resolved it (RFC 3263 §4).
type target struct {
	reg     gsip.Uri // the configured registrar: the REGISTER's Request-URI
	rank    int      // which configured registrar (0: the first, the preferred one)
	host    string   // the SRV target, or the URI's host
	ip      string   // host's address
	port    int
	tlsName string // the name its certificate must carry (tls)
}

// addr is where requests go: "ip:port".
func (t target) addr() string { return net.JoinHostPort(t.ip, strconv.Itoa(t.port)) }

// name is how messages call the registrar: its URI's host and port.
func (t target) name() string {
	if t.reg.Port != 0 {
		return net.JoinHostPort(t.reg.Host, strconv.Itoa(t.reg.Port))
	}
	return t.reg.Host
}

// hostPort is one SRV answer or the fallback.
type hostPort struct {
	host string
	port int
}

// defaultPort is the SIP port of a transport (RFC 3261 §19.1.2).
func defaultPort(transport string) int {
	if transport == "tls" {
		return 5061
	}
	return 5060
}

// srvService is the SRV service and protocol for a transport and scheme
// (RFC 3263 §4.1): _sips._tcp for TLS, _sip._tcp, _sip._udp.
func srvService(transport string) (service, proto string) {
	switch transport {
	case "tls":
		return "sips", "tcp"
	case "tcp":
		return "sip", "tcp"
	}
	return "sip", "udp"
}

// lookupHosts is where a registrar URI points (RFC 3263 §4.2): its host
// and port when it names an address or a port; else the SRV records for
// the transport, in the order the resolver gives (by priority, randomised
// by weight within one: RFC 2782); else the host on the transport's
// default port (its A/AAAA records).
func lookupHosts(ctx context.Context, r *net.Resolver, u gsip.Uri, transport string) []hostPort {
	if u.Port != 0 {
		return []hostPort{{u.Host, u.Port}}
	}
	if net.ParseIP(u.Host) != nil {
		return []hostPort{{u.Host, defaultPort(transport)}}
	}
	service, proto := srvService(transport)
	_, srvs, err := r.LookupSRV(ctx, service, proto, u.Host)
	var out []hostPort
	if err == nil {
		for _, s := range srvs {
			// A lone "." target says the service is not offered there.
			if h := strings.TrimSuffix(s.Target, "."); h != "" {
				out = append(out, hostPort{h, int(s.Port)})
			}
		}
	}
	if len(out) == 0 {
		out = []hostPort{{u.Host, defaultPort(transport)}}
	}
	return out
}

// lookupIP is host's address, IPv4 preferred (the phone binds IPv4 unless
// told otherwise).
func lookupIP(ctx context.Context, r *net.Resolver, host string) (string, error) {
	if ip := net.ParseIP(host); ip != nil {
		return ip.String(), nil
	}
	addrs, err := r.LookupIPAddr(ctx, host)
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		if a.IP.To4() != nil {
			return a.IP.String(), nil
		}
	}
	if len(addrs) == 0 {
		return "", fmt.Errorf("%s has no address", host)
	}
	return addrs[0].IP.String(), nil
}

// resolveTargets turns the configured registrars, in order, into the
// targets to try, in order. A registrar whose name does not resolve is
// left out; the error says which, when none is left.
func (p *Phone) resolveTargets(ctx context.Context) ([]target, error) {
	var out []target
	var errs []error
	for rank, u := range p.registrars {
		for _, hp := range lookupHosts(ctx, p.resolver, u, p.transport) {
			ip, err := lookupIP(ctx, p.resolver, hp.host)
			if err != nil {
				errs = append(errs, fmt.Errorf("registrar %s: %w", hp.host, err))
				continue
			}
			t := target{reg: u, rank: rank, host: hp.host, ip: ip, port: hp.port, tlsName: p.cfg.TLSServerName}
			if t.tlsName == "" {
				// RFC 5922 §4.1: the domain the URI names, also when SRV
				// pointed elsewhere.
				t.tlsName = u.Host
			}
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// parseRegistrar checks one registrar URI.
func parseRegistrar(s, transport string) (gsip.Uri, error) {
	var u gsip.Uri
	if err := gsip.ParseUri(s, &u); err != nil {
		return u, fmt.Errorf("registrar %q is not a SIP URI: %w", s, err)
	}
	if u.Host == "" {
		return u, fmt.Errorf("registrar %q has no host", s)
	}
	if u.IsEncrypted() && transport != "tls" {
		return u, fmt.Errorf("registrar %q is a sips: URI, which needs the tls transport", s)
	}
	return u, nil
}

// registrarRoute is the registrar in use (before any answered, the first)
// as a loose route (RFC 3261 §8.1.2) to its address over the phone's
// transport: the pre-loaded route of an INVITE.
func (p *Phone) registrarRoute() gsip.Uri {
	u := gsip.Uri{Scheme: "sip", Host: p.registrar.Host, Port: p.registrar.Port, UriParams: gsip.NewParams()}
	if t, ok := p.reg.target(); ok {
		u.Host, u.Port = t.ip, t.port
	}
	u.UriParams.Add("lr", "")
	if p.transport != "udp" {
		u.UriParams.Add("transport", p.transport)
	}
	return u
}

// dialDomain is the host and port numbers and names dialled go to: the
// configured domain, or, when the domain came from the registrar, the
// registrar in use (a proxy on a non-default port only sees host:port as
// itself).
func (p *Phone) dialDomain() (string, int) {
	if t, ok := p.reg.target(); ok && p.domainReg {
		return t.reg.Host, t.reg.Port
	}
	return p.cfg.Domain, p.domainPort
}
