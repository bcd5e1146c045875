package audio

import (
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"
)

// The tones the operator hears (and one the far end hears), generated rather
// than played from files so they cost no assets, follow the config's tone set
// and can be retriggered without a click.
//
// Which tones, per tone set (config audio.tones = jp | us); levels are the
// peak of the waveform in dBFS (a sine at full scale is 0 dBFS):
//
//	tone            jp                                   us                                  level
//	ringback        400 Hz, AM by 16 Hz, 1 s on/2 s off  440+480 Hz, 2 s on/4 s off          -13
//	ringer          1000+1250 Hz, AM by 16 Hz,           800+1000 Hz, AM by 20 Hz,           -10
//	                1 s on/2 s off                       2 s on/4 s off
//	DTMF feedback   the digit's pair (697..941 × 1209..1633 Hz), 100 ms, then silence        -13
//	recording beep  1400 Hz, 0.5 s, repeated every 15 s (0.5 s on/14.5 s off)               -14
//
// Ringback is the call-progress tone of the caller's country: Japan's 呼出音
// (NTT: 400 Hz modulated by 16 Hz, 1 s on, 2 s off) and North America's
// audible ringing (the Precise Tone Plan's 440+480 Hz, 2 s on, 4 s off). The
// modulation depth is 90 %, as in Asterisk's tone generator for "400*16".
//
// The ringer is a local alert on the ring device, not a network tone, so its
// sound is ours to choose. It borrows the rhythm of the line's ringing
// voltage (Japan's 呼出信号 is 16 Hz, 1 s on, 2 s off; the Bell System's is
// 20 Hz, 2 s on, 4 s off): a pair of tones a major third apart, warbled at
// that ringing frequency, in that cadence. Pitched at 800-1250 Hz it cuts
// through a headset and cannot be mistaken for ringback (400-480 Hz) or the
// recording beep (1400 Hz); at -10 dBFS it is the loudest tone here.
//
// The recording beep is the US recorder warning tone: a half-second burst of
// 1400 Hz every 15 seconds, from the FCC's 1947 rules for recording devices
// on the telephone network (and the Bell System tariffs implementing them;
// defined in Federal Standard 1037C, "recorder warning tone"). Japan has no
// beep convention (recording is announced by voice), so both sets share this
// one; whether to mix it in at all is the caller's choice.
//
// Every burst starts and ends with a 5 ms raised-cosine ramp, so no burst
// edge clicks, and the oscillators run on through the silences, so the
// waveform is continuous across frames.

// toneRamp is the length of the raised-cosine fade at each burst edge.
const toneRamp = 5 * time.Millisecond

// Peak levels of the tones in dBFS (see the table above).
const (
	ringbackDBFS = -13
	ringerDBFS   = -10
	dtmfDBFS     = -13
	beepDBFS     = -14
)

// amDepth is the modulation depth of the amplitude-modulated tones: the
// envelope swings between 1-amDepth and 1 at the modulation rate.
const amDepth = 0.9

// DTMFToneDuration is how long the feedback tone of one key press sounds.
const DTMFToneDuration = 100 * time.Millisecond

// ToneSet selects the national variant of the tones (config audio.tones).
type ToneSet int

const (
	// TonesJP are Japanese tones (NTT 呼出音 ringback).
	TonesJP ToneSet = iota + 1
	// TonesUS are North American tones (Precise Tone Plan ringback).
	TonesUS
)

// toneSetNames are the accepted config values, in the order they are listed
// in errors.
var toneSetNames = [...]struct {
	name string
	set  ToneSet
	desc string
}{
	{"jp", TonesJP, "Japan"},
	{"us", TonesUS, "North America"},
}

