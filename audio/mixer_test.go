package audio

import (
	"errors"
	"io"
	"math"
	"sync"
	"testing"
)

// mixerFill sets every sample of input in to v.
func mixerFill(m *Mixer, in int, v int16) {
	for i := range m.Input(in) {
		m.Input(in)[i] = v
	}
}

// mixSteady mixes output out twice (so any gain ramp is over) and returns
// the second frame.
func mixSteady(m *Mixer, out int) []int16 {
	dst := make([]int16, FrameSamples)
	m.Mix(out, dst)
	m.Mix(out, dst)
	return dst
}

func TestMixerGains(t *testing.T) {
	tests := []struct {
		name  string
		in    [3]int16
		gains [3]float32
		want  int16
	}{
		{"all off", [3]int16{1000, 2000, 3000}, [3]float32{0, 0, 0}, 0},
		{"unity one", [3]int16{1000, 2000, 3000}, [3]float32{1, 0, 0}, 1000},
		{"unity sum", [3]int16{1000, 2000, 3000}, [3]float32{1, 1, 1}, 6000},
		{"half", [3]int16{1000, 2000, 3000}, [3]float32{0.5, 0, 0.5}, 2000},
		{"rounds up", [3]int16{1001, 0, 0}, [3]float32{0.75, 0, 0}, 751},     // 750.75
		{"rounds down", [3]int16{-1001, 0, 0}, [3]float32{0.75, 0, 0}, -751}, // -750.75
		{"x2", [3]int16{-1000, 0, 0}, [3]float32{2, 0, 0}, -2000},
		{"cancel", [3]int16{1000, -1000, 0}, [3]float32{1, 1, 0}, 0},
		{"negative gain is 0", [3]int16{1000, 2000, 0}, [3]float32{-1, 1, 0}, 2000},
		{"NaN gain is 0", [3]int16{1000, 2000, 0}, [3]float32{float32(math.NaN()), 1, 0}, 2000},
		{"huge gain clamps", [3]int16{100, 0, 0}, [3]float32{1000, 0, 0}, 100 * MaxGain},
	}
	for _, tt := range tests {
		m := NewMixer(3, 2)
		for in, v := range tt.in {
			mixerFill(m, in, v)
			m.SetGain(1, in, tt.gains[in])
		}
		got := mixSteady(m, 1)
		for i, v := range got {
			if v != tt.want {
				t.Errorf("%s: sample %d = %d; want %d", tt.name, i, v, tt.want)
				break
			}
		}
		if other := mixSteady(m, 0); other[0] != 0 {
			t.Errorf("%s: output 0 (all gains 0) = %d; want silence", tt.name, other[0])
		}
	}

	m := NewMixer(2, 1)
	m.SetGain(0, 1, 0.25)
	if g := m.Gain(0, 1); g != 0.25 {
		t.Errorf("Gain = %v; want 0.25", g)
	}
	if g := m.Gain(0, 0); g != 0 {
		t.Errorf("Gain of a fresh mixer = %v; want 0", g)
	}
	if m.Inputs() != 2 || m.Outputs() != 1 {
		t.Errorf("sizes %d×%d; want 2 inputs × 1 output", m.Inputs(), m.Outputs())
	}
}

// TestMixerSaturates: loud sums flatten at full scale and never wrap round
// to the other sign.
func TestMixerSaturates(t *testing.T) {
	for _, tt := range []struct {
		a, b int16
		gain float32
		want int16
	}{
		{30000, 30000, 1, math.MaxInt16},
		{-30000, -30000, 1, math.MinInt16},
		{math.MaxInt16, math.MaxInt16, MaxGain, math.MaxInt16},
		{math.MinInt16, math.MinInt16, MaxGain, math.MinInt16},
		{20000, 12767, 1, math.MaxInt16},
		{-20000, -12768, 1, math.MinInt16},
		{20000, 12766, 1, 32766},
	} {
		m := NewMixer(2, 1)
		mixerFill(m, 0, tt.a)
		mixerFill(m, 1, tt.b)
		m.SetGain(0, 0, tt.gain)
		m.SetGain(0, 1, tt.gain)
		if got := mixSteady(m, 0)[0]; got != tt.want {
			t.Errorf("(%d + %d) × %v = %d; want %d", tt.a, tt.b, tt.gain, got, tt.want)
		}
	}
}

