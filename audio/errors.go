package audio

import (
	"errors"
	"fmt"
)

// Sentinel errors. Functions wrap them with the spec or path they concern, so
// test with errors.Is and show the wrapped message to people.
var (
	// ErrNoDevice means an audio spec named a sound-card device where only
	// null, tone:HZ and file:PATH.wav can be opened (see IsDeviceSpec).
	ErrNoDevice = errors.New("names a sound card device")

	// ErrBadSpec means an audio spec from the config could not be understood
	// (tone:abc, file: with no path, tone: used as a sink, ...).
	ErrBadSpec = errors.New("bad audio spec")

	// ErrWAVFormat means a well-formed WAV file holds audio in a format that
	// cannot be used here (not 16-bit PCM, or not 8 kHz mono where a call
	// endpoint needs it). The wrapped message says what was found and gives
	// the sox command that converts it.
	ErrWAVFormat = errors.New("unsupported WAV format")

	// ErrWAVCorrupt means a file is not a readable RIFF/WAVE file (no RIFF
	// header, no fmt or data chunk, truncated header).
	ErrWAVCorrupt = errors.New("not a valid WAV file")

	// ErrWAVEmpty means a WAV file to be played holds no samples.
	ErrWAVEmpty = errors.New("WAV file holds no audio")

	// ErrWAVTooLarge means a WAVWriter reached the 4 GiB RIFF size limit
	// (about 74 hours of 8 kHz mono audio).
	ErrWAVTooLarge = errors.New("WAV file reached the 4 GiB limit")

	// ErrClosed means an endpoint or WAVWriter was used after Close.
	ErrClosed = errors.New("audio endpoint closed")

	// ErrToneSet means the config's audio.tones names a tone set opdesk does
	// not have. The wrapped message lists the ones it has.
	ErrToneSet = errors.New("unknown tone set")

	// ErrDTMFDigit means a character that is not a DTMF key (0-9 * # A-D)
	// was asked to sound.
	ErrDTMFDigit = errors.New("not a DTMF key")

	// ErrRecordingFrame means WriteFrames was given a frame that is not
	// FrameSamples long (nor empty, which records silence).
	ErrRecordingFrame = errors.New("recording frame is not 160 samples")

	// ErrRecordMode means a record mode from the config is not one of
	// always, ask, never.
	ErrRecordMode = errors.New("unknown record mode")
)

// SpecError is the error OpenSource and OpenSink return for a spec they
// cannot open. Its message is meant for people ("audio source \"tone:abc\":
// tone frequency must be ..."); Err says what kind of failure it was
// (ErrBadSpec, ErrNoDevice, or the file or WAV error) for errors.Is.
type SpecError struct {
	Role   string // "source" or "sink"
	Spec   string // the config value as given
	Reason string // plain-words explanation; empty when Err says it all
	Err    error
}

func (e *SpecError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("audio %s %q: %s", e.Role, e.Spec, e.Reason)
	}
	return fmt.Sprintf("audio %s %q: %v", e.Role, e.Spec, e.Err)
}

// Unwrap returns the underlying error.
func (e *SpecError) Unwrap() error { return e.Err }
