package media

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/opdesk/opdesk/audio/jitter"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opdesk/opdesk/audio"
)

// Params is the negotiated state of the audio stream (the result of one SDP
// offer/answer).
type Params struct {
	// Remote is the peer's RTP address from the SDP (c= and m= lines). Until
	// a packet arrives it is where RTP is sent; then the stream latches to
	// the packet's source (symmetric RTP). An unspecified IP (0.0.0.0) or
	// port 0 sends nothing.
	Remote *net.UDPAddr
	// RemoteRTCP is the peer's RTCP address (a=rtcp); nil means Remote's
	// port + 1.
	RemoteRTCP *net.UDPAddr
	// Codec encodes and decodes the one negotiated audio payload type.
	Codec audio.Codec
	// DTMFPayloadType is the dynamic payload type of telephone-event/8000;
	// meaningful only when HasDTMF is set.
	DTMFPayloadType uint8
	HasDTMF         bool
	// Send and Recv are the negotiated direction (sendrecv, sendonly,
	// recvonly, inactive). Hold is Send == false.
	Send, Recv bool
	// Source is pulled once per 20 ms frame while sending; nil sends silence.
	Source audio.Source
	// Sink gets each decoded frame while receiving; nil discards audio.
	Sink audio.Sink
	// SRTP, when set, protects RTP and RTCP both ways (srtp.go): nothing
	// goes out in the clear and a packet that fails authentication or
	// replay checks is dropped and counted. Nil is plain RTP.
	SRTP *SRTP
}

// config is an immutable snapshot of Params, swapped atomically by Update.
type config struct {
	remote     netip.AddrPort
	remoteRTCP netip.AddrPort // zero: derived from the RTP destination
	codec      audio.Codec
	dtmfPT     uint8
	hasDTMF    bool
	send, recv bool
	source     audio.Source
	sink       audio.Sink
	out, in    *srtpDir // nil: plain RTP
}

// config validates p into a config; prev is the config it replaces, whose
// SRTP contexts are kept where the keys did not change.
func (p Params) config(prev *config) (*config, error) {
	if p.Codec == nil {
		return nil, ErrNoCodec
	}
	if p.Remote == nil {
		return nil, ErrNoRemote
	}
	c := &config{
		remote:  unmap(p.Remote.AddrPort()),
		codec:   p.Codec,
		dtmfPT:  p.DTMFPayloadType & 0x7f,
		hasDTMF: p.HasDTMF,
		send:    p.Send,
		recv:    p.Recv,
		source:  p.Source,
		sink:    p.Sink,
	}
	if !c.remote.Addr().IsValid() {
		return nil, fmt.Errorf("remote %v: %w", p.Remote, ErrNoRemote)
	}
	if p.RemoteRTCP != nil {
		c.remoteRTCP = unmap(p.RemoteRTCP.AddrPort())
	}
	if err := c.srtpConfig(p.SRTP, prev); err != nil {
		return nil, err
	}
	return c, nil
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// sendable reports whether dst is somewhere packets may go: not 0.0.0.0, not
// port 0 (both mean "no media" in SDP).
func sendable(dst netip.AddrPort) bool {
	return dst.IsValid() && dst.Port() != 0 && !dst.Addr().IsUnspecified()
}

// Stream is the RTP/RTCP transport of one call's audio. Its methods are safe
// for concurrent use.
type Stream struct {
	log          *slog.Logger
	clock        Clock
	rtcpInterval time.Duration
	onDTMF       func(rune)
	cname        string
	portMin      int
	portMax      int

	rtpConn, rtcpConn *net.UDPConn
	localPort         int

	// Random at creation (RFC 3550 §5.1), never reset by Update.
	ssrc uint32
	seq0 uint16
	ts0  uint32
	// epoch is the send grid origin (frame k is due at epoch + k·20 ms and
	// carries timestamp ts0 + k·160) and the arrival clock of the jitter
	// estimate. Set by Start before any goroutine runs.
	epoch time.Time

	cfg       atomic.Pointer[config]
	muted     atomic.Bool
	latch     atomic.Pointer[netip.AddrPort] // RTP destination learned from the peer
	rtcpLatch atomic.Pointer[netip.AddrPort] // RTCP destination learned from the peer
	dtmfq     chan byte

	mu      sync.Mutex // guards started and closed
	started bool
	closed  bool

	done      chan struct{}
	sendWG    sync.WaitGroup // send clock and RTCP reporter
	recvWG    sync.WaitGroup // RTP and RTCP readers
	closeOnce sync.Once
	closeErr  error

	tx txState   // owned by the send goroutine
	rx rxState   // owned by the RTP receive goroutine
	rc rtcpState // shared by the RTCP goroutines, under its own mutex
	st counters

	// jb, when set (WithJitterBuffer), sits between the RTP reader and the
	// Sink; the send clock pops one frame from it per tick.
	jb   *jitter.Buffer
	play []int16 // the frame popped from jb; owned by the send goroutine
	tap  atomic.Pointer[tapBox]

	// onSent, when set before Start, is called after each frame with the
	// frame index and the time it went out (pacing benchmark).
	onSent func(k int64, at time.Time)
}

// newStream builds a Stream without sockets (Listen binds them).
func newStream(opts ...Option) *Stream {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if o.cname == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		o.cname = "opdesk-" + hex.EncodeToString(b[:])
	}
	s := &Stream{
		log:          o.log,
		clock:        o.clock,
		rtcpInterval: o.rtcpInterval,
		onDTMF:       o.onDTMF,
		cname:        o.cname,
		portMin:      o.portMin,
		portMax:      o.portMax,
		ssrc:         mrand.Uint32(),
		seq0:         uint16(mrand.Uint32()),
		ts0:          mrand.Uint32(),
		dtmfq:        make(chan byte, dtmfQueueLen),
		done:         make(chan struct{}),
	}
	s.tx.init(s.seq0)
	s.rx.init()
	if o.jitter != nil {
		s.jb = jitter.New(*o.jitter)
		s.play = make([]int16, audio.FrameSamples)
	}
	return s
}