// ParseToneSet parses the config value audio.tones ("jp" or "us", any case,
// surrounding spaces ignored). The error wraps ErrToneSet and names the
// allowed values.
func ParseToneSet(s string) (ToneSet, error) {
	v := strings.TrimSpace(s)
	for _, n := range toneSetNames {
		if strings.EqualFold(v, n.name) {
			return n.set, nil
		}
	}
	allowed := make([]string, 0, len(toneSetNames))
	for _, n := range toneSetNames {
		allowed = append(allowed, n.name+" ("+n.desc+")")
	}
	return 0, fmt.Errorf("audio.tones = %q: %w; use %s", s, ErrToneSet, strings.Join(allowed, " or "))
}

// String returns the config value of ts ("jp", "us").
func (ts ToneSet) String() string {
	for _, n := range toneSetNames {
		if n.set == ts {
			return n.name
		}
	}
	return fmt.Sprintf("ToneSet(%d)", int(ts))
}

// Ringback returns the ringback tone (see the table above): what the operator
// hears while the far end rings, when the network sends no early media. A
// ToneSet other than TonesUS gets the Japanese tone.
func (ts ToneSet) Ringback() *TonePattern {
	if ts == TonesUS {
		return newTonePattern("ringback us", dual(440, 480, ringbackDBFS), false, 2*time.Second, 4*time.Second)
	}
	return newTonePattern("ringback jp", modulated(single(400, ringbackDBFS), 16), false, time.Second, 2*time.Second)
}

// Ringer returns the local ringer for an incoming call, meant for the ring
// device (see the table above). A ToneSet other than TonesUS gets the
// Japanese pattern.
func (ts ToneSet) Ringer() *TonePattern {
	if ts == TonesUS {
		return newTonePattern("ringer us", modulated(dual(800, 1000, ringerDBFS), 20), false, 2*time.Second, 4*time.Second)
	}
	return newTonePattern("ringer jp", modulated(dual(1000, 1250, ringerDBFS), 16), false, time.Second, 2*time.Second)
}

// DTMF returns the feedback tone of one key: the key's DTMF pair for
// DTMFToneDuration, then silence for good (Done reports when it has played).
// digit is one of 0-9 * # A-D (a-d too); anything else is an error wrapping
// ErrDTMFDigit. It is the same in every tone set. To sound key after key from
// the UI, use a DTMFFeedback instead.
func (ts ToneSet) DTMF(digit rune) (*TonePattern, error) {
	spec, err := dtmfSpec(digit)
	if err != nil {
		return nil, err
	}
	return newTonePattern("dtmf "+string(digit), spec, true, DTMFToneDuration), nil
}

// RecordingBeep returns the recording warning tone (1400 Hz for 0.5 s, every
// 15 s, starting at once), to be mixed into what the far end hears while a
// call is recorded. It is the same in every tone set.
func (ts ToneSet) RecordingBeep() *TonePattern {
	return newTonePattern("recording beep", single(1400, beepDBFS), false, 500*time.Millisecond, 14500*time.Millisecond)
}

// dtmfLow and dtmfHigh are the DTMF row and column frequencies (ITU-T Q.23).
var (
	dtmfLow  = [4]float64{697, 770, 852, 941}
	dtmfHigh = [4]float64{1209, 1336, 1477, 1633}
	dtmfKeys = [4]string{"123A", "456B", "789C", "*0#D"}
)

// DTMFFrequencies returns the row (low) and column (high) frequency of a
// DTMF key, or an error wrapping ErrDTMFDigit.
func DTMFFrequencies(digit rune) (low, high float64, err error) {
	k, err := dtmfIndex(digit)
	if err != nil {
		return 0, 0, err
	}
	return dtmfLow[k/4], dtmfHigh[k%4], nil
}

// dtmfIndex returns row*4 + column of a DTMF key.
func dtmfIndex(digit rune) (int, error) {
	d := digit
	if d >= 'a' && d <= 'd' {
		d -= 'a' - 'A'
	}
	for r, row := range dtmfKeys {
		for c, k := range row {
			if k == d {
				return r*4 + c, nil
			}
		}
	}
	return 0, fmt.Errorf("key %q: %w (use 0-9, *, #, A-D)", digit, ErrDTMFDigit)
}

