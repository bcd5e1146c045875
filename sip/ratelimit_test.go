package sip

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	gsip "github.com/emiago/sipgo/sip"
)

type limiterClock struct{ t time.Time }

func (c *limiterClock) now() time.Time          { return c.t }
func (c *limiterClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// logLines is a slog handler that keeps every message.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l *logLines) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.lines = append(l.lines, r.Message)
	l.mu.Unlock()
	return nil
}
func (l *logLines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logLines) WithGroup(string) slog.Handler      { return l }

func (l *logLines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

func testLimiter(opts ...limiterOption) (*rateLimiter, *limiterClock, *logLines) {
	clk := &limiterClock{t: time.Date(2025, 6, 18, 9, 0, 0, 0, time.UTC)}
	logs := &logLines{}
	return newRateLimiter(slog.New(logs), append([]limiterOption{withLimiterClock(clk.now)}, opts...)...), clk, logs
}

// count sends n requests at once and counts the verdicts.
func count(l *rateLimiter, src string, m gsip.RequestMethod, n int) (admitted, refused, discarded int) {
	for range n {
		switch v, _ := l.check(src, m); v {
		case admit:
			admitted++
		case refuse:
			refused++
		case discard:
			discarded++
		}
	}
	return
}

// A flood from one source: a burst gets through, a burst more is refused
// with Retry-After, the rest is dropped without an answer; a steady rate
// under the limit is never refused; after the flood the source is let in
// again within maxDebt.
func TestRateLimitFlood(t *testing.T) {
	l, clk, _ := testLimiter()
	a, r, d := count(l, "192.0.2.1:5060", gsip.INVITE, 1000)
	if a != 10 || r != 10 || d != 980 {
		t.Fatalf("1000 INVITEs at once: %d admitted, %d refused, %d dropped; want 10, 10, 980", a, r, d)
	}
	if v, retry := l.check("192.0.2.1:5060", gsip.INVITE); v != discard || retry < 10 {
		t.Fatalf("still flooding: %v, Retry-After %d", v, retry)
	}
	// Another source, and another method from the same one, are not affected.
	if a, _, _ := count(l, "192.0.2.2:5060", gsip.INVITE, 10); a != 10 {
		t.Fatalf("a second source got %d of 10", a)
	}
	if a, _, _ := count(l, "192.0.2.1:5062", gsip.OPTIONS, 20); a != 20 {
		t.Fatalf("OPTIONS from the flooding source got %d of 20", a)
	}
	// The flood stops: within maxDebt plus one token the source is back.
	clk.advance(maxDebt + 201*time.Millisecond)
	if v, _ := l.check("192.0.2.1:5060", gsip.INVITE); v != admit {
		t.Fatalf("after the flood stopped: %v", v)
	}
}

func TestRateLimitSteadyAndRetryAfter(t *testing.T) {
	l, clk, _ := testLimiter()
	// 4 INVITEs a second for a minute (under 5/s): all admitted.
	for i := range 240 {
		if v, _ := l.check("198.51.100.9:5060", gsip.INVITE); v != admit {
			t.Fatalf("INVITE %d at 4/s refused", i)
		}
		clk.advance(250 * time.Millisecond)
	}
	// OPTIONS: 20 at once, then the 21st waits for a token (0.1 s: 1 s).
	a, _, _ := count(l, "198.51.100.9:5060", gsip.OPTIONS, 20)
	v, retry := l.check("198.51.100.9:5060", gsip.OPTIONS)
	if a != 20 || v != refuse || retry != 1 {
		t.Fatalf("OPTIONS: %d admitted, then %v with Retry-After %d; want 20, refuse, 1", a, v, retry)
	}
	// Refusals are owed: after 11 the wait is 12 tokens at 10/s → 2 s.
	count(l, "198.51.100.9:5060", gsip.OPTIONS, 9)
	if _, retry := l.check("198.51.100.9:5060", gsip.OPTIONS); retry != 2 {
		t.Fatalf("Retry-After after 11 refusals: %d, want 2", retry)
	}
}

// Everything but INVITE, REGISTER and OPTIONS shares one ceiling, whatever
// the source.
func TestRateLimitGlobalCeiling(t *testing.T) {
	l, _, _ := testLimiter()
	admitted := 0
	for i := range 300 {
		if v, _ := l.check(fmt.Sprintf("203.0.113.%d:5060", i%200), gsip.BYE); v == admit {
			admitted++
		}
	}
	if admitted != 100 {
		t.Fatalf("300 stray BYEs from 200 sources: %d admitted, want the global burst of 100", admitted)
	}
}

// One summary line per source per minute, none per request.
func TestRateLimitSummaryLog(t *testing.T) {
	l, clk, logs := testLimiter()
	invites, options := 0, 0
	for range 30 {
		_, r, d := count(l, "192.0.2.1:5060", gsip.INVITE, 40)
		invites += r + d
		_, r, d = count(l, "192.0.2.1:5060", gsip.OPTIONS, 25)
		options += r + d
		clk.advance(time.Second)
	}
	// A flood that never slows down is never let in again: only the first
	// burst of INVITEs passed.
	if invites != 30*40-10 {
		t.Fatalf("%d INVITEs dropped, want all but the first burst", invites)
	}
	if got := logs.all(); len(got) != 0 {
		t.Fatalf("logged within the first minute: %q", got)
	}
	clk.advance(31 * time.Second)
	l.check("192.0.2.99:5060", gsip.OPTIONS) // any request lets the limiter look
	got := logs.all()
	if len(got) != 1 {
		t.Fatalf("after a minute: %d lines %q, want 1", len(got), got)
	}
	want := fmt.Sprintf("dropped %d INVITEs, %d OPTIONS requests from 192.0.2.1", invites, options)
	if got[0] != want {
		t.Fatalf("summary %q, want %q", got[0], want)
	}
}

// The table of sources is capped: idle sources are forgotten, and while it
// is full of busy ones, newcomers share one entry.
func TestRateLimitBoundedTable(t *testing.T) {
	lims := defaultRateLimits
	lims.MaxSources = 8
	l, clk, _ := testLimiter(withLimits(lims))
	for i := range 100 {
		l.check(fmt.Sprintf("10.0.0.%d:5060", i), gsip.INVITE)
		if n := len(l.sources); n > 8 {
			t.Fatalf("%d sources in the table", n)
		}
	}
	// Sources 8..99 shared the overflow entry: its burst is spent.
	if v, _ := l.check("10.0.1.1:5060", gsip.INVITE); v == admit {
		t.Fatal("the overflow entry admitted past its burst")
	}
	// A second later the eight have refilled: idle, swept, room again.
	clk.advance(time.Second)
	if v, _ := l.check("10.0.1.2:5060", gsip.INVITE); v != admit {
		t.Fatal("a new source after the sweep was not admitted")
	}
	if n := len(l.sources); n != 1 {
		t.Fatalf("%d sources after the sweep, want 1", n)
	}
}

func TestSourceKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:5060":          "192.0.2.1",
		"[2001:db8::1]:5060":      "2001:db8::1",
		"[::ffff:192.0.2.1]:5060": "192.0.2.1",
		"pbx.example.com:5060":    "pbx.example.com",
		strings.Repeat("x", 300):  strings.Repeat("x", 64),
		"":                        "",
	} {
		if got := sourceKey(in); got != want {
			t.Errorf("sourceKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// Requests inside a live dialog are never limited; the same requests from
// outside one are.
func TestRateLimitSparesLiveDialogs(t *testing.T) {
	p := newLocalPhone(t, Config{User: "op"})
	live := &call{p: p, state: StateActive}
	p.mu.Lock()
	p.byCallID["live-1"] = live
	p.mu.Unlock()
	t.Cleanup(func() {
		p.mu.Lock()
		delete(p.byCallID, "live-1")
		p.mu.Unlock()
	})
	lims := defaultRateLimits
	for c := range lims.Per {
		lims.Per[c] = bucketSpec{Rate: 0.001, Burst: 1}
	}
	l, _, _ := testLimiter(withLimits(lims))
	r := p.newRouter(l)
	handled := map[string]int{}
	for _, m := range []gsip.RequestMethod{gsip.INVITE, gsip.BYE, gsip.INFO, gsip.ACK} {
		r.routes[m] = func(req *gsip.Request, tx gsip.ServerTransaction) { handled[req.CallID().Value()]++ }
	}
	for i := range 50 {
		for _, m := range []gsip.RequestMethod{gsip.INVITE, gsip.BYE, gsip.INFO, gsip.ACK} {
			for _, cid := range []string{"live-1", "stranger"} {
				msg, err := gsip.ParseMessage(wireSIP(request(string(m), "op1", cid, i+1, "Content-Length: 0\n\n")))
				if err != nil {
					t.Fatal(err)
				}
				req := msg.(*gsip.Request)
				req.SetSource("192.0.2.1:5060")
				r.serve(req, nullTx{})
			}
		}
	}
	if handled["live-1"] != 200 {
		t.Errorf("in-dialog requests handled: %d of 200", handled["live-1"])
	}
	// One INVITE (its bucket) and one of the rest (the global one).
	if handled["stranger"] != 2 {
		t.Errorf("requests outside a dialog handled: %d, want 2", handled["stranger"])
	}
}

// nullTx is a server transaction that discards responses.
type nullTx struct{ gsip.ServerTransaction }

func (nullTx) Respond(*gsip.Response) error { return nil }
