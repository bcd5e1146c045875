package demoline

import (
	"io/fs"
	"slices"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
)

// The embedded recordings are what the package doc promises: 3–6 s each,
// small enough to commit (< 100 kB each, < 400 kB together), and speech,
// not silence.
func TestEmbeddedSpeech(t *testing.T) {
	names, _ := fs.Glob(speechFS, "speech/*.wav")
	if len(names) < 3 || len(names) > 4 {
		t.Fatalf("%d recordings, want 3–4: %v", len(names), names)
	}
	total := 0
	for _, n := range names {
		b, _ := speechFS.ReadFile(n)
		total += len(b)
		if len(b) >= 100_000 {
			t.Errorf("%s is %d bytes, want < 100 kB", n, len(b))
		}
		pcm, err := decodeWAV(b)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		d := time.Duration(len(pcm)) * time.Second / audio.SampleRate
		if d < 3*time.Second || d > 6*time.Second {
			t.Errorf("%s lasts %s, want 3–6 s", n, d)
		}
		if rms := audio.RMS(pcm); rms < 0.03 {
			t.Errorf("%s RMS %.3f: too quiet to be speech", n, rms)
		}
		t.Logf("%s: %s, %d bytes", n, d.Round(10*time.Millisecond), len(b))
	}
	if total >= 400_000 {
		t.Errorf("recordings total %d bytes, want < 400 kB", total)
	}
}

// Every call opens with the same line, then the rest in another order.
func TestCustomerScriptVariesPerCall(t *testing.T) {
	speech := [][]int16{{1}, {2}, {3}, {4}}
	order := func(n int) []int16 {
		var o []int16
		for _, s := range customerScript(speech, n) {
			if s.pcm != nil {
				o = append(o, s.pcm[0])
			}
		}
		return o
	}
	seen := map[string]bool{}
	for n := range 3 {
		o := order(n)
		if len(o) != 4 || o[0] != 1 {
			t.Fatalf("call %d says %v, want all four starting with the opening", n, o)
		}
		sorted := slices.Sorted(slices.Values(o))
		if !slices.Equal(sorted, []int16{1, 2, 3, 4}) {
			t.Errorf("call %d says %v: an utterance is missing or repeated", n, o)
		}
		seen[string(rune(o[1]))+string(rune(o[2]))+string(rune(o[3]))] = true
	}
	if len(seen) != 3 {
		t.Errorf("three calls used only %d orders", len(seen))
	}
}

// The source plays segments across frame boundaries and loops.
func TestSpeechSourceLoops(t *testing.T) {
	segs := []segment{{pcm: []int16{1, 2, 3}}, {silence: 2}, {pcm: []int16{4}}}
	s := newSpeechSource(segs)
	f := make([]int16, 8)
	if err := s.ReadFrame(f); err != nil {
		t.Fatal(err)
	}
	want := []int16{1, 2, 3, 0, 0, 4, 1, 2}
	if !slices.Equal(f, want) {
		t.Errorf("frame = %v, want %v", f, want)
	}
}

func TestSpeechSourceNoAllocs(t *testing.T) {
	speech, err := loadSpeech()
	if err != nil {
		t.Fatal(err)
	}
	s := newSpeechSource(customerScript(speech, 0))
	f := make([]int16, audio.FrameSamples)
	if n := testing.AllocsPerRun(2000, func() { _ = s.ReadFrame(f) }); n != 0 {
		t.Errorf("ReadFrame allocates %.1f times per frame", n)
	}
}

func TestDecodeWAVRejects(t *testing.T) {
	good, _ := speechFS.ReadFile("speech/1-henkou.wav")
	stereo := slices.Clone(good)
	stereo[22] = 2
	for name, b := range map[string][]byte{
		"empty":   nil,
		"not wav": []byte("RIFF\x00\x00\x00\x00WAVX"),
		"stereo":  stereo,
		"no data": good[:36],
	} {
		if _, err := decodeWAV(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzDecodeWAV(f *testing.F) {
	good, _ := speechFS.ReadFile("speech/1-henkou.wav")
	f.Add(good[:200])
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEdata\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pcm, err := decodeWAV(b)
		if err == nil && len(pcm) == 0 {
			t.Error("no error and no samples")
		}
	})
}
