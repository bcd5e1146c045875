package sdp

import "errors"

// Sentinel errors. Functions wrap them with a short reason taken from the
// SDP at fault, so test with errors.Is and show the wrapped message. Wrapped
// text is stripped of control characters and bounded in length, so it is safe
// to log or to put in a SIP Warning header.
var (
	// ErrMalformed means the SDP could not be understood: not SDP at all,
	// lines out of RFC 4566 §5 order, no m=audio line, a bad port, a
	// non-numeric RTP payload type, no c= line for the audio stream. Answer an
	// offer like that with 400 Bad Request.
	ErrMalformed = errors.New("sdp: malformed")

	// ErrNoCommonCodec means no audio stream in the SDP offers (or answers) a
	// codec we asked for. The wrapped text names what the peer listed. Answer
	// an offer like that with 488 Not Acceptable Here (RFC 3261 §13.3.1.4).
	ErrNoCommonCodec = errors.New("sdp: no common codec")

	// ErrUnsupportedProfile means the only live audio streams use a transport
	// profile we do not speak (UDP/TLS/RTP/SAVPF, TCP..., or RTP/SAVP with
	// SRTPOff): we do RTP/AVP and RTP/AVPF, and RTP/SAVP and RTP/SAVPF with
	// SDES keys. Answer with 488 as well.
	ErrUnsupportedProfile = errors.New("sdp: unsupported media profile")

	// ErrNoCrypto means SRTP was needed and there is none we can use: an
	// RTP/SAVP line, or any line under SRTPRequired, with no a=crypto whose
	// suite and parameters we support; an answer without a=crypto to our
	// SRTPRequired offer; an answer whose a=crypto matches none of ours.
	// The wrapped text names tags and suites, never keys. Answer an offer
	// like that with 488.
	ErrNoCrypto = errors.New("sdp: no usable SRTP crypto")

	// ErrStreamRejected means the audio stream has port 0 (RFC 3264 §6, §8.2):
	// the peer rejected or removed it. Answer still returns a valid answer
	// (every stream at port 0) to send in the 200 OK; the call has no audio.
	ErrStreamRejected = errors.New("sdp: audio stream rejected (port 0)")

	// ErrNoOffer means ParseAnswer was called with no outstanding offer from
	// this Session (Offer was never called, or Answer was called since).
	ErrNoOffer = errors.New("sdp: no offer outstanding")

	// ErrInvalidLocal means the Local description cannot be put into SDP: an
	// IP that is not a literal address, a port outside 1-65535, no codecs or a
	// codec the audio package does not implement, an unknown Direction.
	ErrInvalidLocal = errors.New("sdp: invalid local media description")
)
