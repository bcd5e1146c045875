package crmclient

import (
	"fmt"
	"sync"
	"time"
	_ "time/tzdata" // calling windows need zone data on machines without /usr/share/zoneinfo (Windows desktops)
)

// The calling window is read by the CRM (which refuses to hand out a lead
// outside it) and by the desktop (which shows when calling may resume and
// refuses to dial a lead whose hours are over); both use the methods below, so
// they cannot disagree about a minute.
//
// The window is wall-clock time: "09:00–21:00" means 09:00 on the lead's clock
// whatever the date, so on the day a zone springs forward or falls back the
// window is an hour shorter or longer in real time. A wall time that does not
// exist that day (02:30 in New York on the spring-forward Sunday) is never
// reached: the window opens at the first instant its clock reads a time inside
// it (03:00).

// windowError is a malformed window or an unknown zone, with a message for
// people; it matches ErrInvalidWindow.
type windowError struct{ msg string }

func (e *windowError) Error() string        { return e.msg }
func (e *windowError) Is(target error) bool { return target == ErrInvalidWindow }

func windowErrorf(format string, args ...any) error {
	return &windowError{msg: fmt.Sprintf(format, args...)}
}

var zones sync.Map // name → *time.Location; time.LoadLocation reads and parses a file each time

// LoadZone returns the IANA time zone name ("Asia/Tokyo"), cached for the life
// of the process. "", "Local" and unknown names are refused with an error that
// wraps ErrInvalidWindow (a zone is only ever read here for a calling window):
// a window read in the machine's own zone would differ between the CRM and
// each desktop.
func LoadZone(name string) (*time.Location, error) {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	if name == "" || name == "Local" || len(name) > 64 {
		return nil, windowErrorf("time zone %q is not an IANA zone name such as Asia/Tokyo", name)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, windowErrorf("time zone %q is not an IANA zone name such as Asia/Tokyo", name)
	}
	zones.Store(name, l)
	return l, nil
}

// Validate checks that the window is two different times HH:MM ("24:00" only
// as End) and that TimeZone is a known IANA zone. Errors wrap ErrInvalidWindow.
func (w CallingWindow) Validate() error {
	_, err := w.parse("")
	return err
}

// OpenAt reports whether t falls inside the window, read on the clock of
// leadZone (an IANA name), or of w.TimeZone when leadZone is "". Start is
// inclusive, End exclusive; a window whose End is before its Start runs over
// midnight. A malformed window or an unknown zone is an error wrapping
// ErrInvalidWindow, never "closed": a typo must not silently stop a campaign.
func (w CallingWindow) OpenAt(t time.Time, leadZone string) (bool, error) {
	p, err := w.parse(leadZone)
	if err != nil {
		return false, err
	}
	return p.open(minuteOfDay(t.In(p.loc))), nil
}

// NextOpen returns t itself when the window is open at t, else the first
// instant after t at which it is open, read like OpenAt. On a day the zone's
// clock skips the window's start (springs forward over it) that is the instant
// of the jump; on a day it is turned back into the window, the instant of the
// turn. Errors as OpenAt.
func (w CallingWindow) NextOpen(t time.Time, leadZone string) (time.Time, error) {
	p, err := w.parse(leadZone)
	if err != nil {
		return time.Time{}, err
	}
	x := t
	// Each round either finds the window open, or moves to the instant the
	// clock reaches Start or to the next zone transition, whichever is first:
	// between x and there the offset is constant, so the clock runs on from
	// x's minute (outside the window) towards Start without entering the
	// window. A day holds at most a couple of transitions.
	for range 8 {
		lt := x.In(p.loc)
		m := minuteOfDay(lt)
		if p.open(m) {
			return x, nil
		}
		toStart := time.Duration((p.start-m+minutesPerDay)%minutesPerDay) * time.Minute
		next := x.Add(-time.Duration(lt.Second())*time.Second - time.Duration(lt.Nanosecond())).Add(toStart)
		if _, end := lt.ZoneBounds(); !end.IsZero() && !end.After(next) {
			next = end
		}
		x = next
	}
	return time.Time{}, windowErrorf("calling window %s does not open within a day of %s", w, t.Format(time.RFC3339))
}

const minutesPerDay = 24 * 60

// parsedWindow is a window in minutes after local midnight, in the zone it is
// read in.
type parsedWindow struct {
	start, end int
	loc        *time.Location
}

func (w CallingWindow) parse(leadZone string) (parsedWindow, error) {
	start, ok1 := parseClock(w.Start)
	end, ok2 := parseClock(w.End)
	switch {
	case !ok1 || !ok2 || start == end:
		return parsedWindow{}, windowErrorf("calling window %q–%q must be two different times HH:MM", w.Start, w.End)
	case start == minutesPerDay:
		return parsedWindow{}, windowErrorf("calling window %q–%q cannot start at 24:00; write 00:00", w.Start, w.End)
	}
	loc, err := LoadZone(w.TimeZone)
	if err != nil {
		return parsedWindow{}, err
	}
	if leadZone != "" {
		if loc, err = LoadZone(leadZone); err != nil {
			return parsedWindow{}, err
		}
	}
	return parsedWindow{start: start, end: end, loc: loc}, nil
}

// open reports whether the minute of the day m is inside the window.
func (p parsedWindow) open(m int) bool {
	if p.start < p.end {
		return m >= p.start && m < p.end
	}
	return m >= p.start || m < p.end // over midnight
}

func minuteOfDay(t time.Time) int { return t.Hour()*60 + t.Minute() }

// parseClock reads "HH:MM" (00:00–23:59; "24:00" as the end of the day).
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	var h, m int
	for _, c := range s[:2] {
		if c < '0' || c > '9' {
			return 0, false
		}
		h = h*10 + int(c-'0')
	}
	for _, c := range s[3:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		m = m*10 + int(c-'0')
	}
	if m > 59 || h > 24 || h == 24 && m != 0 {
		return 0, false
	}
	return h*60 + m, true
}
