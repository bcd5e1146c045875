package media

import (
	"net/netip"
	"testing"
	"time"
)

var (
	peerA = netip.MustParseAddrPort("192.0.2.1:4000")
	peerB = netip.MustParseAddrPort("192.0.2.2:5000")
)

// newRecvStream is a socketless Stream driven through handlePacket.
func newRecvStream(t *testing.T, clk *fakeClock, sink *captureSink, onDTMF func(rune)) *Stream {
	t.Helper()
	s := newStream(WithClock(clk), WithDTMFHandler(onDTMF))
	p := Params{Remote: netUDP(peerA), Codec: testCodec{}, Recv: true, HasDTMF: true, DTMFPayloadType: testDTMFPT}
	if sink != nil {
		p.Sink = sink
	}
	bindConfig(t, s, p)
	return s
}

func TestSequenceTracking(t *testing.T) {
	clk := newFakeClock()
	sink := &captureSink{}
	s := newRecvStream(t, clk, sink, nil)
	send := func(seq uint16) {
		clk.Advance(20 * time.Millisecond)
		s.handlePacket(rtpPacket(t, 0, seq, uint32(seq)*160, 1, false, make([]byte, 160)), peerA)
	}
	for _, seq := range []uint16{65530, 65531, 65533, 65532, 65533, 65534, 65535, 0, 1, 1, 4} {
		send(seq)
	}
	st := s.Stats()
	// 65530..4 is 11 sequence numbers; 2 and 3 never came.
	if st.Lost != 2 || st.Late != 1 || st.Duplicate != 2 || st.PacketsReceived != 11 {
		t.Errorf("after wrap: %+v", st)
	}
	if got := s.st.rxExtMax.Load(); got != 1<<16+4 {
		t.Errorf("extended max seq = %#x, want %#x", got, 1<<16+4)
	}
	if sink.count() != 8 { // 11 packets - 1 late - 2 duplicates
		t.Errorf("sink got %d frames, want 8", sink.count())
	}
	// A jump beyond MAX_DROPOUT is dropped once, then accepted as a restart.
	send(30000)
	if s.Stats().Bad != 1 || sink.count() != 8 {
		t.Fatalf("first packet after a jump: %+v", s.Stats())
	}
	send(30001)
	send(30002)
	if st := s.Stats(); sink.count() != 10 || st.Lost != 2 {
		t.Errorf("after restart: frames %d, %+v", sink.count(), st)
	}
	// A new SSRC is a new source: accepted at once, loss carried over.
	s.handlePacket(rtpPacket(t, 0, 7, 0, 2, false, make([]byte, 160)), peerA)
	s.handlePacket(rtpPacket(t, 0, 9, 320, 2, false, make([]byte, 160)), peerA)
	if st := s.Stats(); sink.count() != 12 || st.Lost != 3 || st.RemoteSSRC != 2 {
		t.Errorf("after SSRC change: frames %d, %+v", sink.count(), st)
	}
}

