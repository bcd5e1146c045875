package sip

import "github.com/opdesk/opdesk/audio"

// The audio of a monitor session. Two media clocks take part, each the
// 20 ms send clock of its own stream: the monitored call's (customer ⇄
// operator) and the session's (agent's desk ⇄ supervisor). They never wait
// for each other: four preallocated single-producer/single-consumer rings
// sit between them, each written by exactly one clock and read by the
// other.
//
//	ring      producer                          consumer
//	customer  monitored call's sink (what the   session's source
//	          operator hears of the customer)
//	operator  monitored call's source (mic)     session's source
//	toEar     session's sink (SV's voice)       monitored call's sink
//	toCust    session's sink (SV's voice)       monitored call's source
//
// The SV's voice goes into two rings because the monitored call's sink and
// source may run on different goroutines (without a jitter buffer the sink
// is fed by the RTP reader), and a ring has one consumer.
//
// Whole 20 ms frames go in and out. A producer drops a frame that does not
// fit (the other clock stopped); a consumer reads silence while a ring is
// dry and drops what is older than monitorMaxLag first, so a drift between
// the two clocks, or one that stalled, never grows the delay.
//
// Nothing here allocates, locks or logs per frame: proven by
// TestMonitorAudioNoAllocs and BenchmarkMonitorFrame.

const (
	// monitorRingSamples is each ring's room: at least 160 ms (NewRing
	// rounds up to 256 ms), for a clock that stalls for a moment; it is
	// not a delay target.
	monitorRingSamples = 8 * audio.FrameSamples
	// monitorMaxLag is the most audio a ring keeps for its consumer (60
	// ms); older frames are dropped as the consumer reads.
	monitorMaxLag = 3 * audio.FrameSamples
)

// Monitor modes: what a supervisor's MonitorGrant.Mode may say.
const (
	// MonitorListen: the supervisor hears the customer and the operator;
	// nobody hears the supervisor.
	MonitorListen = "listen"
	// MonitorWhisper: as listen, and the operator hears the supervisor;
	// the customer does not.
	MonitorWhisper = "whisper"
	// MonitorBarge: everybody hears everybody.
	MonitorBarge = "barge"
)

// modeGains returns how loud the supervisor is in the operator's ear and
// in what the customer hears in mode, and whether mode is one of the three.
func modeGains(mode string) (ear, customer float32, ok bool) {
	switch mode {
	case MonitorListen:
		return 0, 0, true
	case MonitorWhisper:
		return 1, 0, true
	case MonitorBarge:
		return 1, 1, true
	}
	return 0, 0, false
}

// monitorAudio is the rings and gains between one monitored call and its
// session. Each method below says which clock it belongs to.
type monitorAudio struct {
	customer, operator *audio.Ring
	ear, cust          svPath
}

func newMonitorAudio() *monitorAudio {
	return &monitorAudio{
		customer: audio.NewRing(monitorRingSamples),
		operator: audio.NewRing(monitorRingSamples),
		ear:      newSVPath(),
		cust:     newSVPath(),
	}
}

// setMode switches the supervisor's gains; safe from any goroutine. Each
// path ramps to its new gain across its next frame (audio.Mixer), so a
// switch does not click. An unknown mode changes nothing.
func (a *monitorAudio) setMode(mode string) {
	ear, cust, ok := modeGains(mode)
	if !ok {
		return
	}
	a.ear.mix.SetGain(0, 0, ear)
	a.cust.mix.SetGain(0, 0, cust)
}

// heard is the monitored call's sink tap (its clock): f is what the
// operator hears of the customer, before the key feedback; out gets f with
// the supervisor's voice added at the ear gain. f and out may be the same.
func (a *monitorAudio) heard(f, out []int16) {
	ringPut(a.customer, f)
	copy(out, f)
	a.ear.addTo(out)
}

// spoken is the monitored call's source tap (its clock): f is the
// operator's microphone frame, which the supervisor hears; the supervisor's
// voice is then added to it at the customer gain, in place.
func (a *monitorAudio) spoken(f []int16) {
	ringPut(a.operator, f)
	a.cust.addTo(f)
}

// svPath carries the supervisor's voice to one listener: a ring from the
// session's sink and a one-input mixer for the ramped gain, both consumed
// on the listener's clock.
type svPath struct {
	ring *audio.Ring
	mix  *audio.Mixer
	out  []int16
}

func newSVPath() svPath {
	return svPath{
		ring: audio.NewRing(monitorRingSamples),
		mix:  audio.NewMixer(1, 1),
		out:  make([]int16, audio.FrameSamples),
	}
}

// addTo takes the next frame of the supervisor's voice (silence when there
// is none) and adds it to f at the path's gain. The ring is read whatever
// the gain, so switching to whisper never plays stale audio.
func (p *svPath) addTo(f []int16) {
	ringTake(p.ring, p.mix.Input(0))
	p.mix.Mix(0, p.out)
	addSat(f, p.out)
}

// ringPut queues f whole, or not at all when the ring has no room for it
// (its consumer's clock has stopped). Producer side only.
func ringPut(r *audio.Ring, f []int16) {
	if r.Cap()-r.Len() >= len(f) {
		r.Write(f)
	}
}

// ringTake fills f with the oldest queued frame after dropping what is
// older than monitorMaxLag, or with silence when less than a frame is
// queued. Consumer side only.
func ringTake(r *audio.Ring, f []int16) {
	if extra := r.Len() - monitorMaxLag; extra > 0 {
		r.Discard(extra)
	}
	if r.Len() < len(f) {
		clear(f)
		return
	}
	r.Read(f)
}

// monitorSource is a monitor session's input: what the supervisor hears,
// the customer and the operator (in every mode). Pulled by the session's
// clock only; it never touches a sound card.
type monitorSource struct {
	au      *monitorAudio
	scratch []int16
}

func (s *monitorSource) ReadFrame(f []int16) error {
	ringTake(s.au.customer, f)
	ringTake(s.au.operator, s.scratch[:len(f)])
	addSat(f, s.scratch[:len(f)])
	return nil
}

// monitorSink is a monitor session's output: the supervisor's voice, queued
// for the operator's ear and for the customer (the modes' gains decide
// whether they hear it). Pushed by the session's stream only.
type monitorSink struct{ au *monitorAudio }

func (s *monitorSink) WriteFrame(f []int16) error {
	ringPut(s.au.ear.ring, f)
	ringPut(s.au.cust.ring, f)
	return nil
}