func dtmfSpec(digit rune) (toneSpec, error) {
	lo, hi, err := DTMFFrequencies(digit)
	if err != nil {
		return toneSpec{}, err
	}
	return dual(lo, hi, dtmfDBFS), nil
}

// toneSpec is what a TonePattern sounds while it is on: up to two sines,
// optionally amplitude-modulated.
type toneSpec struct {
	step     [2]float64 // radians per sample
	amp      [2]float64 // peak amplitude in sample units (0: component unused)
	modStep  float64    // modulation rate in radians per sample (0: none)
	modDepth float64
}

// dbfsAmp is the sample amplitude of a peak level in dBFS.
func dbfsAmp(dbfs float64) float64 { return 32767 * math.Pow(10, dbfs/20) }

func hzStep(hz float64) float64 { return 2 * math.Pi * hz / SampleRate }

func single(hz, dbfs float64) toneSpec {
	return toneSpec{step: [2]float64{hzStep(hz)}, amp: [2]float64{dbfsAmp(dbfs)}}
}

// dual is two equal sines whose sum peaks at dbfs.
func dual(hz1, hz2, dbfs float64) toneSpec {
	a := dbfsAmp(dbfs) / 2
	return toneSpec{step: [2]float64{hzStep(hz1), hzStep(hz2)}, amp: [2]float64{a, a}}
}

func modulated(s toneSpec, hz float64) toneSpec {
	s.modStep = hzStep(hz)
	s.modDepth = amDepth
	return s
}

// TonePattern is a Source of a cadenced tone: bursts of a tone (one or two
// sines, possibly amplitude-modulated) separated by silence, repeating, or
// played once (DTMF feedback). ReadFrame allocates nothing and never returns
// an error; a one-shot pattern reads as silence once it has played.
//
// A TonePattern is not safe for concurrent use: read it, and Reset it, on the
// goroutine that pulls frames.
type TonePattern struct {
	name    string
	spec    toneSpec
	next    toneSpec // becomes spec when a pending restart happens
	cadence []int    // segment lengths in samples: on, off, on, off, ...
	once    bool
	ramp    int

	phase    [2]float64
	modPhase float64
	seg      int // current cadence segment; even = on
	segPos   int // samples played of it
	done     bool
	env      float64 // edge envelope of the last sample (0: silent)
	release  int     // > 0: samples left of the fade-out before a restart
	relFrom  float64 // envelope the fade-out starts from
}

// newTonePattern returns a pattern of spec in the given on/off durations
// (starting with on); once plays them once, then silence.
func newTonePattern(name string, spec toneSpec, once bool, cadence ...time.Duration) *TonePattern {
	p := &TonePattern{name: name, spec: spec, next: spec, once: once,
		ramp: durSamples(toneRamp)}
	for _, d := range cadence {
		p.cadence = append(p.cadence, max(durSamples(d), 1))
	}
	return p
}

func durSamples(d time.Duration) int { return int(d * SampleRate / time.Second) }

// String names the pattern ("ringback jp", "dtmf 5", ...).
func (p *TonePattern) String() string { return p.name }

// Done reports whether a one-shot pattern (DTMF) has finished playing.
// Repeating patterns are never done.
func (p *TonePattern) Done() bool { return p.done && p.release == 0 }

// Reset restarts the pattern from the beginning of its first burst. If it
// is sounding, it first fades out over 5 ms (within the next frame), so a
// restart never clicks.
func (p *TonePattern) Reset() { p.restart(p.spec) }

// restart schedules a restart with spec, fading out first if sounding.
func (p *TonePattern) restart(spec toneSpec) {
	p.next = spec
	if p.release > 0 {
		return // already fading out; the restart picks up next
	}
	if p.env == 0 {
		p.begin()
		return
	}
	p.release = p.ramp
	p.relFrom = p.env
}

func (p *TonePattern) begin() {
	p.spec = p.next
	p.seg, p.segPos, p.done = 0, 0, false
}

