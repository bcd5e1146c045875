package tui

import (
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/sip"
)

// endKind sorts how an unanswered lead call ended.
type endKind int

const (
	endCounted  endKind = iota // reached nobody: an attempt with an automatic outcome
	endNotTried                // the operator hung up before it rang: no attempt
	endOurs                    // failed on our side (the PBX refused us, no codec): no attempt
)

// leadOutcome maps the end of an unanswered outbound call to the outcome the
// CRM records (RFC 3261 §21 classes; rang says a 180/183 came first):
//
//	486, 600 busy            → busy
//	603 decline              → rejected
//	404, 410, 484, 604       → invalid number
//	480 after ringing, 408,
//	ring timeout, cancelled
//	after ringing            → no answer
//	480 without ringing      → unreachable (switched off, out of coverage)
//	other 4xx                → rejected
//
// Authentication, 403, no common codec, 5xx and transport failures are the
// line's or the PBX's problem, not the lead's: endOurs.
func leadOutcome(ev sip.Event, rang bool) (crmclient.AttemptOutcome, endKind) {
	switch ev.Cause {
	case sip.CauseBusy:
		return crmclient.OutcomeBusy, endCounted
	case sip.CauseDeclined:
		return crmclient.OutcomeRejected, endCounted
	case sip.CauseNotFound:
		return crmclient.OutcomeInvalidNumber, endCounted
	case sip.CauseUnavailable:
		if rang {
			return crmclient.OutcomeNoAnswer, endCounted
		}
		return crmclient.OutcomeUnreachable, endCounted
	case sip.CauseNoAnswer:
		return crmclient.OutcomeNoAnswer, endCounted
	case sip.CauseLocalHangup, sip.CauseCancelled, sip.CauseRemoteHangup:
		if rang {
			return crmclient.OutcomeNoAnswer, endCounted
		}
		return "", endNotTried
	case sip.CauseRejected:
		if ev.Code == 410 {
			return crmclient.OutcomeInvalidNumber, endCounted
		}
		return crmclient.OutcomeRejected, endCounted
	}
	return "", endOurs
}
