package jitter

import (
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
)

// TestAdaptsToJitterChange: the network's jitter goes from 0-20 ms to
// 0-100 ms for 20 s and back. The target follows the rise within a second
// (growing in running audio, by inserts), holds while it lasts, and comes
// back down slowly once the rough patch has left the history. (The rise
// is mostly taken by concealing without advancing when the buffer runs
// dry; TestStretchIsSmooth covers inserts.)
func TestAdaptsToJitterChange(t *testing.T) {
	const seconds = 80
	rng := rand.New(rand.NewSource(6))
	signal := speechLike(seconds*8000, rng)
	jitterAt := func(k int) time.Duration {
		if k >= 20*50 && k < 40*50 {
			return 100 * time.Millisecond
		}
		return 20 * time.Millisecond
	}
	pkts := packetize(signal, []int{160}, 8, 0, 0, 0, func(k int) time.Duration {
		return 25*time.Millisecond + time.Duration(rng.Int63n(int64(jitterAt(k))))
	})
	b := New(Config{})
	logs := drive(b, pkts, 11*time.Millisecond, seconds*50)
	target := func(sec float64) time.Duration { return logs[int(sec*50)].stats.TargetDelay }
	late := func(from, to float64) uint64 {
		return logs[int(to*50)].stats.Late - logs[int(from*50)].stats.Late
	}
	if tg := target(19.9); tg > 40*time.Millisecond {
		t.Errorf("target %v with 20 ms of jitter, want <= 40 ms", tg)
	}
	if tg := target(21.0); tg < 90*time.Millisecond {
		t.Errorf("target %v a second into 100 ms of jitter, want >= 90 ms", tg)
	}
	if n := late(21, 40); n > 19*50/100 {
		t.Errorf("%d late packets while the jitter was high (after the first second), want <= 1 %%", n)
	}
	if tg := target(45); tg < 90*time.Millisecond {
		t.Errorf("target %v 5 s after the jitter fell: should still remember it", tg)
	}
	if tg := target(79.9); tg > 40*time.Millisecond {
		t.Errorf("target %v 40 s after the jitter fell, want back <= 40 ms", tg)
	}
	st := b.Stats()
	if st.Cut == 0 {
		t.Errorf("no cut: the delay should have come down in running audio")
	}
	t.Logf("target at 19.9 s %v, 20.5 s %v, 21 s %v, 45 s %v, 55 s %v, 79.9 s %v; late in first second of rough patch %d, after %d; inserted %d, cut %d",
		target(19.9), target(20.5), target(21), target(45), target(55), target(79.9), late(20, 21), late(21, 40), st.Inserted, st.Cut)
}

// TestStretchIsSmooth: when the target jumps up (as it does when jitter
// rises) the buffer inserts pieces of running audio, and when it is far
// above the target it cuts pieces, without a click, without changing the
// pitch, and without concealment.
func TestStretchIsSmooth(t *testing.T) {
	vowel := make([]int16, 20*8000)
	for i := range vowel {
		v := 0.0
		for h := 1; h <= 6; h++ {
			v += math.Sin(2*math.Pi*130*float64(h)*float64(i)/8000) / float64(h)
		}
		vowel[i] = int16(5000 * v)
	}
	for _, tc := range []struct {
		name   string
		signal []int16
		freq   float64
	}{
		{"sine440", sine(20*8000, 440, 12000), 440},
		{"vowel130", vowel, 130},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkts := packetize(tc.signal, []int{160}, 1, 0, 0, 0, constDelay(30*time.Millisecond))
			b := New(Config{InitialDelay: 20 * time.Millisecond})
			var out []int16
			var stretched []int // output frame numbers
			var curAt5s time.Duration
			next := 0
			for f := range 20 * 50 {
				now := at(time.Duration(f)*20*time.Millisecond + 9*time.Millisecond)
				for next < len(pkts) && !pkts[next].arrival.After(now) {
					p := pkts[next]
					b.Push(p.ssrc, p.seq, p.ts, p.marker, p.pcm, p.arrival)
					next++
				}
				switch f {
				case 2 * 50:
					b.mu.Lock()
					b.target = int64(100 * time.Millisecond) // as if the jitter had just risen
					b.mu.Unlock()
				case 5 * 50:
					curAt5s = b.Stats().CurrentDelay
				}
				frame := make([]int16, 160)
				if b.Pop(frame, now) == Stretched {
					stretched = append(stretched, f)
				}
				out = append(out, frame...)
			}
			st := b.Stats()
			if st.Inserted == 0 || st.Cut == 0 || st.Concealed != 0 {
				t.Fatalf("inserted %d cut %d concealed %d, want some, some, none", st.Inserted, st.Cut, st.Concealed)
			}
			if curAt5s < 100*time.Millisecond {
				t.Errorf("current delay %v 3 s after the target rose to 100 ms", curAt5s)
			}
			own := maxStep(tc.signal)
			for _, f := range stretched {
				seg := out[f*160-1 : (f+2)*160]
				if got := maxStep(seg); got > 2*own {
					t.Errorf("frame %d: step %d, the signal's own %d", f, got, own)
				}
				if fr := audio.DominantFrequency(out[(f-1)*160:(f+2)*160], 8000); math.Abs(fr-tc.freq) > 5 {
					t.Errorf("frame %d: %.1f Hz, want %.0f", f, fr, tc.freq)
				}
			}
			t.Logf("inserted %d, cut %d; delay 3 s after the rise %v, final %v (target %v)",
				st.Inserted, st.Cut, curAt5s, st.CurrentDelay, st.TargetDelay)
		})
	}
}
