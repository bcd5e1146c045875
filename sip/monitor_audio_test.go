package sip

import (
	"testing"

	"github.com/opdesk/opdesk/audio"
)

// monitorRig is a monitored call's wrappers and a session's ends around one
// monitorAudio, driven frame by frame in lock step (the two clocks are
// decoupled by the rings; a test can drive them in any order).
type monitorRig struct {
	au               *monitorAudio
	src              *callSource // monitored call: the operator's mic (900 Hz)
	sink             *callSink   // monitored call: the operator's ear
	msrc             *monitorSource
	msink            *monitorSink
	customer, sv     *audio.Tone // 600 Hz, 1200 Hz
	ear              *frameCollector
	cust, svEar, buf []int16
}

// frameCollector is a Sink that keeps the last frame written.
type frameCollector struct{ last []int16 }

func (f *frameCollector) WriteFrame(x []int16) error { copy(f.last, x); return nil }

func newMonitorRig() *monitorRig {
	au := newMonitorAudio()
	r := &monitorRig{
		au:       au,
		src:      &callSource{src: audio.NewTone(900), meter: &audio.Meter{}, scratch: make([]int16, audio.FrameSamples)},
		ear:      &frameCollector{last: make([]int16, audio.FrameSamples)},
		msrc:     &monitorSource{au: au, scratch: make([]int16, audio.FrameSamples)},
		msink:    &monitorSink{au: au},
		customer: audio.NewTone(600),
		sv:       audio.NewTone(1200),
		cust:     make([]int16, audio.FrameSamples),
		svEar:    make([]int16, audio.FrameSamples),
		buf:      make([]int16, audio.FrameSamples),
	}
	r.sink = &callSink{sink: r.ear, meter: &audio.Meter{}, scratch: make([]int16, 2*audio.FrameSamples)}
	callTaps{src: r.src, sink: r.sink}.attach(au)
	return r
}

// tick runs one 20 ms frame of both clocks: the customer's voice reaches
// the operator's ear, the mic goes to the customer, the session reads what
// the supervisor hears and writes what the supervisor says.
func (r *monitorRig) tick() {
	_ = r.customer.ReadFrame(r.buf)
	_ = r.sink.WriteFrame(r.buf)
	_ = r.src.ReadFrame(r.cust)
	_ = r.msrc.ReadFrame(r.svEar)
	_ = r.sv.ReadFrame(r.buf)
	_ = r.msink.WriteFrame(r.buf)
}

// TestMonitorAudioModes drives the taps through listen, whisper, barge and
// back to listen with a 600 Hz customer, a 900 Hz operator and a 1200 Hz
// supervisor, and checks by energy share who hears whom in each mode.
func TestMonitorAudioModes(t *testing.T) {
	r := newMonitorRig()
	const settle, frames = 3, 50 // ring latency and the ramp, then what is judged
	for _, mode := range []string{MonitorListen, MonitorWhisper, MonitorBarge, MonitorListen} {
		r.au.setMode(mode)
		var ear, cust, svEar []int16
		for f := range settle + frames {
			r.tick()
			if f >= settle {
				ear = append(ear, r.ear.last...)
				cust = append(cust, r.cust...)
				svEar = append(svEar, r.svEar...)
			}
		}
		earSV, custSV := 0.0, 0.0
		if mode != MonitorListen {
			earSV = 0.5
		}
		if mode == MonitorBarge {
			custSV = 0.5
		}
		for _, c := range []struct {
			what string
			x    []int16
			hz   float64
			want float64
		}{
			{"supervisor hears the customer", svEar, 600, 0.5},
			{"supervisor hears the operator", svEar, 900, 0.5},
			{"supervisor does not hear themselves", svEar, 1200, 0},
			{"operator hears the customer", ear, 600, 1 - earSV},
			{"operator hears the supervisor", ear, 1200, earSV},
			{"customer hears the operator", cust, 900, 1 - custSV},
			{"customer hears the supervisor", cust, 1200, custSV},
		} {
			if got := audio.ToneShare(c.x, audio.SampleRate, c.hz); got < c.want-0.05 || got > c.want+0.05 {
				t.Errorf("%s: %s: share %.3f, want %.2f", mode, c.what, got, c.want)
			}
		}
	}
}

// TestMonitorRingBoundsDelay: a consumer that fell behind drops all but
// the newest monitorMaxLag; a dry ring reads silence; a full ring takes no
// partial frame.
func TestMonitorRingBoundsDelay(t *testing.T) {
	r := audio.NewRing(monitorRingSamples)
	f := make([]int16, audio.FrameSamples)
	fit := r.Cap() / audio.FrameSamples // whole frames that fit
	for i := range fit + 2 {
		for j := range f {
			f[j] = int16(i + 1)
		}
		ringPut(r, f)
	}
	if r.Len() != fit*audio.FrameSamples {
		t.Fatalf("ring holds %d samples, want %d whole frames", r.Len(), fit)
	}
	// Frames 1..fit went in, the two after them were dropped whole; the
	// consumer keeps only the newest monitorMaxLag of them.
	keep := monitorMaxLag / audio.FrameSamples
	for want := fit - keep + 1; want <= fit; want++ {
		ringTake(r, f)
		if int(f[0]) != want || int(f[len(f)-1]) != want {
			t.Fatalf("took frame %d, want %d (the oldest within %d ms)", f[0], want, monitorMaxLag/8)
		}
	}
	ringTake(r, f)
	for _, v := range f {
		if v != 0 {
			t.Fatalf("a dry ring gave %d, want silence", v)
		}
	}
}

// TestMonitorAudioNoAllocs: the per-frame paths of both clocks, taps
// attached, allocate nothing.
func TestMonitorAudioNoAllocs(t *testing.T) {
	r := newMonitorRig()
	r.au.setMode(MonitorBarge)
	for _, c := range []struct {
		name string
		fn   func()
	}{
		{"monitored call's sink tap", func() { _ = r.sink.WriteFrame(r.buf) }},
		{"monitored call's source tap", func() { _ = r.src.ReadFrame(r.cust) }},
		{"session source", func() { _ = r.msrc.ReadFrame(r.svEar) }},
		{"session sink", func() { _ = r.msink.WriteFrame(r.buf) }},
		{"a whole tick with a mode switch", func() { r.au.setMode(MonitorWhisper); r.tick() }},
	} {
		if n := testing.AllocsPerRun(200, c.fn); n != 0 {
			t.Errorf("%s: %v allocations per frame, want 0", c.name, n)
		}
	}
}

// BenchmarkMonitorFrame is one 20 ms frame of both clocks of a barging
// session: four ring transfers, two ramped mixes, the meters.
func BenchmarkMonitorFrame(b *testing.B) {
	r := newMonitorRig()
	r.au.setMode(MonitorBarge)
	b.ReportAllocs()
	for b.Loop() {
		r.tick()
	}
}
