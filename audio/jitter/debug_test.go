package jitter

import (
	"math/rand"
	"testing"
	"time"
)

func TestDebugSpeech(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	signal := speechLike(60*8000, rng)
	delays := make([]time.Duration, 3000)
	for i := range delays {
		delays[i] = 30*time.Millisecond + time.Duration(rng.Int63n(int64(60*time.Millisecond)))
	}
	pkts := packetize(signal, []int{160}, 0x1234, 1000, 5000, 0, func(k int) time.Duration { return delays[k] })
	var kept []packet
	for _, p := range pkts {
		if rng.Float64() < 0.02 {
			t.Logf("lost ts %d at %v", extTS(5000, p.idx), p.arrival.Sub(t0))
			continue
		}
		kept = append(kept, p)
	}
	b := New(Config{})
	logs := drive(b, kept, 7*time.Millisecond, 61*50)
	for _, l := range logs {
		s := l.now.Sub(t0)
		if (s > 29*time.Second && s < 29300*time.Millisecond) || (s > 51200*time.Millisecond && s < 51500*time.Millisecond) || l.kind == Stretched {
			t.Logf("%v %v play %d->%d cur %v tgt %v credit %d", s, l.kind, l.playBefore, l.playAfter, l.stats.CurrentDelay, l.stats.TargetDelay, 0)
		}
	}
}
