// Package audio holds everything that is PCM: the 20 ms frame format opdesk
// uses end to end, the G.711 codecs, and the endpoints a call's audio comes
// from and goes to (null, tone, WAV file; the sound card arrives later behind
// the same interfaces).
//
// Every frame is 8 kHz mono signed 16-bit, 160 samples (20 ms). Sources are
// pulled and sinks are pushed once per frame by the media clock of a call; an
// implementation must not block for longer than a frame and should not
// allocate per frame.
//
// The WAV reader and writer are hand-written (wav.go, wav_writer.go): the
// format is tiny, and the call recorder needs a writer that rewrites the
// RIFF/data sizes in the header as it goes, so a file stays readable after a
// crash; general WAV libraries fix the header only on Close. Likewise the
// FFT behind DominantFrequency is a few lines of our own rather than a DSP
// dependency.
package audio

import "time"

const (
	// SampleRate is the PCM rate of every frame in opdesk.
	SampleRate = 8000
	// FrameSamples is the number of samples in one 20 ms frame.
	FrameSamples = 160
	// FrameDuration is the duration of one frame.
	FrameDuration = 20 * time.Millisecond
)

// Source produces PCM frames. ReadFrame fills all of f (len(f) == FrameSamples).
// It returns io.EOF when the source has ended (a file played to its end).
type Source interface {
	ReadFrame(f []int16) error
}

// Sink consumes PCM frames. WriteFrame must not keep f after it returns.
type Sink interface {
	WriteFrame(f []int16) error
}

// SourceFunc adapts a function to a Source.
type SourceFunc func(f []int16) error

// ReadFrame calls fn(f).
func (fn SourceFunc) ReadFrame(f []int16) error { return fn(f) }

// SinkFunc adapts a function to a Sink.
type SinkFunc func(f []int16) error

// WriteFrame calls fn(f).
func (fn SinkFunc) WriteFrame(f []int16) error { return fn(f) }

// Codec converts between PCM and an RTP payload for one static payload type.
type Codec interface {
	// Name is the SDP encoding name ("PCMU", "PCMA").
	Name() string
	// PayloadType is the static RTP payload type (0 for PCMU, 8 for PCMA).
	PayloadType() uint8
	// Encode writes len(pcm) bytes into dst and returns them; dst must be large enough.
	Encode(dst []byte, pcm []int16) []byte
	// Decode writes len(payload) samples into dst and returns them; dst must be large enough.
	Decode(dst []int16, payload []byte) []int16
}