func TestRelatch(t *testing.T) {
	clk := newFakeClock()
	sink := &captureSink{}
	s := newRecvStream(t, clk, sink, nil)
	pkt := func(seq uint16) []byte { return rtpPacket(t, 0, seq, uint32(seq)*160, 7, false, make([]byte, 160)) }

	// An unknown payload type does not latch.
	s.handlePacket(rtpPacket(t, 96, 1, 0, 7, false, []byte{1}), peerB)
	if s.Stats().Latched != "" {
		t.Fatal("latched on an unknown payload type")
	}
	s.handlePacket(pkt(1), peerA)
	if got := s.Stats().Latched; got != peerA.String() {
		t.Fatalf("Latched = %q", got)
	}
	clk.Advance(time.Second)
	s.handlePacket(pkt(2), peerB)
	if got := s.Stats(); got.Latched != peerA.String() || got.Bad != 2 || sink.count() != 1 {
		t.Fatalf("B taken while A alive: %+v", got)
	}
	clk.Advance(1500 * time.Millisecond) // A silent 2.5 s
	s.handlePacket(pkt(3), peerB)
	if got := s.Stats(); got.Latched != peerB.String() || sink.count() != 2 {
		t.Fatalf("no re-latch after 2.5 s silence: %+v", got)
	}
	// A's late packet is now foreign.
	s.handlePacket(pkt(4), peerA)
	if got := s.Stats(); got.Latched != peerB.String() || sink.count() != 2 {
		t.Fatalf("A took over again: %+v", got)
	}
	// The send side uses the latched address.
	if d := s.rtpDest(s.cfg.Load()); d != peerB {
		t.Errorf("rtpDest = %v, want %v", d, peerB)
	}
	// A re-negotiated remote forgets the latch.
	peerC := netip.MustParseAddrPort("192.0.2.3:6000")
	s.started = true
	if err := s.Update(Params{Remote: netUDP(peerC), Codec: testCodec{}}); err != nil {
		t.Fatal(err)
	}
	if d := s.rtpDest(s.cfg.Load()); d != peerC || s.Stats().Latched != "" {
		t.Errorf("after Update: rtpDest %v, latched %q", d, s.Stats().Latched)
	}
}

func TestDTMFDedupe(t *testing.T) {
	clk := newFakeClock()
	var got []rune
	s := newRecvStream(t, clk, nil, func(d rune) { got = append(got, d) })
	seq := uint16(10)
	ev := func(ts uint32, code byte, end bool, dur uint16) {
		seq++
		s.handlePacket(rtpPacket(t, testDTMFPT, seq, ts, 9, dur == 160, eventPayload(code, end, dur)), peerA)
	}
	digit := func(ts uint32, code byte) {
		for i := uint16(1); i <= 5; i++ {
			ev(ts, code, false, i*160)
		}
		for range 3 {
			ev(ts, code, true, 800)
		}
	}
	digit(1000, 1)
	digit(3000, 1) // same digit again: a new event
	// Start packets lost: the event is reported from its end packets.
	ev(5000, 11, true, 800)
	ev(5000, 11, true, 800)
	// An end retransmit of an older event arriving late (new seq) is not reported.
	ev(3000, 1, true, 800)
	ev(7000, 16, false, 160) // flash: not a digit
	ev(9000, 15, false, 160)
	if string(got) != "11#D" {
		t.Errorf("reported %q, want %q", string(got), "11#D")
	}
	if n := s.Stats().DTMFReceived; n != 4 {
		t.Errorf("DTMFReceived = %d", n)
	}
}

func TestJitter(t *testing.T) {
	clk := newFakeClock()
	s := newRecvStream(t, clk, nil, nil)
	for i := range 50 { // perfectly paced
		s.handlePacket(rtpPacket(t, 0, uint16(i), uint32(i)*160, 3, false, make([]byte, 160)), peerA)
		clk.Advance(20 * time.Millisecond)
	}
	if j := s.Stats().JitterMs; j != 0 {
		t.Fatalf("jitter %v for a perfect stream", j)
	}
	// Alternate 10 ms early/late: |D| = 20 ms every packet, so J → 20 ms.
	for i := 50; i < 600; i++ {
		d := 20 * time.Millisecond
		if i%2 == 0 {
			d = 0
		} else {
			d = 40 * time.Millisecond
		}
		clk.Advance(d)
		s.handlePacket(rtpPacket(t, 0, uint16(i), uint32(i)*160, 3, false, make([]byte, 160)), peerA)
	}
	if j := s.Stats().JitterMs; j < 19 || j > 21 {
		t.Errorf("jitter = %.2f ms, want ~20", j)
	}
}

func TestReframing(t *testing.T) {
	clk := newFakeClock()
	sink := &captureSink{}
	s := newRecvStream(t, clk, sink, nil)
	for i := range 4 { // 30 ms packets: 4 × 240 = 960 samples = 6 frames
		s.handlePacket(rtpPacket(t, 0, uint16(i), uint32(i)*240, 3, false, make([]byte, 240)), peerA)
	}
	if sink.count() != 6 || sink.badLen != 0 {
		t.Errorf("frames %d (bad len %d), want 6 of 160", sink.count(), sink.badLen)
	}
}

