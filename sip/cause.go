package sip

import "fmt"

// Cause words used in ended events. They are stable: scripts match on them.
const (
	CauseLocalHangup  = "local_hangup"
	CauseRemoteHangup = "remote_hangup"
	CauseCancelled    = "cancelled"
	CauseRemoteCancel = "remote_cancelled"
	CauseBusy         = "busy"
	CauseDeclined     = "declined"
	CauseNotFound     = "not_found"
	CauseUnavailable  = "unavailable"
	CauseNoAnswer     = "no_answer"
	CauseUnreachable  = "unreachable"
	CauseNoCodec      = "no_common_codec"
	CauseAuth         = "auth_failed"
	CauseForbidden    = "forbidden"
	CauseRejected     = "rejected"
	CauseServerError  = "server_error"
	CauseTransferred  = "transferred"
	CauseReplaced     = "replaced"
	CauseShutdown     = "shutdown"
	CauseMediaTimeout = "media_timeout"
	CauseError        = "error"
)

// causeFromStatus maps a final SIP response to a cause word and a sentence
// an operator understands (RFC 3261 §21).
func causeFromStatus(code int, reason string) (cause, text string) {
	switch code {
	case 486, 600:
		return CauseBusy, fmt.Sprintf("the line is busy (%d)", code)
	case 603:
		return CauseDeclined, "the call was declined (603)"
	case 404, 604:
		return CauseNotFound, fmt.Sprintf("that number or user does not exist (%d)", code)
	case 480:
		return CauseUnavailable, "the other side is not available right now (480)"
	case 408:
		return CauseNoAnswer, "no answer (408)"
	case 487:
		return CauseCancelled, "the call was cancelled (487)"
	case 488, 606:
		return CauseNoCodec, fmt.Sprintf("no common audio codec with the other side (%d)", code)
	case 401, 407:
		return CauseAuth, fmt.Sprintf("the PBX rejected our user name or password (%d)", code)
	case 403:
		return CauseForbidden, "the PBX refused the call (403 Forbidden)"
	case 484:
		return CauseNotFound, "the number is incomplete (484)"
	case 503:
		return CauseServerError, "the PBX or network is out of service (503)"
	}
	switch {
	case code >= 500 && code < 600:
		return CauseServerError, fmt.Sprintf("the PBX reported an error (%d %s)", code, reason)
	case code >= 400:
		return CauseRejected, fmt.Sprintf("the call was rejected (%d %s)", code, reason)
	}
	return CauseError, fmt.Sprintf("unexpected answer %d %s", code, reason)
}
