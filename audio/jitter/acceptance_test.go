package jitter

import (
	"math/rand"
	"testing"
	"time"
)

// TestAcceptanceJitteryLossyStream is the acceptance test: 60 s of
// 20 ms packets, each delayed by a random 0-60 ms on top of a 30 ms path
// (which reorders them), 2 % of them lost.
//
// It asserts:
//   - no underrun storm: in every run of 3 or more frames that are not
//     audio (concealed or silent) after playout has started, each frame
//     holds samples of a packet that really was lost, i.e. the run is
//     explained by losses and not by the buffer running dry;
//   - late loss (packets that arrived after their playout began) at most 1 %;
//   - the target delay settles within 2 s: from 2 s on it stays within
//     ±20 ms of its final value (one frame either way, the granularity at
//     which delay is ever applied) and never exceeds MaxDelay.
func TestAcceptanceJitteryLossyStream(t *testing.T) {
	signals := []struct {
		name string
		make func(n int, rng *rand.Rand) []int16
	}{
		{"sine440", func(n int, _ *rand.Rand) []int16 { return sine(n, 440, 8000) }},
		{"speechlike", speechLike},
	}
	for _, sig := range signals {
		t.Run(sig.name, func(t *testing.T) {
			const (
				seconds = 60
				nPkts   = seconds * 50
			)
			rng := rand.New(rand.NewSource(1))
			signal := sig.make(seconds*8000, rng)
			delays := make([]time.Duration, nPkts)
			for i := range delays {
				delays[i] = 30*time.Millisecond + time.Duration(rng.Int63n(int64(60*time.Millisecond)))
			}
			pkts := packetize(signal, []int{160}, 0x1234, 1000, 5000, 0, func(k int) time.Duration { return delays[k] })
			lost := make(map[int64]bool) // extended timestamps of lost packets
			var kept []packet
			for _, p := range pkts {
				if rng.Float64() < 0.02 {
					lost[extTS(5000, p.idx)] = true
					continue
				}
				kept = append(kept, p)
			}

			b := New(Config{})
			cfg := b.cfg
			// Pops at an arbitrary phase against the packets: 7 ms.
			logs := drive(b, kept, 7*time.Millisecond, (seconds+1)*50)
			st := b.Stats()

			// Underrun storms.
			started := false
			storms, runs3 := 0, 0
			worstRun := 0
			for i := 0; i < len(logs); {
				if logs[i].kind == Audio || logs[i].kind == Stretched {
					started = true
					i++
					continue
				}
				j := i
				for j < len(logs) && logs[j].kind != Audio && logs[j].kind != Stretched {
					j++
				}
				if started && j < len(logs) {
					run := j - i
					worstRun = max(worstRun, run)
					if run >= 3 {
						runs3++
						// Each frame of the run must hold samples of a lost packet.
						for k := i; k < j; k++ {
							from, to := logs[k].playBefore, logs[k].playAfter
							explained := false
							for ts := range lost {
								if ts+160 > from && ts < to {
									explained = true
									break
								}
							}
							if !explained {
								storms++
								t.Errorf("underrun storm: %d frames without audio from %v; the one at %v holds no lost packet",
									run, logs[i].now.Sub(t0), logs[k].now.Sub(t0))
								break
							}
						}
					}
				}
				i = j
			}

			// Target delay settling.
			final := st.TargetDelay
			lo, hi := final, final
			for _, l := range logs {
				if l.now.Sub(t0) < 2*time.Second {
					continue
				}
				lo, hi = min(lo, l.stats.TargetDelay), max(hi, l.stats.TargetDelay)
				if d := l.stats.TargetDelay - final; d > 20*time.Millisecond || d < -20*time.Millisecond {
					t.Fatalf("target delay %v at %v is more than 20 ms off its final %v", l.stats.TargetDelay, l.now.Sub(t0), final)
				}
				if l.stats.TargetDelay > cfg.MaxDelay {
					t.Fatalf("target delay %v above MaxDelay %v", l.stats.TargetDelay, cfg.MaxDelay)
				}
			}
			var curSum time.Duration
			curN := 0
			for _, l := range logs[100:] {
				curSum += l.stats.CurrentDelay
				curN++
			}

			lateShare := float64(st.Late) / float64(nPkts)
			if lateShare > 0.01 {
				t.Errorf("late loss %.2f %% (%d packets), want <= 1 %%", 100*lateShare, st.Late)
			}
			if st.Lost != uint64(len(lost)) {
				t.Errorf("Lost = %d, %d packets were dropped", st.Lost, len(lost))
			}
			t.Logf("%s: %d packets, %d lost (%.2f %%), late %d (%.2f %%), duplicates %d, discarded %d",
				sig.name, nPkts, st.Lost, 100*float64(st.Lost)/nPkts, st.Late, 100*lateShare, st.Duplicates, st.Discarded)
			t.Logf("%s: frames %d, concealed %d, stretched %d (inserted %d, cut %d), runs of >=3 non-audio frames %d (storms %d), longest %d",
				sig.name, st.Frames, st.Concealed, st.Stretched, st.Inserted, st.Cut, runs3, storms, worstRun)
			t.Logf("%s: jitter (RFC 3550) %v, target final %v, range from 2 s on [%v, %v], mean current delay %v",
				sig.name, st.Jitter.Round(time.Microsecond), final, lo, hi, (curSum / time.Duration(curN)).Round(time.Microsecond))
		})
	}
}
