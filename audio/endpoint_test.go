package audio

import (
	"errors"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestOpenSpecErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		spec    string
		sink    bool
		wantErr error
		wantMsg string
	}{
		{"tone:abc", false, ErrBadSpec, `audio source "tone:abc": tone frequency must be a number of Hz between 1 and 3999`},
		{"tone:0", false, ErrBadSpec, "between 1 and 3999"},
		{"tone:4000", false, ErrBadSpec, "between 1 and 3999"},
		{"tone:NaN", false, ErrBadSpec, "between 1 and 3999"},
		{"tone:", false, ErrBadSpec, "tone needs a frequency"},
		{"tone", false, ErrBadSpec, "tone needs a frequency"},
		{"tone:440", true, ErrBadSpec, `audio sink "tone:440": a tone can only be a source`},
		{"file:", false, ErrBadSpec, "file needs the path of a .wav file"},
		{"file:/tmp/x.mp3", true, ErrBadSpec, "must end in .wav"},
		{"hw:1,0", false, ErrNoDevice, `audio source "hw:1,0": sound card "hw:1,0": a sound card is opened with OpenDevice, not per call`},
		{"default", true, ErrNoDevice, "a sound card is opened with OpenDevice, not per call"},
		{"", false, ErrNoDevice, "default sound card: a sound card is opened with OpenDevice"},
		{"file:" + filepath.Join(dir, "missing.wav"), false, fs.ErrNotExist, "missing.wav"},
		{"file:" + filepath.Join(dir, "no", "such", "dir.wav"), true, fs.ErrNotExist, "dir.wav"},
		{"file:testdata/wav/sine1000_48k_stereo.wav", false, ErrWAVFormat,
			"found 48000 Hz stereo 16-bit PCM; opdesk plays 8000 Hz mono 16-bit PCM; convert it with: sox testdata/wav/sine1000_48k_stereo.wav -r 8000 -c 1 -b 16 out.wav"},
		{"file:testdata/wav/ulaw_8k.wav", false, ErrWAVFormat, "found 8000 Hz mono G.711 μ-law"},
	}
	for _, tt := range tests {
		var err error
		if tt.sink {
			_, err = OpenSink(tt.spec)
		} else {
			_, err = OpenSource(tt.spec)
		}
		var se *SpecError
		if !errors.Is(err, tt.wantErr) || !errors.As(err, &se) || se.Spec != tt.spec {
			t.Errorf("open %q (sink %v): %v; want a *SpecError wrapping %v", tt.spec, tt.sink, err, tt.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("open %q: message %q does not contain %q", tt.spec, err, tt.wantMsg)
		}
	}
}

func TestNullEndpoints(t *testing.T) {
	src, err := OpenSource("NULL")
	if err != nil {
		t.Fatal(err)
	}
	f := []int16{1, 2, 3}
	if err := src.ReadFrame(f); err != nil || f[0] != 0 || f[1] != 0 || f[2] != 0 {
		t.Errorf("null ReadFrame = %v, %v; want silence", f, err)
	}
	sink, err := OpenSink(" null ")
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.WriteFrame(f); err != nil {
		t.Error(err)
	}
}

func TestToneSource(t *testing.T) {
	for _, hz := range []float64{1, 440, 1000, 3400, 3999} {
		src, err := OpenSource("tone:" + formatHz(hz))
		if err != nil {
			t.Fatal(err)
		}
		// One second read frame by frame must equal one continuous sine:
		// no phase jump at frame edges.
		got := make([]int16, SampleRate)
		for i := 0; i < len(got); i += FrameSamples {
			if err := src.ReadFrame(got[i : i+FrameSamples]); err != nil {
				t.Fatal(err)
			}
		}
		amp := 32767 * math.Pow(10, -0.5)
		for i, s := range got {
			want := amp * math.Sin(2*math.Pi*hz*float64(i)/SampleRate)
			if math.Abs(float64(s)-want) > 1.01 {
				t.Fatalf("%v Hz: sample %d = %d, continuous sine says %.1f", hz, i, s, want)
			}
		}
		if hz >= 100 {
			if r := RMS(got); math.Abs(r-0.2236) > 0.002 {
				t.Errorf("%v Hz: RMS %.4f, want 0.2236 (-10 dBFS sine)", hz, r)
			}
			if f := DominantFrequency(got, SampleRate); math.Abs(f-hz) > hz/100 {
				t.Errorf("tone:%v measures %.2f Hz", hz, f)
			}
		}
	}
}

func formatHz(hz float64) string { return strconv.FormatFloat(hz, 'f', -1, 64) }

