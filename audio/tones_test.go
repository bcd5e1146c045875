package audio

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

// goertzelAmp returns the amplitude (in sample units) of the hz component of
// x, by a Hann-windowed Goertzel filter: a sine of amplitude A at hz reads
// ≈ A; a frequency more than two DFT bins (2·8000/len(x) Hz) away reads near 0.
// A single-bin DFT is all the tests need to check "this frequency is there,
// that one is not", so no FFT library.
func goertzelAmp(x []int16, hz float64) float64 {
	n := len(x)
	if n < 2 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*hz/SampleRate)
	var s1, s2, wsum float64
	for i, v := range x {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n-1))
		wsum += w
		s := float64(v)*w + coeff*s1 - s2
		s2, s1 = s1, s
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * math.Sqrt(max(power, 0)) / wsum
}

// toneRead pulls n samples from src, frame by frame.
func toneRead(t testing.TB, src Source, n int) []int16 {
	t.Helper()
	out := make([]int16, 0, n+FrameSamples)
	f := make([]int16, FrameSamples)
	for len(out) < n {
		if err := src.ReadFrame(f); err != nil {
			t.Fatalf("ReadFrame: %v", err)
		}
		out = append(out, f...)
	}
	return out[:n]
}

// toneRun is a stretch of sound (on) or silence measured by toneRuns.
type toneRun struct {
	on bool
	ms int
}

// toneRuns splits x into runs of sound and silence by its RMS per 10 ms:
// a window above -50 dBFS is sound.
func toneRuns(x []int16) []toneRun {
	const win = SampleRate / 100
	var runs []toneRun
	for i := 0; i+win <= len(x); i += win {
		on := RMS(x[i:i+win]) > math.Pow(10, -50.0/20)
		if len(runs) > 0 && runs[len(runs)-1].on == on {
			runs[len(runs)-1].ms += 10
			continue
		}
		runs = append(runs, toneRun{on, 10})
	}
	return runs
}

func TestParseToneSet(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want ToneSet
	}{{"jp", TonesJP}, {" US ", TonesUS}, {"Jp", TonesJP}, {"us", TonesUS}} {
		got, err := ParseToneSet(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseToneSet(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if got.String() != strings.ToLower(strings.TrimSpace(tt.in)) {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
	for _, in := range []string{"uk", "", "japan", "jp,us"} {
		_, err := ParseToneSet(in)
		if !errors.Is(err, ErrToneSet) {
			t.Errorf("ParseToneSet(%q) error = %v; want ErrToneSet", in, err)
			continue
		}
		for _, want := range []string{`audio.tones = "` + in + `"`, "use jp (Japan) or us (North America)"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("ParseToneSet(%q) error %q does not contain %q", in, err, want)
			}
		}
	}
}

// patternCase describes what a tone pattern must sound like.
type patternCase struct {
	name     string
	src      *TonePattern
	on, off  time.Duration // cadence
	freqs    []float64     // carriers, equal amplitudes
	modHz    float64       // amplitude modulation rate, 0: none
	peakDBFS float64
}

func patternCases(t *testing.T) []patternCase {
	dtmf, err := TonesJP.DTMF('5')
	if err != nil {
		t.Fatal(err)
	}
	return []patternCase{
		{"ringback jp", TonesJP.Ringback(), time.Second, 2 * time.Second, []float64{400}, 16, -13},
		{"ringback us", TonesUS.Ringback(), 2 * time.Second, 4 * time.Second, []float64{440, 480}, 0, -13},
		{"ringer jp", TonesJP.Ringer(), time.Second, 2 * time.Second, []float64{1000, 1250}, 16, -10},
		{"ringer us", TonesUS.Ringer(), 2 * time.Second, 4 * time.Second, []float64{800, 1000}, 20, -10},
		{"recording beep", TonesUS.RecordingBeep(), 500 * time.Millisecond, 14500 * time.Millisecond, []float64{1400}, 0, -14},
		{"dtmf 5", dtmf, 100 * time.Millisecond, 0, []float64{770, 1336}, 0, -13},
	}
}

// TestTonePatternCadence measures on/off durations from the RMS per 10 ms
// over two and a half cycles; each must be within ±20 ms of the spec, and
// the silences must be digital silence.
func TestTonePatternCadence(t *testing.T) {
	for _, tc := range patternCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			period := tc.on + tc.off
			if tc.off == 0 { // one-shot: its tone, then a second of silence
				period = tc.on + time.Second
			}
			x := toneRead(t, tc.src, durSamples(period*5/2))
			runs := toneRuns(x)
			want := []time.Duration{tc.on, tc.off, tc.on, tc.off}
			if tc.off == 0 {
				want = []time.Duration{tc.on}
			}
			if len(runs) < len(want)+1 {
				t.Fatalf("runs %v; want at least %d", runs, len(want)+1)
			}
			for i, w := range want {
				r := runs[i]
				got := time.Duration(r.ms) * time.Millisecond
				if r.on != (i%2 == 0) || (got-w).Abs() > 20*time.Millisecond {
					t.Errorf("run %d: on=%v %v; want on=%v %v (all runs %v)", i, r.on, got, i%2 == 0, w, runs)
				}
			}
			if tc.off == 0 {
				if len(runs) != 2 {
					t.Errorf("one-shot runs %v; want tone then silence", runs)
				}
				if !tc.src.Done() {
					t.Error("one-shot pattern not Done after playing")
				}
			}
			// Off means exactly zero: nothing leaks between bursts.
			onN, offN := durSamples(tc.on), durSamples(period-tc.on)
			for start := onN; start+offN <= len(x); start += onN + offN {
				for i, v := range x[start : start+offN] {
					if v != 0 {
						t.Fatalf("sample %d of a silence is %d", start+i, v)
					}
				}
			}
		})
	}
}

