package sip

import (
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	gsip "github.com/emiago/sipgo/sip"
)

// A phone on a public address is found within minutes by scanners (svmap,
// svwar, friendly-scanner) and now and then flooded with INVITEs. Every
// INVITE that reaches onInvite opens an RTP port and rings the operator, so
// requests that start something are rate limited before any work is done:
// a token bucket per source IP for INVITE, REGISTER and OPTIONS, and one
// bucket shared by all sources for every other request outside a dialog.
// Requests inside a live dialog (the other party's BYE, ACK, re-INVITE,
// INFO) are never limited: a flood must not cost the operator the call.

// limitClass is the kind of bucket a request draws from.
type limitClass uint8

const (
	limitInvite limitClass = iota
	limitRegister
	limitOptions
	limitOther // the global ceiling: every source together
	numLimitClasses
)

func classOf(m gsip.RequestMethod) limitClass {
	switch m {
	case gsip.INVITE:
		return limitInvite
	case gsip.REGISTER:
		return limitRegister
	case gsip.OPTIONS:
		return limitOptions
	}
	return limitOther
}

// noun names n requests of the class for the summary log line.
func (c limitClass) noun(n int) string {
	s := [...]string{"INVITE", "REGISTER", "OPTIONS request", "other request"}[c]
	if n != 1 {
		s += "s"
	}
	return s
}

// bucketSpec is a token bucket: rate tokens a second, at most burst saved.
// A refused request costs a token too, down to maxDebt seconds' worth owed,
// so a source that keeps sending stays refused until it slows down and is
// let in again at most maxDebt (plus one token) after it stops.
type bucketSpec struct {
	Rate  float64 // tokens a second
	Burst float64
}

const maxDebt = 10 * time.Second

func (s bucketSpec) floor() float64 { return -s.Rate * maxDebt.Seconds() }

// rateLimits is the limiter's configuration.
type rateLimits struct {
	// Per is the per-source bucket of INVITE, REGISTER and OPTIONS
	// (indexed by limitClass); Per[limitOther] is the global ceiling.
	Per [numLimitClasses]bucketSpec
	// MaxSources caps the table of sources; past it, sources that are not
	// in the table share one entry (and its buckets).
	MaxSources int
}

// defaultRateLimits allow far more than a desk ever gets from its PBX (a
// call-center line rings an agent a few times a minute) and far less than
// a scanner or flood sends.
var defaultRateLimits = rateLimits{
	Per: [numLimitClasses]bucketSpec{
		limitInvite:   {Rate: 5, Burst: 10},
		limitRegister: {Rate: 5, Burst: 10},
		limitOptions:  {Rate: 10, Burst: 20},
		limitOther:    {Rate: 50, Burst: 100},
	},
	MaxSources: 4096,
}

// verdict is what to do with a request.
type verdict uint8

const (
	admit   verdict = iota
	refuse          // answer 503 with Retry-After
	discard         // far over its limit: no answer at all
)

// bucket is one token bucket; the zero value is full.
type bucket struct {
	tokens float64
	last   time.Time // zero: never used, full
}

// level is the bucket's tokens at now.
func (b *bucket) level(s bucketSpec, now time.Time) float64 {
	if b.last.IsZero() {
		return s.Burst
	}
	return min(s.Burst, b.tokens+max(0, now.Sub(b.last).Seconds())*s.Rate)
}

// take draws one token. Over the limit it refuses, and once more than a
// burst of refusals is owed it discards.
func (b *bucket) take(s bucketSpec, now time.Time) (verdict, int) {
	b.tokens, b.last = b.level(s, now), now
	if b.tokens >= 1 {
		b.tokens--
		return admit, 0
	}
	v := refuse
	if b.tokens <= -s.Burst {
		v = discard
	}
	b.tokens = max(b.tokens-1, s.floor())
	// Retry-After: whole seconds until a token is there again.
	return v, max(1, int(math.Ceil((1-b.tokens)/s.Rate)))
}

// source is one sender's buckets and what was refused it since the start
// of its summary window.
type source struct {
	b       [numLimitClasses]bucket // b[limitOther] unused: that bucket is global
	dropped [numLimitClasses]int
	since   time.Time // start of the summary window; zero: nothing refused
}