// TestMixerThreeParty runs the supervisor matrix with a 600 Hz customer, a
// 900 Hz agent and a 1200 Hz SV for one second per mode, and checks by
// Goertzel that each output carries exactly the parties its gains say: those
// at their level (±0.5 dB), the others at least 60 dB down.
func TestMixerThreeParty(t *testing.T) {
	const (
		customer, agent, sv     = 0, 1, 2 // inputs
		agentEar, svEar, toCust = 0, 1, 2 // outputs
		nIn, nOut, frames       = 3, 3, 50
	)
	hz := [nIn]float64{600, 900, 1200}
	modes := []struct {
		name  string
		hears [nOut][nIn]float32
	}{
		{"listen", [nOut][nIn]float32{
			agentEar: {customer: 1},
			svEar:    {customer: 1, agent: 1},
			toCust:   {agent: 1},
		}},
		{"whisper", [nOut][nIn]float32{
			agentEar: {customer: 1, sv: 1},
			svEar:    {customer: 1, agent: 1},
			toCust:   {agent: 1},
		}},
		{"barge", [nOut][nIn]float32{
			agentEar: {customer: 1, sv: 1},
			svEar:    {customer: 1, agent: 0.5},
			toCust:   {agent: 1, sv: 1},
		}},
	}
	m := NewMixer(nIn, nOut)
	var srcs [nIn]*Tone
	for i := range srcs {
		srcs[i] = NewTone(hz[i])
	}
	amp := dbfsAmp(toneDBFS)
	for _, mode := range modes {
		for out := range nOut {
			for in := range nIn {
				m.SetGain(out, in, mode.hears[out][in])
			}
		}
		var got [nOut][]int16
		dst := make([]int16, FrameSamples)
		for f := range frames {
			for in := range nIn {
				if err := m.ReadInput(in, srcs[in]); err != nil {
					t.Fatal(err)
				}
			}
			for out := range nOut {
				m.Mix(out, dst)
				if f > 0 { // skip the frame the gains ramp in
					got[out] = append(got[out], dst...)
				}
			}
		}
		for out := range nOut {
			for in := range nIn {
				a := goertzelAmp(got[out], hz[in])
				want := amp * float64(mode.hears[out][in])
				if want == 0 {
					if a > amp/1000 {
						t.Errorf("%s: output %d has input %d (%g Hz) at %.1f; want none", mode.name, out, in, hz[in], a)
					}
					continue
				}
				if db := 20 * math.Log10(a/want); math.Abs(db) > 0.5 {
					t.Errorf("%s: output %d has input %d (%g Hz) at %.0f; want %.0f", mode.name, out, in, hz[in], a, want)
				}
			}
		}
	}
}

// TestMixerGainRamp: a gain change is spread across the next frame, from the
// old gain on its first sample to the new one on its last.
func TestMixerGainRamp(t *testing.T) {
	m := NewMixer(1, 1)
	mixerFill(m, 0, 16000)
	dst := make([]int16, FrameSamples)
	m.SetGain(0, 0, 1)
	m.Mix(0, dst)
	if dst[0] != 100 || dst[FrameSamples-1] != 16000 {
		t.Errorf("ramp in: first %d, last %d; want 100 (1/160 of the way), 16000", dst[0], dst[FrameSamples-1])
	}
	for i := 1; i < FrameSamples; i++ {
		if dst[i] < dst[i-1] {
			t.Fatalf("ramp in not monotonic at %d: %d after %d", i, dst[i], dst[i-1])
		}
	}
	m.Mix(0, dst)
	if dst[0] != 16000 {
		t.Errorf("after the ramp: %d; want 16000", dst[0])
	}
	m.SetGain(0, 0, 0)
	m.Mix(0, dst)
	if dst[0] != 15900 || dst[FrameSamples-1] != 0 {
		t.Errorf("ramp out: first %d, last %d; want 15900, 0", dst[0], dst[FrameSamples-1])
	}
}