func TestFileSourceLoops(t *testing.T) {
	const n = 250 // not a multiple of a frame, so the loop point falls mid-frame
	ramp := make([]int16, n)
	for i := range ramp {
		ramp[i] = int16(i + 1)
	}
	for _, tc := range []struct {
		name string
		spec wavSpec
	}{
		{"sized", wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, data: le16(ramp...),
			after: []string{chunk("LIST", "INFOICMT\x02\x00\x00\x00x\x00")}}},
		{"unfinished", wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, dataSize: u32(0), data: le16(ramp...)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeTemp(t, "ramp.wav", buildWAV(tc.spec))
			src, err := OpenSource("file:" + p)
			if err != nil {
				t.Fatal(err)
			}
			c, ok := src.(io.Closer)
			if !ok {
				t.Fatal("file source is not an io.Closer")
			}
			f := make([]int16, FrameSamples)
			for i := 0; i < 10; i++ {
				if err := src.ReadFrame(f); err != nil {
					t.Fatal(err)
				}
				for j, s := range f {
					if want := int16((i*FrameSamples+j)%n + 1); s != want {
						t.Fatalf("frame %d sample %d = %d, want %d", i, j, s, want)
					}
				}
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if err := src.ReadFrame(f); !errors.Is(err, ErrClosed) {
				t.Errorf("ReadFrame after Close = %v, want ErrClosed", err)
			}
		})
	}
}

func TestFileSourceEmpty(t *testing.T) {
	for _, size := range []*uint32{nil, u32(0)} {
		p := writeTemp(t, "empty.wav", buildWAV(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, dataSize: size}))
		if _, err := OpenSource("file:" + p); !errors.Is(err, ErrWAVEmpty) {
			t.Errorf("empty file: %v, want ErrWAVEmpty", err)
		}
	}
}

func TestFileSourceFromSox(t *testing.T) {
	src, err := OpenSource("file:testdata/wav/tone440_8k_mono.wav")
	if err != nil {
		t.Fatal(err)
	}
	defer src.(io.Closer).Close()
	got := make([]int16, 2*SampleRate) // 2 s of a 0.5 s file: loops 4 times
	for i := 0; i < len(got); i += FrameSamples {
		if err := src.ReadFrame(got[i : i+FrameSamples]); err != nil {
			t.Fatal(err)
		}
	}
	if f := DominantFrequency(got, SampleRate); math.Abs(f-440) > 4.4 {
		t.Errorf("looped sox tone measures %.2f Hz, want 440", f)
	}
}

func TestFileSinkWritesWAV(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rec.wav")
	sink, err := OpenSink("file:" + p)
	if err != nil {
		t.Fatal(err)
	}
	src := NewTone(1000)
	f := make([]int16, FrameSamples)
	var want []int16
	for range 60 {
		_ = src.ReadFrame(f)
		want = append(want, f...)
		if err := sink.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.(io.Closer).Close(); err != nil {
		t.Fatal(err)
	}
	got, rate, ch, err := ReadWAV(p)
	if err != nil || rate != SampleRate || ch != 1 || !slicesEqual(got, want) {
		t.Fatalf("ReadWAV = %d samples, %d Hz, %d ch, %v", len(got), rate, ch, err)
	}
	soxAgrees(t, p, want)
}

func TestEndpointsNoAllocs(t *testing.T) {
	p := writeTemp(t, "loop.wav", buildWAV(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, data: le16(make([]int16, 1000)...)}))
	fileSrc, err := OpenSource("file:" + p)
	if err != nil {
		t.Fatal(err)
	}
	defer fileSrc.(io.Closer).Close()
	toneSrc, _ := OpenSource("tone:440")
	nullSrc, _ := OpenSource("null")
	nullSink, _ := OpenSink("null")
	f := make([]int16, FrameSamples)
	for name, fn := range map[string]func(){
		"tone ReadFrame":  func() { _ = toneSrc.ReadFrame(f) },
		"null ReadFrame":  func() { _ = nullSrc.ReadFrame(f) },
		"file ReadFrame":  func() { _ = fileSrc.ReadFrame(f) }, // loops every 6.25 frames
		"null WriteFrame": func() { _ = nullSink.WriteFrame(f) },
	} {
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s allocates %v times per frame, want 0", name, n)
		}
	}
}

func BenchmarkToneReadFrame(b *testing.B) {
	src := NewTone(440)
	f := make([]int16, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		_ = src.ReadFrame(f)
	}
}

func BenchmarkFileSourceReadFrame(b *testing.B) {
	data := make([]int16, SampleRate)
	p := filepath.Join(b.TempDir(), "b.wav")
	w, err := CreateWAV(p, SampleRate, 1)
	if err != nil {
		b.Fatal(err)
	}
	_ = w.Write(data)
	_ = w.Close()
	src, err := OpenSource("file:" + p)
	if err != nil {
		b.Fatal(err)
	}
	defer src.(io.Closer).Close()
	f := make([]int16, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		_ = src.ReadFrame(f)
	}
}

func TestIsDeviceSpec(t *testing.T) {
	for spec, want := range map[string]bool{
		"default": true, "": true, "Jabra EVOLVE": true, "hw:1,0": true,
		"null": false, "tone:440": false, "file:x.wav": false, "tone:": false,
	} {
		if got := IsDeviceSpec(spec); got != want {
			t.Errorf("IsDeviceSpec(%q) = %v, want %v", spec, got, want)
		}
	}
}

func TestIsFileSpec(t *testing.T) {
	for spec, want := range map[string]bool{
		"file:x.wav": true, " FILE:/tmp/a.WAV": true,
		"file:": false, "file:x.mp3": false, "null": false, "default": false, "tone:440": false,
	} {
		if got := IsFileSpec(spec); got != want {
			t.Errorf("IsFileSpec(%q) = %v, want %v", spec, got, want)
		}
	}
}
