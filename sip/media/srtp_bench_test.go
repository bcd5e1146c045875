package media

import (
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
)

// srtpFeed is a run of n packets of PCMU as a peer protects them (SSRC 42,
// consecutive sequence numbers from 0), for a receiver keyed with recv.
type srtpFeed struct {
	pkts [][]byte
	recv *SRTP
	i    int
}

func newSRTPFeed(tb testing.TB, suite string, n int) *srtpFeed {
	tb.Helper()
	peer, ours := srtpPair(tb, suite)
	out, err := newSRTPDir(suite, peer.SendKey, false)
	if err != nil {
		tb.Fatal(err)
	}
	f := &srtpFeed{recv: ours}
	payload := audio.PCMU.Encode(make([]byte, audio.FrameSamples), make([]int16, audio.FrameSamples))
	for i := range n {
		pkt := rtpPacket(tb, audio.PCMU.PayloadType(), uint16(i), uint32(i*audio.FrameSamples), 42, false, payload)
		enc, err := out.rtp.EncryptRTP(nil, pkt, nil)
		if err != nil {
			tb.Fatal(err)
		}
		f.pkts = append(f.pkts, enc)
	}
	return f
}

// srtpSendStream is sendStream protecting with suite.
func srtpSendStream(tb testing.TB, suite string, hasDTMF bool) *Stream {
	tb.Helper()
	s := sendStream(tb, audio.PCMU, hasDTMF)
	p := *s.cfg.Load()
	p2, _ := srtpPair(tb, suite)
	bindConfig(tb, s, Params{Remote: netUDP(p.remote), Codec: audio.PCMU, Send: true, HasDTMF: hasDTMF,
		DTMFPayloadType: testDTMFPT, Source: p.source, SRTP: p2})
	return s
}

// srtpReceiver is an unstarted receiving Stream bound to f's keys.
func srtpReceiver(tb testing.TB, f *srtpFeed) (*Stream, *fakeClock) {
	tb.Helper()
	clk := newFakeClock()
	s := newStream(WithClock(clk))
	bindConfig(tb, s, Params{Remote: netUDP(peerA), Codec: audio.PCMU, Recv: true,
		Sink: audio.SinkFunc(func([]int16) error { return nil }), SRTP: f.recv})
	return s, clk
}

// next hands the next packet to s in place (handlePacket decrypts into
// the buffer it is given, as the socket's buffer on the real path).
func (f *srtpFeed) next(s *Stream) {
	s.handlePacket(f.pkts[f.i], peerA)
	f.i++
}

// TestSRTPZeroAllocs: protecting and unprotecting keep the per-frame paths
// free of allocations.
func TestSRTPZeroAllocs(t *testing.T) {
	for _, suite := range testSuites {
		t.Run(suite, func(t *testing.T) {
			s := srtpSendStream(t, suite, true)
			var k int64
			s.sendFrame(k) // the SSRC's crypto state is made once
			if n := testing.AllocsPerRun(500, func() { k++; s.sendFrame(k) }); n != 0 {
				t.Errorf("sendFrame: %v allocs/frame, want 0", n)
			}
			for range 5 {
				s.dtmfq <- 1
			}
			if n := testing.AllocsPerRun(100, func() { k++; s.sendFrame(k) }); n != 0 {
				t.Errorf("sendFrame (DTMF): %v allocs/frame, want 0", n)
			}
			if st := s.Stats(); st.SendErrors != 0 || st.PacketsSent < 600 {
				t.Errorf("sender stats %+v", st)
			}

			f := newSRTPFeed(t, suite, 1100)
			r, clk := srtpReceiver(t, f)
			f.next(r) // latch and the SSRC's crypto state
			if n := testing.AllocsPerRun(1000, func() { clk.Advance(20 * time.Millisecond); f.next(r) }); n != 0 {
				t.Errorf("handlePacket: %v allocs/packet, want 0", n)
			}
			if st := r.Stats(); st.PacketsReceived != 1002 || st.SRTPAuthFailures != 0 {
				t.Errorf("receiver stats %+v", st)
			}
		})
	}
}

// BenchmarkSendFrameSRTP is BenchmarkSendFrame with each suite: one frame
// read, encoded, protected and sent over loopback UDP.
func BenchmarkSendFrameSRTP(b *testing.B) {
	for _, suite := range testSuites {
		b.Run(suite, func(b *testing.B) {
			benchSendFrame(b, srtpSendStream(b, suite, false))
		})
	}
}

// BenchmarkReceivePacketSRTP is BenchmarkReceivePacket with each suite: one
// packet authenticated, decrypted, checked and decoded. The feed is one
// sequence-number cycle; the receiver is re-keyed (untimed) when it wraps.
func BenchmarkReceivePacketSRTP(b *testing.B) {
	for _, suite := range testSuites {
		b.Run(suite, func(b *testing.B) {
			f := newSRTPFeed(b, suite, 1<<16)
			s, _ := srtpReceiver(b, f)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if f.i == len(f.pkts) {
					b.StopTimer()
					f = newSRTPFeed(b, suite, 1<<16)
					s, _ = srtpReceiver(b, f)
					b.StartTimer()
				}
				f.next(s)
			}
		})
	}
}

// BenchmarkSRTPProtect is the SRTP share of the send path alone: one
// 20 ms PCMU packet marshalled and protected in place, no socket.
func BenchmarkSRTPProtect(b *testing.B) {
	for _, suite := range testSuites {
		b.Run(suite, func(b *testing.B) {
			p, _ := srtpPair(b, suite)
			out, err := newSRTPDir(suite, p.SendKey, false)
			if err != nil {
				b.Fatal(err)
			}
			var tx txState
			tx.init(0)
			tx.pkt.SSRC, tx.pkt.Payload = 42, tx.payload[:audio.FrameSamples]
			b.ReportAllocs()
			for b.Loop() {
				tx.pkt.SequenceNumber++
				n, _ := tx.pkt.MarshalTo(tx.buf)
				if _, err := out.rtp.EncryptRTP(tx.buf[:n], tx.buf[:n], &tx.hdr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
