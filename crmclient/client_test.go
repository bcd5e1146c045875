package crmclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// fakeCRM answers every request with fn and counts requests.
func fakeCRM(t *testing.T, fn http.HandlerFunc) (*Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		fn(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL+"/", WithToken("tok-123"), WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return c, &n
}

func TestClientRetriesGETOn5xx(t *testing.T) {
	c, n := fakeCRM(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-123" || r.URL.Path != "/v1/me" {
			t.Errorf("request %s %s auth %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		w.WriteHeader(500)
		io.WriteString(w, `{"error":{"code":"internal","message":"db down"}}`)
	})
	_, err := c.Me(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 500 || ae.Code != CodeInternal || ae.Message != "db down" {
		t.Errorf("err = %v", err)
	}
	if n.Load() != maxTries {
		t.Errorf("%d tries, want %d", n.Load(), maxTries)
	}
}

func TestClientRetrySucceeds(t *testing.T) {
	var first atomic.Bool
	c, n := fakeCRM(t, func(w http.ResponseWriter, r *http.Request) {
		if !first.Swap(true) {
			w.WriteHeader(503)
			return
		}
		io.WriteString(w, `{"customers":[{"id":"7","name":"佐藤　陽子"}]}`)
	})
	got, err := c.LookupByPhone(context.Background(), "03-1234-5678")
	if err != nil || len(got) != 1 || got[0].ID != "7" || n.Load() != 2 {
		t.Errorf("got %+v, %v after %d tries", got, err, n.Load())
	}
}

func TestClientNeverRetriesWrites(t *testing.T) {
	c, n := fakeCRM(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(502) })
	_, err := c.CreateCustomer(context.Background(), CustomerInput{Name: "x"})
	if !errors.Is(err, ErrUnavailable) || n.Load() != 1 {
		t.Errorf("err = %v after %d tries", err, n.Load())
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "http_502" {
		t.Errorf("non-JSON 502 = %#v", ae)
	}
}

func TestClientErrorsMatchSentinels(t *testing.T) {
	for status, want := range map[int]error{401: ErrUnauthorized, 403: ErrForbidden, 404: ErrNotFound} {
		c, n := fakeCRM(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			io.WriteString(w, `{"error":{"code":"x","message":"y"}}`)
		})
		if _, err := c.GetCustomer(context.Background(), "1"); !errors.Is(err, want) || errors.Is(err, ErrUnavailable) {
			t.Errorf("%d: err = %v", status, err)
		}
		if n.Load() != 1 {
			t.Errorf("%d retried", status)
		}
	}
}

func TestClientUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, _ := New(url)
	start := time.Now()
	_, err := c.Me(context.Background())
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d < backoff[0]+backoff[1] {
		t.Errorf("gave up after %v without backing off", d)
	}
}

func TestClientTimeout(t *testing.T) {
	block := make(chan struct{})
	c, _ := fakeCRM(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	defer close(block)
	c.timeout = 100 * time.Millisecond
	start := time.Now()
	_, err := c.Me(context.Background())
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timeout took %v", d)
	}
}

func TestClientBadResponse(t *testing.T) {
	c, _ := fakeCRM(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"name": 5}`) })
	if _, err := c.Me(context.Background()); !errors.Is(err, ErrBadResponse) || errors.Is(err, ErrUnavailable) {
		t.Errorf("err = %v, want ErrBadResponse", err)
	}
}

func TestClientInvalidPhoneNoRoundTrip(t *testing.T) {
	c, n := fakeCRM(t, func(w http.ResponseWriter, r *http.Request) {})
	if _, err := c.LookupByPhone(context.Background(), "12"); !errors.Is(err, ErrInvalidPhone) {
		t.Errorf("err = %v", err)
	}
	if _, err := c.CreateCustomer(context.Background(), CustomerInput{Name: "x", Phones: []string{"abc"}}); !errors.Is(err, ErrInvalidPhone) {
		t.Errorf("err = %v", err)
	}
	if n.Load() != 0 {
		t.Errorf("%d requests sent for invalid numbers", n.Load())
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "crm.example.jp", "ftp://crm", "http://", "://x"} {
		if _, err := New(u); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
}

// TestRetryAt: retry_at is read from the error body when the CRM sends it, and
// RetryAt finds it through wrapping; anything else has none.
func TestRetryAt(t *testing.T) {
	at := time.Date(2025, 6, 11, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		status int
		body   string
		want   time.Time
	}{
		{"no_leads with a time", 404, `{"error":{"code":"no_leads","message":"…","retry_at":"2025-06-11T00:00:00Z"}}`, at},
		{"no_leads without", 404, `{"error":{"code":"no_leads","message":"…"}}`, time.Time{}},
		{"a proxy's page", 503, `<html>busy</html>`, time.Time{}},
	} {
		c, _ := fakeCRM(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tt.status)
			io.WriteString(w, tt.body)
		})
		_, err := c.NextLead(context.Background(), "renewal")
		got, ok := RetryAt(fmt.Errorf("wrapped: %w", err))
		if ok != !tt.want.IsZero() || !got.Equal(tt.want) {
			t.Errorf("%s: RetryAt = %v, %v; want %v", tt.name, got, ok, tt.want)
		}
	}
	if _, ok := RetryAt(ErrUnavailable); ok {
		t.Error("RetryAt of a network failure reports a time")
	}
}
