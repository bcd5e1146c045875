package media

import (
	"math"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

func marshalReport(t *testing.T, s *Stream, bye bool) []byte {
	t.Helper()
	raw, err := rtcp.Marshal(s.buildReport(s.cfg.Load(), s.clock.Now(), bye))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestRTCPReports exchanges reports between two socketless streams on one
// fake clock: loss, jitter and RTT as the peer computes them.
func TestRTCPReports(t *testing.T) {
	clk := newFakeClock()
	a := newStream(WithClock(clk))
	b := newStream(WithClock(clk))
	bindConfig(t, a, Params{Remote: netUDP(peerB), Codec: testCodec{}, Send: true, Recv: true})
	bindConfig(t, b, Params{Remote: netUDP(peerA), Codec: testCodec{}, Recv: true})

	// Before anything was received b reports no block; a has not sent: RR.
	pkts, err := rtcp.Unmarshal(marshalReport(t, a, false))
	if err != nil {
		t.Fatal(err)
	}
	if rr, ok := pkts[0].(*rtcp.ReceiverReport); !ok || len(rr.Reports) != 0 || rr.SSRC != a.ssrc {
		t.Fatalf("first report %#v", pkts[0])
	}
	if cname, err := rtcp.CompoundPacket(pkts).CNAME(); err != nil || cname != a.cname {
		t.Fatalf("CNAME %q, %v", cname, err)
	}

	// a "sends" 10 packets of which b receives 8.
	a.st.packetsSent.Store(10)
	a.st.bytesSent.Store(1600)
	for seq := uint16(0); seq < 10; seq++ {
		if seq == 3 || seq == 6 {
			continue
		}
		b.handlePacket(rtpPacket(t, 0, seq, a.ts0+uint32(seq)*160, a.ssrc, false, make([]byte, 160)), peerA)
	}
	clk.Advance(time.Second)
	sr := marshalReport(t, a, false)
	if pkts, _ := rtcp.Unmarshal(sr); len(pkts) != 2 {
		t.Fatalf("SR compound has %d packets", len(pkts))
	} else if p, ok := pkts[0].(*rtcp.SenderReport); !ok || p.PacketCount != 10 || p.OctetCount != 1600 ||
		p.RTPTime != a.ts0+8000 || p.NTPTime != toNTP(clk.Now()) {
		t.Fatalf("SR %#v", pkts[0])
	}
	b.handleRTCP(sr, peerA)
	if !b.rc.haveSR {
		t.Fatal("b did not record a's SR")
	}
	clk.Advance(250 * time.Millisecond) // b holds the SR for 250 ms (DLSR)
	rr := marshalReport(t, b, false)
	clk.Advance(40 * time.Millisecond) // 40 ms on the way back; RTT 40 ms
	a.handleRTCP(rr, peerB)

	st := a.Stats()
	if st.RTCPReceived != 1 || math.Abs(st.RTTMs-40) > 0.1 {
		t.Errorf("RTT %.3f ms (RTCPReceived %d), want 40", st.RTTMs, st.RTCPReceived)
	}
	if want := float64(2*256/10) / 256; st.RemoteLossFraction != want || st.RemoteLost != 2 {
		t.Errorf("remote loss %v / %d, want %v / 2", st.RemoteLossFraction, st.RemoteLost, want)
	}
	// Next interval without loss: fraction back to 0, cumulative stays.
	for seq := uint16(10); seq < 20; seq++ {
		b.handlePacket(rtpPacket(t, 0, seq, a.ts0+uint32(seq)*160, a.ssrc, false, make([]byte, 160)), peerA)
	}
	a.handleRTCP(marshalReport(t, b, false), peerB)
	if st := a.Stats(); st.RemoteLossFraction != 0 || st.RemoteLost != 2 {
		t.Errorf("second interval: %+v", st)
	}
	// b latched its RTCP destination to where a's RTCP came from only once
	// it knew a's SSRC from RTP.
	if l := b.rtcpLatch.Load(); l == nil || *l != peerA {
		t.Errorf("b RTCP latch = %v", l)
	}
	// BYE from the source being received is noted.
	b.handleRTCP(marshalReport(t, a, true), peerA)
	if !b.Stats().ByeReceived {
		t.Error("BYE not noted")
	}
}

func TestRTCPGarbage(t *testing.T) {
	s := newStream()
	bindConfig(t, s, Params{Remote: netUDP(peerA), Codec: testCodec{}})
	for _, g := range [][]byte{
		nil, {0x80}, {0x80, 0xc8, 0, 6, 0, 0, 0, 1},
		{0x40, 0xc9, 0, 1, 0, 0, 0, 1}, // version 1
		{0x81, 0xc9, 0, 1, 0, 0, 0, 1}, // RR claims a block it lacks
		{0x80, 0xcb, 0xff, 0xff, 0, 0, 0, 1, 2, 3},
	} {
		s.handleRTCP(g, peerA)
	}
	if st := s.Stats(); st.RTCPBad != 6 || st.RTCPReceived != 0 {
		t.Errorf("stats %+v", st)
	}
	// RTCP multiplexed onto the RTP port (RFC 5761) goes to the RTCP handler.
	s.handlePacket(marshalReport(t, s, false), peerA)
	if st := s.Stats(); st.RTCPReceived != 1 || st.Bad != 0 {
		t.Errorf("muxed RTCP: %+v", st)
	}
}

func TestNTP(t *testing.T) {
	tm := time.Date(2025, 6, 1, 12, 0, 0, 500_000_000, time.UTC)
	n := toNTP(tm)
	if secs := n >> 32; secs != uint64(tm.Unix()+ntpEpochOffset) {
		t.Errorf("seconds %d", secs)
	}
	if frac := uint32(n); frac != 1<<31 {
		t.Errorf("fraction %#x, want 0x80000000", frac)
	}
}
