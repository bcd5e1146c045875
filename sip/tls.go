package sip

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// ErrUntrusted: the registrar's TLS certificate failed verification. The
// phone never falls back to an unverified or plaintext connection.
var ErrUntrusted = errors.New("the registrar's certificate is not trusted")

// loadRoots is the system's trusted CAs plus those in caFile (PEM), if
// given.
func loadRoots(caFile string) (*x509.CertPool, error) {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if caFile == "" {
		return roots, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("TLS CA file: %w", err)
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("TLS CA file %s holds no PEM certificate", caFile)
	}
	return roots, nil
}

// tlsConfig verifies a server against roots as name (SNI and the name the
// certificate must carry; an IP address is checked against IP SANs).
func tlsConfig(roots *x509.CertPool, name string) *tls.Config {
	return &tls.Config{RootCAs: roots, ServerName: name, MinVersion: tls.VersionTLS12}
}

// tlsFailure words a failed handshake with the registrar reached as name
// for the operator: whom the certificate is for, who signed it, until
// when it holds.
func tlsFailure(err error, name string) error {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		who := "an unknown authority"
		if c := unknown.Cert; c != nil {
			who = fmt.Sprintf("%q, which is not a trusted CA (add it to sip.tls_ca_file)", issuer(c))
		}
		return fmt.Errorf("%w: it is signed by %s", ErrUntrusted, who)
	case errors.As(err, &host):
		return fmt.Errorf("%w: it is for %s, not %s (set sip.tls_server_name if the PBX is known by another name)",
			ErrUntrusted, certNames(host.Certificate), name)
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		c := invalid.Cert
		return fmt.Errorf("%w: it is valid from %s to %s only", ErrUntrusted,
			c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly))
	case errors.As(err, &invalid):
		return fmt.Errorf("%w: %s", ErrUntrusted, invalid.Error())
	}
	var verr *tls.CertificateVerificationError
	if errors.As(err, &verr) {
		return fmt.Errorf("%w: %v", ErrUntrusted, verr.Err)
	}
	return fmt.Errorf("TLS handshake with the registrar %s failed: %w", name, err)
}

// issuer names who signed c.
func issuer(c *x509.Certificate) string {
	if s := c.Issuer.CommonName; s != "" {
		return s
	}
	return c.Issuer.String()
}

// certNames lists the names a certificate is for.
func certNames(c *x509.Certificate) string {
	if c == nil {
		return "another name"
	}
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, c.Subject.CommonName)
	}
	if len(names) == 0 {
		return "no name"
	}
	return strings.Join(names, ", ")
}

// listenTLS holds the port the Contact names, on which nothing is served,
// and lets sipgo serve the connections the phone opens to registrars. It
// returns the address bound.
func (p *Phone) listenTLS(network, addr string) (string, error) {
	ln, err := net.Listen(network, addr)
	if err != nil {
		return "", fmt.Errorf("cannot listen for SIP on tcp %s: %w", addr, err)
	}
	p.feed = newConnFeed(ln.Addr())
	p.closer = closers{ln, p.feed}
	p.lnWG.Add(1)
	go func() {
		defer p.lnWG.Done()
		refuseConns(ln)
	}()
	p.serveFeed(p.ua.TransportLayer().ServeTLS)
	return ln.Addr().String(), nil
}

// refuseConns accepts and at once closes every connection on ln until it
// is closed. With the tls transport the phone has no certificate to
// serve: requests come over the connection it opened to the registrar
// (keepalive.go), and ln only holds the port its Contact names.
func refuseConns(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_ = c.Close()
	}
}
