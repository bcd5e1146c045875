package outbox

import (
	"log/slog"
	"time"
)

// Default back-off between attempts to send the same item.
const (
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = time.Minute
)

// Clock is the outbox's source of time: creation stamps and back-off waits.
// Tests pass a fake one (WithClock) so that back-off never really sleeps.
type Clock interface {
	Now() time.Time
	// After delivers on the returned channel once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Option configures Open.
type Option func(*config)

type config struct {
	minBackoff time.Duration
	maxBackoff time.Duration
	clock      Clock
	log        *slog.Logger
}

func defaultConfig() config {
	return config{
		minBackoff: DefaultMinBackoff,
		maxBackoff: DefaultMaxBackoff,
		clock:      realClock{},
		log:        slog.New(slog.DiscardHandler),
	}
}

// WithBackoff sets the back-off range. After the n-th consecutive failure the
// sender waits a random time in [d/2, d] with d = min·2^(n-1) capped at max
// ("equal jitter"), so clients that lost the same CRM do not all come back
// in the same instant. Open fails with ErrInvalid unless 0 < min <= max.
func WithBackoff(min, max time.Duration) Option {
	return func(c *config) { c.minBackoff, c.maxBackoff = min, max }
}

// WithClock replaces the wall clock (for tests).
func WithClock(clk Clock) Option {
	return func(c *config) {
		if clk != nil {
			c.clock = clk
		}
	}
}

// WithLogger sets the logger. Item bodies (customer data) are never logged;
// ids, kinds, keys, attempts and errors are.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}
