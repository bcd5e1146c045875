package audio

import (
	"math"
	"sync/atomic"
)

// MaxGain is the largest gain a Mixer applies (+18 dB); larger gains are
// clamped to it.
const MaxGain = 8

// Mixer mixes a fixed number of inputs into a fixed number of outputs, each
// output with its own gain per input: the matrix behind the supervisor
// features. With inputs customer, agent, sv and outputs agentEar, svEar,
// toCustomer:
//
//	listen:  svEar = customer + agent
//	whisper: agentEar = customer + sv            (toCustomer = agent only)
//	barge:   agentEar = customer + sv; toCustomer = agent + sv
//
// and switching between them is SetGain calls, at any time, from any
// goroutine.
//
// The contract with the tick goroutine (the one media clock that drives the
// mix, once per 20 ms frame):
//
//  1. fill every input: copy into Input(in), or WriteInput, or ReadInput from
//     a Source; an input with nothing this tick must be given silence
//     (WriteInput(in, nil)), or last tick's frame plays again;
//  2. then call Mix once per output.
//
// Input, WriteInput, ReadInput and Mix belong to that one goroutine and are
// not safe for concurrent use. SetGain and Gain are safe from any goroutine
// (the gains are atomics). Mix allocates nothing and takes no lock.
//
// A gain change takes effect at the next Mix of that output and is ramped
// linearly across that frame (20 ms), so switching a party in or out does
// not click.
//
// Hand-written, not a DSP library: it is a multiply-add per sample with
// saturation, and the value is in the fixed sizes, atomics and ramp.
type Mixer struct {
	ins, outs int
	frames    []int16         // ins × FrameSamples, the inputs of this tick
	gains     []atomic.Uint32 // outs × ins, float32 bits: the target gain
	applied   []float32       // outs × ins: the gain the last Mix ended on
}

// NewMixer returns a Mixer of inputs inputs and outputs outputs, every gain
// 0 (nothing heard) and every input silent. It panics if either is negative.
func NewMixer(inputs, outputs int) *Mixer {
	if inputs < 0 || outputs < 0 {
		panic("audio: NewMixer with a negative size")
	}
	return &Mixer{
		ins:     inputs,
		outs:    outputs,
		frames:  make([]int16, inputs*FrameSamples),
		gains:   make([]atomic.Uint32, inputs*outputs),
		applied: make([]float32, inputs*outputs),
	}
}

// Inputs returns the number of inputs.
func (m *Mixer) Inputs() int { return m.ins }

// Outputs returns the number of outputs.
func (m *Mixer) Outputs() int { return m.outs }

func (m *Mixer) cell(out, in int) int {
	if out < 0 || out >= m.outs || in < 0 || in >= m.ins {
		panic("audio: Mixer output or input out of range")
	}
	return out*m.ins + in
}

// SetGain sets how loud input in is in output out: 1 is as is, 0 is not
// heard, 0.5 is -6 dB. Gains are clamped to [0, MaxGain]; NaN counts as 0.
// Safe from any goroutine, during a call. It panics if out or in is out of
// range.
func (m *Mixer) SetGain(out, in int, gain float32) {
	switch {
	case !(gain > 0): // also NaN
		gain = 0
	case gain > MaxGain:
		gain = MaxGain
	}
	m.gains[m.cell(out, in)].Store(math.Float32bits(gain))
}

// Gain returns the gain last set for input in in output out. Safe from any
// goroutine.
func (m *Mixer) Gain(out, in int) float32 {
	return math.Float32frombits(m.gains[m.cell(out, in)].Load())
}

// Input returns input in's slot for this tick, FrameSamples long, to be
// filled in place.
func (m *Mixer) Input(in int) []int16 {
	if in < 0 || in >= m.ins {
		panic("audio: Mixer input out of range")
	}
	return m.frames[in*FrameSamples : (in+1)*FrameSamples : (in+1)*FrameSamples]
}

// WriteInput copies f into input in's slot; a short (or nil) f is followed
// by silence.
func (m *Mixer) WriteInput(in int, f []int16) {
	slot := m.Input(in)
	n := copy(slot, f)
	clear(slot[n:])
}

// ReadInput fills input in's slot from src. On error the slot is silence
// and the error is returned (io.EOF for a source that has ended).
func (m *Mixer) ReadInput(in int, src Source) error {
	slot := m.Input(in)
	if err := src.ReadFrame(slot); err != nil {
		clear(slot)
		return err
	}
	return nil
}

// Mix writes output out of this tick into dst: the sum of every input times
// its gain, rounded and saturated to int16 (a loud sum flattens at full
// scale rather than wrapping round to the opposite sign). dst should be
// FrameSamples long; only that many samples are written. It panics if out is
// out of range.
func (m *Mixer) Mix(out int, dst []int16) {
	if out < 0 || out >= m.outs {
		panic("audio: Mixer output out of range")
	}
	n := min(len(dst), FrameSamples)
	var acc [FrameSamples]float32
	for in := range m.ins {
		c := out*m.ins + in
		target := math.Float32frombits(m.gains[c].Load())
		from := m.applied[c]
		m.applied[c] = target
		if from == 0 && target == 0 {
			continue
		}
		src := m.frames[in*FrameSamples : in*FrameSamples+n]
		if from == target {
			for i, s := range src {
				acc[i] += float32(s) * target
			}
			continue
		}
		// Ramp from the previous gain to the new one across the frame,
		// reaching target on the last sample.
		step := (target - from) / float32(n)
		for i, s := range src {
			acc[i] += float32(s) * (from + step*float32(i+1))
		}
	}
	for i := range n {
		dst[i] = mixerSaturate(acc[i])
	}
}

// mixerSaturate rounds v to the nearest int16, clamping at full scale.
func mixerSaturate(v float32) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	}
	return int16(math.RoundToEven(float64(v)))
}
