package audio

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Device is a sound card (or the null device) opened for calls: duplex,
// 8 kHz mono 16-bit, read and written one 20 ms frame at a time by the
// call's media clock. The card runs at its own native rate and period;
// miniaudio converts, and the callback only copies between the card's
// buffers and two preallocated single-producer/single-consumer rings (see
// Ring), so it allocates nothing and waits for nothing.
//
// ReadFrame returns the oldest captured 20 ms (silence, counted as a capture
// underrun, while the card has not delivered yet); WriteFrame queues 20 ms
// for the speaker (dropped and counted when the card is not draining).
// Several calls may share one Device (one held, one active): the Go side
// is serialised by a mutex, the card side never locks.
type Device interface {
	Source
	Sink
	// Name says what is open, for the status bar and logs
	// ("PulseAudio: Built-in Audio Analog Stereo", "null device").
	Name() string
	// Stats returns the device's counters.
	Stats() DeviceStats
	// Close stops the card and releases it.
	Close() error
}

// Suspender is implemented by a Device that can stop its card while no
// call needs it, so that an idle, registered phone costs no CPU: a running
// card calls back a hundred times a second. Resume starts it again; the
// first callbacks may take a second or two (PulseAudio), which the ringing
// before an answer hides. Both are safe from any goroutine and idempotent.
type Suspender interface {
	Suspend() error
	Resume() error
}

// DeviceStats are a Device's counters since it was opened.
type DeviceStats struct {
	Callbacks         uint64 // sound-card callbacks run
	CaptureOverruns   uint64 // callbacks whose input did not fit in the capture ring (the media clock stalled)
	CaptureUnderruns  uint64 // frames read before the card delivered them (silence returned)
	CaptureSkips      uint64 // frames of stale capture dropped to keep the delay low (clock drift)
	PlaybackUnderruns uint64 // times the speaker ran dry while a call was feeding it
	PlaybackOverruns  uint64 // frames dropped because the speaker was not draining
}

// DeviceInfo describes one device a backend offers.
type DeviceInfo struct {
	Backend string // "pulseaudio", "alsa", "null"
	Kind    string // "playback" or "capture"
	ID      string // the backend's id, as hex (stable across runs for PulseAudio and ALSA)
	Name    string // the name people see
	Default bool   // the backend's default device of this kind
}

// DeviceConfig says which sound card to open.
type DeviceConfig struct {
	// Backend is "auto" (PulseAudio, then ALSA), "pulseaudio", "alsa" or
	// "null" (a silent device that still runs in real time). Empty = auto.
	Backend string
	// Input and Output name the capture and playback device by id or name
	// (exact, or a case-insensitive part of the name that matches one
	// device); "" or "default" is the backend's default. Input "off" opens
	// playback only (the ringer).
	Input, Output string
	// PeriodMs is the card's period in milliseconds (default 20, one
	// frame: half the callbacks of 10 ms for a few ms more delay).
	PeriodMs int
	// Log, when set, is told miniaudio's own messages.
	Log func(msg string)
}

// Errors of OpenDevice and ListDevices.
var (
	// ErrNoSoundCard means no backend could open a sound card: no
	// PulseAudio server and no usable ALSA device, or a build without cgo.
	ErrNoSoundCard = errors.New("no sound card could be opened")
	// ErrDeviceNotFound means the configured device name or id matches no
	// device, or several.
	ErrDeviceNotFound = errors.New("audio device not found")
)

// Backends is the list of backend names DeviceConfig.Backend accepts.
var Backends = []string{"auto", "pulseaudio", "alsa", "null"}

// ParseBackend checks a backend name; "" and "pulse" are accepted as "auto"
// and "pulseaudio".
func ParseBackend(s string) (string, error) {
	switch b := strings.ToLower(strings.TrimSpace(s)); b {
	case "", "auto":
		return "auto", nil
	case "pulse", "pulseaudio":
		return "pulseaudio", nil
	case "alsa", "null":
		return b, nil
	}
	return "", fmt.Errorf("audio backend %q: must be one of %s", s, strings.Join(Backends, ", "))
}

// Per-device ring sizes and delay bounds, in samples.
const (
	ringSamples = 16 * FrameSamples // 320 ms: room for a stalled clock, not a delay target
	// maxCaptureLag is how much captured audio may wait for the media
	// clock; beyond it the oldest is dropped, so drift between the card's
	// clock and the system clock never grows the mouth-to-ear delay.
	maxCaptureLag = 2 * FrameSamples
	// maxPlaybackLag is how much audio may wait for the speaker before new
	// frames are dropped, for the same reason in the other direction.
	maxPlaybackLag = 3 * FrameSamples
)

