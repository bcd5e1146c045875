package media

import "encoding/binary"

// RFC 4733 telephone-event timing used by the sender.
const (
	dtmfToneTicks  = 5 // event packets, one per frame: 100 ms of tone
	dtmfEndPackets = 3 // end-of-event packets (E bit), RFC 4733 §2.5.1.4
	dtmfGapTicks   = 3 // audio frames between two digits
	dtmfVolume     = 10
	dtmfQueueLen   = 64
	dtmfEventSize  = 4
)

// digitEvent maps a DTMF digit to its RFC 4733 §3.2 event code.
func digitEvent(d rune) (byte, bool) {
	switch {
	case d >= '0' && d <= '9':
		return byte(d - '0'), true
	case d == '*':
		return 10, true
	case d == '#':
		return 11, true
	case d >= 'A' && d <= 'D':
		return byte(d-'A') + 12, true
	case d >= 'a' && d <= 'd':
		return byte(d-'a') + 12, true
	}
	return 0, false
}

// eventDigit is the inverse of digitEvent for events 0-15.
func eventDigit(ev byte) (rune, bool) {
	switch {
	case ev <= 9:
		return rune('0' + ev), true
	case ev == 10:
		return '*', true
	case ev == 11:
		return '#', true
	case ev <= 15:
		return rune('A' + ev - 12), true
	}
	return 0, false
}

// putEvent writes the 4-byte RFC 4733 §2.3 payload:
// event | E R volume(6) | duration(16).
func putEvent(b []byte, ev byte, end bool, volume byte, duration uint16) {
	b[0] = ev
	b[1] = volume & 0x3f
	if end {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], duration)
}

// dtmfTx is the send-side state of the digit being played; owned by the send
// goroutine.
type dtmfTx struct {
	active  bool
	event   byte
	startTS uint32
	tick    int // packets sent for this digit
	gap     int // audio frames still to send before the next digit
}
