package audio

import (
	"errors"
	"testing"
	"unsafe"
)

func asBytes(p []int16) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&p[0])), 2*len(p))
}

// TestDeviceCallbackAllocatesNothing runs the sound-card callback body and
// the media clock's side of it under AllocsPerRun: the callback runs on the
// audio thread, where a garbage collection pause or an allocation lock is
// an audible click.
func TestDeviceCallbackAllocatesNothing(t *testing.T) {
	d := newDuplex()
	in := make([]int16, 80) // a 10 ms period
	out := make([]int16, 80)
	frame := make([]int16, FrameSamples)
	inB, outB := asBytes(in), asBytes(out)
	allocs := testing.AllocsPerRun(1000, func() {
		d.process(outB, inB)
		d.process(outB, inB)
		_ = d.WriteFrame(frame)
		_ = d.ReadFrame(frame)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per 20 ms, want 0", allocs)
	}
}

// TestDuplexPassesAudioAndCounts: captured samples come out of ReadFrame in
// order, played frames reach the callback's output after one frame of
// priming silence, and starvation on either side is counted.
func TestDuplexPassesAudioAndCounts(t *testing.T) {
	d := newDuplex()
	frame := make([]int16, FrameSamples)
	// Nothing captured yet: silence and an underrun.
	frame[0] = 99
	_ = d.ReadFrame(frame)
	if frame[0] != 0 || d.Stats().CaptureUnderruns != 1 {
		t.Fatalf("empty capture gave %d, stats %+v", frame[0], d.Stats())
	}
	in := make([]int16, FrameSamples)
	for i := range in {
		in[i] = int16(i + 1)
	}
	d.process(nil, asBytes(in))
	_ = d.ReadFrame(frame)
	if frame[0] != 1 || frame[FrameSamples-1] != FrameSamples {
		t.Fatalf("capture came back as %d…%d", frame[0], frame[FrameSamples-1])
	}
	// Playback: first write is preceded by a frame of silence.
	_ = d.WriteFrame(in)
	out := make([]int16, FrameSamples)
	d.process(asBytes(out), nil)
	if out[0] != 0 || out[FrameSamples-1] != 0 {
		t.Fatal("priming frame is not silence")
	}
	d.process(asBytes(out), nil)
	if out[0] != 1 {
		t.Fatalf("played %d, want the written frame", out[0])
	}
	d.process(asBytes(out), nil) // dry
	d.process(asBytes(out), nil) // still dry: one episode
	if got := d.Stats().PlaybackUnderruns; got != 1 {
		t.Fatalf("playback underruns %d, want 1", got)
	}
	// A stalled speaker: frames beyond the lag bound are dropped.
	for range 10 {
		_ = d.WriteFrame(in)
	}
	if st := d.Stats(); st.PlaybackOverruns == 0 || d.playback.Len() > maxPlaybackLag+FrameSamples {
		t.Fatalf("stalled speaker: ring %d samples, stats %+v", d.playback.Len(), st)
	}
	// A stalled media clock: the capture delay is cut back to the bound.
	for range 10 {
		d.process(nil, asBytes(in))
	}
	_ = d.ReadFrame(frame)
	if st := d.Stats(); st.CaptureSkips == 0 || d.capture.Len() > maxCaptureLag {
		t.Fatalf("stale capture kept: ring %d samples, stats %+v", d.capture.Len(), st)
	}
}

func TestPickDevice(t *testing.T) {
	infos := []DeviceInfo{
		{ID: "aa01", Name: "Built-in Audio Analog Stereo"},
		{ID: "bb02", Name: "Jabra EVOLVE 20 Mono"},
		{ID: "cc03", Name: "Jabra Speak 510"},
	}
	for _, tc := range []struct {
		spec, want string
		err        error
	}{
		{"", "", nil},
		{"default", "", nil},
		{"bb02", "bb02", nil},
		{"Jabra Speak 510", "cc03", nil},
		{"evolve", "bb02", nil},
		{"jabra", "", ErrDeviceNotFound},
		{"usb headset", "", ErrDeviceNotFound},
	} {
		got, err := pickDevice("playback", tc.spec, infos)
		if !errors.Is(err, tc.err) {
			t.Fatalf("%q: err %v, want %v", tc.spec, err, tc.err)
		}
		if err != nil {
			t.Logf("%q: %v", tc.spec, err)
			continue
		}
		id := ""
		if got != nil {
			id = got.ID
		}
		if id != tc.want {
			t.Fatalf("%q picked %q, want %q", tc.spec, id, tc.want)
		}
	}
}

func TestParseBackend(t *testing.T) {
	for in, want := range map[string]string{"": "auto", "Pulse": "pulseaudio", "alsa": "alsa", "null": "null"} {
		if got, err := ParseBackend(in); err != nil || got != want {
			t.Fatalf("%q → %q, %v", in, got, err)
		}
	}
	if _, err := ParseBackend("coreaudio"); err == nil {
		t.Fatal("coreaudio accepted on Linux")
	}
}

type countingDevice struct {
	NullDevice
	name   string
	reads  int
	closed bool
}

func (c *countingDevice) ReadFrame(f []int16) error { c.reads++; clear(f); return nil }
func (c *countingDevice) Name() string              { return c.name }
func (c *countingDevice) Close() error              { c.closed = true; return nil }

func TestSwitchable(t *testing.T) {
	a, b := &countingDevice{name: "a"}, &countingDevice{name: "b"}
	s := NewSwitchable(a)
	f := make([]int16, FrameSamples)
	_ = s.ReadFrame(f)
	s.Switch(b)
	_ = s.ReadFrame(f)
	_ = s.ReadFrame(f)
	if a.reads != 1 || b.reads != 2 || !a.closed || b.closed || s.Name() != "b" {
		t.Fatalf("after switch: a=%+v b=%+v name %q", a, b, s.Name())
	}
	_ = s.Close()
	if !b.closed {
		t.Fatal("Close did not close the current card")
	}
}
