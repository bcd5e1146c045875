package media

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/audio/jitter"
)

// TestJitterBufferOverUDP feeds a jitter-buffered Stream over real UDP
// with what a home broadband link does to a call: each 20 ms packet delayed
// by a random 0–60 ms (which reorders them) and 2 % lost. The stream's
// media clock must play one frame per 20 ms with no storm of concealment,
// at most 1 % of the packets may arrive too late to play, and the target
// delay must settle within 2 s. (audio/jitter's acceptance test proves the
// same on a virtual clock; this one proves the wiring on the wall clock.)
func TestJitterBufferOverUDP(t *testing.T) {
	if testing.Short() {
		t.Skip("10 s of real-time audio")
	}
	sink := &captureSink{}
	s := listen(t, WithJitterBuffer(jitter.Config{}))
	peer := udpPeer(t)
	if err := s.Start(Params{Remote: connAddr(peer), Codec: audio.PCMU, Recv: true, Sink: sink}); err != nil {
		t.Fatal(err)
	}
	const packets = 500 // 10 s
	rng := rand.New(rand.NewPCG(7, 7))
	tone := audio.NewTone(440)
	pcm := make([]int16, audio.FrameSamples)
	dst := rtpAddr(s)
	var wg sync.WaitGroup
	var targets []time.Duration
	start := time.Now()
	lost := 0
	for k := range packets {
		time.Sleep(time.Until(start.Add(time.Duration(k) * audio.FrameDuration)))
		_ = tone.ReadFrame(pcm)
		pkt := rtpPacket(t, 0, uint16(1000+k), uint32(k*audio.FrameSamples), 42, k == 0,
			audio.PCMU.Encode(make([]byte, audio.FrameSamples), pcm))
		if k%25 == 0 {
			if st, ok := s.JitterStats(); ok {
				targets = append(targets, st.TargetDelay)
			}
		}
		if rng.Float64() < 0.02 {
			lost++
			continue
		}
		delay := time.Duration(rng.Float64() * float64(60*time.Millisecond))
		wg.Add(1)
		time.AfterFunc(delay, func() {
			defer wg.Done()
			_, _ = peer.WriteToUDP(pkt, dst)
		})
	}
	wg.Wait()
	time.Sleep(300 * time.Millisecond) // let the buffer play out
	st, ok := s.JitterStats()
	if !ok {
		t.Fatal("no jitter buffer")
	}
	frames := sink.count()
	t.Logf("sent %d (lost %d), received %d, late %d, concealed %d frames, jitter %v, target %v, current %v; sink frames %d in %v",
		packets, lost, st.Received, st.Late, st.Concealed, st.Jitter, st.TargetDelay, st.CurrentDelay, frames, time.Since(start).Round(time.Millisecond))
	if late := float64(st.Late) / packets; late > 0.01 {
		t.Errorf("%.1f %% of packets arrived too late to play, want ≤ 1 %%", 100*late)
	}
	// Concealment beyond the lost packets is what an underrun storm is made of.
	if extra := int(st.Concealed) - lost - int(st.Late); extra > 10 {
		t.Errorf("%d concealed frames beyond the %d lost and %d late packets", extra, lost, st.Late)
	}
	// One frame per 20 ms, give or take the start and the play-out.
	if want := int(time.Since(start) / audio.FrameDuration); frames < want-30 || frames > want+2 {
		t.Errorf("the sink got %d frames in %v, want ≈ %d", frames, time.Since(start), want)
	}
	// Settled: from 2 s on the target stays within ±20 ms of its final value.
	final := st.TargetDelay
	for i, d := range targets {
		at := time.Duration(i*25) * audio.FrameDuration
		if at >= 2*time.Second && (d < final-20*time.Millisecond || d > final+20*time.Millisecond) {
			t.Errorf("target delay %v at %v, final %v: not settled within 2 s", d, at, final)
		}
	}
	if final > 200*time.Millisecond {
		t.Errorf("target delay %v above the 200 ms bound", final)
	}
}
