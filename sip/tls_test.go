package sip

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/test/peers"
)

// TestTLSRefusesBadCertificates: a certificate from a CA the phone does
// not trust, or for other names than the one it wants, fails the
// registration with words that say which, and nothing is sent to the
// registrar: no REGISTER, no fallback to another transport.
func TestTLSRefusesBadCertificates(t *testing.T) {
	caFile, conf := testTLS(t, "127.0.0.1", "localhost")
	other := peers.NewCA(t, "some other CA")
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown CA", Config{TLSCAFile: other.File}, `the registrar's certificate is not trusted: it is signed by "loop test CA", which is not a trusted CA`},
		{"no CA file", Config{}, `the registrar's certificate is not trusted: it is signed by "loop test CA"`},
		{"wrong name", Config{TLSCAFile: caFile, TLSServerName: "pbx.example.com"}, "the registrar's certificate is not trusted: it is for localhost, 127.0.0.1, not pbx.example.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := startFakeRegistrar(t, "tls", conf)
			p, ev := phoneAt(t, tt.cfg, r)
			failed := nextEvent(t, ev, EvRegistrationFailed, 5*time.Second)
			if !strings.Contains(failed.Text, tt.want) {
				t.Errorf("failure %q, want %q", failed.Text, tt.want)
			}
			if st := p.Status(); st.Registration != RegFailed || st.LastError != failed.Text {
				t.Errorf("status %+v", st)
			}
			time.Sleep(300 * time.Millisecond)
			if regs := r.registers(); len(regs) != 0 {
				t.Errorf("the registrar got %d REGISTERs", len(regs))
			}
		})
	}
}

// TestTLSNameOverride: sip.tls_server_name makes a certificate for that
// name good for a registrar reached by address.
func TestTLSNameOverride(t *testing.T) {
	caFile, conf := testTLS(t, "pbx.example.com")
	r := startFakeRegistrar(t, "tls", conf)
	p, _ := phoneAt(t, Config{TLSCAFile: caFile, TLSServerName: "pbx.example.com"}, r)
	waitRegisteredAt(t, p, r, 3*time.Second)
}

func TestTLSFailureWords(t *testing.T) {
	if err := tlsFailure(errors.New("EOF"), "pbx"); errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "TLS handshake with the registrar pbx failed") {
		t.Errorf("a handshake that broke off: %v", err)
	}
	if _, err := loadRoots(filepath.Join(t.TempDir(), "missing.pem")); err == nil || !strings.Contains(err.Error(), "TLS CA file") {
		t.Errorf("a missing CA file: %v", err)
	}
	junk := filepath.Join(t.TempDir(), "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadRoots(junk); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("a file without certificates: %v", err)
	}
	if _, err := New(Config{Transport: "tls", Registrar: "sip:127.0.0.1", TLSCAFile: junk, Listen: "127.0.0.1:0"}); err == nil {
		t.Error("New accepted a CA file without certificates")
	}
	if _, err := New(Config{Transport: "udp", Registrar: "sips:pbx.example.com", Listen: "127.0.0.1:0"}); err == nil || !strings.Contains(err.Error(), "needs the tls transport") {
		t.Errorf("a sips: registrar over udp: %v", err)
	}
}

// TestSIPSRegistrar: a sips: registrar is reached over TLS on the port it
// names, and its certificate is checked against its host.
func TestSIPSRegistrar(t *testing.T) {
	caFile, conf := testTLS(t, "127.0.0.1")
	r := startFakeRegistrar(t, "tls", conf)
	p := newLocalPhone(t, Config{User: "alice", Transport: "tls", Registrar: "sips:" + r.addr, TLSCAFile: caFile})
	waitFor(t, 3*time.Second, "registered", func() bool { return p.Status().Registration == RegRegistered })
	if st := p.Status(); st.Registrar != "sips:"+r.addr || !strings.Contains(st.Contact, "transport=tls") {
		t.Errorf("status %+v", st)
	}
}
