package media

import (
	"slices"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
)

func BenchmarkSendFrame(b *testing.B) {
	benchSendFrame(b, sendStream(b, audio.PCMU, false))
}

// benchSendFrame times s's per-frame send work, one frame slot after the
// other.
func benchSendFrame(b *testing.B, s *Stream) {
	b.ReportAllocs()
	var k int64
	for b.Loop() {
		s.sendFrame(k)
		k++
	}
}

func BenchmarkReceivePacket(b *testing.B) {
	clk := newFakeClock()
	s := newStream(WithClock(clk))
	bindConfig(b, s, Params{Remote: netUDP(peerA), Codec: audio.PCMU, Recv: true,
		Sink: audio.SinkFunc(func([]int16) error { return nil })})
	feed := newRecvPackets(b, audio.PCMU.PayloadType(), false)
	b.ReportAllocs()
	for b.Loop() {
		s.handlePacket(feed.next(), peerA)
	}
}

// BenchmarkPacing runs the real send loop for 5 s (whatever b.N is) and
// reports how far each frame's send time is from its slot on the 20 ms grid.
// It is a measurement, not a pass/fail test: run it on an idle machine with
//
//	go test -run '^$' -bench Pacing -benchtime 1x ./sip/media
func BenchmarkPacing(b *testing.B) {
	const run = 5 * time.Second
	for b.Loop() {
		s := listen(b)
		peer := udpPeer(b)
		devs := make([]time.Duration, 0, int(run/audio.FrameDuration)+16)
		s.onSent = func(k int64, at time.Time) {
			if len(devs) < cap(devs) {
				devs = append(devs, at.Sub(s.epoch.Add(time.Duration(k)*audio.FrameDuration)))
			}
		}
		go func() { // drain
			buf := make([]byte, 1500)
			for {
				if _, _, err := peer.ReadFromUDPAddrPort(buf); err != nil {
					return
				}
			}
		}()
		if err := s.Start(Params{Remote: connAddr(peer), Codec: audio.PCMU, Send: true,
			Source: &toneSource{freq: 1000, amp: 8000}}); err != nil {
			b.Fatal(err)
		}
		time.Sleep(run)
		if err := s.Close(); err != nil { // waits for the send loop: devs is ours now
			b.Fatal(err)
		}
		_ = peer.Close()
		slices.Sort(devs)
		q := func(p float64) float64 {
			return float64(devs[min(len(devs)-1, int(p*float64(len(devs))))].Microseconds())
		}
		b.ReportMetric(q(0.50), "p50-dev-µs")
		b.ReportMetric(q(0.99), "p99-dev-µs")
		b.ReportMetric(float64(devs[len(devs)-1].Microseconds()), "max-dev-µs")
		b.ReportMetric(float64(len(devs))/run.Seconds(), "frames/s")
		b.ReportMetric(float64(s.Stats().Resyncs), "resyncs")
	}
}