// duplex is the part of a Device shared by every backend: the two rings,
// the counters, the Go-side mutex and the callback body.
type duplex struct {
	capture, playback *Ring

	mu      sync.Mutex // serialises ReadFrame/WriteFrame (several calls' clocks)
	silence []int16    // one frame of zeros, to prime the speaker

	fed       atomic.Bool // the speaker has been fed since it last ran dry
	callbacks atomic.Uint64
	capOver   atomic.Uint64
	capUnder  atomic.Uint64
	capSkip   atomic.Uint64
	playUnder atomic.Uint64
	playOver  atomic.Uint64
}

func newDuplex() *duplex {
	return &duplex{
		capture:  NewRing(ringSamples),
		playback: NewRing(ringSamples),
		silence:  make([]int16, FrameSamples),
	}
}

// process is the sound-card callback: out and in are the card's buffers of
// mono 16-bit samples in host byte order (nil when that direction is not
// open). It copies, counts, and returns; it allocates nothing and takes no
// lock.
func (d *duplex) process(out, in []byte) {
	d.callbacks.Add(1)
	if len(in) >= 2 {
		pcm := unsafe.Slice((*int16)(unsafe.Pointer(&in[0])), len(in)/2)
		if d.capture.Write(pcm) < len(pcm) {
			d.capOver.Add(1)
		}
	}
	if len(out) >= 2 {
		pcm := unsafe.Slice((*int16)(unsafe.Pointer(&out[0])), len(out)/2)
		n := d.playback.Read(pcm)
		if n < len(pcm) {
			clear(pcm[n:])
			if d.fed.Swap(false) {
				d.playUnder.Add(1)
			}
		}
	}
}

// ReadFrame returns the oldest captured frame.
func (d *duplex) ReadFrame(f []int16) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if lag := d.capture.Len() - len(f); lag > maxCaptureLag {
		d.capture.Discard(lag - maxCaptureLag + FrameSamples/2)
		d.capSkip.Add(1)
	}
	if n := d.capture.Read(f); n < len(f) {
		clear(f[n:])
		d.capUnder.Add(1)
	}
	return nil
}

// WriteFrame queues f for the speaker. After the speaker ran dry it is
// primed with one frame of silence first, so that the next callback does
// not find half a frame and run dry again at once.
func (d *duplex) WriteFrame(f []int16) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.playback.Len() > maxPlaybackLag {
		d.playOver.Add(1)
		return nil
	}
	if !d.fed.Load() {
		if d.playback.Len() == 0 {
			d.playback.Write(d.silence)
		}
		d.fed.Store(true)
	}
	if d.playback.Write(f) < len(f) {
		d.playOver.Add(1)
	}
	return nil
}

// Stats returns the counters.
func (d *duplex) Stats() DeviceStats {
	return DeviceStats{
		Callbacks:         d.callbacks.Load(),
		CaptureOverruns:   d.capOver.Load(),
		CaptureUnderruns:  d.capUnder.Load(),
		CaptureSkips:      d.capSkip.Load(),
		PlaybackUnderruns: d.playUnder.Load(),
		PlaybackOverruns:  d.playOver.Load(),
	}
}

// NullDevice is a Device without a sound card and without a clock of its
// own: ReadFrame returns silence, WriteFrame discards. It is what opdesk
// runs with when there is no sound card, and what builds without cgo have.
type NullDevice struct{}

func (NullDevice) ReadFrame(f []int16) error { clear(f); return nil }
func (NullDevice) WriteFrame([]int16) error  { return nil }
func (NullDevice) Name() string              { return "null device (no sound card)" }
func (NullDevice) Stats() DeviceStats        { return DeviceStats{} }
func (NullDevice) Close() error              { return nil }

// pickDevice finds the device spec names among infos: "" or "default" is
// the default (ok with a nil result), else an exact id, an exact name, or
// a case-insensitive part of exactly one name.
func pickDevice(kind, spec string, infos []DeviceInfo) (*DeviceInfo, error) {
	s := strings.TrimSpace(spec)
	if s == "" || strings.EqualFold(s, "default") {
		return nil, nil
	}
	for i := range infos {
		if infos[i].ID == s || infos[i].Name == s {
			return &infos[i], nil
		}
	}
	var hits []*DeviceInfo
	for i := range infos {
		if strings.Contains(strings.ToLower(infos[i].Name), strings.ToLower(s)) {
			hits = append(hits, &infos[i])
		}
	}
	if len(hits) == 1 {
		return hits[0], nil
	}
	names := make([]string, 0, len(infos))
	for _, in := range infos {
		names = append(names, fmt.Sprintf("%q", in.Name))
	}
	what := "matches no"
	if len(hits) > 1 {
		what = fmt.Sprintf("matches %d", len(hits))
	}
	return nil, fmt.Errorf("%w: %s device %q %s device; available: %s (see opdesk audio list)",
		ErrDeviceNotFound, kind, spec, what, strings.Join(names, ", "))
}
