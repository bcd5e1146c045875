package audio

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sine returns seconds of a sine of hz at rate, peak amp (0..1), starting at phase.
func sine(hz float64, rate int, seconds, amp, phase float64) []int16 {
	out := make([]int16, int(seconds*float64(rate)))
	for i := range out {
		out[i] = int16(math.Round(32767 * amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)+phase)))
	}
	return out
}

func TestDominantFrequency(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, rate := range []int{8000, 48000} {
		for _, hz := range []float64{440, 1000, 1200, 600, 900, 1234.5, 3500} {
			s := sine(hz, rate, 1, 0.3, rng.Float64()*2*math.Pi)
			// The doc promises ±0.1 % for 1 s of clean tone (measured worst
			// over 100..3900 Hz: 0.011 %); callers only rely on ±1 %.
			if got := DominantFrequency(s, rate); math.Abs(got-hz) > hz/1000 {
				t.Errorf("%v Hz at %d Hz: measured %.3f, want ±0.1 %%", hz, rate, got)
			}
		}
	}
}

func TestDominantFrequencyThroughPCMU(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		for _, hz := range []float64{440, 1000, 1200} {
			s := sine(hz, SampleRate, 1, 0.3, 0.5)
			dec := c.Decode(nil, c.Encode(nil, s))
			if got := DominantFrequency(dec, SampleRate); math.Abs(got-hz) > hz/100 {
				t.Errorf("%s %v Hz: measured %.3f", c.Name(), hz, got)
			}
			if r, want := RMS(dec), RMS(s); math.Abs(r-want) > 0.01 {
				t.Errorf("%s %v Hz: RMS after codec %.4f, before %.4f", c.Name(), hz, r, want)
			}
		}
	}
}

func TestDominantFrequencyHarder(t *testing.T) {
	// The stronger of two tones wins, over noise and a DC offset.
	rng := rand.New(rand.NewPCG(3, 4))
	a := sine(900, SampleRate, 1, 0.4, 0)
	b := sine(600, SampleRate, 1, 0.1, 1)
	mix := make([]int16, len(a))
	for i := range mix {
		mix[i] = a[i] + b[i] + int16(rng.IntN(2001)-1000) + 3000
	}
	if got := DominantFrequency(mix, SampleRate); math.Abs(got-900) > 9 {
		t.Errorf("mix: measured %.2f Hz, want 900", got)
	}
	// One 20 ms frame is enough for ±1 % at 1 kHz.
	if got := DominantFrequency(sine(1000, SampleRate, 0.02, 0.3, 0), SampleRate); math.Abs(got-1000) > 10 {
		t.Errorf("one frame of 1 kHz: measured %.2f", got)
	}
	// Longer than one FFT block (Welch averaging): 20 s at 48 kHz.
	if got := DominantFrequency(sine(1200, 48000, 20, 0.3, 0), 48000); math.Abs(got-1200) > 12 {
		t.Errorf("20 s of 1200 Hz at 48 kHz: measured %.2f", got)
	}
	for _, s := range [][]int16{nil, {1, 2}, make([]int16, 8000)} {
		if got := DominantFrequency(s, SampleRate); got != 0 {
			t.Errorf("DominantFrequency(%d samples of nothing) = %v, want 0", len(s), got)
		}
	}
}

func TestRMS(t *testing.T) {
	tests := []struct {
		name string
		in   []int16
		want float64
	}{
		{"empty", nil, 0},
		{"silence", make([]int16, FrameSamples), 0},
		{"full-scale sine", sine(1000, SampleRate, 1, 1, 0), math.Sqrt2 / 2},
		{"-10 dBFS sine", sine(1000, SampleRate, 1, math.Pow(10, -0.5), 0), 0.2236},
		{"full-scale square", []int16{-32768, 32767, -32768, 32767}, 1},
	}
	for _, tt := range tests {
		if got := RMS(tt.in); math.Abs(got-tt.want) > 0.001 {
			t.Errorf("RMS(%s) = %.4f, want %.4f", tt.name, got, tt.want)
		}
	}
	f := make([]int16, FrameSamples)
	if n := testing.AllocsPerRun(100, func() { _ = RMS(f) }); n != 0 {
		t.Errorf("RMS allocates %v times", n)
	}
}

func BenchmarkDominantFrequency1s8k(b *testing.B) {
	s := sine(440, SampleRate, 1, 0.3, 0)
	b.ReportAllocs()
	for b.Loop() {
		_ = DominantFrequency(s, SampleRate)
	}
}

// TestToneShare: a clean tone is all share, an equal mix of two halves,
// a tone elsewhere and silence none; a phase jump (a lost packet) between
// blocks does not cancel the tone.
func TestToneShare(t *testing.T) {
	mix := func(a, b []int16) []int16 {
		out := make([]int16, len(a))
		for i := range a {
			out[i] = a[i] + b[i]
		}
		return out
	}
	six, nine := sine(600, SampleRate, 1, 0.3, 0), sine(900, SampleRate, 1, 0.3, 1)
	jumped := append(sine(600, SampleRate, 0.5, 0.3, 0), sine(600, SampleRate, 0.5, 0.3, 2)...)
	for _, c := range []struct {
		name     string
		x        []int16
		rate     int
		hz       float64
		min, max float64
	}{
		{"clean", six, SampleRate, 600, 0.95, 1.05},
		{"other tone", six, SampleRate, 1200, 0, 0.01},
		{"silence", make([]int16, 8000), SampleRate, 600, 0, 0},
		{"half of a mix", mix(six, nine), SampleRate, 900, 0.45, 0.55},
		{"phase jump", jumped, SampleRate, 600, 0.95, 1.05},
		{"48 kHz", sine(1200, 48000, 1, 0.3, 0), 48000, 1200, 0.95, 1.05},
	} {
		if got := ToneShare(c.x, c.rate, c.hz); got < c.min || got > c.max {
			t.Errorf("%s: share at %v Hz %.3f, want %.2f..%.2f", c.name, c.hz, got, c.min, c.max)
		}
	}
	if n := testing.AllocsPerRun(10, func() { ToneShare(six, SampleRate, 600) }); n != 0 {
		t.Errorf("ToneShare allocates %v times", n)
	}
}
