package crmclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Campaigns lists the campaigns the user works on (a supervisor: all of them).
func (c *Client) Campaigns(ctx context.Context) ([]Campaign, error) {
	var out CampaignList
	err := c.do(ctx, http.MethodGet, "/v1/campaigns", nil, nil, &out)
	return out.Campaigns, err
}

// Campaign returns one campaign with its calling window, retry rules and wrap-up
// form. An agent not assigned to it gets ErrForbidden.
func (c *Client) Campaign(ctx context.Context, id string) (Campaign, error) {
	var out Campaign
	err := c.do(ctx, http.MethodGet, "/v1/campaigns/"+url.PathEscape(id), nil, nil, &out)
	return out, err
}

// CreateCampaign defines a campaign (supervisors); the answer has the defaults
// filled in.
func (c *Client) CreateCampaign(ctx context.Context, in Campaign) (Campaign, error) {
	var out Campaign
	err := c.do(ctx, http.MethodPost, "/v1/campaigns", nil, in, &out)
	return out, err
}

// UpdateCampaign replaces a campaign's definition (supervisors).
func (c *Client) UpdateCampaign(ctx context.Context, in Campaign) (Campaign, error) {
	var out Campaign
	err := c.do(ctx, http.MethodPut, "/v1/campaigns/"+url.PathEscape(in.ID), nil, in, &out)
	return out, err
}

// NextLead leases the next lead to call in a campaign: the caller's due personal
// callbacks first, then the team's, then fresh leads and due retries. While the
// lease lasts (LeaseUntil) no colleague gets the lead; asking again before
// settling it returns the same lead (unless it was closed meanwhile: its number
// went on the DNC list, a colleague settled it). When nothing is left the error
// has code no_leads (and matches ErrNotFound); outside calling hours, code
// outside_calling_hours. With either, RetryAt(err) is when asking again can
// succeed; a desktop waits until then rather than polling.
func (c *Client) NextLead(ctx context.Context, campaignID string) (Lead, error) {
	var out Lead
	err := c.do(ctx, http.MethodPost, "/v1/campaigns/"+url.PathEscape(campaignID)+"/leads/next", nil, nil, &out)
	return out, err
}

// ReleaseLead gives a leased lead back without calling it (the operator skipped
// it); it comes back to the pool a little later.
func (c *Client) ReleaseLead(ctx context.Context, leadID, reason string) (Lead, error) {
	var out Lead
	err := c.do(ctx, http.MethodPost, "/v1/leads/"+url.PathEscape(leadID)+"/release", nil, ReleaseRequest{Reason: reason}, &out)
	return out, err
}

// RecordAttempt reports a call to a leased lead that reached nobody. The server
// schedules the retry by the campaign's rules and frees the lease. key is the
// idempotency key: sending the same attempt again with it changes nothing.
func (c *Client) RecordAttempt(ctx context.Context, key, leadID string, in AttemptRequest) (Lead, error) {
	var out Lead
	err := c.doKeyed(ctx, http.MethodPost, "/v1/leads/"+url.PathEscape(leadID)+"/attempts", key, in, &out)
	return out, err
}

// Dispose stores the wrap-up of a call. key is the idempotency key (the outbox
// item's Key): a repeat returns the first answer and changes nothing. Normally
// the outbox sends dispositions (see OutboxSender); this is the direct path.
func (c *Client) Dispose(ctx context.Context, key string, in DispositionInput) (Disposition, error) {
	if in.Phone != "" {
		e, err := NormalizePhone(in.Phone, c.region)
		if err != nil {
			return Disposition{}, fmt.Errorf("phone: %w", err)
		}
		in.Phone = e
	}
	var out Disposition
	err := c.doKeyed(ctx, http.MethodPost, "/v1/dispositions", key, in, &out)
	return out, err
}

// Callbacks lists the promised callbacks the user should make (for a supervisor:
// everyone's), due first. With missedOnly, only those more than 15 minutes late.
func (c *Client) Callbacks(ctx context.Context, missedOnly bool) ([]Callback, error) {
	var q url.Values
	if missedOnly {
		q = url.Values{"missed": {"true"}}
	}
	var out CallbackList
	err := c.do(ctx, http.MethodGet, "/v1/callbacks", q, nil, &out)
	return out.Callbacks, err
}

// CheckDNC reports whether a number is on the do-not-call list. The desktop asks
// right before dialing, since a colleague's wrap-up may have added it a moment ago.
func (c *Client) CheckDNC(ctx context.Context, phone string) (DNCEntry, error) {
	e164, err := NormalizePhone(phone, c.region)
	if err != nil {
		return DNCEntry{}, err
	}
	var out DNCEntry
	err = c.do(ctx, http.MethodGet, "/v1/dnc/"+url.PathEscape(e164), nil, nil, &out)
	return out, err
}

// AddDNC puts a number on the do-not-call list (supervisors).
func (c *Client) AddDNC(ctx context.Context, in DNCRequest) (DNCEntry, error) {
	e164, err := NormalizePhone(in.Phone, c.region)
	if err != nil {
		return DNCEntry{}, err
	}
	in.Phone = e164
	var out DNCEntry
	err = c.do(ctx, http.MethodPost, "/v1/dnc", nil, in, &out)
	return out, err
}

// RemoveDNC takes a number off the do-not-call list (supervisors). A number the
// customer refused further calls on cannot be removed: code never_call.
func (c *Client) RemoveDNC(ctx context.Context, phone string) error {
	e164, err := NormalizePhone(phone, c.region)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, "/v1/dnc/"+url.PathEscape(e164), nil, nil, nil)
}

// HasCode reports whether err is an answer of the CRM with the given error code
// (CodeNoLeads, CodeOutsideCallingHours, …).
func HasCode(err error, code string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}

// doKeyed sends one write with an Idempotency-Key header. It is tried once: the
// caller (the outbox) retries with the same key, which is what makes a retry safe.
func (c *Client) doKeyed(ctx context.Context, method, path, key string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("crm %s %s: encode request: %w", method, path, err)
	}
	return c.sendKeyed(ctx, method, path, key, body, out)
}

// sendKeyed is doKeyed with the body already encoded (the outbox keeps it so).
func (c *Client) sendKeyed(ctx context.Context, method, path, key string, body []byte, out any) error {
	if key == "" {
		return fmt.Errorf("crm %s %s: empty idempotency key", method, path)
	}
	return c.send(ctx, method, path, nil, http.Header{"Idempotency-Key": {key}}, body, out)
}