// idle reports whether the source is as good as new: every bucket full,
// nothing waiting to be logged. Such an entry can go.
func (s *source) idle(l *rateLimiter, now time.Time) bool {
	if !s.since.IsZero() {
		return false
	}
	for c := range limitOther {
		if s.b[c].level(l.limits.Per[c], now) < l.limits.Per[c].Burst {
			return false
		}
	}
	return true
}

// summaryEvery is how often at most one line per source says what it was
// refused: no request is ever logged on its own.
const summaryEvery = time.Minute

// rateLimiter decides, per request, whether the phone may spend work on
// it. Safe for concurrent use; every decision is O(1) apart from a sweep
// of the table at most once a second when it is full, and once a minute.
type rateLimiter struct {
	limits rateLimits
	now    func() time.Time
	log    *slog.Logger

	mu        sync.Mutex
	sources   map[string]*source
	overflow  source // sources that found the table full
	global    bucket
	lastSweep time.Time
}

type limiterOption func(*rateLimiter)

func withLimiterClock(now func() time.Time) limiterOption {
	return func(l *rateLimiter) { l.now = now }
}

func withLimits(lim rateLimits) limiterOption { return func(l *rateLimiter) { l.limits = lim } }

func newRateLimiter(log *slog.Logger, opts ...limiterOption) *rateLimiter {
	l := &rateLimiter{limits: defaultRateLimits, now: time.Now, log: log, sources: map[string]*source{}}
	for _, o := range opts {
		o(l)
	}
	l.lastSweep = l.now()
	return l
}

// overflowKey names the shared entry in the summary line.
const overflowKey = "sources beyond the table's limit"

// check decides about one request from src ("ip:port") outside a dialog
// and returns, for a refusal, the Retry-After seconds.
func (l *rateLimiter) check(src string, m gsip.RequestMethod) (verdict, int) {
	class := classOf(m)
	key := sourceKey(src)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.lastSweep) >= summaryEvery {
		l.sweep(now)
	}
	s, key := l.lookup(key, now)
	var v verdict
	var retry int
	if class == limitOther {
		v, retry = l.global.take(l.limits.Per[limitOther], now)
	} else {
		v, retry = s.b[class].take(l.limits.Per[class], now)
	}
	if v != admit {
		if s.since.IsZero() {
			s.since = now
		}
		s.dropped[class]++
	}
	if !s.since.IsZero() && now.Sub(s.since) >= summaryEvery {
		l.report(key, s, now)
	}
	return v, retry
}

// lookup finds or makes src's entry; a full table that a sweep cannot
// thin gives the shared overflow entry.
func (l *rateLimiter) lookup(key string, now time.Time) (*source, string) {
	if s, ok := l.sources[key]; ok {
		return s, key
	}
	if len(l.sources) >= l.limits.MaxSources && now.Sub(l.lastSweep) >= time.Second {
		l.sweep(now)
	}
	if len(l.sources) >= l.limits.MaxSources {
		return &l.overflow, overflowKey
	}
	s := &source{}
	l.sources[key] = s
	return s, key
}

// sweep logs the summaries that are due and forgets idle sources.
func (l *rateLimiter) sweep(now time.Time) {
	l.lastSweep = now
	for key, s := range l.sources {
		if !s.since.IsZero() && now.Sub(s.since) >= summaryEvery {
			l.report(key, s, now)
		}
		if s.idle(l, now) {
			delete(l.sources, key)
		}
	}
	if !l.overflow.since.IsZero() && now.Sub(l.overflow.since) >= summaryEvery {
		l.report(overflowKey, &l.overflow, now)
	}
}

// report logs the one line for a source's window and starts a new one.
func (l *rateLimiter) report(key string, s *source, now time.Time) {
	var parts []string
	total := 0
	for c, n := range s.dropped {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, limitClass(c).noun(n)))
			total += n
		}
	}
	if total > 0 {
		l.log.Warn("dropped "+strings.Join(parts, ", ")+" from "+key,
			"source", key, "dropped", total, "over", now.Sub(s.since).Round(time.Second))
	}
	s.dropped, s.since = [numLimitClasses]int{}, time.Time{}
}

// sourceKey is the IP of "ip:port" (the whole string, shortened, when it
// is not one: the key must not let a sender grow the table's memory).
func sourceKey(src string) string {
	if ap, err := netip.ParseAddrPort(src); err == nil {
		return ap.Addr().Unmap().String()
	}
	if host, _, err := net.SplitHostPort(src); err == nil {
		src = host
	}
	if len(src) > 64 {
		src = src[:64]
	}
	return src
}
