package media

import (
	"log/slog"

	"github.com/opdesk/opdesk/audio/jitter"
	"time"
)

// Default tunables; each can be changed per Stream with an Option.
const (
	DefaultPortMin      = 16384
	DefaultPortMax      = 32766
	DefaultRTCPInterval = 5 * time.Second // RFC 3550 §6.2 minimum
)

// Clock is the time source of a Stream: the send pacing, the arrival times
// used for jitter and latching, and the NTP timestamps of RTCP all read it.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is the part of *time.Timer a Stream uses.
type Timer interface {
	C() <-chan time.Time
	Reset(d time.Duration) bool
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time                 { return time.Now() }
func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time        { return t.t.C }
func (t realTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }
func (t realTimer) Stop() bool                 { return t.t.Stop() }

// Option configures a Stream in Listen.
type Option func(*options)

type options struct {
	log          *slog.Logger
	clock        Clock
	portMin      int
	portMax      int
	rtcpInterval time.Duration
	onDTMF       func(digit rune)
	cname        string
	jitter       *jitter.Config
}

func defaultOptions() options {
	return options{
		log:          slog.New(slog.DiscardHandler),
		clock:        realClock{},
		portMin:      DefaultPortMin,
		portMax:      DefaultPortMax,
		rtcpInterval: DefaultRTCPInterval,
	}
}

// WithLogger sets the logger (default: discard). The stream logs start,
// stop, latch changes and the first occurrence of each kind of I/O error.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithClock replaces the wall clock (tests).
func WithClock(c Clock) Option {
	return func(o *options) {
		if c != nil {
			o.clock = c
		}
	}
}

// WithPortRange sets the inclusive local port range Listen picks the RTP/RTCP
// pair from (default 16384–32766). RTP gets an even port, RTCP the next one.
func WithPortRange(minPort, maxPort int) Option {
	return func(o *options) { o.portMin, o.portMax = minPort, maxPort }
}

// WithRTCPInterval sets the RTCP report interval (default 5 s; shorter values
// are for tests).
func WithRTCPInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.rtcpInterval = d
		}
	}
}

// WithDTMFHandler sets the function told about each received RFC 4733
// telephone event (0-9 * # A-D), once per event.
//
// The handler is called on the receive goroutine, between two packets: it
// must not block or do slow work (hand the digit to a channel with a
// non-blocking send), or the call's incoming audio stalls behind it.
func WithDTMFHandler(fn func(digit rune)) Option {
	return func(o *options) { o.onDTMF = fn }
}

// WithCNAME sets the RTCP SDES CNAME (default: a random, anonymous token,
// so that no user or host name leaks into the RTCP stream).
func WithCNAME(cname string) Option {
	return func(o *options) { o.cname = cname }
}

// WithJitterBuffer plays received audio through an adaptive jitter buffer
// (package jitter) clocked by the stream's 20 ms media clock, instead of
// handing each packet to the Sink as it arrives. Received packets are then
// reordered, late ones dropped, lost ones concealed, and the Sink gets
// exactly one frame per 20 ms while receiving — what a sound card needs.
// Without it (the default) the Sink sees packets at their arrival time,
// which is what tests and measurement peers want.
func WithJitterBuffer(cfg jitter.Config) Option {
	return func(o *options) { o.jitter = &cfg }
}
