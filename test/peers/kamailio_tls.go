package peers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// CA is a throwaway certificate authority for TLS tests: an ECDSA P-256 key
// and a self-signed certificate valid for a day, written as PEM to File.
type CA struct {
	// File is the CA certificate as PEM: what a client trusts
	// (opdesk's sip.tls_ca_file).
	File string

	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
}

// NewCA creates a CA named name in a test temporary directory.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	der, key := sign(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: name, Organization: []string{"opdesk tests"}},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, nil)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &CA{cert: cert, key: key, dir: t.TempDir()}
	ca.File = filepath.Join(ca.dir, "ca.pem")
	writePEM(t, ca.File, "CERTIFICATE", der)
	return ca
}

// Issue signs a server certificate for names (IP addresses become IP SANs,
// anything else DNS SANs) and returns the paths of its PEM certificate and
// key.
func (ca *CA) Issue(t testing.TB, names ...string) (certFile, keyFile string) {
	t.Helper()
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: names[0]},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, key := sign(t, tmpl, ca.cert, ca.key)
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(ca.dir, "cert")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
	return certFile, keyFile
}

// sign makes an ECDSA P-256 key and a certificate of it from tmpl, valid
// from an hour ago for a day, signed by parent (self-signed when parent is
// nil). It returns the certificate's DER and the key.
func sign(t testing.TB, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial(t)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

func serial(t testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// kamailioTLSPackage ships tls.so; Debian keeps it out of the kamailio
// package.
const kamailioTLSPackage = "kamailio-tls-modules"

// requireKamailioTLS skips the test, or fails it under
// OPDESK_REQUIRE_PEERS=1, when Kamailio's TLS module is not installed.
func requireKamailioTLS(t testing.TB, modules string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(modules, "tls.so")); err == nil {
		return
	}
	msg := "PEER MISSING: Kamailio's tls.so not installed — run .ci/run or apt-get install " + kamailioTLSPackage +
		"; this test is NOT counted as passing"
	if os.Getenv(EnvRequirePeers) == "1" {
		t.Fatal(msg + " (" + EnvRequirePeers + "=1)")
	}
	t.Skip(msg)
}

// setupTLS sets k up to listen for TLS on a free port with a
// certificate for 127.0.0.1 and localhost signed by a fresh CA, and
// writes the tls module's config. It returns the template data it adds.
func (k *Kamailio) setupTLS(t testing.TB, modules string) map[string]any {
	t.Helper()
	requireKamailioTLS(t, modules)
	k.TLSPort = FreeTCPPort(t)
	k.CA = NewCA(t, "opdesk test CA")
	cert, key := k.CA.Issue(t, Host, "localhost")
	tlsCfg := filepath.Join(k.dir, "tls.cfg")
	if err := render("kamailio-tls.cfg.tmpl", tlsCfg, map[string]any{"Cert": cert, "Key": key}); err != nil {
		t.Fatal(err)
	}
	return map[string]any{"TLSPort": k.TLSPort, "TLSConfig": tlsCfg}
}

// TLSURI is the proxy's SIP URI on its TLS port, "sip:127.0.0.1:TLSPORT"
// (use it with transport tls). Empty without KamailioOptions.TLS.
func (k *Kamailio) TLSURI() string {
	if k.TLSPort == 0 {
		return ""
	}
	return "sip:" + net.JoinHostPort(k.Host, strconv.Itoa(k.TLSPort))
}

// TLSAddr is "127.0.0.1:TLSPORT".
func (k *Kamailio) TLSAddr() string { return net.JoinHostPort(k.Host, strconv.Itoa(k.TLSPort)) }

// SawProto reports whether a request of method for user (its To user)
// reached Kamailio over proto ("udp", "tcp", "tls").
func (k *Kamailio) SawProto(method, user, proto string) bool {
	for _, f := range k.traceLines("TRACE") {
		if f["method"] == method && f["user"] == user && f["proto"] == proto {
			return true
		}
	}
	return false
}
