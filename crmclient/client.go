package crmclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout bounds one client call including its retries. A screen pop must be
// on screen before the first ring ends (about 3 s); past that the answer is useless
// and the UI should say "CRM unreachable" and fall back to the cache.
const DefaultTimeout = 3 * time.Second

// maxTries and the back-off apply to idempotent GETs only: repeating a POST after a
// network error could create a second customer, so writes are never retried here
// (the outbox, with idempotency keys, is the place for that).
const maxTries = 3

var backoff = [maxTries - 1]time.Duration{50 * time.Millisecond, 150 * time.Millisecond}

// maxResponse caps how much of a reply is read, so a broken or hostile server cannot
// make the desktop allocate without bound.
const maxResponse = 16 << 20

// Client talks to a CRM that implements the contract in openapi.json. It is safe for
// concurrent use; Login stores the token for later calls.
type Client struct {
	base    *url.URL
	hc      *http.Client
	timeout time.Duration
	region  string

	cards *CardCache

	mu    sync.RWMutex
	token string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the http.Client, e.g. one with a custom TLS config. Its own
// Timeout, if any, still applies per attempt.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithCardCache keeps the last known screen-pop card of each number in cache, for
// when the CRM is unreachable (see ScreenPop).
func WithCardCache(cache *CardCache) Option { return func(c *Client) { c.cards = cache } }

// WithToken sets a bearer token obtained earlier (e.g. kept across restarts).
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithTimeout sets the time budget of one call, retries included (default 3 s).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithDefaultRegion sets the region for numbers written without a country code
// (default "JP"); it must match the operator's phone system, not the server's.
func WithDefaultRegion(region string) Option { return func(c *Client) { c.region = region } }

// New returns a client for the CRM at baseURL ("https://crm.example.jp").
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("crm base URL %q: %w", baseURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("crm base URL %q: want http(s)://host[:port]", baseURL)
	}
	c := &Client{base: u, hc: http.DefaultClient, timeout: DefaultTimeout, region: "JP"}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Token returns the current bearer token ("" before Login), so the caller can keep
// it across restarts. Never log it.
func (c *Client) Token() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.token
}

func (c *Client) setToken(t string) {
	c.mu.Lock()
	c.token = t
	c.mu.Unlock()
}

// do sends one request and decodes a 2xx JSON answer into out (when non-nil).
// GETs are retried on network errors and 5xx; everything else is tried once.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("crm %s %s: encode request: %w", method, path, err)
		}
	}
	return c.send(ctx, method, path, query, nil, body, out)
}

// send is do with the body already encoded and extra request headers (the
// Idempotency-Key of the outbox's routes).
func (c *Client) send(ctx context.Context, method, path string, query url.Values, header http.Header, body []byte, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()

	tries := 1
	if method == http.MethodGet {
		tries = maxTries
	}
	var last error
	for i := range tries {
		if i > 0 {
			t := time.NewTimer(backoff[i-1])
			select {
			case <-ctx.Done():
				t.Stop()
				return last
			case <-t.C:
			}
		}
		retry, err := c.attempt(ctx, method, u.String(), header, body, out)
		if err == nil {
			return nil
		}
		last = fmt.Errorf("crm %s %s: %w", method, path, err)
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return last
}

// attempt performs one HTTP exchange. retry reports whether a GET may try again.
func (c *Client) attempt(ctx context.Context, method, u string, header http.Header, body []byte, out any) (retry bool, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return false, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok := c.Token(); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// Both sentinels stay matchable: ErrUnavailable for the UI, and the cause
		// (context.DeadlineExceeded, *net.OpError) for logs and tests.
		return true, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	lr := io.LimitReader(resp.Body, maxResponse)

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := decodeAPIError(resp.StatusCode, lr)
		_, _ = io.Copy(io.Discard, lr) // let the connection be reused
		return resp.StatusCode >= 500, apiErr
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, lr)
		return false, nil
	}
	if err := json.NewDecoder(lr).Decode(out); err != nil {
		if isNetErr(err) {
			return true, fmt.Errorf("%w: reading reply: %w", ErrUnavailable, err)
		}
		return false, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	return false, nil
}

// decodeAPIError reads {"error":{…}}; a reply in any other shape (an HTML page from a
// proxy) still becomes an *APIError named after its status.
func decodeAPIError(status int, r io.Reader) *APIError {
	var eb ErrorBody
	data, _ := io.ReadAll(io.LimitReader(r, 64<<10))
	if json.Unmarshal(data, &eb) == nil && eb.Error.Code != "" {
		e := &APIError{Status: status, Code: eb.Error.Code, Message: eb.Error.Message}
		if eb.Error.RetryAt != nil {
			e.RetryAt = *eb.Error.RetryAt
		}
		return e
	}
	return &APIError{Status: status, Code: fmt.Sprintf("http_%d", status), Message: http.StatusText(status)}
}

// isNetErr reports whether a body read failed because the connection did (a
// truncated body included), as opposed to the server sending something that is not
// the documented JSON.
func isNetErr(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return !errors.As(err, &se) && !errors.As(err, &te) && err != io.EOF
}