// TestTonePatternFrequencies checks every spectral line a pattern should
// have (carriers, and carrier ± modulation rate for AM) at its expected
// amplitude within ±1 dB by Goertzel over the steady part of the first
// burst, a line 150 Hz off at least 40 dB down, and DominantFrequency on one
// of the carriers. It also checks the peak level.
func TestTonePatternFrequencies(t *testing.T) {
	for _, tc := range patternCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			onN := durSamples(tc.on)
			x := toneRead(t, tc.src, onN)
			ramp := durSamples(toneRamp)
			steady := x[ramp : onN-ramp]

			peak := dbfsAmp(tc.peakDBFS)
			carrier := peak / float64(len(tc.freqs))
			type line struct{ hz, amp float64 }
			var lines []line
			for _, f := range tc.freqs {
				if tc.modHz == 0 {
					lines = append(lines, line{f, carrier})
					continue
				}
				lines = append(lines, line{f, carrier * (1 - amDepth/2)},
					line{f - tc.modHz, carrier * amDepth / 4}, line{f + tc.modHz, carrier * amDepth / 4})
			}
			for _, l := range lines {
				got := goertzelAmp(steady, l.hz)
				if db := 20 * math.Log10(got/l.amp); math.Abs(db) > 1 {
					t.Errorf("%g Hz: amplitude %.0f, want %.0f (%+.2f dB)", l.hz, got, l.amp, db)
				}
				if off := goertzelAmp(steady, l.hz+150); off > carrier/100 {
					t.Errorf("%g Hz: amplitude %.0f; want silence there", l.hz+150, off)
				}
			}

			dom := DominantFrequency(steady, SampleRate)
			okDom := false
			for _, f := range tc.freqs {
				okDom = okDom || math.Abs(dom-f) < 2
			}
			if !okDom {
				t.Errorf("DominantFrequency = %.1f Hz; want one of %v", dom, tc.freqs)
			}

			var maxAbs float64
			for _, v := range x {
				maxAbs = max(maxAbs, math.Abs(float64(v)))
			}
			if maxAbs > peak+1 || maxAbs < 0.85*peak {
				t.Errorf("peak %.0f (%.1f dBFS); want ≤ %.0f (%v dBFS) and close to it",
					maxAbs, 20*math.Log10(maxAbs/32767), peak, tc.peakDBFS)
			}
			t.Logf("peak %.2f dBFS, RMS %.2f dBFS (sine-referenced), dominant %.2f Hz",
				20*math.Log10(maxAbs/32767), 20*math.Log10(RMS(steady)*math.Sqrt2), dom)
		})
	}
}

// TestTonePatternNoClicks checks that every burst fades in from and out to
// zero (within its first and last millisecond it stays under 10 % of the
// peak) and that no sample-to-sample step exceeds what the waveform's own
// slope allows, so frames join without a jump.
func TestTonePatternNoClicks(t *testing.T) {
	for _, tc := range patternCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			period := tc.on + tc.off
			if tc.off == 0 {
				period = tc.on + time.Second
			}
			x := toneRead(t, tc.src, durSamples(period*2))
			peak := dbfsAmp(tc.peakDBFS)
			onN, perN := durSamples(tc.on), durSamples(period)
			edge := SampleRate / 1000 // 1 ms
			for start := 0; start+perN <= len(x); start += perN {
				in := x[start : start+edge]
				out := x[start+onN-edge : start+onN]
				for i := range edge {
					if math.Abs(float64(in[i])) > 0.1*peak || math.Abs(float64(out[i])) > 0.1*peak {
						t.Fatalf("burst at sample %d: edge samples %v … %v; want a fade from/to 0", start, in, out)
					}
				}
				if in[0] != 0 || out[edge-1] != 0 {
					t.Errorf("burst at sample %d starts at %d, ends at %d; want 0", start, in[0], out[edge-1])
				}
			}

			bound := toneMaxStep(peak, tc.freqs, tc.modHz)
			var maxStep float64
			for i := 1; i < len(x); i++ {
				maxStep = max(maxStep, math.Abs(float64(x[i])-float64(x[i-1])))
			}
			if maxStep > bound {
				t.Errorf("max step %.0f; want ≤ %.0f", maxStep, bound)
			}
		})
	}
}