func TestPace(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		k       int64
		elapsed time.Duration
		want    int64
	}{
		{0, 0, 0},
		{0, -5 * ms, 0},
		{5, 90 * ms, 5},    // early: wait
		{5, 100 * ms, 5},   // due
		{5, 180 * ms, 5},   // 4 frames behind: catch up
		{5, 199 * ms, 5},   // still 4 slots
		{5, 200 * ms, 10},  // 5 behind: resync to the current slot
		{5, 1000 * ms, 50}, // long stall
	} {
		if got := pace(tc.k, tc.elapsed); got != tc.want {
			t.Errorf("pace(%d, %v) = %d, want %d", tc.k, tc.elapsed, got, tc.want)
		}
	}
}

// TestSendClock drives the real send loop with a fake clock: absolute
// deadlines, a small lag caught up back to back, a large one resynced.
func TestSendClock(t *testing.T) {
	clk := newFakeClock()
	s := listen(t, WithClock(clk))
	sent := make(chan int64, 64)
	s.onSent = func(k int64, _ time.Time) { sent <- k }
	peer := udpPeer(t)
	if err := s.Start(Params{Remote: connAddr(peer), Codec: testCodec{}, Send: true}); err != nil {
		t.Fatal(err)
	}
	expect := func(ks ...int64) {
		t.Helper()
		for _, want := range ks {
			select {
			case k := <-sent:
				if k != want {
					t.Fatalf("sent frame %d, want %d", k, want)
				}
			case <-time.After(2 * time.Second):
				t.Fatalf("frame %d not sent", want)
			}
		}
		// The loop is parked on its timer (plus the RTCP timer) and sent nothing more.
		waitFor(t, 2*time.Second, "send loop parked", func() bool { return clk.activeTimers() == 2 })
		select {
		case k := <-sent:
			t.Fatalf("unexpected frame %d", k)
		default:
		}
	}
	expect(0)
	clk.Advance(19 * time.Millisecond)
	expect()
	clk.Advance(time.Millisecond)
	expect(1)
	clk.Advance(20 * time.Millisecond)
	expect(2)
	clk.Advance(60 * time.Millisecond) // 3 frames late: burst to catch up
	expect(3, 4, 5)
	clk.Advance(200 * time.Millisecond) // 10 frames: resync, no burst
	expect(15)
	clk.Advance(20 * time.Millisecond)
	expect(16)
	if st := s.Stats(); st.Resyncs != 1 || st.PacketsSent != 8 {
		t.Errorf("stats %+v", st)
	}
	// On the wire: timestamps follow the grid across the resync.
	var ts []uint32
	for range 8 {
		p, _, ok := readRTP(t, peer, time.Second)
		if !ok {
			t.Fatal("missing packet")
		}
		ts = append(ts, p.Timestamp-s.ts0)
	}
	want := []uint32{0, 160, 320, 480, 640, 800, 15 * 160, 16 * 160}
	for i := range want {
		if ts[i] != want[i] {
			t.Fatalf("timestamps %v, want %v", ts, want)
		}
	}
}

func TestDigitMapping(t *testing.T) {
	for _, d := range "0123456789*#ABCD" {
		ev, ok := digitEvent(d)
		if !ok {
			t.Fatalf("digit %q rejected", d)
		}
		if back, ok := eventDigit(ev); !ok || back != d {
			t.Errorf("%q → %d → %q", d, ev, back)
		}
	}
	for _, d := range "xE!-, " {
		if _, ok := digitEvent(d); ok {
			t.Errorf("digit %q accepted", d)
		}
	}
	if _, ok := eventDigit(16); ok {
		t.Error("event 16 (flash) mapped to a digit")
	}
}
