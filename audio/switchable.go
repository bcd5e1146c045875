package audio

import (
	"sync"
	"sync/atomic"
)

// Switchable is a Device whose sound card can be replaced while calls are
// using it: the operator plugs in another headset and picks it with a key.
// Calls keep the Switchable; frames go to whichever card is current. The
// few frames around a switch may be silent (the new card's first callbacks
// take a moment); nothing else in the call notices.
type Switchable struct {
	mu        sync.Mutex // serialises Switch, Suspend, Resume and Close
	cur       atomic.Pointer[deviceBox]
	suspended bool
}

// Suspend suspends the current card if it can be (see Suspender); a card
// switched to while suspended is suspended too.
func (s *Switchable) Suspend() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.suspended = true
	if sp, ok := s.cur.Load().d.(Suspender); ok {
		return sp.Suspend()
	}
	return nil
}

// Resume resumes the current card.
func (s *Switchable) Resume() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.suspended = false
	if sp, ok := s.cur.Load().d.(Suspender); ok {
		return sp.Resume()
	}
	return nil
}

type deviceBox struct{ d Device }

// NewSwitchable starts with d.
func NewSwitchable(d Device) *Switchable {
	s := &Switchable{}
	s.cur.Store(&deviceBox{d})
	return s
}

// Switch makes d the current card and closes the previous one.
func (s *Switchable) Switch(d Device) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sp, ok := d.(Suspender); ok && s.suspended {
		_ = sp.Suspend()
	}
	old := s.cur.Swap(&deviceBox{d})
	_ = old.d.Close()
}

// Current is the card in use.
func (s *Switchable) Current() Device { return s.cur.Load().d }

func (s *Switchable) ReadFrame(f []int16) error  { return s.cur.Load().d.ReadFrame(f) }
func (s *Switchable) WriteFrame(f []int16) error { return s.cur.Load().d.WriteFrame(f) }
func (s *Switchable) Name() string               { return s.cur.Load().d.Name() }
func (s *Switchable) Stats() DeviceStats         { return s.cur.Load().d.Stats() }

// Close closes the current card.
func (s *Switchable) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.Load().d.Close()
}
