package crmclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/opdesk/opdesk/crmclient/outbox"
)

// CustomerNote is the Body of an outbox item of kind note: a line an operator
// adds to a customer's card ("髪型を変えたので次回は2本", the hand-over notes
// colleagues read on the next call).
type CustomerNote struct {
	CustomerID string    `json:"customer_id"`
	Text       string    `json:"text"`
	At         time.Time `json:"at"`
	Author     string    `json:"author"` // display name, written into the line
}

// AttemptItem is the Body of an outbox item of kind attempt: a call to a
// leased lead that reached nobody.
type AttemptItem struct {
	LeadID  string         `json:"lead_id"`
	Outcome AttemptOutcome `json:"outcome"`
	At      time.Time      `json:"at"`
}

// noteLine is how a note is written into the card: one line with its time and
// author, so a reader sees who wrote what when.
func (n CustomerNote) noteLine() string {
	text := strings.Join(strings.Fields(n.Text), " ")
	return fmt.Sprintf("［%s %s］%s", n.At.Local().Format("2006-01-02 15:04"), n.Author, text)
}

// OutboxSender returns the outbox.Sender that delivers the desktop's queued work
// to this CRM, by kind:
//
//   - disposition: Body is a DispositionInput; POST /v1/dispositions with
//     Idempotency-Key = the item's Key, so a repeat after a lost reply changes
//     nothing.
//   - call_log: a call logged by the desktop itself (a missed call, an after-call
//     timer that ran out), Body a DispositionInput as well, with the code the
//     desktop chose. A call log without a campaign is a disposition of the
//     user's first inbound campaign (looked up once with GET /v1/campaigns): the
//     support line is where calls that belong to no campaign arrive.
//   - note: Body is a CustomerNote; the line is appended to the customer's card
//     notes (GET, then PUT /v1/customers/{id}). The contract has no keyed route
//     for notes, so the line itself is the idempotency mark: a card that already
//     holds it is left alone, and a retry after a lost reply adds it only once.
//   - recording: Body is a RecordingItem (the WAV file's path, the Call-ID and
//     the customer); the file is streamed to POST /v1/recordings (SendRecordingItem).
//   - attempt: Body is an AttemptItem; POST /v1/leads/{id}/attempts with
//     Idempotency-Key = the item's Key (RecordAttempt). The lease must still
//     be the operator's: the CRM keeps it theirs until a colleague takes the
//     lead, so a late attempt lands; one on a lead a colleague has since taken,
//     or that went on the DNC list, is refused (lease_not_held) and parked.
//
// A refusal that will never succeed — a 4xx other than 401, 408 and 429, or a
// body that does not decode — wraps outbox.ErrPermanent and parks the item. A
// 401 is retried: the operator logs in again and the item goes through. 5xx,
// 408, 429, timeouts and network failures are retried with the same key.
func (c *Client) OutboxSender() outbox.Sender {
	var (
		mu      sync.Mutex
		inbound string // the campaign of call logs without one, once known
	)
	inboundCampaign := func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if inbound != "" {
			return inbound, nil
		}
		list, err := c.Campaigns(ctx)
		if err != nil {
			return "", err
		}
		for _, cp := range list {
			if cp.Direction == Inbound {
				inbound = cp.ID
				return inbound, nil
			}
		}
		return "", fmt.Errorf("%w: a call log without campaign_id needs an inbound campaign, and this user has none", outbox.ErrPermanent)
	}
	return func(ctx context.Context, it outbox.Item) error {
		switch it.Kind {
		case outbox.KindDisposition:
			return outboxErr(c.sendKeyed(ctx, http.MethodPost, "/v1/dispositions", it.Key, it.Body, nil))
		case outbox.KindCallLog:
			var d DispositionInput
			if err := strictJSON(it.Body, &d); err != nil {
				return fmt.Errorf("%w: call log body: %v", outbox.ErrPermanent, err)
			}
			if d.CampaignID == "" {
				id, err := inboundCampaign(ctx)
				if err != nil {
					return outboxErr(err)
				}
				d.CampaignID = id
			}
			if d.Code == "" {
				return fmt.Errorf("%w: call log without a result code", outbox.ErrPermanent)
			}
			return outboxErr(c.doKeyed(ctx, http.MethodPost, "/v1/dispositions", it.Key, d, nil))
		case outbox.KindNote:
			var n CustomerNote
			if err := strictJSON(it.Body, &n); err != nil {
				return fmt.Errorf("%w: note body: %v", outbox.ErrPermanent, err)
			}
			if n.CustomerID == "" || strings.TrimSpace(n.Text) == "" {
				return fmt.Errorf("%w: a note needs customer_id and text", outbox.ErrPermanent)
			}
			return outboxErr(c.appendNote(ctx, n))
		case outbox.KindRecording:
			return c.SendRecordingItem(ctx, it)
		case outbox.KindAttempt:
			var a AttemptItem
			if err := strictJSON(it.Body, &a); err != nil {
				return fmt.Errorf("%w: attempt body: %v", outbox.ErrPermanent, err)
			}
			if a.LeadID == "" || !a.Outcome.Valid() {
				return fmt.Errorf("%w: an attempt needs lead_id and a known outcome, not %q", outbox.ErrPermanent, a.Outcome)
			}
			_, err := c.RecordAttempt(ctx, it.Key, a.LeadID, AttemptRequest{Outcome: a.Outcome, At: a.At})
			return outboxErr(err)
		default:
			return fmt.Errorf("%w: unknown outbox item kind %q", outbox.ErrPermanent, it.Kind)
		}
	}
}

// appendNote adds a note's line to the customer's card unless it is there.
func (c *Client) appendNote(ctx context.Context, n CustomerNote) error {
	cust, err := c.GetCustomer(ctx, n.CustomerID)
	if err != nil {
		return err
	}
	line := n.noteLine()
	if strings.Contains(cust.Notes, line) {
		return nil
	}
	notes := line
	if cust.Notes != "" {
		notes = strings.TrimRight(cust.Notes, "\n") + "\n" + line
	}
	in := CustomerInput{Name: cust.Name, NameKana: cust.NameKana, Phones: cust.Phones, Email: cust.Email,
		Address: cust.Address, Notes: notes}
	return c.do(ctx, http.MethodPut, "/v1/customers/"+url.PathEscape(n.CustomerID), nil, in, nil)
}

// outboxErr sorts a send error into "park" and "try again".
func outboxErr(err error) error {
	var ae *APIError
	if err == nil || !errors.As(err, &ae) {
		return err // nil, or a network failure or timeout: try again
	}
	switch {
	case ae.Status == http.StatusUnauthorized, ae.Status == http.StatusRequestTimeout,
		ae.Status == http.StatusTooManyRequests, ae.Status >= 500:
		return err
	case ae.Status >= 400:
		return fmt.Errorf("%w: %w", outbox.ErrPermanent, err)
	}
	return err
}

// strictJSON decodes an outbox body, refusing unknown fields: a body written by
// another version of the desktop must not lose data silently.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
