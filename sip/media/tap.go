package media

import "github.com/opdesk/opdesk/audio/jitter"

// Tap is told, once per 20 ms tick of the media clock, the audio frame the
// stream sent (silence while it sent none: on hold, muted, during a DTMF
// digit) and the frame it played (silence without a jitter buffer or while
// not receiving). It is how the call recorder gets both sides in step.
//
// Frame runs on the send goroutine: it must not block or keep the slices.
type Tap interface {
	Frame(sent, played []int16)
}

type tapBox struct{ tap Tap }

// SetTap starts (t != nil) or stops (nil) telling t about every frame; safe
// at any time, from any goroutine. After SetTap(nil) returns, t may still
// be called for the frame in progress.
func (s *Stream) SetTap(t Tap) {
	if t == nil {
		s.tap.Store(nil)
		return
	}
	s.tap.Store(&tapBox{tap: t})
}

// JitterStats returns the jitter buffer's statistics, ok=false when the
// stream plays without one.
func (s *Stream) JitterStats() (st jitter.Stats, ok bool) {
	if s.jb == nil {
		return jitter.Stats{}, false
	}
	return s.jb.Stats(), true
}
