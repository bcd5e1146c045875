package crmclient

import (
	"context"
	"net/http"
	"net/url"
)

// PutCounters stores the caller's figures for in.CampaignID on in.Day,
// replacing what was there (the values are the day's totals). Agent and
// UpdatedAt are set by the server; the answer is the stored row. Refused
// (code invalid_request) for a day more than one day from today in the
// campaign's time zone, negative or implausible values, or Connected above
// Dialed or Conversions above Connected; ErrForbidden for a campaign the
// caller is not assigned to.
func (c *Client) PutCounters(ctx context.Context, in AgentCounters) (AgentCounters, error) {
	var out AgentCounters
	err := c.do(ctx, http.MethodPut, "/v1/me/counters", nil, in, &out)
	return out, err
}

// MyCounters returns the caller's figures in a campaign on day ("2025-06-18";
// "" is today in the campaign's time zone): zeros, with the day filled in,
// when nothing was stored yet. A desktop reads it at start so that a restart
// mid-shift goes on counting from the stored totals.
func (c *Client) MyCounters(ctx context.Context, campaignID, day string) (AgentCounters, error) {
	q := url.Values{"campaign": {campaignID}}
	if day != "" {
		q.Set("day", day)
	}
	var out AgentCounters
	err := c.do(ctx, http.MethodGet, "/v1/me/counters", q, nil, &out)
	return out, err
}

// Counters lists every operator's figures on day, by agent then campaign
// (supervisors; an agent gets ErrForbidden).
func (c *Client) Counters(ctx context.Context, day string) ([]AgentCounters, error) {
	var out CountersList
	err := c.do(ctx, http.MethodGet, "/v1/counters", url.Values{"day": {day}}, nil, &out)
	return out.Counters, err
}
