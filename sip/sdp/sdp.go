// Package sdp negotiates the one audio stream of an opdesk call with the SDP
// offer/answer model of RFC 3264, on top of github.com/pion/sdp/v3 for the
// RFC 4566 syntax. Only G.711 (the codecs of the audio package) is spoken,
// with RFC 4733 telephone-event for DTMF, over RTP/AVP or over SRTP keyed
// with SDES (a=crypto, RFC 4568; AES-GCM of RFC 7714) as Local.SRTP says.
//
// A dialog owns one Session: it keeps the o= line stable and bumps its
// version only when our SDP changes (RFC 3264 §8), so a session refresh that
// re-sends the same SDP keeps the version and a hold re-INVITE increments it.
//
// Hazards worth knowing:
//   - Every m= line of an offer gets an m= line in the answer, in order
//     (RFC 3264 §6); streams other than the chosen audio one are answered
//     with port 0. The Session remembers that layout, so a later re-offer of
//     ours keeps the rejected lines (an offer must never have fewer m= lines
//     than the previous SDP, RFC 3264 §8).
//   - c=0.0.0.0 (RFC 2543 hold) means "send nothing to me" (RFC 3264 §8.4):
//     Media.Addr is then nil and Media.Direction never includes sending.
//   - Payload types are per direction: Media.PayloadType is the one the peer
//     asked for. For a dynamic mapping ("a=rtpmap:96 PCMU/8000") look the
//     codec up by Media.Codec, not by payload type.
//   - SRTP keys are in the SDP in the clear (RFC 4568 §8.3: the signalling
//     must be protected) and in Media.SRTP: Key and SRTP format as
//     placeholders, and no error of this package quotes key material, so
//     neither leaks into a log by accident. Never log an SDP body.
//   - The syntax check is pion's and strict: lines must come in RFC 4566 §5
//     order and m= lines must name a media type and profile pion knows
//     (T.38's "m=image ... udptl" is not one), else ErrMalformed.
package sdp

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/opdesk/opdesk/audio"
)

// Local describes our end of the audio stream, as the caller wants it.
type Local struct {
	// IP is the address we receive RTP on, an IPv4 or IPv6 literal. It goes
	// into c= (and into o= for the Session's first SDP).
	IP string
	// Port is our RTP port (1-65535); RTCP is expected on Port+1.
	Port int
	// Codecs are SDP encoding names of audio codecs, in preference order,
	// e.g. {"PCMU", "PCMA"}. Names are case-insensitive; duplicates are
	// dropped.
	Codecs []string
	// DTMF offers (or accepts) RFC 4733 telephone-event/8000, events 0-16.
	DTMF bool
	// Direction is what we want: SendOnly to put the peer on hold.
	Direction Direction
	// SRTP says whether the stream is SRTP (SDES keys); SRTPOff, the zero
	// value, is plain RTP.
	SRTP SRTPPolicy
}

// Media is the outcome of a negotiation: where to send, in which format, and
// which way media flows.
type Media struct {
	// IP is the peer's RTP address (media-level c= over session-level c=),
	// "0.0.0.0" for an RFC 2543 hold.
	IP string
	// Port is the peer's RTP port.
	Port int
	// RTCPPort is the peer's RTCP port: a=rtcp (RFC 3605) if present, else
	// Port+1.
	RTCPPort int
	// Codec is the audio package's name of the codec ("PCMU", "PCMA");
	// audio.CodecByName(Codec) gives the implementation.
	Codec string
	// PayloadType is the RTP payload type for Codec that the peer expects.
	PayloadType uint8
	// DTMFPayloadType is the telephone-event payload type, if HasDTMF.
	DTMFPayloadType uint8
	// HasDTMF reports that both ends agreed on telephone-event/8000.
	HasDTMF bool
	// Ptime is the peer's packet time in milliseconds (a=ptime), 20 if it
	// gave none or one outside 10-200.
	Ptime int
	// Direction is OUR direction after negotiation: whether we may send and
	// should expect to receive.
	Direction Direction
	// RemoteDirection is the direction the peer declared, with an RFC 2543
	// hold (c=0.0.0.0) counted as the peer not receiving.
	RemoteDirection Direction
	// SRTP is the crypto suite and keys when the stream is SRTP, nil for
	// plain RTP. It is shared, not copied: do not modify it.
	SRTP *SRTP
}

// Addr returns the peer's RTP address, or nil when there is nowhere to send
// to: port 0, or an unspecified address (c=0.0.0.0 hold). A nil result must
// not be replaced by a default; sending to 0.0.0.0 reaches localhost on
// Linux.
func (m Media) Addr() *net.UDPAddr {
	ip, err := netip.ParseAddr(m.IP)
	if err != nil || ip.IsUnspecified() || m.Port <= 0 || m.Port > 65535 {
		return nil
	}
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(m.Port)))
}

// defaultPtime is the packet time opdesk sends and assumes (audio.FrameDuration).
const defaultPtime = int(audio.FrameDuration / 1e6)

// local is a validated Local.
type local struct {
	ip     netip.Addr
	port   int
	codecs []audio.Codec
	dtmf   bool
	dir    Direction
	srtp   SRTPPolicy
}

func (l Local) validate() (local, error) {
	ip, err := netip.ParseAddr(l.IP)
	if err != nil || ip.Zone() != "" {
		return local{}, fmt.Errorf("%w: IP %q is not an IP address literal", ErrInvalidLocal, clean(l.IP))
	}
	if l.Port < 1 || l.Port > 65535 {
		return local{}, fmt.Errorf("%w: port %d out of range 1-65535", ErrInvalidLocal, l.Port)
	}
	if !l.Direction.valid() {
		return local{}, fmt.Errorf("%w: unknown direction %d", ErrInvalidLocal, int(l.Direction))
	}
	if !l.SRTP.valid() {
		return local{}, fmt.Errorf("%w: unknown SRTP policy %d", ErrInvalidLocal, int(l.SRTP))
	}
	out := local{ip: ip.Unmap(), port: l.Port, dtmf: l.DTMF, dir: l.Direction, srtp: l.SRTP}
	for _, name := range l.Codecs {
		c, ok := audio.CodecByName(name)
		if !ok {
			return local{}, fmt.Errorf("%w: codec %q is not implemented", ErrInvalidLocal, clean(name))
		}
		if !containsCodec(out.codecs, c) {
			out.codecs = append(out.codecs, c)
		}
	}
	if len(out.codecs) == 0 {
		return local{}, fmt.Errorf("%w: no codecs", ErrInvalidLocal)
	}
	return out, nil
}

func containsCodec(cs []audio.Codec, c audio.Codec) bool {
	for _, x := range cs {
		if x.Name() == c.Name() {
			return true
		}
	}
	return false
}
