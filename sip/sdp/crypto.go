package sdp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// SRTPPolicy says whether our audio stream is SRTP keyed with SDES
// (a=crypto, RFC 4568). The zero value is SRTPOff.
type SRTPPolicy int

// SRTP policies.
const (
	// SRTPOff: plain RTP/AVP, no a=crypto; an RTP/SAVP offer is refused
	// (ErrUnsupportedProfile).
	SRTPOff SRTPPolicy = iota
	// SRTPOptional: "best effort" SRTP. We offer RTP/AVP with a=crypto
	// lines; an answer without a=crypto means plain RTP. We answer an
	// offer with a=crypto we can use with SRTP, else plain.
	SRTPOptional
	// SRTPRequired: SRTP or nothing. We offer RTP/SAVP with a=crypto
	// lines; an offer or answer without a usable a=crypto is ErrNoCrypto.
	SRTPRequired
)

// String returns "off", "optional" or "required".
func (p SRTPPolicy) String() string {
	switch p {
	case SRTPOff:
		return "off"
	case SRTPOptional:
		return "optional"
	case SRTPRequired:
		return "required"
	}
	return "SRTPPolicy(" + strconv.Itoa(int(p)) + ")"
}

func (p SRTPPolicy) valid() bool { return p >= SRTPOff && p <= SRTPRequired }

// SRTP is the SDES keying a negotiation settled on: the crypto suite and
// the master key||salt each side protects its packets with. It formats as
// its suite only (fmt, log/slog and JSON), so a Media can be logged; the
// keys never appear in a log, an error or an event.
type SRTP struct {
	// Suite is the RFC 4568 / RFC 7714 name: "AEAD_AES_128_GCM",
	// "AES_CM_128_HMAC_SHA1_80", ...
	Suite string
	// Local is our master key||salt: what we protect our RTP and RTCP with.
	Local Key
	// Remote is the peer's: what its packets are protected with.
	Remote Key
}

// Format prints the suite whatever the verb: never the keys.
func (s SRTP) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.Suite) }

// LogValue logs the suite only.
func (s SRTP) LogValue() slog.Value { return slog.StringValue(s.Suite) }

// MarshalJSON encodes the suite only.
func (s SRTP) MarshalJSON() ([]byte, error) { return json.Marshal(s.Suite) }

// Key is SRTP master key material. It formats as "[key]" whatever the
// verb, in log/slog and in JSON, so that it cannot leak by accident.
type Key []byte

// Format prints a placeholder, never the key.
func (Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "[key]") }

// LogValue logs a placeholder, never the key.
func (Key) LogValue() slog.Value { return slog.StringValue("[key]") }

// MarshalJSON encodes a placeholder, never the key.
func (Key) MarshalJSON() ([]byte, error) { return []byte(`"[key]"`), nil }

// suite is a crypto suite we can speak.
type suite struct {
	name    string
	keySalt int  // bytes of master key||salt
	offer   bool // put in our offers (in table order); else only accepted
}

// suites are the crypto suites we accept, in the order we offer them:
// AES-GCM (RFC 7714 §12: 16-byte key, 12-byte salt) first, then the
// RFC 4568 default every SDES peer has. The others are accepted from a
// peer that offers them first. RFC 4568 §6.2: _32 shortens the SRTP tag
// only; SRTCP keeps 80 bits.
var suites = []suite{
	{name: "AEAD_AES_128_GCM", keySalt: 16 + 12, offer: true},
	{name: "AES_CM_128_HMAC_SHA1_80", keySalt: 16 + 14, offer: true},
	{name: "AES_CM_128_HMAC_SHA1_32", keySalt: 16 + 14},
	{name: "AEAD_AES_256_GCM", keySalt: 32 + 12},
	{name: "AES_256_CM_HMAC_SHA1_80", keySalt: 32 + 14},
	{name: "AES_256_CM_HMAC_SHA1_32", keySalt: 32 + 14},
}

func findSuite(name string) (suite, bool) {
	for _, s := range suites {
		if s.name == name {
			return s, true
		}
	}
	return suite{}, false
}

// crypto is one parsed a=crypto line.
type crypto struct {
	tag   uint32
	suite suite
	key   Key
}

// errCrypto is why a=crypto lines are passed over; wrapped, it never
// carries key material (only the tag and the suite name are quoted).
var errCrypto = errors.New("a=crypto")

// minLifetime is the smallest key lifetime (RFC 4568 §6.1, in packets) we
// accept without rekeying: 2^31, the SRTCP index limit, which a call does
// not reach (50 packets/s for over a year).
const minLifetime = 1 << 31

