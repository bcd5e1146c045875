package outbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// The reference receiver: what a CRM must do for exactly-once delivery. It
// applies each idempotency key once, and answers a repeated key with 200
// without applying it again. It is a real HTTP server on loopback that can
// be stopped and started on the same address (a CRM outage).

// action is what the receiver does with one delivery (fault injection).
type action int

const (
	actOK         action = iota
	actFailBefore        // 503 without applying
	actFailAfter         // apply, then 503 (the acknowledgement is lost)
	actReject            // 422: permanent
	actApplyHang         // apply, then hang until the client goes away or release
	actApplyPause        // apply, then pause a moment before answering
)

type receiver struct {
	t *testing.T

	mu         sync.Mutex
	applied    map[string]string // idempotency key → body, applied once
	order      []string          // bodies in the order they were applied
	deliveries int               // requests that reached the handler
	dups       int               // deliveries of an already-applied key
	faults     int               // deliveries answered with an injected failure
	decide     func(body string) action
	arrived    chan string // bodies as they arrive, if not nil (never blocks)
	release    chan struct{}

	addr string
	srv  *http.Server
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, applied: map[string]string{}, release: make(chan struct{})}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *receiver) url() string { return "http://" + r.addr }

// start listens on the receiver's address (a fresh port the first time).
func (r *receiver) start() {
	r.t.Helper()
	addr := r.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for try := 0; try < 100; try++ { // the port may take a moment to be free
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatalf("receiver: listen %s: %v", addr, err)
	}
	r.mu.Lock()
	r.addr = ln.Addr().String()
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 10 * time.Second}
	srv := r.srv
	r.mu.Unlock()
	go srv.Serve(ln)
}

// stop closes the listener and every connection: the CRM is down.
func (r *receiver) stop() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

func (r *receiver) setDecide(f func(body string) action) {
	r.mu.Lock()
	r.decide = f
	r.mu.Unlock()
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	key := req.Header.Get("Idempotency-Key")
	body, err := io.ReadAll(req.Body)
	if req.Method != http.MethodPost || key == "" || err != nil {
		http.Error(w, `{"error":{"code":"bad_request","message":"POST with an Idempotency-Key"}}`, http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.deliveries++
	act := actOK
	if r.decide != nil {
		act = r.decide(string(body))
	}
	if r.arrived != nil {
		select {
		case r.arrived <- string(body):
		default:
		}
	}
	switch act {
	case actFailBefore:
		r.faults++
		r.mu.Unlock()
		http.Error(w, "injected outage", http.StatusServiceUnavailable)
		return
	case actReject:
		r.faults++
		r.mu.Unlock()
		http.Error(w, `{"error":{"code":"invalid","message":"rejected"}}`, http.StatusUnprocessableEntity)
		return
	}
	status := http.StatusCreated
	if _, seen := r.applied[key]; seen {
		r.dups++
		status = http.StatusOK // a repeat: success, not applied again
	} else {
		r.applied[key] = string(body)
		r.order = append(r.order, string(body))
	}
	release := r.release
	if act == actFailAfter {
		r.faults++
	}
	r.mu.Unlock()

	switch act {
	case actFailAfter:
		http.Error(w, "injected lost acknowledgement", http.StatusServiceUnavailable)
		return
	case actApplyHang:
		select {
		case <-req.Context().Done():
		case <-release:
		}
		http.Error(w, "hung", http.StatusServiceUnavailable)
		return
	case actApplyPause:
		time.Sleep(2 * time.Millisecond)
	}
	w.WriteHeader(status)
}

// snapshot returns the applied bodies in order and the per-key table.
func (r *receiver) snapshot() (order []string, applied map[string]string, deliveries, dups, faults int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	applied = make(map[string]string, len(r.applied))
	for k, v := range r.applied {
		applied[k] = v
	}
	return append([]string(nil), r.order...), applied, r.deliveries, r.dups, r.faults
}

// httpSender is a minimal CRM client: 2xx is an acknowledgement, a 4xx other
// than 408/429 is permanent, anything else is retried.
func httpSender(base string) Sender {
	client := &http.Client{Timeout: 60 * time.Second}
	return func(ctx context.Context, it Item) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/items", bytes.NewReader(it.Body))
		if err != nil {
			return fmt.Errorf("%w: %v", ErrPermanent, err)
		}
		req.Header.Set("Idempotency-Key", it.Key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch c := resp.StatusCode; {
		case c >= 200 && c < 300:
			return nil
		case c >= 400 && c < 500 && c != http.StatusRequestTimeout && c != http.StatusTooManyRequests:
			return fmt.Errorf("%w: HTTP %d", ErrPermanent, c)
		default:
			return fmt.Errorf("HTTP %d", c)
		}
	}
}

// instantClock makes every back-off wait return at once, so retry tests
// never sleep.
type instantClock struct{}

func (instantClock) Now() time.Time { return time.Now() }
func (instantClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- time.Now()
	return ch
}

// manualClock fires waits only when the test advances it, and reports each
// requested wait on waits.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []manualTimer
	waits  chan time.Duration
}

type manualTimer struct {
	at time.Time
	ch chan time.Time
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC), waits: make(chan time.Duration, 100)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	ch := make(chan time.Time, 1)
	c.timers = append(c.timers, manualTimer{at: c.now.Add(d), ch: ch})
	c.mu.Unlock()
	c.waits <- d
	return ch
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	for _, tm := range c.timers {
		if tm.at.After(c.now) {
			kept = append(kept, tm)
			continue
		}
		tm.ch <- c.now
	}
	c.timers = kept
}

// nextWait returns the next back-off the sender asked for.
func (c *manualClock) nextWait(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-c.waits:
		return d
	case <-time.After(30 * time.Second):
		t.Fatal("the sender never started a back-off")
		return 0
	}
}

// waitFor polls cond (generously: the machine may be loaded).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func flush(t *testing.T, o *Outbox) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := o.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v (stats %+v)", err, o.Stats())
	}
}

func closeOutbox(t *testing.T, o *Outbox) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := o.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}
