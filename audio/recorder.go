package audio

// The call recorder: one stereo WAV per call, written as the call goes, so
// that a crash loses at most the unwritten tail rather than the call. Left is
// the operator (the mic), right the other party, because a two-channel file
// lets a supervisor or QA tool hear — and transcribe — each side on its own,
// and a mono mix can always be made from it later but never the other way.
//
// Recordings are personal data: directories are created 0700 and files 0600,
// a recording is never overwritten, and file names built from network input
// (the Call-ID, the caller's number) are reduced to a safe charset so a
// hostile Call-ID cannot write outside the recordings directory.
//
// After a crash (kill -9, an OOM kill) the header of the file being written
// may say less than the file holds, or 0 bytes. RecoverRecordings, run at
// startup before any call, fixes those headers so every player and sox
// reads the whole file.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Recorder errors.
// Recorder writes one call to a stereo 8 kHz 16-bit WAV file: left is the
// operator, right the other party. It is built on WAVWriter, so the header is
// rewritten at least once per second and a killed process leaves a readable
// file (RepairWAV recovers the last second too).
//
// WriteFrames and Close belong to the call's media goroutine; Duration and
// Path may be called from any goroutine (the UI polls Duration).
type Recorder struct {
	w      *WAVWriter
	path   string
	frames atomic.Int64
	buf    [2 * FrameSamples]int16 // one interleaved stereo frame
}

// CreateRecording creates the directory of path (mode 0700, with parents)
// and a new WAV file at path (mode 0600). It refuses to overwrite an existing
// file; use RecordingPath to pick a free name.
func CreateRecording(path string) (*Recorder, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("start recording: cannot create the recordings folder: %w", err)
	}
	w, err := createWAV(path, SampleRate, 2, os.O_EXCL)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("start recording: %s already exists; not overwriting it: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("start recording: %w", err)
	}
	return &Recorder{w: w, path: path}, nil
}

// WriteFrames appends one 20 ms frame of each side: operator goes to the left
// channel, other to the right. Each must be FrameSamples long, or empty (nil)
// for silence on that side (no audio from the far end yet, or a muted mic).
// It does not allocate. A write error (disk full) is returned for this and
// every later frame; the file keeps what was written before it. The caller
// should stop recording and tell the operator.
func (r *Recorder) WriteFrames(operator, other []int16) error {
	if err := r.interleave(operator, 0); err != nil {
		return err
	}
	if err := r.interleave(other, 1); err != nil {
		return err
	}
	if err := r.w.Write(r.buf[:]); err != nil {
		return err
	}
	r.frames.Add(1)
	return nil
}

// interleave copies f into channel ch of r.buf.
func (r *Recorder) interleave(f []int16, ch int) error {
	switch len(f) {
	case FrameSamples:
		for i, s := range f {
			r.buf[2*i+ch] = s
		}
	case 0:
		for i := ch; i < len(r.buf); i += 2 {
			r.buf[i] = 0
		}
	default:
		side := "operator"
		if ch == 1 {
			side = "other party"
		}
		return fmt.Errorf("record %s: %w: %s frame has %d", r.path, ErrRecordingFrame, side, len(f))
	}
	return nil
}

// Close writes the final header and closes the file. Closing twice is a
// no-op; WriteFrames after Close returns ErrClosed.
func (r *Recorder) Close() error { return r.w.Close() }

// Duration is how much of the call has been recorded.
func (r *Recorder) Duration() time.Duration {
	return time.Duration(r.frames.Load()) * FrameDuration
}

// Path is the recording's file name.
func (r *Recorder) Path() string { return r.path }

// Bounds on the parts of a recording's file name taken from the call, so a
// name stays far below the 255-byte limit of common file systems.
const (
	maxNumberInName = 32
	maxCallIDInName = 48
)

// RecordingPath returns where a call's recording goes:
// dir/2006-01-02/150405_<number>_<callID>.wav, with the date and time of
// start in local time (the operator's day, not UTC's). number and callID come
// from the network, so anything but ASCII letters, digits, '+' and '-' is
// replaced by '_' and each is cut to a bounded length: the result is always
// a plain file directly inside the date directory. If the file exists, _2,
// _3, ... is added before .wav. RecordingPath creates nothing.
func RecordingPath(dir string, start time.Time, callID, number string) string {
	start = start.Local()
	day := filepath.Join(dir, start.Format("2006-01-02"))
	base := start.Format("150405") + "_" + safeNamePart(number, maxNumberInName) +
		"_" + safeNamePart(callID, maxCallIDInName)
	p := filepath.Join(day, base+".wav")
	for n := 2; fileExists(p); n++ {
		p = filepath.Join(day, base+"_"+strconv.Itoa(n)+".wav")
	}
	return p
}

// fileExists reports whether something is at p. Any error other than "does
// not exist" counts as free too, so an unreadable directory cannot loop
// RecordingPath forever; CreateRecording will report the real problem.
func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// safeNamePart keeps ASCII letters, digits, '+' and '-' of s, turns every
// run of anything else (including '/', '.', control characters and invalid
// UTF-8) into one '_', trims '_' at the ends and cuts the result to max
// bytes. An empty result becomes "unknown".
func safeNamePart(s string, max int) string {
	b := make([]byte, 0, min(len(s), max))
	for i := 0; i < len(s) && len(b) < max; i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '+', c == '-':
			b = append(b, c)
		case len(b) > 0 && b[len(b)-1] != '_':
			b = append(b, '_')
		}
	}
	if out := strings.Trim(string(b), "_"); out != "" {
		return out
	}
	return "unknown"
}

// RecordMode is the recording policy from the config.
type RecordMode int

const (
	// RecordNever records nothing. It is the zero value: without an explicit
	// choice, no personal data is written.
	RecordNever RecordMode = iota
	// RecordAsk records a call only when the operator asks for it.
	RecordAsk
	// RecordAlways records every call from the moment it is answered.
	RecordAlways
)

// recordModeNames is indexed by RecordMode.
var recordModeNames = [...]string{RecordNever: "never", RecordAsk: "ask", RecordAlways: "always"}

// ParseRecordMode parses "always", "ask" or "never" (any case, surrounding
// spaces ignored). Anything else is an error, wrapping ErrRecordMode, that
// lists the allowed values.
func ParseRecordMode(s string) (RecordMode, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	for m, name := range recordModeNames {
		if v == name {
			return RecordMode(m), nil
		}
	}
	return RecordNever, fmt.Errorf("record mode %q: %w: must be one of always, ask, never", s, ErrRecordMode)
}

// String returns the config spelling of m.
func (m RecordMode) String() string {
	if m >= 0 && int(m) < len(recordModeNames) {
		return recordModeNames[m]
	}
	return "RecordMode(" + strconv.Itoa(int(m)) + ")"
}

// MarshalText makes RecordMode a config value.
func (m RecordMode) MarshalText() ([]byte, error) {
	if m < 0 || int(m) >= len(recordModeNames) {
		return nil, fmt.Errorf("%w: %d", ErrRecordMode, int(m))
	}
	return []byte(recordModeNames[m]), nil
}

// UnmarshalText parses a config value with ParseRecordMode.
func (m *RecordMode) UnmarshalText(b []byte) error {
	v, err := ParseRecordMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
