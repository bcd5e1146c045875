package media

import (
	"errors"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
)

func TestToneLoopback(t *testing.T) {
	for _, codec := range []audio.Codec{testCodec{}, audio.PCMU, audio.PCMA} {
		t.Run(codec.Name(), func(t *testing.T) {
			t.Parallel()
			testToneLoopback(t, codec)
		})
	}
}

// testToneLoopback sends a 1000 Hz tone from a to b over loopback UDP and
// checks what reaches b's sink: ~50 frames/s of 160 samples, each with the
// tone's RMS and zero-crossing count after encode/decode.
func testToneLoopback(t *testing.T, codec audio.Codec) {
	a, b := listen(t), listen(t)
	sink := &captureSink{}
	if err := a.Start(Params{Remote: rtpAddr(b), Codec: codec, Send: true, Recv: true,
		Source: &toneSource{freq: 1000, amp: 8000}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(Params{Remote: rtpAddr(a), Codec: codec, Recv: true, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "first frames", func() bool { return sink.count() >= 5 })
	c0, t0 := sink.count(), time.Now()
	time.Sleep(2 * time.Second)
	rate := float64(sink.count()-c0) / time.Since(t0).Seconds()
	if rate < 45 || rate > 55 {
		t.Errorf("far sink got %.1f frames/s, want ~50", rate)
	}

	sink.mu.Lock()
	defer sink.mu.Unlock()
	if sink.badLen != 0 {
		t.Errorf("%d frames not %d samples", sink.badLen, 160)
	}
	want := 8000 / math.Sqrt2
	for i := range sink.rms {
		if math.Abs(sink.rms[i]-want) > want*0.1 {
			t.Fatalf("frame %d RMS %.0f, want ~%.0f", i, sink.rms[i], want)
		}
		// 1000 Hz over 20 ms: 20 periods, 40 sign changes (±1 at the edges).
		if c := sink.crossings[i]; c < 38 || c > 40 {
			t.Fatalf("frame %d has %d zero crossings, want ~40 (1000 Hz)", i, c)
		}
	}
	st := b.Stats()
	if st.Latched == "" || st.PacketsReceived == 0 || st.Lost != 0 || st.Bad != 0 {
		t.Errorf("receiver stats %+v", st)
	}
	if as := a.Stats(); as.PacketsSent == 0 || as.BytesSent != 160*as.PacketsSent {
		t.Errorf("sender stats %+v", as)
	}
}

func TestDTMFLoopback(t *testing.T) {
	got := make(chan rune, 16)
	a := listen(t)
	b := listen(t, WithDTMFHandler(func(d rune) {
		select {
		case got <- d:
		default:
		}
	}))
	p := Params{Codec: testCodec{}, HasDTMF: true, DTMFPayloadType: testDTMFPT, Send: true, Recv: true,
		Source: &toneSource{freq: 440, amp: 3000}}
	pa, pb := p, p
	pa.Remote, pb.Remote = rtpAddr(b), rtpAddr(a)
	pb.Source = nil
	if err := a.Start(pa); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(pb); err != nil {
		t.Fatal(err)
	}
	if err := a.SendDTMF("159#"); err != nil {
		t.Fatal(err)
	}
	var digits strings.Builder
	timeout := time.After(3 * time.Second)
	for digits.Len() < 4 {
		select {
		case d := <-got:
			digits.WriteRune(d)
		case <-timeout:
			t.Fatalf("got digits %q, want 159#", digits.String())
		}
	}
	select {
	case d := <-got:
		t.Fatalf("extra digit %q after %q", d, digits.String())
	case <-time.After(400 * time.Millisecond):
	}
	if digits.String() != "159#" {
		t.Fatalf("got %q, want 159#", digits.String())
	}
	if n := b.Stats().DTMFReceived; n != 4 {
		t.Errorf("DTMFReceived = %d, want 4", n)
	}
}

// TestDTMFWire checks the RFC 4733 packets themselves: 5 events 20 ms apart
// with one timestamp and the marker on the first, then 3 end packets, no
// audio in between, and audio again afterwards.
func TestDTMFWire(t *testing.T) {
	a := listen(t)
	peer := udpPeer(t)
	if err := a.Start(Params{Remote: connAddr(peer), Codec: testCodec{}, HasDTMF: true,
		DTMFPayloadType: testDTMFPT, Send: true}); err != nil {
		t.Fatal(err)
	}
	first, _, ok := readRTP(t, peer, time.Second)
	if !ok {
		t.Fatal("no audio before DTMF")
	}
	if err := a.SendDTMF("7"); err != nil {
		t.Fatal(err)
	}
	var events []struct {
		marker bool
		ts     uint32
		seq    uint16
		end    bool
		dur    uint16
	}
	lastSeq := first.SequenceNumber
	for len(events) < 8 {
		p, _, ok := readRTP(t, peer, time.Second)
		if !ok {
			t.Fatalf("only %d event packets", len(events))
		}
		if p.PayloadType != testDTMFPT {
			if len(events) > 0 {
				t.Fatalf("audio packet in the middle of a digit after %d events", len(events))
			}
			lastSeq = p.SequenceNumber
			continue
		}
		if p.SequenceNumber != lastSeq+1 {
			t.Fatalf("seq %d after %d", p.SequenceNumber, lastSeq)
		}
		lastSeq = p.SequenceNumber
		if p.Payload[0] != 7 || p.Payload[1]&0x3f != dtmfVolume {
			t.Fatalf("payload % x", p.Payload)
		}
		events = append(events, struct {
			marker bool
			ts     uint32
			seq    uint16
			end    bool
			dur    uint16
		}{p.Marker, p.Timestamp, p.SequenceNumber, p.Payload[1]&0x80 != 0,
			uint16(p.Payload[2])<<8 | uint16(p.Payload[3])})
	}
	for i, e := range events {
		wantEnd := i >= 5
		wantDur := uint16(min(i+1, 5) * 160)
		if e.marker != (i == 0) || e.ts != events[0].ts || e.end != wantEnd || e.dur != wantDur {
			t.Errorf("event packet %d = %+v, want marker=%v end=%v dur=%d ts=%d", i, e, i == 0, wantEnd, wantDur, events[0].ts)
		}
	}
	p, _, ok := readRTP(t, peer, time.Second)
	if !ok || p.PayloadType != 0 || p.SequenceNumber != lastSeq+1 {
		t.Fatalf("after the digit: %+v ok=%v, want audio seq %d", p.Header, ok, lastSeq+1)
	}
	// The timestamp kept running while the digit played: 8 frames.
	if d := p.Timestamp - events[0].ts; d != 8*160 {
		t.Errorf("audio timestamp advanced %d during the digit, want %d", d, 8*160)
	}
}

func TestHoldResume(t *testing.T) {
	a := listen(t)
	peer := udpPeer(t)
	p := Params{Remote: connAddr(peer), Codec: testCodec{}, Send: true, Recv: true}
	if err := a.Start(p); err != nil {
		t.Fatal(err)
	}
	first, _, ok := readRTP(t, peer, time.Second)
	if !ok || !first.Marker {
		t.Fatalf("first packet %+v ok=%v, want marker", first.Header, ok)
	}
	var last = first
	for range 5 {
		last, _, _ = readRTP(t, peer, time.Second)
	}

	hold := p
	hold.Send = false
	if err := a.Update(hold); err != nil {
		t.Fatal(err)
	}
	// Drain what was in flight, then expect silence on the wire.
	for {
		q, _, ok := readRTP(t, peer, 100*time.Millisecond)
		if !ok {
			break
		}
		last = q
	}
	sent := a.Stats().PacketsSent
	heldAt := time.Now()
	if q, _, ok := readRTP(t, peer, 400*time.Millisecond); ok {
		t.Fatalf("packet while on hold: %+v", q.Header)
	}
	if a.Stats().PacketsSent != sent {
		t.Fatal("PacketsSent grew while on hold")
	}

	if err := a.Update(p); err != nil {
		t.Fatal(err)
	}
	q, _, ok := readRTP(t, peer, time.Second)
	if !ok {
		t.Fatal("no packets after resume")
	}
	if q.SSRC != first.SSRC || q.SequenceNumber != last.SequenceNumber+1 || !q.Marker {
		t.Errorf("resume packet %+v after %+v: want same SSRC, next seq, marker", q.Header, last.Header)
	}
	// Timestamps track the clock across the hold (at least the 400 ms held).
	gap := time.Duration(q.Timestamp-last.Timestamp) * tsUnit
	if held := time.Since(heldAt); gap < 400*time.Millisecond || gap > held+time.Second {
		t.Errorf("timestamp gap across hold = %v, held ~%v", gap, held)
	}
}

func TestLatchToActualSource(t *testing.T) {
	a := listen(t)
	signalled := udpPeer(t) // the address in the SDP, where nothing answers
	actual := udpPeer(t)    // where the peer really sends from
	if err := a.Start(Params{Remote: connAddr(signalled), Codec: testCodec{}, Send: true, Recv: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := readRTP(t, signalled, time.Second); !ok {
		t.Fatal("no RTP to the signalled address before latching")
	}
	pkt := rtpPacket(t, 0, 100, 1000, 0xabc, false, make([]byte, 160))
	if _, err := actual.WriteToUDP(pkt, rtpAddr(a)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "latch", func() bool { return a.Stats().Latched != "" })
	if got, want := a.Stats().Latched, connAddr(actual).String(); got != want {
		t.Fatalf("Latched = %q, want %q", got, want)
	}
	if _, from, ok := readRTP(t, actual, time.Second); !ok || int(from.Port()) != a.LocalPort() {
		t.Fatalf("no RTP at the latched address (ok=%v from %v)", ok, from)
	}
	// An intruder is ignored while the latched peer is alive.
	intruder := udpPeer(t)
	bad := a.Stats().Bad
	if _, err := intruder.WriteToUDP(rtpPacket(t, 0, 5, 5, 0xdead, false, make([]byte, 160)), rtpAddr(a)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "intruder counted", func() bool { return a.Stats().Bad > bad })
	if got, want := a.Stats().Latched, connAddr(actual).String(); got != want {
		t.Fatalf("Latched = %q after intruder, want %q", got, want)
	}
}

func TestRTCPExchange(t *testing.T) {
	a := listen(t, WithRTCPInterval(100*time.Millisecond))
	b := listen(t, WithRTCPInterval(100*time.Millisecond))
	p := Params{Codec: testCodec{}, Send: true, Recv: true, Source: &toneSource{freq: 1000, amp: 5000}}
	pa, pb := p, p
	pa.Remote, pb.Remote = rtpAddr(b), rtpAddr(a)
	pb.Source = &toneSource{freq: 500, amp: 5000}
	if err := a.Start(pa); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(pb); err != nil {
		t.Fatal(err)
	}
	haveRTT := func(s *Stream) bool {
		s.rc.mu.Lock()
		defer s.rc.mu.Unlock()
		return s.rc.haveRTT
	}
	waitFor(t, 3*time.Second, "RTCP with RTT both ways", func() bool {
		return a.Stats().RTCPReceived >= 3 && b.Stats().RTCPReceived >= 3 && haveRTT(a) && haveRTT(b)
	})
	for name, st := range map[string]Stats{"a": a.Stats(), "b": b.Stats()} {
		if st.RTCPSent == 0 || st.RTCPBad != 0 || st.RTTMs > 100 || st.RemoteLossFraction != 0 ||
			st.RemoteLost != 0 || st.RemoteJitterMs > 20 || st.ByeReceived {
			t.Errorf("%s: %+v", name, st)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "BYE", func() bool { return a.Stats().ByeReceived })
}

func TestGarbageDoesNotBreakFlow(t *testing.T) {
	a, b := listen(t), listen(t)
	sink := &captureSink{}
	if err := a.Start(Params{Remote: rtpAddr(b), Codec: testCodec{}, Send: true,
		Source: &toneSource{freq: 1000, amp: 8000}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(Params{Remote: rtpAddr(a), Codec: testCodec{}, Recv: true, Sink: sink,
		HasDTMF: true, DTMFPayloadType: testDTMFPT}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "flow", func() bool { return sink.count() >= 3 })
	junk := udpPeer(t)
	rtcpAddr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: b.LocalPort() + 1}
	garbage := [][]byte{
		{}, {0x80}, {0xff, 0xff, 0xff}, []byte("INVITE sip:x SIP/2.0\r\n\r\n"),
		{0x80, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0},                            // 11 bytes
		{0x40, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1},                         // version 1
		{0x8f, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1},                         // 15 CSRCs missing
		{0x90, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0xff, 0xff}, // extension overruns
		{0xa0, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xff},                   // padding overruns
		{0x80, 0x12, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2},                   // unknown PT 18
		{0x80, 0x65, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1},                      // short DTMF payload
		{0x80, 0xc8, 0, 0xff, 1, 2, 3, 4},                                  // RTCP SR with a huge length
	}
	for range 20 {
		for _, g := range garbage {
			_, _ = junk.WriteToUDP(g, rtpAddr(b))
			_, _ = junk.WriteToUDP(g, rtcpAddr)
		}
	}
	waitFor(t, time.Second, "garbage counted", func() bool {
		st := b.Stats()
		return st.Bad > 0 && st.RTCPBad > 0
	})
	c0 := sink.count()
	time.Sleep(500 * time.Millisecond)
	if n := sink.count() - c0; n < 15 {
		t.Fatalf("only %d frames in 500 ms after garbage", n)
	}
	if st := b.Stats(); st.DTMFReceived != 0 {
		t.Errorf("garbage produced DTMF: %+v", st)
	}
}

func TestLifecycle(t *testing.T) {
	s := listen(t)
	if s.LocalPort()%2 != 0 {
		t.Errorf("RTP port %d is odd", s.LocalPort())
	}
	p := Params{Remote: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, Codec: testCodec{}}
	if err := s.Update(p); !errors.Is(err, ErrNotStarted) {
		t.Errorf("Update before Start = %v", err)
	}
	if err := s.SendDTMF("1"); !errors.Is(err, ErrNotStarted) {
		t.Errorf("SendDTMF before Start = %v", err)
	}
	if err := s.Start(Params{Codec: testCodec{}}); !errors.Is(err, ErrNoRemote) {
		t.Errorf("Start without remote = %v", err)
	}
	if err := s.Start(Params{Remote: p.Remote}); !errors.Is(err, ErrNoCodec) {
		t.Errorf("Start without codec = %v", err)
	}
	if err := s.Start(p); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(p); !errors.Is(err, ErrAlreadyStarted) {
		t.Errorf("second Start = %v", err)
	}
	if err := s.SendDTMF("1"); !errors.Is(err, ErrNoDTMF) {
		t.Errorf("SendDTMF without telephone-event = %v", err)
	}
	p.HasDTMF, p.DTMFPayloadType = true, testDTMFPT
	if err := s.Update(p); err != nil {
		t.Fatal(err)
	}
	if err := s.SendDTMF("12x"); !errors.Is(err, ErrInvalidDigit) {
		t.Errorf("SendDTMF(12x) = %v", err)
	}
	if err := s.SendDTMF("0123456789*#ABCDabcd"); err != nil {
		t.Errorf("SendDTMF(all) = %v", err)
	}
	if err := s.SendDTMF(strings.Repeat("1", dtmfQueueLen)); !errors.Is(err, ErrDTMFQueueFull) {
		t.Errorf("SendDTMF(too many) = %v", err)
	}
	s.SetMuted(true)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := s.Start(p); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close = %v", err)
	}
	if err := s.SendDTMF("1"); !errors.Is(err, ErrClosed) {
		t.Errorf("SendDTMF after Close = %v", err)
	}
	// Close without Start.
	u := listen(t)
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestListenPorts(t *testing.T) {
	if _, err := Listen("not-an-ip"); !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("bad IP: %v", err)
	}
	if _, err := Listen("127.0.0.1", WithPortRange(40001, 40001)); !errors.Is(err, ErrInvalidPortRange) {
		t.Errorf("range without a pair: %v", err)
	}
	if _, err := Listen("127.0.0.1", WithPortRange(70000, 70010)); !errors.Is(err, ErrInvalidPortRange) {
		t.Errorf("range beyond 65535: %v", err)
	}
	// Find a free pair, then a second Listen on the same single pair fails.
	var s *Stream
	for base := 41000; base < 42000 && s == nil; base += 2 {
		s, _ = Listen("127.0.0.1", WithPortRange(base-1, base+1)) // odd min rounds up
	}
	if s == nil {
		t.Skip("no free port pair in 41000-42000")
	}
	defer s.Close()
	port := s.LocalPort()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port + 1})
	if err == nil {
		c.Close()
		t.Errorf("RTCP port %d not bound", port+1)
	}
	if _, err := Listen("127.0.0.1", WithPortRange(port, port+1)); !errors.Is(err, ErrNoFreePort) {
		t.Errorf("taken pair: %v", err)
	}
}