// rampShape is the raised-cosine fade: 0 at x = 0, 1 at x = 1.
func rampShape(x float64) float64 { return 0.5 - 0.5*math.Cos(math.Pi*x) }

// ReadFrame fills f with the next len(f) samples of the pattern.
func (p *TonePattern) ReadFrame(f []int16) error {
	for i := range f {
		g := p.envelope()
		p.env = g
		var v float64
		if g > 0 {
			s := &p.spec
			v = s.amp[0] * math.Sin(p.phase[0])
			if s.amp[1] != 0 {
				v += s.amp[1] * math.Sin(p.phase[1])
			}
			if s.modStep != 0 {
				v *= 1 - s.modDepth*0.5*(1-math.Cos(p.modPhase))
			}
			v *= g
		}
		f[i] = int16(math.Round(v))
		p.advance()
	}
	return nil
}

// envelope returns the edge envelope of the next sample (0 in silence, 1 in
// the steady part of a burst) and moves the cadence on by one sample.
func (p *TonePattern) envelope() float64 {
	if p.release > 0 {
		p.release--
		g := p.relFrom * rampShape(float64(p.release)/float64(p.ramp))
		if p.release == 0 {
			p.begin()
		}
		return g
	}
	if p.done {
		return 0
	}
	n := p.cadence[p.seg]
	g := 0.0
	if p.seg%2 == 0 {
		g = 1
		if p.segPos < p.ramp {
			g = rampShape(float64(p.segPos) / float64(p.ramp))
		}
		if left := n - 1 - p.segPos; left < p.ramp {
			g = min(g, rampShape(float64(left)/float64(p.ramp)))
		}
	}
	p.segPos++
	if p.segPos == n {
		p.segPos = 0
		p.seg++
		if p.seg == len(p.cadence) {
			p.seg = 0
			p.done = p.once
		}
	}
	return g
}

// advance moves the oscillators on by one sample. They run through the
// silences too, so the phase never jumps.
func (p *TonePattern) advance() {
	s := &p.spec
	for k := range p.phase {
		p.phase[k] += s.step[k]
		if p.phase[k] >= 2*math.Pi {
			p.phase[k] -= 2 * math.Pi
		}
	}
	p.modPhase += s.modStep
	if p.modPhase >= 2*math.Pi {
		p.modPhase -= 2 * math.Pi
	}
}

// DTMFFeedback is a Source of key-press feedback: silence until Press, then
// the pressed key's DTMF pair for DTMFToneDuration. A press while a tone is
// still sounding fades it out (5 ms) and starts the new one.
//
// Press may be called from any goroutine (the UI); ReadFrame belongs to the
// goroutine that pulls frames. Neither allocates.
type DTMFFeedback struct {
	pending atomic.Int32 // 0: none; else 1 + dtmfIndex of the key
	p       *TonePattern
}

// NewDTMFFeedback returns a silent DTMFFeedback.
func NewDTMFFeedback() *DTMFFeedback {
	p := newTonePattern("dtmf feedback", toneSpec{}, true, DTMFToneDuration)
	p.done = true // silent until the first press
	return &DTMFFeedback{p: p}
}

// Press sounds digit (0-9 * # A-D, a-d too) from the next frame on. An
// unknown key is an error wrapping ErrDTMFDigit and changes nothing. If
// several presses land between two frames, the last one sounds.
func (d *DTMFFeedback) Press(digit rune) error {
	k, err := dtmfIndex(digit)
	if err != nil {
		return err
	}
	d.pending.Store(int32(1 + k))
	return nil
}

// ReadFrame fills f with the feedback tone, or silence.
func (d *DTMFFeedback) ReadFrame(f []int16) error {
	if k := d.pending.Swap(0); k != 0 {
		k--
		d.p.restart(dual(dtmfLow[k/4], dtmfHigh[k%4], dtmfDBFS))
	}
	return d.p.ReadFrame(f)
}

// String returns "dtmf feedback".
func (d *DTMFFeedback) String() string { return "dtmf feedback" }
