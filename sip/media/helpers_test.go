package media

import (
	"math"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
	"github.com/pion/rtp"
)

// testCodec is an 8-bit linear stand-in for G.711 until audio.PCMU lands:
// one byte per sample, payload type 0.
type testCodec struct{}

func (testCodec) Name() string       { return "TEST8" }
func (testCodec) PayloadType() uint8 { return 0 }
func (testCodec) Encode(dst []byte, pcm []int16) []byte {
	dst = dst[:len(pcm)]
	for i, s := range pcm {
		dst[i] = byte(int8(s >> 8))
	}
	return dst
}
func (testCodec) Decode(dst []int16, payload []byte) []int16 {
	dst = dst[:len(payload)]
	for i, b := range payload {
		dst[i] = int16(int8(b)) << 8
	}
	return dst
}

const testDTMFPT = 101

// toneSource is a phase-continuous sine; offset by π/8 so that no sample
// is exactly zero at 1000 Hz (8 samples per period).
type toneSource struct {
	freq, amp float64
	n         int
}

func (t *toneSource) ReadFrame(f []int16) error {
	for i := range f {
		f[i] = int16(t.amp * math.Sin(2*math.Pi*t.freq*float64(t.n)/audio.SampleRate+math.Pi/8))
		t.n++
	}
	return nil
}

// captureSink records per-frame RMS and zero crossings.
type captureSink struct {
	mu        sync.Mutex
	frames    int
	badLen    int
	rms       []float64
	crossings []int
}

func (c *captureSink) WriteFrame(f []int16) error {
	var sum float64
	cross := 0
	for i, s := range f {
		sum += float64(s) * float64(s)
		if i > 0 && (s >= 0) != (f[i-1] >= 0) {
			cross++
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frames++
	if len(f) != audio.FrameSamples {
		c.badLen++
	}
	c.rms = append(c.rms, math.Sqrt(sum/float64(len(f))))
	c.crossings = append(c.crossings, cross)
	return nil
}

func (c *captureSink) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frames
}

// fakeClock is a manual clock whose timers fire on Advance.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c      *fakeClock
	ch     chan time.Time
	at     time.Time
	active bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{c: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	t.Reset(d)
	return t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, t := range c.timers {
		if t.active && !t.at.After(c.now) {
			t.active = false
			select {
			case t.ch <- c.now:
			default:
			}
		}
	}
}

// activeTimers counts armed timers.
func (c *fakeClock) activeTimers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if t.active {
			n++
		}
	}
	return n
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	select {
	case <-t.ch:
	default:
	}
	t.at = t.c.now.Add(d)
	t.active = true
	if d <= 0 {
		t.active = false
		t.ch <- t.c.now
	}
	return was
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.active = false
	select {
	case <-t.ch:
	default:
	}
	return was
}

// listen binds a Stream on loopback and closes it at the end of the test.
func listen(t testing.TB, opts ...Option) *Stream {
	t.Helper()
	s, err := Listen("127.0.0.1", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func rtpAddr(s *Stream) *net.UDPAddr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.LocalPort()}
}

// udpPeer is a raw UDP socket playing the far end.
func udpPeer(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func connAddr(c *net.UDPConn) *net.UDPAddr { return c.LocalAddr().(*net.UDPAddr) }

// readRTP reads one RTP packet from c within d.
func readRTP(t testing.TB, c *net.UDPConn, d time.Duration) (rtp.Packet, netip.AddrPort, bool) {
	t.Helper()
	buf := make([]byte, 1500)
	_ = c.SetReadDeadline(time.Now().Add(d))
	n, from, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		return rtp.Packet{}, from, false
	}
	var p rtp.Packet
	if err := p.Unmarshal(buf[:n]); err != nil {
		t.Fatalf("peer got a bad RTP packet: %v", err)
	}
	return p, from, true
}

// bindConfig stores p into s as Start would, without starting goroutines,
// so that the per-frame functions can be driven directly.
func bindConfig(t testing.TB, s *Stream, p Params) {
	t.Helper()
	cfg, err := p.config(s.cfg.Load())
	if err != nil {
		t.Fatal(err)
	}
	s.cfg.Store(cfg)
	s.epoch = s.clock.Now()
}

// rtpPacket marshals an RTP packet.
func rtpPacket(t testing.TB, pt uint8, seq uint16, ts, ssrc uint32, marker bool, payload []byte) []byte {
	t.Helper()
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq,
		Timestamp: ts, SSRC: ssrc, Marker: marker}, Payload: payload}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func eventPayload(ev byte, end bool, dur uint16) []byte {
	b := make([]byte, 4)
	putEvent(b, ev, end, dtmfVolume, dur)
	return b
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func netUDP(ap netip.AddrPort) *net.UDPAddr { return net.UDPAddrFromAddrPort(ap) }
