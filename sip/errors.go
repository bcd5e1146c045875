package sip

import "errors"

// Sentinel errors. The ctl socket and the TUI turn them into sentences.
var (
	ErrClosed       = errors.New("phone is shut down")
	ErrNoSuchCall   = errors.New("no such call")
	ErrNoCall       = errors.New("no call to act on")
	ErrAmbiguous    = errors.New("several calls could be meant; give the call id")
	ErrBadState     = errors.New("the call is not in a state that allows this")
	ErrBadTarget    = errors.New("cannot make a SIP address of the target")
	ErrBadCallerID  = errors.New("cannot present that caller ID")
	ErrNoRegistrar  = errors.New("no registrar configured; dial a full SIP URI (sip:user@host:port)")
	ErrCallFailed   = errors.New("call failed")
	ErrTransfer     = errors.New("transfer failed")
	ErrBadDTMF      = errors.New("DTMF digits must be 0-9, *, #, A-D")
	ErrNotSupported = errors.New("not supported")
	// ErrRefused: the agent's desk refused a monitor grant (403).
	ErrRefused = errors.New("the agent's desk refused the monitor grant")
	// ErrBadGrant: a grant that cannot be sent (empty, too long, not
	// visible ASCII).
	ErrBadGrant = errors.New("the monitor grant is not a token that can be sent")
)

// Encryption says whether call media is SRTP.
type Encryption string

const (
	// EncryptionRequired: only SRTP; a call that cannot have it fails and
	// plain RTP is never sent or accepted.
	EncryptionRequired Encryption = "required"
	// EncryptionOptional: SRTP offered and preferred, plain RTP accepted.
	EncryptionOptional Encryption = "optional"
	// EncryptionOff: plain RTP only.
	EncryptionOff Encryption = "off"
)
