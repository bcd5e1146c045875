package crmclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// SearchFAQ finds FAQ entries for search-as-you-type: every space-separated term of
// query must occur in the question, answer, tags or category (folded like customer
// search: hiragana finds katakana, width and case do not matter). Entries whose
// question holds more of the terms come first. An empty query lists the first
// entries (the FAQ's own order). limit ≤ 0 means the server's default (20); at most 50.
func (c *Client) SearchFAQ(ctx context.Context, query string, limit int) ([]FAQEntry, error) {
	q := url.Values{"q": {query}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out FAQList
	err := c.do(ctx, http.MethodGet, "/v1/faq", q, nil, &out)
	return out.Entries, err
}

// GetFAQ returns one FAQ entry; ErrNotFound when there is none with that id.
func (c *Client) GetFAQ(ctx context.Context, id string) (FAQEntry, error) {
	var out FAQEntry
	err := c.do(ctx, http.MethodGet, "/v1/faq/"+url.PathEscape(id), nil, nil, &out)
	return out, err
}

// CreateFAQ adds an FAQ entry. Supervisors only: an agent gets ErrForbidden.
func (c *Client) CreateFAQ(ctx context.Context, in FAQInput) (FAQEntry, error) {
	var out FAQEntry
	err := c.do(ctx, http.MethodPost, "/v1/faq", nil, in, &out)
	return out, err
}

// UpdateFAQ replaces an FAQ entry. Supervisors only.
func (c *Client) UpdateFAQ(ctx context.Context, id string, in FAQInput) (FAQEntry, error) {
	var out FAQEntry
	err := c.do(ctx, http.MethodPut, "/v1/faq/"+url.PathEscape(id), nil, in, &out)
	return out, err
}

// Scripts returns every talk script, whole, by id: few and small, so the desktop
// keeps them all and works on during a CRM outage.
func (c *Client) Scripts(ctx context.Context) ([]Script, error) {
	var out ScriptList
	err := c.do(ctx, http.MethodGet, "/v1/scripts", nil, nil, &out)
	return out.Scripts, err
}

// GetScript returns one script; ErrNotFound when there is none with that id.
func (c *Client) GetScript(ctx context.Context, id string) (Script, error) {
	var out Script
	err := c.do(ctx, http.MethodGet, "/v1/scripts/"+url.PathEscape(id), nil, nil, &out)
	return out, err
}

// CreateScript adds a script under in.ID. Supervisors only. The server refuses a
// script whose start node or any choice's target does not exist.
func (c *Client) CreateScript(ctx context.Context, in ScriptInput) (Script, error) {
	var out Script
	err := c.do(ctx, http.MethodPost, "/v1/scripts", nil, in, &out)
	return out, err
}

// UpdateScript replaces a script. Supervisors only.
func (c *Client) UpdateScript(ctx context.Context, id string, in ScriptInput) (Script, error) {
	var out Script
	err := c.do(ctx, http.MethodPut, "/v1/scripts/"+url.PathEscape(id), nil, in, &out)
	return out, err
}

// Hints returns the banner lines for a customer card: the probable reason for the
// call and cross-sell suggestions. Cheap enough to fetch with the screen pop.
func (c *Client) Hints(ctx context.Context, customerID string) ([]Hint, error) {
	var out HintList
	err := c.do(ctx, http.MethodGet, "/v1/customers/"+url.PathEscape(customerID)+"/hints", nil, nil, &out)
	return out.Hints, err
}

// HintRules returns the rules hints are computed from, in order.
func (c *Client) HintRules(ctx context.Context) ([]HintRule, error) {
	var out HintRuleList
	err := c.do(ctx, http.MethodGet, "/v1/hint-rules", nil, nil, &out)
	return out.Rules, err
}

// PutHintRules replaces every hint rule. Supervisors only.
func (c *Client) PutHintRules(ctx context.Context, rules []HintRule) ([]HintRule, error) {
	var out HintRuleList
	err := c.do(ctx, http.MethodPut, "/v1/hint-rules", nil, HintRuleList{Rules: rules}, &out)
	return out.Rules, err
}