// toneMaxStep bounds |x[n]-x[n-1]| for a tone of equal carriers summing to
// peak: the carriers' own slopes, plus the edge ramp's and the modulation's,
// plus rounding. A jump in the waveform exceeds it (for low tones by far).
func toneMaxStep(peak float64, freqs []float64, modHz float64) float64 {
	var bound float64
	carrier := peak / float64(len(freqs))
	for _, f := range freqs {
		bound += carrier * hzStep(f)
	}
	return bound + peak*math.Pi/2/float64(durSamples(toneRamp)) + peak*amDepth/2*hzStep(modHz) + 2
}

// TestTonePatternReset restarts a pattern mid-burst and in a silence: mid-
// burst it fades out over 5 ms first (no jump), then the cadence starts again
// from a fresh burst.
func TestTonePatternReset(t *testing.T) {
	p := TonesUS.Ringback()
	x := toneRead(t, p, durSamples(300*time.Millisecond)) // inside the 2 s burst
	last := float64(x[len(x)-1])
	p.Reset()
	y := toneRead(t, p, durSamples(2500*time.Millisecond))
	ramp := durSamples(toneRamp)
	peak := dbfsAmp(ringbackDBFS)
	if d, lim := math.Abs(float64(y[0])-last), toneMaxStep(peak, []float64{440, 480}, 0); d > lim {
		t.Errorf("first sample after Reset jumps by %.0f; want ≤ %.0f", d, lim)
	}
	for i := range ramp { // the fade-out is bounded by the raised cosine
		lim := peak*rampShape(float64(ramp-1-i)/float64(ramp)) + 1
		if math.Abs(float64(y[i])) > lim {
			t.Fatalf("sample %d after Reset = %d; want fading, ≤ %.0f", i, y[i], lim)
		}
	}
	runs := toneRuns(y[ramp:])
	if len(runs) != 2 || !runs[0].on || (runs[0].ms-2000) > 20 || (runs[0].ms-2000) < -20 {
		t.Errorf("after Reset: runs %v; want a fresh 2 s burst, then silence", runs)
	}

	// Reset in a silence starts the next burst at once.
	p.Reset()
	z := toneRead(t, p, durSamples(time.Second))
	if runs := toneRuns(z); len(runs) != 1 || !runs[0].on {
		t.Errorf("Reset in silence: runs %v; want sound at once", runs)
	}

	// A finished one-shot plays again after Reset.
	d, _ := TonesJP.DTMF('#')
	toneRead(t, d, durSamples(200*time.Millisecond))
	if !d.Done() {
		t.Fatal("DTMF not done after 200 ms")
	}
	d.Reset()
	if d.Done() {
		t.Error("DTMF still done after Reset")
	}
	if runs := toneRuns(toneRead(t, d, durSamples(200*time.Millisecond))); len(runs) != 2 || runs[0].ms != 100 {
		t.Errorf("DTMF after Reset: runs %v; want 100 ms of tone, then silence", runs)
	}
}

func TestDTMFKeys(t *testing.T) {
	all := append(dtmfLow[:], dtmfHigh[:]...)
	for _, key := range "123A456B789C*0#Dabcd" {
		p, err := TonesUS.DTMF(key)
		if err != nil {
			t.Errorf("DTMF(%q): %v", key, err)
			continue
		}
		lo, hi, _ := DTMFFrequencies(key)
		x := toneRead(t, p, durSamples(DTMFToneDuration))
		want := dbfsAmp(dtmfDBFS) / 2
		for _, f := range all {
			got := goertzelAmp(x, f)
			if f == lo || f == hi {
				if got < 0.8*want || got > 1.05*want {
					t.Errorf("key %q: %g Hz amplitude %.0f; want ≈ %.0f", key, f, got, want)
				}
			} else if got > want/30 {
				t.Errorf("key %q: %g Hz amplitude %.0f; want none", key, f, got)
			}
		}
	}
	if lo, hi, _ := DTMFFrequencies('1'); lo != 697 || hi != 1209 {
		t.Errorf("key 1 = %g+%g Hz; want 697+1209", lo, hi)
	}
	if lo, hi, _ := DTMFFrequencies('D'); lo != 941 || hi != 1633 {
		t.Errorf("key D = %g+%g Hz; want 941+1633", lo, hi)
	}
	for _, bad := range "E+ ,xé\x00" {
		if _, err := TonesJP.DTMF(bad); !errors.Is(err, ErrDTMFDigit) || !strings.Contains(err.Error(), "use 0-9, *, #, A-D") {
			t.Errorf("DTMF(%q) error = %v; want ErrDTMFDigit naming the keys", bad, err)
		}
		if err := NewDTMFFeedback().Press(bad); !errors.Is(err, ErrDTMFDigit) {
			t.Errorf("Press(%q) error = %v; want ErrDTMFDigit", bad, err)
		}
	}
}

