package e2e

import (
	"math"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
)

// checkTone asserts that the WAV at path holds a tone of want Hz (±3 %)
// over at least minSec seconds of real signal (not silence).
func checkTone(t testing.TB, what, path string, want float64, minSec float64) {
	t.Helper()
	var samples []int16
	var rate, ch int
	var err error
	// A file still being written may be a moment behind; retry briefly.
	for i := 0; i < 20; i++ {
		samples, rate, ch, err = audio.ReadWAV(path)
		if err == nil && float64(len(samples)/max(ch, 1))/float64(rate) >= minSec {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("%s: reading %s: %v", what, path, err)
	}
	if ch > 1 {
		samples = audio.Channel(samples, ch, 0)
	}
	// Keep only the loud part: leading and trailing silence are call set-up
	// and tear-down.
	first, last := -1, -1
	for i, s := range samples {
		if s > 1000 || s < -1000 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		t.Fatalf("%s: %s is silent (%d samples at %d Hz)", what, path, len(samples), rate)
	}
	sig := samples[first : last+1]
	sec := float64(len(sig)) / float64(rate)
	if sec < minSec {
		t.Fatalf("%s: only %.2f s of signal in %s, want ≥ %.1f s", what, sec, path, minSec)
	}
	// Analyse the middle second, away from the edges.
	mid := len(sig) / 2
	n := min(rate, len(sig))
	seg := sig[mid-n/2 : mid+n/2]
	got := audio.DominantFrequency(seg, rate)
	if math.Abs(got-want)/want > 0.03 {
		t.Fatalf("%s: dominant frequency %.1f Hz, want %.0f Hz ±3 %%", what, got, want)
	}
	t.Logf("%s: %.1f Hz (want %.0f), %.2f s of signal, RMS %.3f", what, got, want, sec, audio.RMS(seg))
}