// Listen binds the RTP socket on an even port and the RTCP socket on the
// next port of ip ("" means all IPv4 interfaces). Ports are tried from a
// random starting point within the port range (WithPortRange).
func Listen(ip string, opts ...Option) (*Stream, error) {
	s := newStream(opts...)
	addr := netip.IPv4Unspecified()
	if ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return nil, fmt.Errorf("listen %q: %w", ip, ErrInvalidAddress)
		}
		addr = a.Unmap()
	}
	lo := s.portMin + s.portMin%2 // first even port
	if lo < 2 || s.portMax > 65535 || lo+1 > s.portMax {
		return nil, fmt.Errorf("listen %d-%d: %w", s.portMin, s.portMax, ErrInvalidPortRange)
	}
	pairs := (s.portMax-1-lo)/2 + 1
	network := "udp4"
	if addr.Is6() {
		network = "udp6"
	}
	start := mrand.IntN(pairs)
	var lastErr error
	for i := range min(pairs, 256) {
		port := lo + 2*((start+i)%pairs)
		rtpConn, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, uint16(port))))
		if err != nil {
			lastErr = err
			continue
		}
		rtcpConn, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(addr, uint16(port+1))))
		if err != nil {
			_ = rtpConn.Close()
			lastErr = err
			continue
		}
		s.rtpConn, s.rtcpConn, s.localPort = rtpConn, rtcpConn, port
		s.log.Debug("media: listening", "addr", addr.String(), "rtp", port, "rtcp", port+1)
		return s, nil
	}
	return nil, fmt.Errorf("listen %s ports %d-%d: %w (last: %w)", addr, s.portMin, s.portMax, ErrNoFreePort, lastErr)
}

// LocalPort is the bound RTP port (RTCP is LocalPort()+1).
func (s *Stream) LocalPort() int { return s.localPort }

// SSRC is the stream's own synchronization source identifier.
func (s *Stream) SSRC() uint32 { return s.ssrc }

