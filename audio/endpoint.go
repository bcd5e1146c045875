package audio

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Endpoint specs are the config values that say where a call's audio comes
// from and goes to:
//
//	null           source: silence; sink: discards
//	tone:HZ        source only: a sine of HZ (1..3999) at -10 dBFS
//	file:PATH.wav  source: plays an 8 kHz mono 16-bit PCM WAV, looping at its end;
//	               sink: writes such a file as frames arrive (see WAVWriter)
//
// Anything else ("default", a device name) names a sound card: OpenSource
// and OpenSink refuse it with ErrNoDevice, because a sound card is opened
// once for the whole program with OpenDevice (see IsDeviceSpec).

// toneDBFS is the level of the tone source, relative to a full-scale sine.
const toneDBFS = -10

// noDeviceHint is the plain-words advice for a spec that names a device.
const noDeviceHint = "a sound card is opened with OpenDevice, not per call"

// OpenSource opens the audio source a spec names (see the list above). All
// errors are *SpecError; test them with errors.Is against ErrBadSpec,
// ErrNoDevice, ErrWAVFormat, ErrWAVEmpty or fs.ErrNotExist.
//
// A returned Source that implements io.Closer (file: does, because it holds
// the file open) must be closed by the caller when the call ends, and not
// while ReadFrame may still run. ReadFrame of every source here allocates
// nothing.
func OpenSource(spec string) (Source, error) {
	kind, arg, err := parseSpec("source", spec)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "null":
		return nullSource{}, nil
	case "tone":
		hz, err := strconv.ParseFloat(arg, 64)
		if err != nil || math.IsNaN(hz) || hz < 1 || hz > 3999 {
			return nil, &SpecError{Role: "source", Spec: spec, Err: ErrBadSpec,
				Reason: "tone frequency must be a number of Hz between 1 and 3999, e.g. tone:440"}
		}
		return NewTone(hz), nil
	default: // "file"
		src, err := openFileSource(arg)
		if err != nil {
			return nil, &SpecError{Role: "source", Spec: spec, Err: err}
		}
		return src, nil
	}
}

// OpenSink opens the audio sink a spec names: null or file:PATH.wav (see the
// list above). All errors are *SpecError.
//
// A returned Sink that implements io.Closer (file: does) must be closed by
// the caller when the call ends, or the WAV header may miss up to the last
// second of audio. WriteFrame of every sink here allocates nothing.
func OpenSink(spec string) (Sink, error) {
	kind, arg, err := parseSpec("sink", spec)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "null":
		return nullSink{}, nil
	case "tone":
		return nil, &SpecError{Role: "sink", Spec: spec, Err: ErrBadSpec,
			Reason: "a tone can only be a source; a sink can be null or file:PATH.wav"}
	default: // "file"
		w, err := CreateWAV(arg, SampleRate, 1)
		if err != nil {
			return nil, &SpecError{Role: "sink", Spec: spec, Err: err}
		}
		return w, nil
	}
}

// parseSpec splits spec into its kind ("null", "tone", "file") and argument,
// or returns the *SpecError for a bad spec or a device name.
func parseSpec(role, spec string) (kind, arg string, err error) {
	s := strings.TrimSpace(spec)
	bad := func(reason string) (string, string, error) {
		return "", "", &SpecError{Role: role, Spec: spec, Reason: reason, Err: ErrBadSpec}
	}
	prefix, rest, hasColon := strings.Cut(s, ":")
	switch {
	case strings.EqualFold(s, "null"):
		return "null", "", nil
	case strings.EqualFold(prefix, "tone"):
		if !hasColon || rest == "" {
			return bad("tone needs a frequency in Hz, e.g. tone:440")
		}
		return "tone", strings.TrimSpace(rest), nil
	case strings.EqualFold(prefix, "file"):
		if !hasColon || rest == "" {
			return bad("file needs the path of a .wav file, e.g. file:/tmp/call.wav")
		}
		if !strings.HasSuffix(strings.ToLower(rest), ".wav") {
			return bad("file path must end in .wav (8 kHz mono 16-bit PCM WAV)")
		}
		return "file", rest, nil
	}
	reason := "sound card " + strconv.Quote(s) + ": " + noDeviceHint
	if s == "" {
		reason = "default sound card: " + noDeviceHint
	}
	return "", "", &SpecError{Role: role, Spec: spec, Reason: reason, Err: ErrNoDevice}
}

// nullSource produces silence.
type nullSource struct{}

func (nullSource) ReadFrame(f []int16) error { clear(f); return nil }
func (nullSource) String() string            { return "null" }

// nullSink discards every frame.
type nullSink struct{}

func (nullSink) WriteFrame([]int16) error { return nil }
func (nullSink) String() string           { return "null" }

// Tone is a Source of a continuous sine at -10 dBFS (peak 10^(-10/20) of
// full scale, RMS ≈ 0.224). Its phase carries over from one frame to the
// next, so consecutive frames join without a click. ReadFrame allocates
// nothing. A Tone is not safe for concurrent use.
type Tone struct {
	hz    float64
	phase float64 // radians, in [0, 2π)
	step  float64 // radians per sample
	amp   float64
}

// NewTone returns a Tone of hz at SampleRate. hz should be in (0, 4000).
func NewTone(hz float64) *Tone {
	return &Tone{
		hz:   hz,
		step: 2 * math.Pi * hz / SampleRate,
		amp:  math.MaxInt16 * math.Pow(10, toneDBFS/20.0),
	}
}

// Frequency returns the tone's frequency in Hz.
func (t *Tone) Frequency() float64 { return t.hz }

// ReadFrame fills f with the next len(f) samples of the tone.
func (t *Tone) ReadFrame(f []int16) error {
	for i := range f {
		f[i] = int16(math.Round(t.amp * math.Sin(t.phase)))
		t.phase += t.step
		if t.phase >= 2*math.Pi {
			t.phase -= 2 * math.Pi
		}
	}
	return nil
}

func (t *Tone) String() string { return "tone:" + strconv.FormatFloat(t.hz, 'f', -1, 64) }

// IsFileSpec reports whether spec is a valid file:PATH.wav, which OpenSink
// creates anew (truncating it) each time it is opened.
func IsFileSpec(spec string) bool {
	kind, _, err := parseSpec("sink", spec)
	return err == nil && kind == "file"
}

// IsDeviceSpec reports whether spec names a sound-card device ("default"
// or a device name) rather than null, tone:HZ or file:PATH.wav. Such specs
// are not opened per call: the program opens the Device once (OpenDevice)
// and hands it to its calls.
func IsDeviceSpec(spec string) bool {
	_, _, err := parseSpec("source", spec)
	return errors.Is(err, ErrNoDevice)
}
