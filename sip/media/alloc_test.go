package media

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
)

// sendStream is a bound, unstarted Stream sending to a live UDP peer, so
// sendFrame can be driven directly (no goroutine races with the test).
func sendStream(tb testing.TB, codec audio.Codec, hasDTMF bool) *Stream {
	tb.Helper()
	s := listen(tb)
	peer := udpPeer(tb)
	_ = peer.SetReadBuffer(1 << 20)
	bindConfig(tb, s, Params{Remote: connAddr(peer), Codec: codec, Send: true,
		HasDTMF: hasDTMF, DTMFPayloadType: testDTMFPT, Source: &toneSource{freq: 1000, amp: 8000}})
	// Drain the peer so the socket buffer never fills.
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			if _, _, err := peer.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	}()
	tb.Cleanup(func() { _ = peer.Close(); <-done })
	return s
}

func TestSendFrameZeroAllocs(t *testing.T) {
	for _, codec := range []audio.Codec{testCodec{}, audio.PCMU, audio.PCMA} {
		t.Run(codec.Name(), func(t *testing.T) { testSendFrameZeroAllocs(t, codec) })
	}
}

func testSendFrameZeroAllocs(t *testing.T, codec audio.Codec) {
	s := sendStream(t, codec, true)
	var k int64
	if n := testing.AllocsPerRun(500, func() { s.sendFrame(k); k++ }); n != 0 {
		t.Errorf("sendFrame (audio): %v allocs/frame, want 0", n)
	}
	s.SetMuted(true)
	if n := testing.AllocsPerRun(100, func() { s.sendFrame(k); k++ }); n != 0 {
		t.Errorf("sendFrame (muted): %v allocs/frame, want 0", n)
	}
	// DTMF: queue digits straight into the queue (SendDTMF needs Start).
	for range 20 {
		s.dtmfq <- 5
	}
	if n := testing.AllocsPerRun(100, func() { s.sendFrame(k); k++ }); n != 0 {
		t.Errorf("sendFrame (DTMF): %v allocs/frame, want 0", n)
	}
	if s.Stats().PacketsSent < 700 || s.Stats().SendErrors != 0 {
		t.Errorf("stats %+v", s.Stats())
	}
}

// recvPackets is a cyclic feed of valid packets whose sequence numbers and
// timestamps are rewritten in place, so it never runs out.
type recvPackets struct {
	pkts [][]byte
	seq  uint16
	ts   uint32
	i    int
}

func newRecvPackets(tb testing.TB, pt uint8, withExtras bool) *recvPackets {
	r := &recvPackets{}
	r.pkts = append(r.pkts, rtpPacket(tb, pt, 0, 0, 42, false, make([]byte, audio.FrameSamples)))
	if withExtras {
		// A packet with CSRCs, a one-byte header extension and padding.
		p := rtpPacket(tb, pt, 0, 0, 42, false, make([]byte, audio.FrameSamples))
		hdr := []byte{0xb2, pt, 0, 0, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 1, 0, 0, 0, 2,
			0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0}
		ext := slices.Concat(hdr, p[12:], []byte{0, 0, 0, 4})
		r.pkts = append(r.pkts, ext, rtpPacket(tb, testDTMFPT, 0, 0, 42, false, eventPayload(3, false, 160)))
	}
	return r
}

func (r *recvPackets) next() []byte {
	p := r.pkts[r.i%len(r.pkts)]
	r.i++
	r.seq++
	r.ts += audio.FrameSamples
	binary.BigEndian.PutUint16(p[2:], r.seq)
	binary.BigEndian.PutUint32(p[4:], r.ts)
	return p
}

func TestHandlePacketZeroAllocs(t *testing.T) {
	for _, codec := range []audio.Codec{testCodec{}, audio.PCMU, audio.PCMA} {
		t.Run(codec.Name(), func(t *testing.T) { testHandlePacketZeroAllocs(t, codec) })
	}
}

func testHandlePacketZeroAllocs(t *testing.T, codec audio.Codec) {
	clk := newFakeClock()
	sink := audio.SinkFunc(func(f []int16) error { return nil })
	s := newStream(WithClock(clk), WithDTMFHandler(func(rune) {}))
	bindConfig(t, s, Params{Remote: netUDP(peerA), Codec: codec, Recv: true, Sink: sink,
		HasDTMF: true, DTMFPayloadType: testDTMFPT})
	feed := newRecvPackets(t, codec.PayloadType(), true)
	s.handlePacket(feed.next(), peerA) // latch (allocates once)
	if n := testing.AllocsPerRun(1000, func() {
		clk.Advance(20 * time.Millisecond)
		s.handlePacket(feed.next(), peerA)
	}); n != 0 {
		t.Errorf("handlePacket: %v allocs/packet, want 0", n)
	}
	dup := feed.next()
	s.handlePacket(dup, peerA)
	if n := testing.AllocsPerRun(100, func() { s.handlePacket(dup, peerA) }); n != 0 {
		t.Errorf("handlePacket (duplicate): %v allocs/packet, want 0", n)
	}
	if st := s.Stats(); st.PacketsReceived < 1000 || st.Bad != 0 || st.Lost != 0 || st.DTMFReceived < 300 {
		t.Errorf("stats %+v", st)
	}
}

// TestReceiveSocketZeroAllocs covers the socket read too: the receive
// goroutine's ReadFromUDPAddrPort + handlePacket per datagram.
func TestReceiveSocketZeroAllocs(t *testing.T) {
	s := listen(t)
	bindConfig(t, s, Params{Remote: netUDP(peerA), Codec: testCodec{}, Recv: true,
		Sink: audio.SinkFunc(func([]int16) error { return nil })})
	peer := udpPeer(t)
	dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.LocalPort()))
	feed := newRecvPackets(t, 0, false)
	buf := s.rx.buf
	step := func() {
		if _, err := peer.WriteToUDPAddrPort(feed.next(), dst); err != nil {
			t.Fatal(err)
		}
		n, from, err := s.rtpConn.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatal(err)
		}
		s.handlePacket(buf[:n], from)
	}
	step()
	if n := testing.AllocsPerRun(500, step); n != 0 {
		t.Errorf("read + handlePacket: %v allocs/packet, want 0", n)
	}
}
