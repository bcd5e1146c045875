package media

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/pion/srtp/v3"
)

// SRTP keys a stream's RTP and RTCP with SRTP and SRTCP (RFC 3711): the
// crypto suite and the master key||salt of each direction, as SDES
// (RFC 4568) negotiated them. It formats as its suite only.
type SRTP struct {
	// Suite is the SDES name: AEAD_AES_128_GCM, AEAD_AES_256_GCM,
	// AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32,
	// AES_256_CM_HMAC_SHA1_80 or AES_256_CM_HMAC_SHA1_32.
	Suite string
	// SendKey protects what we send; RecvKey is the peer's. Each must be
	// the suite's key and salt lengths together. A SendKey must never have
	// protected packets of this stream before, except through the Update
	// that keeps it (a new context on an old key could reuse keystream).
	SendKey, RecvKey []byte
}

// Format prints the suite whatever the verb: never the keys.
func (s SRTP) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.Suite) }

// LogValue logs the suite only.
func (s SRTP) LogValue() slog.Value { return slog.StringValue(s.Suite) }

// profiles are the suites pion/srtp implements, by SDES name.
var profiles = map[string]srtp.ProtectionProfile{
	"AEAD_AES_128_GCM":        srtp.ProtectionProfileAeadAes128Gcm,
	"AEAD_AES_256_GCM":        srtp.ProtectionProfileAeadAes256Gcm,
	"AES_CM_128_HMAC_SHA1_80": srtp.ProtectionProfileAes128CmHmacSha1_80,
	"AES_CM_128_HMAC_SHA1_32": srtp.ProtectionProfileAes128CmHmacSha1_32,
	"AES_256_CM_HMAC_SHA1_80": srtp.ProtectionProfileAes256CmHmacSha1_80,
	"AES_256_CM_HMAC_SHA1_32": srtp.ProtectionProfileAes256CmHmacSha1_32,
}

// replayWindow is the SRTP and SRTCP replay window (RFC 3711 §3.3.2: at
// least 64).
const replayWindow = 128

// srtpDir is one direction of a stream's SRTP. pion contexts are not safe
// for concurrent use: the RTP context belongs to one goroutine (the send
// clock going out, the RTP reader coming in), the RTCP one is shared
// under mu (the reporter and Close going out, both readers coming in).
type srtpDir struct {
	suite string
	key   []byte // a copy, to tell a rekey from a refresh
	rtp   *srtp.Context
	mu    sync.Mutex
	rtcp  *srtp.Context
}

// newSRTPDir makes the contexts of one direction; in adds replay
// protection (RFC 3711 §3.3.2).
func newSRTPDir(suite string, key []byte, in bool) (*srtpDir, error) {
	prof, ok := profiles[suite]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrSRTPSuite, suite)
	}
	keyLen, _ := prof.KeyLen()
	saltLen, _ := prof.SaltLen()
	if len(key) != keyLen+saltLen {
		return nil, fmt.Errorf("%w: %s wants %d bytes, got %d", ErrSRTPKey, suite, keyLen+saltLen, len(key))
	}
	var opts []srtp.ContextOption
	if in {
		opts = append(opts, srtp.SRTPReplayProtection(replayWindow), srtp.SRTCPReplayProtection(replayWindow))
	}
	d := &srtpDir{suite: suite, key: append([]byte(nil), key...)}
	var err error
	if d.rtp, err = srtp.CreateContext(key[:keyLen], key[keyLen:], prof, opts...); err == nil {
		d.rtcp, err = srtp.CreateContext(key[:keyLen], key[keyLen:], prof, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSRTPKey, err)
	}
	return d, nil
}

// same reports whether d is keyed with suite and key.
func (d *srtpDir) same(suite string, key []byte) bool {
	return d != nil && d.suite == suite && subtle.ConstantTimeCompare(d.key, key) == 1
}

// srtpConfig sets up c's SRTP from p, keeping prev's contexts for a
// direction whose suite and key did not change (a hold or a refresh must
// not restart the rollover counters).
func (c *config) srtpConfig(p *SRTP, prev *config) error {
	if p == nil {
		return nil
	}
	var old config
	if prev != nil {
		old = *prev
	}
	var err error
	if c.out = old.out; !old.out.same(p.Suite, p.SendKey) {
		if c.out, err = newSRTPDir(p.Suite, p.SendKey, false); err != nil {
			return err
		}
	}
	if c.in = old.in; !old.in.same(p.Suite, p.RecvKey) {
		if c.in, err = newSRTPDir(p.Suite, p.RecvKey, true); err != nil {
			return err
		}
	}
	return nil
}

// rekeyed reports whether an Update replaced a crypto context that was in
// use.
func rekeyed(old, cfg *config) bool {
	return old.out != nil && cfg.out != nil && old.out != cfg.out ||
		old.in != nil && cfg.in != nil && old.in != cfg.in
}

// suite is the SRTP suite in use, "" for plain RTP.
func (c *config) suite() string {
	if c.out == nil {
		return ""
	}
	return c.out.suite
}

// protectRTCP encrypts a compound RTCP packet (it allocates: RTCP is not
// the per-frame path).
func (d *srtpDir) protectRTCP(raw []byte) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rtcp.EncryptRTCP(nil, raw, nil)
}

func (d *srtpDir) unprotectRTCP(raw []byte) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rtcp.DecryptRTCP(nil, raw, nil)
}

// srtpDropped counts a packet that failed SRTP or SRTCP: a replay (pion's
// error for it is not exported: told by its text) as a duplicate, anything
// else (a bad tag, a plain or truncated packet, the wrong key) as an
// authentication failure.
// The first failure is logged (pion's words name no key material).
func (s *Stream) srtpDropped(err error, what string, n int) {
	if !errors.Is(err, srtp.ErrFailedToVerifyAuthTag) && strings.Contains(err.Error(), "duplicated") {
		s.st.duplicate.Add(1)
		return
	}
	if s.st.srtpAuthFailures.Add(1) == 1 {
		s.log.Warn("media: dropped a packet failing SRTP", "what", what, "bytes", n, "err", err)
	}
}
