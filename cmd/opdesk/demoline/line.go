// Package demoline is the customer line behind `opdesk demo`: a SIP
// endpoint on the loopback address that stands in for a PBX and the
// customers calling through it, so the desktop can be tried on a fresh
// machine with no PBX, no CRM and no sound card.
//
// The line is an ordinary opdesk sip.Phone with two opt-in features of
// package sip: Config.AcceptRegister (a tiny location service, so the
// operator's opdesk registers to the line as it would to a PBX) and
// Config.SourceFor (each call plays its own recorded customer instead of a
// sound card). Building it from the project's own SIP stack rather than a
// fake keeps the demo honest: the desk under demo sends and receives real
// REGISTERs, INVITEs and RTP.
//
// What it does, once the operator has registered:
//   - every Interval (first after FirstCall) while no call is up, it rings
//     the operator from the next number of Callers, with no display name,
//     as a PSTN caller would; unanswered calls are cancelled after
//     RingTimeout;
//   - it answers any call the operator dials, after about 2 s of ringing;
//   - on every answered call a customer speaks Japanese (a few recorded
//     utterances with pauses, in a different order per call) until the
//     operator hangs up.
//
// The speech lives in speech/*.wav, embedded. It was synthesised once with
// espeak-ng's Japanese voice and sox (speech/make.sh has the exact commands;
// run it to change what the customer says). espeak-ng reads kanji as
// "Chinese letter", so the script is written in kana.
//
// The line accepts REGISTER from anyone without a password: it must only
// ever listen on a loopback address.
package demoline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/sip"
)

// Defaults for a zero Config field.
const (
	DefaultListen      = "127.0.0.1:0"
	DefaultInterval    = 30 * time.Second
	DefaultFirstCall   = 5 * time.Second
	DefaultRingTimeout = 25 * time.Second
	DefaultAnswerAfter = 2 * time.Second
)

// pollEvery is how often the line looks at registrations and calls.
const pollEvery = 100 * time.Millisecond

// Config says where the line listens and how it behaves. Zero durations
// take the defaults above.
type Config struct {
	// Listen is host:port on a loopback address; port 0 picks a free one.
	Listen string
	// Callers are the numbers the line calls from, in national format
	// ("0312345678"), used in turn. Empty: one made-up number.
	Callers []string
	// Interval is the gap between the end of one call and the next ring.
	Interval time.Duration
	// FirstCall is the wait from the operator's registration to the first ring.
	FirstCall time.Duration
	// RingTimeout is how long the line rings the operator before giving up.
	RingTimeout time.Duration
	// AnswerAfter is how long a call from the operator rings before the
	// customer picks up.
	AnswerAfter time.Duration
	// RTPPortMin and RTPPortMax bound the line's RTP ports (zero: 40000–40999).
	RTPPortMin, RTPPortMax int
	Log                    *slog.Logger
}

