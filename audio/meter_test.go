package audio

import (
	"errors"
	"io"
	"math"
	"sync"
	"testing"
	"time"
)

// meterFeed updates m with d of src.
func meterFeed(t *testing.T, m *Meter, src Source, d time.Duration) {
	t.Helper()
	f := make([]int16, FrameSamples)
	for range int(d / FrameDuration) {
		if err := src.ReadFrame(f); err != nil {
			t.Fatal(err)
		}
		m.Update(f)
	}
}

// meterSine is a 1 kHz sine whose peak is at dbfs (its samples hit the
// crests exactly: 8 samples a cycle, starting at phase 0).
func meterSine(dbfs float64) Source {
	amp := 32768 * math.Pow(10, dbfs/20)
	var n int
	return SourceFunc(func(f []int16) error {
		for i := range f {
			f[i] = int16(max(math.Round(amp*math.Sin(2*math.Pi*float64(n%8)/8)), math.MinInt16))
			n++
		}
		return nil
	})
}

var meterSilence = SourceFunc(func(f []int16) error { clear(f); return nil })

// TestMeterSine: a steady sine reads its level on both readings (AES17),
// within 0.1 dB.
func TestMeterSine(t *testing.T) {
	for _, db := range []float64{-0.5, -6, -10, -20, -40, -60} {
		var m Meter
		meterFeed(t, &m, meterSine(db), 3*time.Second)
		peak, rms := m.Level()
		if math.Abs(peak-db) > 0.1 || math.Abs(rms-db) > 0.1 {
			t.Errorf("sine at %v dBFS reads peak %.2f, RMS %.2f", db, peak, rms)
		}
	}
	var m Meter
	if p, r := m.Level(); p != MeterFloorDBFS || r != MeterFloorDBFS {
		t.Errorf("fresh meter reads %v, %v; want the floor %v", p, r, MeterFloorDBFS)
	}
	meterFeed(t, &m, meterSilence, time.Second)
	if p, r := m.Level(); p != MeterFloorDBFS || r != MeterFloorDBFS {
		t.Errorf("silence reads %v, %v; want the floor", p, r)
	}
	full := SourceFunc(func(f []int16) error {
		for i := range f {
			f[i] = math.MinInt16
		}
		return nil
	})
	meterFeed(t, &m, full, time.Second)
	if p, _ := m.Level(); p != 0 {
		t.Errorf("full-scale square reads peak %v; want 0 dBFS", p)
	}
}

// TestMeterHoldAndDecay polls as the status bar does, every 100 ms: a single
// 20 ms burst is still shown at the next poll (hold), then the peak falls at
// 20 dB/s; the RMS reading falls 4.3 dB (1/e of the power) per 300 ms.
func TestMeterHoldAndDecay(t *testing.T) {
	var m Meter
	meterFeed(t, &m, meterSine(-6), 3*time.Second)
	_, rms0 := m.Level()
	meterFeed(t, &m, meterSine(-6), FrameDuration) // the last loud frame resets the hold
	polls := []struct {
		after     time.Duration // of silence
		peak, rms float64       // expected, ±0.5 dB
	}{
		{100 * time.Millisecond, -6, math.NaN()},
		{200 * time.Millisecond, -6, math.NaN()},
		{300 * time.Millisecond, -8, rms0 - 4.34},
		{1 * time.Second, -22, rms0 - 14.5},
		{5 * time.Second, MeterFloorDBFS, rms0 - 72.4},
	}
	var at time.Duration
	for _, p := range polls {
		meterFeed(t, &m, meterSilence, p.after-at)
		at = p.after
		peak, rms := m.Level()
		if math.Abs(peak-p.peak) > 0.5 || (!math.IsNaN(p.rms) && math.Abs(rms-p.rms) > 0.5) {
			t.Errorf("%v after the sound: peak %.2f, RMS %.2f; want %.1f, %.1f", p.after, peak, rms, p.peak, p.rms)
		}
	}

	// One 20 ms click between two polls shows at the next one.
	meterFeed(t, &m, meterSine(-3), FrameDuration)
	meterFeed(t, &m, meterSilence, 80*time.Millisecond)
	if peak, _ := m.Level(); math.Abs(peak+3) > 0.1 {
		t.Errorf("a 20 ms burst at -3 dBFS reads %.2f 80 ms later", peak)
	}
}

