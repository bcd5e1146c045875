package sip

import (
	"sync/atomic"
	"time"

	"github.com/opdesk/opdesk/audio"
)

// The operator's ear and mouth around each call: level meters for the
// status bar, the local DTMF key feedback, the recording beep the far end
// hears, ringback while the other side rings and the ringer for incoming
// calls. None of this touches a call whose ends are files or tones, except
// the meters.

// AudioStatus is the sound side of Status: what is open and the levels.
type AudioStatus struct {
	Device string `json:"device,omitempty"`
	// Peak and RMS levels in dBFS (-96 = silence), held and smoothed for a
	// status bar polling a few times a second.
	MicPeakDBFS     float64            `json:"mic_peak_dbfs"`
	MicRMSDBFS      float64            `json:"mic_rms_dbfs"`
	SpeakerPeakDBFS float64            `json:"speaker_peak_dbfs"`
	SpeakerRMSDBFS  float64            `json:"speaker_rms_dbfs"`
	Stats           *audio.DeviceStats `json:"stats,omitempty"`
}

// phoneAudio is the Phone's share of the sound: one meter per direction,
// the DTMF feedback that sounds in the operator's ear.
type phoneAudio struct {
	mic, speaker audio.Meter
	feedback     *audio.DTMFFeedback
}

func newPhoneAudio() *phoneAudio {
	return &phoneAudio{feedback: audio.NewDTMFFeedback()}
}

func (p *Phone) audioStatus() AudioStatus {
	var st AudioStatus
	st.MicPeakDBFS, st.MicRMSDBFS = p.au.mic.Level()
	st.SpeakerPeakDBFS, st.SpeakerRMSDBFS = p.au.speaker.Level()
	if d := p.cfg.Device; d != nil {
		st.Device = d.Name()
		ds := d.Stats()
		st.Stats = &ds
	}
	return st
}

// outputIsDevice reports whether calls play on the sound card.
func (p *Phone) outputIsDevice() bool {
	return p.cfg.Device != nil && audio.IsDeviceSpec(p.cfg.Output)
}

// callSource is a call's input: it meters what the operator says, hands
// the microphone to a monitor session (monitor_audio.go) and mixes the
// supervisor in while barging, and, while the call is recorded with a
// beep, mixes the recording beep into what the far end hears. Pulled by
// the call's media clock only.
//
// The supervisor hears the microphone as it is: mute (which the stream
// applies after this) keeps the customer from hearing the operator, not
// the supervisor, so an operator can answer a whisper on mute.
type callSource struct {
	src     audio.Source
	meter   *audio.Meter
	mon     atomic.Pointer[monitorAudio] // nil: not monitored
	beep    *audio.TonePattern           // nil: no beep
	beeping func() bool
	scratch []int16
}

func (s *callSource) ReadFrame(f []int16) error {
	err := s.src.ReadFrame(f)
	s.meter.Update(f)
	if m := s.mon.Load(); m != nil {
		if err != nil {
			clear(f) // the stream sends silence for a failed source
		}
		m.spoken(f)
	}
	if s.beep != nil && s.beeping() {
		_ = s.beep.ReadFrame(s.scratch)
		addSat(f, s.scratch)
	}
	return err
}

// callSink is a call's output: it meters what the operator hears, hands
// the customer to a monitor session and mixes a whispering or barging
// supervisor in, and mixes the key-press feedback in. Neither the
// supervisor nor the feedback is in the recording: the stream's Tap sees
// the frame before this.
type callSink struct {
	sink     audio.Sink
	meter    *audio.Meter
	mon      atomic.Pointer[monitorAudio] // nil: not monitored
	feedback *audio.DTMFFeedback          // nil: none
	scratch  []int16
}

func (s *callSink) WriteFrame(f []int16) error {
	s.meter.Update(f)
	m := s.mon.Load()
	if s.feedback == nil && m == nil {
		return s.sink.WriteFrame(f)
	}
	out := s.scratch[:len(f)]
	if m != nil {
		m.heard(f, out)
	} else {
		copy(out, f)
	}
	if s.feedback != nil && s.feedback.ReadFrame(s.scratch[len(f):][:len(f)]) == nil {
		addSat(out, s.scratch[len(f):][:len(f)])
	}
	return s.sink.WriteFrame(out)
}

func addSat(dst, src []int16) {
	for i := range dst {
		v := int32(dst[i]) + int32(src[i])
		dst[i] = int16(min(max(v, -32768), 32767))
	}
}

