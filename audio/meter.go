package audio

import (
	"math"
	"sync/atomic"
	"time"
)

// Level meters and mute: the two audio controls the status bar shows.
//
// A Meter is written once per frame on the audio goroutine and read by the
// UI on its ~10 Hz tick, so it must give a poll every 100 ms something that
// means what the operator heard since the last one, without a lock on the
// audio path. It keeps two readings, as broadcast meters do:
//
//   - peak: instant attack, held for MeterPeakHold (200 ms, so a burst between
//     two polls is never missed), then falling at MeterPeakFall (20 dB/s,
//     the fall-back rate of a peak programme meter, IEC 60268-10);
//   - RMS: the mean square smoothed with a 300 ms time constant (the
//     integration time of a VU meter), which reads as loudness.
//
// Only the audio goroutine writes; it publishes both readings through
// atomics, and Level reads them from anywhere. The two are stored
// separately, so a poll may pair a peak and an RMS one frame apart, which no
// display can show.
//
// Levels are in dBFS by AES17: a full-scale sine reads 0 dBFS on both
// readings (so RMS dBFS = 20·log10(√2·RMS)); below MeterFloorDBFS, or in
// digital silence, they read MeterFloorDBFS.

const (
	// MeterPeakHold is how long a peak reading holds before it falls.
	MeterPeakHold = 200 * time.Millisecond
	// MeterPeakFall is how fast a peak reading falls after the hold, in dB/s.
	MeterPeakFall = 20.0
	// MeterRMSTime is the time constant of the RMS reading.
	MeterRMSTime = 300 * time.Millisecond
	// MeterFloorDBFS is the lowest level a Meter reports (the range of
	// 16-bit audio); silence reads as this.
	MeterFloorDBFS = -96.0
)

// DBFS converts a linear level (a fraction of full scale, as the peak
// reading of Meter.Linear) to dBFS, floored at MeterFloorDBFS. For an RMS
// level, convert DBFS(math.Sqrt2 * rms) to read a sine the same as its peak.
func DBFS(linear float64) float64 {
	if !(linear > 0) {
		return MeterFloorDBFS
	}
	return max(20*math.Log10(linear), MeterFloorDBFS)
}

// Meter measures the level of a stream of frames. The zero value is ready
// and reads silence. Update belongs to one goroutine (the audio path);
// Level and Linear are safe from any goroutine. None of them allocates.
type Meter struct {
	peak atomic.Uint32 // float32 bits: the held/falling peak, linear
	rms  atomic.Uint32 // float32 bits: the smoothed RMS, linear

	// Updater-only state.
	held     float64 // peak reading, linear
	holdLeft int     // samples until held starts to fall
	ms       float64 // smoothed mean square, linear²
}

// Update adds frame f to the meter. Call it once per frame, on one
// goroutine; it never blocks or allocates.
func (m *Meter) Update(f []int16) {
	if len(f) == 0 {
		return
	}
	var pk int32
	var sum float64
	for _, s := range f {
		v := int32(s)
		pk = max(pk, v, -v)
		sum += float64(v) * float64(v)
	}
	framePeak := float64(pk) / 32768
	frameMS := sum / float64(len(f)) / (32768 * 32768)
	dt := float64(len(f)) / SampleRate // seconds

	switch {
	case framePeak >= m.held:
		m.held = framePeak
		m.holdLeft = int(MeterPeakHold * SampleRate / time.Second)
	case m.holdLeft > 0:
		m.holdLeft -= len(f)
	default:
		m.held = max(framePeak, m.held*math.Pow(10, -MeterPeakFall*dt/20))
	}
	m.ms += (frameMS - m.ms) * (1 - math.Exp(-dt/MeterRMSTime.Seconds()))

	m.peak.Store(math.Float32bits(float32(m.held)))
	m.rms.Store(math.Float32bits(float32(math.Sqrt(m.ms))))
}

// Linear returns the readings as fractions of full scale: the peak (1 at
// full scale) and the RMS (≈0.707 for a full-scale sine, as RMS returns).
func (m *Meter) Linear() (peak, rms float64) {
	return float64(math.Float32frombits(m.peak.Load())), float64(math.Float32frombits(m.rms.Load()))
}

// Level returns the readings in dBFS (AES17: a full-scale sine is 0 dBFS on
// both), floored at MeterFloorDBFS.
func (m *Meter) Level() (peakDBFS, rmsDBFS float64) {
	p, r := m.Linear()
	return DBFS(p), DBFS(math.Sqrt2 * r)
}

// Mute is a mute switch that any goroutine may flip while the audio path
// reads it. The zero value is unmuted. A nil *Mute is never muted.
type Mute struct{ on atomic.Bool }

// Set mutes (true) or unmutes (false).
func (m *Mute) Set(muted bool) { m.on.Store(muted) }

// Muted reports whether m is muted.
func (m *Mute) Muted() bool { return m != nil && m.on.Load() }

// Toggle flips m and returns the new state.
func (m *Mute) Toggle() bool {
	for {
		old := m.on.Load()
		if m.on.CompareAndSwap(old, !old) {
			return !old
		}
	}
}

// MutedSource returns a Source that reads src and passes its frames on,
// or silence while m is muted. It reads src every frame even while muted, so
// src keeps its clock (a jitter buffer keeps draining, a file keeps its
// place). The frame where the state changes is faded out or in linearly over
// its 20 ms, so muting does not click. src's errors are passed on (with
// silence in f while muted).
//
// Its ReadFrame belongs to one goroutine and allocates nothing; m may be
// flipped from any goroutine.
func MutedSource(src Source, m *Mute) Source {
	return &mutedSource{src: src, mute: m}
}

type mutedSource struct {
	src  Source
	mute *Mute
	was  bool // muted during the previous frame
}

func (s *mutedSource) ReadFrame(f []int16) error {
	err := s.src.ReadFrame(f)
	muted := s.mute.Muted()
	was := s.was
	s.was = muted
	n := float32(len(f))
	switch {
	case muted && (was || err != nil):
		clear(f)
	case muted: // fade out: 1 → 0 on the last sample
		for i, v := range f {
			f[i] = int16(float32(v) * (1 - float32(i+1)/n))
		}
	case was: // fade in: 0 → 1 on the last sample
		for i, v := range f {
			f[i] = int16(float32(v) * float32(i+1) / n)
		}
	}
	return err
}
