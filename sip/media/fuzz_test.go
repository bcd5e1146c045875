package media

import (
	"testing"

	"github.com/opdesk/opdesk/audio"
	"github.com/pion/rtcp"
)

// fuzzStream is a socketless, configured Stream; the seed corpora live in
// testdata/fuzz/<FuzzName>/.
func fuzzStream(t *testing.T) *Stream {
	clk := newFakeClock()
	s := newStream(WithClock(clk), WithDTMFHandler(func(d rune) {
		if _, ok := digitEvent(d); !ok {
			t.Fatalf("handler got non-digit %q", d)
		}
	}))
	sink := audio.SinkFunc(func(f []int16) error {
		if len(f) != audio.FrameSamples {
			t.Fatalf("sink got %d samples", len(f))
		}
		return nil
	})
	s.ssrc = 0x11223344 // the SSRC the seed report blocks are about
	bindConfig(t, s, Params{Remote: netUDP(peerA), Codec: testCodec{}, Send: true, Recv: true, Sink: sink,
		HasDTMF: true, DTMFPayloadType: testDTMFPT})
	return s
}

func FuzzRTPPacket(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		s := fuzzStream(t)
		s.handlePacket(data, peerA)
		s.handlePacket(data, peerA) // the same again: duplicate path
		s.handlePacket(data, peerB) // from elsewhere: latch path
		st := s.Stats()
		if st.PacketsReceived+st.Bad+st.RTCPReceived+st.RTCPBad == 0 {
			t.Fatal("datagram neither accepted nor counted")
		}
		if _, err := rtcp.Marshal(s.buildReport(s.cfg.Load(), s.clock.Now(), true)); err != nil {
			t.Fatalf("report after packet: %v", err)
		}
	})
}

func FuzzRTCP(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		s := fuzzStream(t)
		s.handleRTCP(data, peerA)
		st := s.Stats()
		if st.RTCPReceived+st.RTCPBad != 1 {
			t.Fatalf("RTCP counted %d times", st.RTCPReceived+st.RTCPBad)
		}
		if st.RTTMs < 0 || st.RemoteLossFraction < 0 || st.RemoteLossFraction >= 1 {
			t.Fatalf("stats from RTCP: %+v", st)
		}
		if _, err := rtcp.Marshal(s.buildReport(s.cfg.Load(), s.clock.Now(), false)); err != nil {
			t.Fatalf("report after RTCP: %v", err)
		}
	})
}
