package peers

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestKamailioTLS: the config checks, the TLS port presents a certificate
// for 127.0.0.1 and localhost that only the test CA vouches for, answers a
// CRLF keep-alive ping with a pong (RFC 5626 §3.5.1), and comes back on
// the same ports after a restart.
func TestKamailioTLS(t *testing.T) {
	k := StartKamailio(t, KamailioOptions{TLS: true})
	if out, err := exec.Command("kamailio", "-c", "-f", k.ConfigPath()).CombinedOutput(); err != nil {
		t.Fatalf("kamailio -c -f %s: %v\n%s", k.ConfigPath(), err, out)
	}
	pem, err := os.ReadFile(k.CA.File)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", k.CA.File)
	}
	for _, name := range []string{Host, "localhost"} {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", k.TLSAddr(), &tls.Config{RootCAs: roots, ServerName: name})
		if err != nil {
			t.Fatalf("TLS to %s as %s: %v", k.TLSAddr(), name, err)
		}
		if name == Host {
			ping(t, c)
		}
		c.Close()
	}
	// Without the CA the certificate is not trusted.
	_, err = tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", k.TLSAddr(), &tls.Config{ServerName: Host})
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("TLS without the test CA: %v, want an unknown authority error", err)
	}
	k.Stop()
	if _, err := net.DialTimeout("tcp", k.TLSAddr(), time.Second); err == nil {
		t.Fatal("the TLS port still accepts after Stop")
	}
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", k.TLSAddr(), &tls.Config{RootCAs: roots, ServerName: Host})
	if err != nil {
		t.Fatalf("TLS after restart: %v", err)
	}
	c.Close()
}

// ping sends a double-CRLF keep-alive and wants the single-CRLF pong.
func ping(t *testing.T, c net.Conn) {
	t.Helper()
	if _, err := c.Write([]byte("\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	if err != nil || strings.Trim(string(buf[:n]), "\r\n") != "" || n == 0 {
		t.Fatalf("pong = %q, %v; want CRLF", buf[:n], err)
	}
}
