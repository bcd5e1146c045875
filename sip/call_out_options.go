package sip

import (
	"context"
	"fmt"
	"strings"
	"time"

	gsip "github.com/emiago/sipgo/sip"
)

// Where DialOptions.CallerID goes (DialOptions.CallerIDHeader).
const (
	// CallerIDPAI puts the number in a P-Asserted-Identity header (RFC
	// 3325): for PBXs and trunks that trust the UA. The default.
	CallerIDPAI = "pai"
	// CallerIDFrom makes the number the From user; the account stays in
	// the digest credentials.
	CallerIDFrom = "from"
	// CallerIDBoth does both.
	CallerIDBoth = "both"
)

// DialOptions are per-call settings of an outbound call.
type DialOptions struct {
	// CallerID is the number to present (E.164, "+81345670000"): a campaign's
	// caller ID. Empty: the account's own.
	CallerID string
	// CallerIDHeader says where CallerID goes: "pai" (default, ""): a
	// P-Asserted-Identity header (RFC 3325) with sip:NUMBER@domain;user=phone,
	// for PBXs and trunks that trust the UA; "from": the From user (the
	// account stays in the digest credentials); "both".
	CallerIDHeader string
	// RingTimeout ends the call unanswered after this long (0: the phone's
	// Config.RingTimeout); the call ends with cause no_answer.
	RingTimeout time.Duration
	// Grant is a monitor grant: sent in an X-Opdesk-Grant header; the
	// agent's desktop answers only a valid one (403 otherwise) and the call
	// becomes a monitor session (SendGrant switches its mode). It must be
	// 1 to 4096 visible ASCII characters (ErrBadGrant); it is never logged.
	Grant string
}

// DialWith is Dial with per-call options: a campaign's caller ID and ring
// timeout. The options are checked before anything is sent: a CallerID that
// is not an E.164 number or an unknown CallerIDHeader returns an error
// wrapping ErrBadCallerID, and no call starts.
func (p *Phone) DialWith(ctx context.Context, target string, o DialOptions) (string, error) {
	spec, err := p.outSpecFor(o)
	if err != nil {
		return "", err
	}
	return p.dialOut(ctx, target, spec)
}

// outSpec is how one outbound call differs from a plain Dial.
type outSpec struct {
	fromUser    string        // replaces the From user and drops the display name
	pai         string        // P-Asserted-Identity value; "" for none
	ringTimeout time.Duration // 0: Config.RingTimeout
	extra       []gsip.Header // more INVITE headers (Replaces, Referred-By)
	grant       string        // a monitor grant, "" for none
}

// outSpecFor checks o and turns it into an outSpec.
func (p *Phone) outSpecFor(o DialOptions) (outSpec, error) {
	spec := outSpec{ringTimeout: max(o.RingTimeout, 0)}
	if o.Grant != "" {
		if err := checkGrant(o.Grant); err != nil {
			return spec, err
		}
		spec.grant = o.Grant
	}
	var inPAI, inFrom bool
	switch strings.ToLower(o.CallerIDHeader) {
	case "", CallerIDPAI:
		inPAI = true
	case CallerIDFrom:
		inFrom = true
	case CallerIDBoth:
		inPAI, inFrom = true, true
	default:
		return spec, fmt.Errorf("%w: caller ID header %q is not pai, from or both", ErrBadCallerID, o.CallerIDHeader)
	}
	if o.CallerID == "" {
		return spec, nil
	}
	if !isE164(o.CallerID) {
		return spec, fmt.Errorf("%w: %q is not a number in E.164 form: write + and the country code, such as +81345670000 (at most 15 digits, no spaces or dashes)",
			ErrBadCallerID, o.CallerID)
	}
	if inFrom {
		spec.fromUser = o.CallerID
	}
	if inPAI {
		spec.pai = p.assertedIdentity(o.CallerID)
	}
	return spec, nil
}

// assertedIdentity is a P-Asserted-Identity value for an E.164 number at
// the account's domain: <sip:+81345670000@pbx.example.com;user=phone>
// (RFC 3325 §9.1, user=phone from RFC 3261 §19.1.1).
func (p *Phone) assertedIdentity(number string) string {
	u := gsip.Uri{Scheme: "sip", User: number, Host: p.aor.Host, UriParams: gsip.NewParams()}
	u.UriParams.Add("user", "phone")
	return "<" + u.String() + ">"
}

// isE164 reports whether s is '+', a digit 1–9 and 1 to 14 more digits:
// an E.164 number (ITU-T E.164 §6: at most 15 digits, no leading zero in
// the country code). Nothing else, so it cannot carry SIP syntax or
// control characters into a header.
func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// alerting reports whether a provisional status says the far end was
// alerted: 180 Ringing or 183 Session Progress (a network ringback or
// announcement).
func alerting(code int) bool { return code == 180 || code == 183 }

// onWire sees every message as it is read from the socket, in order, before
// sipgo's transaction layer handles it on a goroutine of its own. That
// layer may take a 180 after the final response that followed it and then
// drops it (an INVITE client transaction in the Completed state ignores
// 1xx, RFC 3261 §17.1.1.2), so OnResponse never sees it. onWire marks the
// outbound call as rung here, so Event.Rang is right even then. It runs on
// the transport's read loop: it must not block.
func (p *Phone) onWire(msg gsip.Message) {
	res, ok := msg.(*gsip.Response)
	if !ok || !alerting(res.StatusCode) {
		return
	}
	cseq, cid := res.CSeq(), res.CallID()
	if cseq == nil || cid == nil || cseq.MethodName != gsip.INVITE {
		return
	}
	if c := p.callBySIPID(cid.Value()); c != nil && c.dir == Outbound {
		c.rang.Store(true)
	}
}

// roundDuration rounds d for a sentence: to the second from a second up,
// else to the millisecond.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