// wrapAudio puts the meters, feedback and beep around a call's ends.
func (c *call) wrapAudio() {
	p := c.p
	onDevice := p.outputIsDevice()
	snk := &callSink{sink: c.sink, meter: &p.au.speaker, scratch: make([]int16, 2*audio.FrameSamples)}
	if onDevice {
		snk.feedback = p.au.feedback
	}
	src := &callSource{src: c.src, meter: &p.au.mic, scratch: make([]int16, audio.FrameSamples)}
	if p.cfg.RecordBeep {
		src.beep = p.cfg.Tones.RecordingBeep()
		src.beeping = func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.rec != nil
		}
	}
	c.srcRaw, c.sinkRaw = c.src, c.sink
	c.src, c.sink = src, snk
	c.taps = callTaps{src: src, sink: snk}
}

// tonePlayer plays a tone pattern on a device every 20 ms until stopped.
type tonePlayer struct {
	stop chan struct{}
	done chan struct{}
}

// playTone starts pattern on dev; stop it with (*tonePlayer).halt.
func playTone(dev audio.Device, pattern audio.Source) *tonePlayer {
	tp := &tonePlayer{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(tp.done)
		f := make([]int16, audio.FrameSamples)
		tick := time.NewTicker(audio.FrameDuration)
		defer tick.Stop()
		for {
			select {
			case <-tp.stop:
				clear(f)
				_ = dev.WriteFrame(f) // end on silence, not mid-cycle
				return
			case <-tick.C:
				_ = pattern.ReadFrame(f)
				_ = dev.WriteFrame(f)
			}
		}
	}()
	return tp
}

func (tp *tonePlayer) halt() {
	if tp == nil {
		return
	}
	select {
	case <-tp.stop:
	default:
		close(tp.stop)
	}
	<-tp.done
}

// startRingback plays the ringback tone to the operator while the far end
// rings without sending early media (sound card only).
func (c *call) startRingback() {
	if !c.p.outputIsDevice() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tone != nil || c.state == StateEnded {
		return
	}
	c.tone = playTone(c.p.cfg.Device, c.p.cfg.Tones.Ringback())
}

// startRinger rings for an incoming call: on the ring device when there is
// one, else on the sound card when no other call is using it.
func (c *call) startRinger() {
	p := c.p
	dev := p.cfg.Ringer
	if dev == nil {
		if !p.outputIsDevice() || p.otherCallActive(c) {
			return
		}
		dev = p.cfg.Device
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tone != nil || c.state == StateEnded {
		return
	}
	c.tone = playTone(dev, p.cfg.Tones.Ringer())
}

// stopTone ends ringback or ringing.
func (c *call) stopTone() {
	c.mu.Lock()
	tp := c.tone
	c.tone = nil
	c.mu.Unlock()
	tp.halt()
}

// otherCallActive reports whether a call other than c is established.
func (p *Phone) otherCallActive(c *call) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, o := range p.calls {
		if o != c && o.getState().established() {
			return true
		}
	}
	return false
}

// deviceIdleGrace is how long the sound card keeps running after the last
// call before it is suspended (a quick redial does not wait for it).
const deviceIdleGrace = 5 * time.Second

// cards are the sound cards the phone may suspend while idle.
func (p *Phone) cards() []audio.Suspender {
	var out []audio.Suspender
	for _, d := range []audio.Device{p.cfg.Device, p.cfg.Ringer} {
		if sp, ok := d.(audio.Suspender); ok {
			out = append(out, sp)
		}
	}
	return out
}

// holdCards resumes the sound cards for a call (ringing included).
func (p *Phone) holdCards() {
	p.devMu.Lock()
	defer p.devMu.Unlock()
	p.devUsers++
	if p.devTimer != nil {
		p.devTimer.Stop()
		p.devTimer = nil
	}
	for _, sp := range p.cards() {
		if err := sp.Resume(); err != nil {
			p.log.Warn("audio: resuming the sound card failed", "err", err)
		}
	}
}

// releaseCards lets the cards be suspended once no call has needed them
// for deviceIdleGrace.
func (p *Phone) releaseCards() {
	p.devMu.Lock()
	defer p.devMu.Unlock()
	if p.devUsers > 0 {
		p.devUsers--
	}
	p.scheduleSuspend()
}

// scheduleSuspend arms the idle timer; devMu must be held.
func (p *Phone) scheduleSuspend() {
	if p.devUsers > 0 || len(p.cards()) == 0 {
		return
	}
	if p.devTimer != nil {
		p.devTimer.Stop()
	}
	p.devTimer = time.AfterFunc(deviceIdleGrace, func() {
		p.devMu.Lock()
		defer p.devMu.Unlock()
		if p.devUsers > 0 {
			return
		}
		for _, sp := range p.cards() {
			if err := sp.Suspend(); err != nil {
				p.log.Warn("audio: suspending the idle sound card failed", "err", err)
			}
		}
		p.log.Debug("audio: sound card suspended while idle")
	})
}
