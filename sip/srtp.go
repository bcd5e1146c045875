package sip

import (
	"errors"
	"strings"

	"github.com/opdesk/opdesk/sip/media"
	"github.com/opdesk/opdesk/sip/sdp"
)

// SRTP with SDES keys (RFC 4568) as Config.Encryption asks:
//
//   - required: we offer RTP/SAVP with a=crypto (AEAD_AES_128_GCM, then
//     AES_CM_128_HMAC_SHA1_80) and answer only offers with an a=crypto we
//     can use, over RTP/SAVP or RTP/AVP; anything else is refused with 488
//     (incoming) or ends the call (outgoing). No RTP leaves or is taken
//     in the clear.
//   - optional (and ""): "best effort" as baresip's mediaenc=srtp does it:
//     RTP/AVP with a=crypto offered, SRTP when the other side takes it up
//     or offers it, plain RTP otherwise.
//   - off: plain RTP/AVP; an RTP/SAVP offer is refused with 488.
//
// The keys travel in the SDP in the clear: SDES protects the audio from
// the network, not from whoever sees the signalling (RFC 4568 §8.3), so
// pair it with sip.transport = tls. Keys are never logged: sdp.Key and
// sdp.SRTP print as placeholders and no SDP body is ever logged.

// CauseNotEncrypted: media.encryption is required and the other side
// offered or answered no SRTP we can use.
const CauseNotEncrypted = "not_encrypted"

// Words for the operator when SRTP is required and missing.
const (
	textNotEncrypted = "the other side does not encrypt audio (SRTP) and media.encryption is required"
	textSRTPRefused  = "the other side refused our encrypted audio (SRTP, 488); media.encryption is required"
)

// srtpPolicy is the SDP layer's policy for Config.Encryption.
func (p *Phone) srtpPolicy() sdp.SRTPPolicy {
	switch Encryption(strings.ToLower(string(p.cfg.Encryption))) {
	case EncryptionRequired:
		return sdp.SRTPRequired
	case EncryptionOff:
		return sdp.SRTPOff
	}
	return sdp.SRTPOptional
}

// mediaSRTP is the media layer's keying of a negotiated stream, nil for
// plain RTP.
func mediaSRTP(s *sdp.SRTP) *media.SRTP {
	if s == nil {
		return nil
	}
	return &media.SRTP{Suite: s.Suite, SendKey: s.Local, RecvKey: s.Remote}
}

// srtpSuite names the suite of a negotiated stream, "" for plain RTP.
func srtpSuite(s *sdp.SRTP) string {
	if s == nil {
		return ""
	}
	return s.Suite
}

// checkSRTP refuses plain media for a phone that requires SRTP: the SDP
// layer never negotiates it, this makes sure no RTP flows if it did.
func (c *call) checkSRTP(m sdp.Media) error {
	if m.SRTP == nil && c.p.srtpPolicy() == sdp.SRTPRequired {
		return errors.New("plain RTP negotiated while media.encryption is required")
	}
	return nil
}

// sdpFailure is the cause and words for an SDP of the other side's that
// we cannot use (what says "answered": an answer, else an offer).
func (c *call) sdpFailure(err error, what string) (cause, text string) {
	if errors.Is(err, sdp.ErrNoCrypto) && c.p.srtpPolicy() == sdp.SRTPRequired {
		return CauseNotEncrypted, textNotEncrypted
	}
	return CauseNoCodec, "the other side " + what + " audio we cannot use: " + err.Error()
}