// Start applies the first negotiated Params and starts the stream's
// goroutines: the 20 ms send clock (which sends only while p.Send), the RTP
// and RTCP readers and the RTCP reporter.
func (s *Stream) Start(p Params) error {
	cfg, err := p.config(nil)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.started:
		return ErrAlreadyStarted
	}
	s.started = true
	s.cfg.Store(cfg)
	s.epoch = s.clock.Now()
	s.log.Info("media: start", "local", s.localPort, "remote", cfg.remote.String(),
		"codec", cfg.codec.Name(), "srtp", cfg.suite(), "send", cfg.send, "recv", cfg.recv)
	s.sendWG.Add(2)
	go s.sendLoop()
	go s.rtcpLoop()
	s.recvWG.Add(2)
	go s.recvLoop()
	go s.rtcpRecvLoop()
	return nil
}

// Update applies a re-negotiation (re-INVITE/UPDATE): a new remote address,
// codec, DTMF payload type, direction (hold/resume), source, sink or SRTP
// keys. The sockets, SSRC, sequence numbers and timestamps carry on; a
// changed Remote drops the learned (latched) addresses. An SRTP direction
// whose suite and key are unchanged keeps its crypto context; a new key
// gets a new one (a rekey).
func (s *Stream) Update(p Params) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case !s.started:
		return ErrNotStarted
	}
	cfg, err := p.config(s.cfg.Load())
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	old := s.cfg.Swap(cfg)
	if old.remote != cfg.remote || old.remoteRTCP != cfg.remoteRTCP {
		s.latch.Store(nil)
		s.rtcpLatch.Store(nil)
	}
	s.log.Info("media: update", "remote", cfg.remote.String(), "codec", cfg.codec.Name(),
		"srtp", cfg.suite(), "rekey", rekeyed(old, cfg), "send", cfg.send, "recv", cfg.recv)
	return nil
}

// SetMuted makes the stream send silence instead of the Source (packets keep
// flowing, so the peer's jitter buffer and NAT bindings stay alive).
func (s *Stream) SetMuted(muted bool) { s.muted.Store(muted) }

// SendDTMF queues digits (0-9 * # A-D) to be sent as RFC 4733 telephone
// events and returns at once. Each digit is 100 ms of events followed by
// three end packets; audio pauses meanwhile. An invalid digit queues
// nothing and returns ErrInvalidDigit. Digits queued while on hold are sent
// after the resume.
func (s *Stream) SendDTMF(digits string) error {
	events := make([]byte, 0, len(digits))
	for _, d := range digits {
		ev, ok := digitEvent(d)
		if !ok {
			return fmt.Errorf("send DTMF %q: %w", d, ErrInvalidDigit)
		}
		events = append(events, ev)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case !s.started:
		return ErrNotStarted
	case !s.cfg.Load().hasDTMF:
		return ErrNoDTMF
	case cap(s.dtmfq)-len(s.dtmfq) < len(events):
		return ErrDTMFQueueFull
	}
	for _, ev := range events {
		s.dtmfq <- ev // cannot block: room checked under mu, the only producer
	}
	return nil
}

// Close sends an RTCP BYE (if started), stops the goroutines and waits for
// them, and closes the sockets. It is idempotent.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		started := s.started
		s.mu.Unlock()
		close(s.done)
		s.sendWG.Wait()
		if started {
			s.sendReport(true)
		}
		var errs []error
		if s.rtpConn != nil {
			errs = append(errs, s.rtpConn.Close())
		}
		if s.rtcpConn != nil {
			errs = append(errs, s.rtcpConn.Close())
		}
		s.recvWG.Wait()
		s.closeErr = errors.Join(errs...)
		s.log.Info("media: closed", "local", s.localPort)
	})
	return s.closeErr
}

// rtpDest is where RTP goes now: the latched address, else the SDP one.
func (s *Stream) rtpDest(cfg *config) netip.AddrPort {
	if l := s.latch.Load(); l != nil {
		return *l
	}
	return cfg.remote
}

// rtcpDest is where RTCP goes now: the address RTCP came from, else the SDP
// a=rtcp, else the RTP destination's port + 1 (RFC 3550 §11).
func (s *Stream) rtcpDest(cfg *config) netip.AddrPort {
	if l := s.rtcpLatch.Load(); l != nil {
		return *l
	}
	if cfg.remoteRTCP.IsValid() {
		return cfg.remoteRTCP
	}
	d := s.rtpDest(cfg)
	if d.Port() == 0 || d.Port() == 65535 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(d.Addr(), d.Port()+1)
}