// TestDTMFFeedback presses keys from another goroutine (run with -race),
// checks each press sounds its key for 100 ms, and that a press during a
// tone fades the old one out rather than cutting it.
func TestDTMFFeedback(t *testing.T) {
	fb := NewDTMFFeedback()
	if x := toneRead(t, fb, FrameSamples*5); RMS(x) != 0 {
		t.Fatal("feedback not silent before a press")
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := fb.Press('7'); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	x := toneRead(t, fb, durSamples(300*time.Millisecond))
	if runs := toneRuns(x); len(runs) != 2 || !runs[0].on || runs[0].ms != 100 {
		t.Errorf("press 7: runs %v; want 100 ms of tone, then silence", runs)
	}
	if a, b := goertzelAmp(x[:800], 852), goertzelAmp(x[:800], 1209); a < 1000 || b < 1000 {
		t.Errorf("press 7: 852 Hz %.0f, 1209 Hz %.0f; want both", a, b)
	}

	// A press 40 ms into a tone: 5 ms fade, then the new key for 100 ms.
	fb.Press('1')
	toneRead(t, fb, 2*FrameSamples)
	fb.Press('9')
	y := toneRead(t, fb, durSamples(300*time.Millisecond))
	peak := dbfsAmp(dtmfDBFS)
	ramp := durSamples(toneRamp)
	for i := range ramp {
		if lim := peak*rampShape(float64(ramp-1-i)/float64(ramp)) + 1; math.Abs(float64(y[i])) > lim {
			t.Fatalf("sample %d after re-press = %d; want fading, ≤ %.0f", i, y[i], lim)
		}
	}
	nine := y[ramp : ramp+durSamples(DTMFToneDuration)]
	if a, b, one := goertzelAmp(nine, 852), goertzelAmp(nine, 1477), goertzelAmp(nine, 697); a < 1000 || b < 1000 || one > 100 {
		t.Errorf("re-press 9: 852 Hz %.0f, 1477 Hz %.0f, 697 Hz %.0f; want 9's pair only", a, b, one)
	}
	if runs := toneRuns(y[ramp:]); len(runs) != 2 || runs[0].ms < 90 || runs[0].ms > 110 {
		t.Errorf("re-press 9: runs %v; want ≈100 ms of tone, then silence", runs)
	}

	// Hammered from another goroutine while frames are read: no race, and
	// output stays within the tone's level.
	done := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
				fb.Press(rune("0123456789*#ABCD"[i%16]))
			}
		}
	})
	f := make([]int16, FrameSamples)
	for range 200 {
		fb.ReadFrame(f)
		for _, v := range f {
			if math.Abs(float64(v)) > peak+1 {
				t.Fatalf("sample %d above the tone's peak %.0f", v, peak)
			}
		}
	}
	close(done)
	wg.Wait()
}

func TestTonesNoAllocs(t *testing.T) {
	f := make([]int16, FrameSamples)
	for _, tc := range patternCases(t) {
		if n := testing.AllocsPerRun(1000, func() { tc.src.ReadFrame(f) }); n != 0 {
			t.Errorf("%s: %v allocs per ReadFrame; want 0", tc.name, n)
		}
		if n := testing.AllocsPerRun(100, func() { tc.src.Reset(); tc.src.ReadFrame(f) }); n != 0 {
			t.Errorf("%s: %v allocs per Reset+ReadFrame; want 0", tc.name, n)
		}
	}
	fb := NewDTMFFeedback()
	i := 0
	if n := testing.AllocsPerRun(1000, func() {
		if i%3 == 0 {
			fb.Press('5')
		}
		i++
		fb.ReadFrame(f)
	}); n != 0 {
		t.Errorf("DTMFFeedback: %v allocs per Press+ReadFrame; want 0", n)
	}
}

func BenchmarkTonePatternReadFrame(b *testing.B) {
	for _, p := range []*TonePattern{TonesJP.Ringback(), TonesUS.Ringer(), TonesUS.RecordingBeep()} {
		b.Run(p.String(), func(b *testing.B) {
			f := make([]int16, FrameSamples)
			b.ReportAllocs()
			for b.Loop() {
				p.ReadFrame(f)
			}
		})
	}
}