// Line is a running demo customer line. Close it to hang up and stop.
type Line struct {
	cfg    Config
	log    *slog.Logger
	ph     *sip.Phone
	speech [][]int16

	calls   atomic.Int64  // placed or answered
	scripts atomic.Uint64 // audio sources handed out, to vary the script

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// ErrNotLoopback is returned by Start for a Listen address that other
// machines could reach: the line takes REGISTERs without a password.
var ErrNotLoopback = errors.New("the demo line only listens on a loopback address (127.0.0.1 or ::1)")

// Start opens the line and starts calling once an operator registers.
func Start(cfg Config) (*Line, error) {
	cfg = withDefaults(cfg)
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("demo line listen address %q: %w", cfg.Listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("demo line listen address %q: %w", cfg.Listen, ErrNotLoopback)
	}
	for _, n := range cfg.Callers {
		if n == "" {
			return nil, errors.New("demo line: an empty caller number")
		}
	}
	speech, err := loadSpeech()
	if err != nil {
		return nil, err
	}
	l := &Line{cfg: cfg, log: cfg.Log, speech: speech}
	l.ph, err = sip.New(sip.Config{
		User:           "demo-line",
		Listen:         cfg.Listen,
		Transport:      "udp",
		UserAgent:      "opdesk-demo-line",
		RTPPortMin:     cfg.RTPPortMin,
		RTPPortMax:     cfg.RTPPortMax,
		Input:          "null",
		Output:         "null",
		RingTimeout:    cfg.RingTimeout,
		AcceptRegister: true,
		SourceFor:      l.sourceFor,
	}, sip.WithLogger(cfg.Log.With("component", "demoline")))
	if err != nil {
		return nil, fmt.Errorf("demo line: %w", err)
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	ev, unsubscribe := l.ph.Subscribe(64)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer unsubscribe()
		l.run(ev)
	}()
	l.log.Info("demo line up", "uri", l.URI())
	return l, nil
}

func withDefaults(c Config) Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if len(c.Callers) == 0 {
		c.Callers = []string{"0312345678"}
	}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.FirstCall <= 0 {
		c.FirstCall = DefaultFirstCall
	}
	if c.RingTimeout <= 0 {
		c.RingTimeout = DefaultRingTimeout
	}
	if c.AnswerAfter <= 0 {
		c.AnswerAfter = DefaultAnswerAfter
	}
	if c.RTPPortMin <= 0 || c.RTPPortMax < c.RTPPortMin {
		c.RTPPortMin, c.RTPPortMax = 40000, 40999
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// URI is the line as a registrar, e.g. "sip:127.0.0.1:5080": what the
// operator's sip.registrar is set to.
func (l *Line) URI() string { return "sip:" + l.ph.Addr() }

// Domain is the SIP domain of the line: what the operator's sip.domain
// should be (calls to numbers then go to the line).
func (l *Line) Domain() string {
	host, _, _ := net.SplitHostPort(l.ph.Addr())
	return host
}

// Calls is how many calls the line has placed or answered.
func (l *Line) Calls() int { return int(l.calls.Load()) }

// Close hangs up any call and stops the line, waiting at most until ctx
// is done.
func (l *Line) Close(ctx context.Context) error {
	var err error
	l.closeOnce.Do(func() {
		l.cancel()
		l.wg.Wait()
		err = l.ph.Close(ctx)
	})
	return err
}

// sourceFor gives every call its own customer script (sip.Config.SourceFor).
func (l *Line) sourceFor(sip.Direction, string) (audio.Source, error) {
	n := int(l.scripts.Add(1) - 1)
	return newSpeechSource(customerScript(l.speech, n)), nil
}

// run is the line's one loop: it answers the operator's calls and decides
// when to ring the operator. Owned by Start/Close through wg.
func (l *Line) run(ev <-chan sip.Event) {
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	var (
		registered bool
		busy       bool
		due        time.Time // next ring, when registered and idle
		nextCaller int
	)
	for {
		select {
		case <-l.ctx.Done():
			return
		case e, ok := <-ev:
			if !ok {
				return
			}
			if e.Type == sip.EvIncoming {
				l.wg.Add(1)
				go func() {
					defer l.wg.Done()
					l.answerLater(e.CallID)
				}()
			}
			if e.Type == sip.EvEnded {
				l.log.Info("call ended", "call", e.CallID, "cause", e.Cause)
			}
		case now := <-tick.C:
			user := l.operator()
			switch {
			case user == "":
				registered = false
				continue
			case !registered:
				registered = true
				due = now.Add(l.cfg.FirstCall)
				l.log.Info("operator registered", "user", user, "first call in", l.cfg.FirstCall)
			}
			if len(l.ph.Status().Calls) > 0 {
				busy = true
				continue
			}
			if busy {
				busy = false
				due = now.Add(l.cfg.Interval)
			}
			if now.Before(due) {
				continue
			}
			caller := l.cfg.Callers[nextCaller%len(l.cfg.Callers)]
			nextCaller++
			due = now.Add(l.cfg.Interval)
			if _, err := l.ph.DialAs(l.ctx, user, caller); err != nil {
				l.log.Warn("could not ring the operator", "user", user, "from", caller, "err", err)
				continue
			}
			busy = true
			l.calls.Add(1)
			l.log.Info("ringing the operator", "user", user, "from", caller)
		}
	}
}

// operator is the user currently registered to the line ("" if none).
func (l *Line) operator() string {
	bs := l.ph.Bindings()
	if len(bs) == 0 {
		return ""
	}
	return bs[0].User
}

// answerLater picks up a call from the operator after AnswerAfter, unless
// the operator gave up first or the line is closing.
func (l *Line) answerLater(id string) {
	t := time.NewTimer(l.cfg.AnswerAfter)
	defer t.Stop()
	select {
	case <-l.ctx.Done():
		return
	case <-t.C:
	}
	if _, err := l.ph.Answer(id); err != nil {
		l.log.Info("call from the operator not answered", "call", id, "err", err)
		return
	}
	l.calls.Add(1)
	l.log.Info("answered the operator's call", "call", id)
}