func TestMixerInputs(t *testing.T) {
	m := NewMixer(2, 1)
	m.SetGain(0, 0, 1)
	m.SetGain(0, 1, 1)
	m.WriteInput(0, []int16{5, 6, 7})
	mixerFill(m, 1, 0)
	got := mixSteady(m, 0)
	if got[0] != 5 || got[2] != 7 || got[3] != 0 || got[FrameSamples-1] != 0 {
		t.Errorf("short WriteInput mixed as %v…; want 5 6 7 then silence", got[:5])
	}
	mixerFill(m, 1, 9)
	failing := SourceFunc(func(f []int16) error { f[0] = 1234; return io.EOF })
	if err := m.ReadInput(1, failing); !errors.Is(err, io.EOF) {
		t.Errorf("ReadInput error = %v; want io.EOF", err)
	}
	if got := mixSteady(m, 0); got[0] != 5 || got[5] != 0 {
		t.Errorf("failed ReadInput left %v in its slot; want silence", got[:6])
	}
	if s := m.Input(1); len(s) != FrameSamples || cap(s) != FrameSamples {
		t.Errorf("Input slot len %d cap %d; want %d (no room to spill into the next)", len(s), cap(s), FrameSamples)
	}
	for _, f := range []func(){
		func() { m.SetGain(1, 0, 1) },
		func() { m.Gain(0, 2) },
		func() { m.Input(-1) },
		func() { m.Mix(1, make([]int16, FrameSamples)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("out-of-range index did not panic")
				}
			}()
			f()
		}()
	}
}

// TestMixerConcurrentGains changes gains from other goroutines while the
// tick mixes (run with -race); every output sample stays on the segment
// between the two gains' results.
func TestMixerConcurrentGains(t *testing.T) {
	m := NewMixer(2, 2)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for out := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				m.SetGain(out, i%2, float32(i%3)/2) // 0, 0.5, 1
				_ = m.Gain(out, (i+1)%2)
			}
		})
	}
	dst := make([]int16, FrameSamples)
	for range 2000 {
		mixerFill(m, 0, 1000)
		mixerFill(m, 1, 2000)
		for out := range 2 {
			m.Mix(out, dst)
			for _, v := range dst {
				if v < 0 || v > 3000 {
					t.Fatalf("output %d sample %d; want within 0..3000", out, v)
				}
			}
		}
	}
	close(done)
	wg.Wait()
}

func TestMixerNoAllocs(t *testing.T) {
	m := NewMixer(4, 3)
	src := NewTone(1000)
	dst := make([]int16, FrameSamples)
	i := 0
	n := testing.AllocsPerRun(1000, func() {
		m.SetGain(i%3, i%4, float32(i%5)/4)
		i++
		for in := range 4 {
			m.ReadInput(in, src)
		}
		m.WriteInput(3, dst[:10])
		for out := range 3 {
			m.Mix(out, dst)
		}
	})
	if n != 0 {
		t.Errorf("%v allocs per tick; want 0", n)
	}
}

// BenchmarkMixerTick is one tick of the supervisor matrix: 3 inputs into 3
// outputs.
func BenchmarkMixerTick(b *testing.B) {
	m := NewMixer(3, 3)
	for out := range 3 {
		for in := range 3 {
			if in != out {
				m.SetGain(out, in, 1)
			}
		}
	}
	dst := make([]int16, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		for in := range 3 {
			m.WriteInput(in, dst)
		}
		for out := range 3 {
			m.Mix(out, dst)
		}
	}
}