// parseCrypto parses the value of an a=crypto attribute (RFC 4568 §9.1):
//
//	<tag> <crypto-suite> inline:<key||salt>[|<lifetime>][|<mki>:<len>] [<session-params>]
//
// It returns an error for anything malformed and for what we do not
// support: an unknown suite, several keys or an MKI, a lifetime below
// 2^31, or a session parameter other than WSH= and KDR=0. The error quotes
// the tag and suite at most, never the key.
func parseCrypto(v string) (crypto, error) {
	fields := strings.Fields(v)
	if len(fields) < 3 {
		return crypto{}, fmt.Errorf("%w: want <tag> <suite> <key-params>", errCrypto)
	}
	tag, err := strconv.ParseUint(fields[0], 10, 32)
	if err != nil || len(fields[0]) > 9 {
		return crypto{}, fmt.Errorf("%w: tag %q is not 1-9 digits", errCrypto, clean(fields[0]))
	}
	c := crypto{tag: uint32(tag)}
	var ok bool
	if c.suite, ok = findSuite(fields[1]); !ok {
		return crypto{}, fmt.Errorf("%w:%d: suite %q not supported", errCrypto, tag, clean(fields[1]))
	}
	for _, p := range fields[3:] {
		if !strings.HasPrefix(p, "WSH=") && p != "KDR=0" {
			return crypto{}, fmt.Errorf("%w:%d: session parameter %q not supported", errCrypto, tag, clean(p))
		}
	}
	info, ok := strings.CutPrefix(fields[2], "inline:")
	if !ok || strings.Contains(info, ";") {
		return crypto{}, fmt.Errorf("%w:%d: want one key, method inline", errCrypto, tag)
	}
	parts := strings.Split(info, "|")
	if len(parts) > 2 || len(parts) == 2 && strings.Contains(parts[1], ":") {
		return crypto{}, fmt.Errorf("%w:%d: MKI not supported", errCrypto, tag)
	}
	if len(parts) == 2 && !longLifetime(parts[1]) {
		return crypto{}, fmt.Errorf("%w:%d: key lifetime too short or malformed", errCrypto, tag)
	}
	if c.key, err = decodeKey(parts[0]); err != nil || len(c.key) != c.suite.keySalt {
		return crypto{}, fmt.Errorf("%w:%d: key is not %d bytes of base64", errCrypto, tag, c.suite.keySalt)
	}
	return c, nil
}

// longLifetime reports whether an RFC 4568 lifetime ("2^31" or decimal) is
// at least minLifetime.
func longLifetime(s string) bool {
	if exp, ok := strings.CutPrefix(s, "2^"); ok {
		n, err := strconv.ParseUint(exp, 10, 8)
		return err == nil && n >= 31 && n <= 64
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return err == nil && n >= minLifetime
}

// decodeKey decodes base64 key material; RFC 4568 wants padding, some
// stacks leave it out.
func decodeKey(s string) (Key, error) {
	if k, err := base64.StdEncoding.DecodeString(s); err == nil {
		return k, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// cryptoValue formats the value of our a=crypto attribute.
func cryptoValue(tag uint32, name string, key Key) string {
	return strconv.FormatUint(uint64(tag), 10) + " " + name + " inline:" + base64.StdEncoding.EncodeToString(key)
}

// cryptoLines parses every a=crypto line of md; lines we cannot use are
// left out, the last reason kept for error text.
func cryptoLines(md *psdp.MediaDescription) (cs []crypto, lines int, why error) {
	for _, a := range md.Attributes {
		if a.Key != "crypto" {
			continue
		}
		lines++
		c, err := parseCrypto(a.Value)
		if err != nil {
			why = err
			continue
		}
		cs = append(cs, c)
	}
	return cs, lines, why
}

// newKey returns fresh master key||salt for s from crypto/rand.
func newKey(s suite) (Key, error) {
	k := make(Key, s.keySalt)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("sdp: SRTP key: %w", err)
	}
	return k, nil
}

// isSecure reports whether profile p is SRTP (RFC 3711 §12: RTP/SAVP,
// and RFC 5124 RTP/SAVPF).
func isSecure(p string) bool { return p == "RTP/SAVP" || p == "RTP/SAVPF" }

// allows reports whether our policy can answer (or re-offer) profile p.
func (p SRTPPolicy) allows(profile string) bool {
	switch {
	case !supportedProfile(profile):
		return false
	case isSecure(profile):
		return p != SRTPOff
	}
	return p != SRTPRequired
}

// offerProtos is the profile of our first offer under p.
func (p SRTPPolicy) offerProtos() []string {
	if p == SRTPRequired {
		return []string{"RTP", "SAVP"}
	}
	return []string{"RTP", "AVP"}
}
