package main

// What the next start does with the calls the journal says were lost: fix
// their recordings, tell the operator in words, and (on the desktop) close
// them in the CRM through the outbox.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmclient/outbox"
	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/tui"
)

// lostCall is a call an earlier opdesk lost, with what this start learned.
type lostCall struct {
	journalCall
	recDur time.Duration // the recording's length after repair
	recErr error         // the recording could not be checked or repaired
	// e164 is the other party's number in E.164 ("" when it is not a
	// phone number); who is the name to show: the CRM card's (desktop),
	// else the caller's display name.
	e164, who  string
	customerID string
}

// recoverLostCalls turns the journal's lost calls into lostCalls, repairing
// their recordings first: after kill -9 the WAV header may not describe
// the file's last second, or any of it.
func recoverLostCalls(calls []journalCall, region string) []lostCall {
	out := make([]lostCall, 0, len(calls))
	for _, c := range calls {
		l := lostCall{journalCall: c, who: sip.Clean(c.RemoteName)}
		if n, err := crmclient.NormalizePhone(remoteUser(c.Remote), region); err == nil {
			l.e164 = n
		}
		if c.Recording != "" {
			_, l.recDur, l.recErr = audio.RepairWAV(c.Recording)
		}
		out = append(out, l)
	}
	return out
}

// remoteUser is the user part of a SIP or tel URI ("<sip:0312345678@pbx>"
// → "0312345678").
func remoteUser(uri string) string {
	s := strings.TrimSpace(uri)
	if i := strings.IndexByte(s, '<'); i >= 0 {
		s, _, _ = strings.Cut(s[i+1:], ">")
	}
	for _, scheme := range []string{"sip:", "sips:", "tel:"} {
		if len(s) >= len(scheme) && strings.EqualFold(s[:len(scheme)], scheme) {
			s = s[len(scheme):]
			break
		}
	}
	s, _, _ = strings.Cut(s, ";")
	user, _, _ := strings.Cut(s, "@")
	return user
}

// number is how the other party's number is shown: international format
// for a phone number ("+81 90-1234-5678"), else the URI's user part.
func (l lostCall) number() string {
	if l.e164 != "" {
		if n, err := phonenumbers.Parse(l.e164, ""); err == nil {
			return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
		}
	}
	return sip.Clean(remoteUser(l.Remote))
}

// text says what happened in the operator's language:
//
//	opdesk stopped during a call with 山田 太郎 (+81 90-1234-5678) at 14:02 —
//	the call was lost; the recording (3.4 s) is kept at /…/140159_….wav
func (l lostCall) text(lang tui.Lang, now time.Time) string {
	at := l.LastSeen
	if at.IsZero() {
		at = l.Start
	}
	when := at.Local().Format("15:04")
	if y, m, d := at.Local().Date(); y != now.Year() || m != now.Month() || d != now.Day() {
		when = at.Local().Format("2006-01-02 15:04")
	}
	party := l.number()
	if l.who != "" && l.who != party {
		party = l.who + " (" + party + ")"
	}
	w, ok := lostWords[lang]
	if !ok {
		w = lostWords[tui.LangEN]
	}
	s := fmt.Sprintf(w.lost, when, party)
	switch {
	case l.Recording != "" && l.recErr != nil:
		s += fmt.Sprintf(w.recErr, l.Recording, l.recErr)
	case l.Recording != "":
		s += fmt.Sprintf(w.rec, l.recDur.Seconds(), l.Recording)
	}
	return s
}

// lostWords are text's sentences by language: when and with whom; then
// the recording that could not be checked (path, error), or the one that
// is kept (seconds, path).
var lostWords = map[tui.Lang]struct{ lost, recErr, rec string }{
	tui.LangEN: {"opdesk stopped during a call with %[2]s at %[1]s — the call was lost",
		"; the recording %s could not be checked (%v)", "; the recording (%.1f s) is kept at %s"},
	tui.LangJA: {"%[1]s、%[2]s との通話中に opdesk が停止しました — 通話は切れています",
		"。録音 %s は確認できません (%v)", "。録音 (%.1f 秒) は %s に残っています"},
}

// logLost writes a lost call to the log, with everything the journal knew.
func logLost(log *slog.Logger, l lostCall) {
	log.Warn("call lost: opdesk stopped during it", "call", l.ID, "sip_call_id", l.SIPCallID,
		"direction", l.Direction, "remote", l.Remote, "start", l.Start, "last_seen", l.LastSeen,
		"recording", l.Recording, "recording_s", l.recDur.Seconds(), "recording_err", l.recErr)
}

// kindCallEvent is an outbox item that announces a call's phase to the CRM
// (POST /v1/me/calls), Body a crmclient.CallEventRequest. The desktop
// queues one "ended" for every call a crash cut; the CRM stores a phase of
// a call once, so a repeat changes nothing.
const kindCallEvent = "call_event"

// withCallEvents adds kindCallEvent to an outbox sender; other kinds go to
// next. Refusals that will never succeed park the item, as next does.
func withCallEvents(next outbox.Sender, client *crmclient.Client) outbox.Sender {
	return func(ctx context.Context, it outbox.Item) error {
		if it.Kind != kindCallEvent {
			return next(ctx, it)
		}
		var req crmclient.CallEventRequest
		dec := json.NewDecoder(bytes.NewReader(it.Body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return fmt.Errorf("%w: call event body: %v", outbox.ErrPermanent, err)
		}
		_, err := client.PostCallEvent(ctx, req)
		var ae *crmclient.APIError
		if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != http.StatusUnauthorized &&
			ae.Status != http.StatusRequestTimeout && ae.Status != http.StatusTooManyRequests {
			return fmt.Errorf("%w: %w", outbox.ErrPermanent, err)
		}
		return err
	}
}

// endedEvent is the CRM's "call ended" for a lost call, at its last sign
// of life.
func (l lostCall) endedEvent() crmclient.CallEventRequest {
	at := l.LastSeen
	if at.IsZero() {
		at = l.Start
	}
	req := crmclient.CallEventRequest{Event: crmclient.CallEnded, CallID: l.SIPCallID,
		Direction: crmclient.Direction(l.Direction), Number: l.e164, CustomerID: l.customerID, At: at}
	if req.Number == "" {
		req.Number = remoteUser(l.Remote)
	}
	return req
}

// reportLostDesktop fills in the CRM's name for each lost call from the card
// cache (the card the operator saw), queues its "ended" event in the outbox
// and returns the notices for the status bar. crm may be nil.
func reportLostDesktop(ctx context.Context, lost []lostCall, crm *crmParts, lang tui.Lang, log *slog.Logger) []string {
	var notices []string
	for _, l := range lost {
		if crm != nil && crm.cards != nil && l.e164 != "" {
			if card, ok := crm.cards.Get(ctx, l.e164); ok && len(card.Customers) == 1 {
				l.who, l.customerID = sip.Clean(card.Customers[0].Name), card.Customers[0].ID
			}
		}
		logLost(log, l)
		notices = append(notices, l.text(lang, time.Now()))
		if crm == nil || crm.box == nil || l.SIPCallID == "" {
			continue
		}
		body, err := json.Marshal(l.endedEvent())
		if err == nil {
			_, err = crm.box.Put(ctx, kindCallEvent, body)
		}
		if err != nil {
			log.Error("the lost call's end could not be queued for the CRM", "call", l.ID, "err", err)
		}
	}
	return notices
}
