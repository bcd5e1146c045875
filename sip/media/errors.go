package media

import "errors"

var (
	// ErrClosed is returned by methods called after Close.
	ErrClosed = errors.New("media: stream closed")
	// ErrAlreadyStarted is returned by a second call to Start.
	ErrAlreadyStarted = errors.New("media: stream already started")
	// ErrNotStarted is returned by Update and SendDTMF before Start.
	ErrNotStarted = errors.New("media: stream not started")
	// ErrNoCodec is returned when Params.Codec is nil.
	ErrNoCodec = errors.New("media: no codec negotiated")
	// ErrNoRemote is returned when Params.Remote is nil or not an IP address.
	ErrNoRemote = errors.New("media: no remote address")
	// ErrInvalidDigit is returned by SendDTMF for a digit outside 0-9 * # A-D.
	ErrInvalidDigit = errors.New("media: invalid DTMF digit")
	// ErrNoDTMF is returned by SendDTMF when telephone-event was not negotiated.
	ErrNoDTMF = errors.New("media: telephone-event not negotiated")
	// ErrDTMFQueueFull is returned by SendDTMF when too many digits are pending.
	ErrDTMFQueueFull = errors.New("media: DTMF queue full")
	// ErrInvalidAddress is returned by Listen for an unparsable local IP.
	ErrInvalidAddress = errors.New("media: invalid local address")
	// ErrInvalidPortRange is returned by Listen for a range without an even/odd port pair.
	ErrInvalidPortRange = errors.New("media: invalid port range")
	// ErrNoFreePort is returned by Listen when no RTP/RTCP port pair could be bound.
	ErrNoFreePort = errors.New("media: no free RTP port pair")
	// ErrSRTPSuite is returned by Start and Update for an SRTP suite pion/srtp
	// does not implement.
	ErrSRTPSuite = errors.New("media: unsupported SRTP suite")
	// ErrSRTPKey is returned by Start and Update for SRTP key material of
	// the wrong length for its suite. It never carries the key.
	ErrSRTPKey = errors.New("media: bad SRTP key")
)