func TestDBFS(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{
		{1, 0}, {0.5, -6.0206}, {0.1, -20}, {0, MeterFloorDBFS}, {-1, MeterFloorDBFS},
		{1e-9, MeterFloorDBFS}, {math.NaN(), MeterFloorDBFS},
	} {
		if got := DBFS(tt.in); math.Abs(got-tt.want) > 1e-3 {
			t.Errorf("DBFS(%v) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

// TestMeterConcurrent updates on one goroutine while another polls (run
// with -race); readings stay within what was fed.
func TestMeterConcurrent(t *testing.T) {
	var m Meter
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			p, r := m.Level()
			if p > -5.9 || r > -5.9 {
				t.Errorf("reading %v, %v above the -6 dBFS fed", p, r)
				return
			}
		}
	})
	meterFeed(t, &m, meterSine(-6), 10*time.Second)
	close(done)
	wg.Wait()
}

// mutedCounter counts the frames read from it.
type mutedCounter struct {
	Source
	n int
}

func (c *mutedCounter) ReadFrame(f []int16) error { c.n++; return c.Source.ReadFrame(f) }

// TestMutedSource: muted frames are silence, the frames where the state
// changes fade, the source is read every frame (so after unmute the tone is
// exactly where an unmuted copy is), and Set/Toggle work from another
// goroutine.
func TestMutedSource(t *testing.T) {
	ref := NewTone(440)
	src := &mutedCounter{Source: NewTone(440)}
	var mute Mute
	ms := MutedSource(src, &mute)
	got := make([]int16, FrameSamples)
	want := make([]int16, FrameSamples)
	step := func(muted bool) {
		var wg sync.WaitGroup
		wg.Go(func() { mute.Set(muted) })
		wg.Wait()
		if err := ms.ReadFrame(got); err != nil {
			t.Fatal(err)
		}
		ref.ReadFrame(want)
	}
	for frame := range 12 {
		muted := frame >= 3 && frame < 8
		step(muted)
		switch frame {
		case 3: // fade out
			for i := range got {
				if lim := abs16(want[i])*(FrameSamples-1-i)/FrameSamples + 1; abs16(got[i]) > lim || abs16(got[i]) < lim-2 {
					t.Fatalf("fade out: sample %d = %d (source %d); want ≈ ±%d", i, got[i], want[i], lim)
				}
			}
		case 8: // fade in
			for i := range got {
				if lim := abs16(want[i])*(i+1)/FrameSamples + 1; abs16(got[i]) > lim || abs16(got[i]) < lim-2 {
					t.Fatalf("fade in: sample %d = %d (source %d); want ≈ ±%d", i, got[i], want[i], lim)
				}
			}
		default:
			for i := range got {
				if (muted && got[i] != 0) || (!muted && got[i] != want[i]) {
					t.Fatalf("frame %d (muted %v) sample %d = %d; want %d", frame, muted, i, got[i], want[i])
				}
			}
		}
	}
	if src.n != 12 {
		t.Errorf("source read %d times in 12 frames; want every frame", src.n)
	}

	if !mute.Toggle() || !mute.Muted() || mute.Toggle() || mute.Muted() {
		t.Error("Toggle does not flip")
	}
	var nilMute *Mute
	if nilMute.Muted() {
		t.Error("nil Mute reads muted")
	}

	mute.Set(true)
	eof := MutedSource(SourceFunc(func(f []int16) error { f[0] = 7; return io.EOF }), &mute)
	if err := eof.ReadFrame(got); !errors.Is(err, io.EOF) || got[0] != 0 {
		t.Errorf("muted source error: %v, f[0] = %d; want io.EOF and silence", err, got[0])
	}
}

func abs16(v int16) int { return max(int(v), -int(v)) }

// TestMutedSourceConcurrent flips the mute from another goroutine while
// frames are read (run with -race).
func TestMutedSourceConcurrent(t *testing.T) {
	var mute Mute
	ms := MutedSource(NewTone(440), &mute)
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
				mute.Toggle()
			}
		}
	})
	f := make([]int16, FrameSamples)
	for range 2000 {
		ms.ReadFrame(f)
	}
	close(done)
	wg.Wait()
}

func TestMeterMuteNoAllocs(t *testing.T) {
	var m Meter
	var mute Mute
	ms := MutedSource(NewTone(440), &mute)
	f := make([]int16, FrameSamples)
	i := 0
	n := testing.AllocsPerRun(1000, func() {
		if i%7 == 0 {
			mute.Toggle()
		}
		i++
		ms.ReadFrame(f)
		m.Update(f)
		m.Level()
	})
	if n != 0 {
		t.Errorf("%v allocs per frame; want 0", n)
	}
}

func BenchmarkMeterUpdate(b *testing.B) {
	var m Meter
	f := make([]int16, FrameSamples)
	NewTone(1000).ReadFrame(f)
	b.ReportAllocs()
	for b.Loop() {
		m.Update(f)
	}
}
