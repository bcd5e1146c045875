package sdp

import "strconv"

// Direction is the media direction attribute of RFC 3264 §5.1, always seen
// from the side that wrote it: SendOnly in the peer's SDP means the peer
// sends and we receive. The zero value is SendRecv, the default when an SDP
// carries no direction attribute.
type Direction int

// Directions, named after their SDP attributes.
const (
	SendRecv Direction = iota // a=sendrecv: media both ways (the default)
	SendOnly                  // a=sendonly: putting the peer on hold (RFC 3264 §8.4)
	RecvOnly                  // a=recvonly: the answer to a hold
	Inactive                  // a=inactive: no media either way
)

// String returns the SDP attribute name ("sendrecv", "sendonly", "recvonly",
// "inactive").
func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return "Direction(" + strconv.Itoa(int(d)) + ")"
}

// Reverse returns the direction as seen from the other end: what an answerer
// that wants everything the offerer allows puts in its answer (RFC 3264 §6.1).
// SendOnly and RecvOnly swap; SendRecv and Inactive stay.
func (d Direction) Reverse() Direction {
	return direction(d.Receives(), d.Sends())
}

// Sends reports whether the side that wrote d sends media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether the side that wrote d receives media.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// valid reports whether d is one of the four defined directions.
func (d Direction) valid() bool { return d >= SendRecv && d <= Inactive }

// intersect returns the direction that sends only if both a and b send and
// receives only if both receive.
func intersect(a, b Direction) Direction {
	return direction(a.Sends() && b.Sends(), a.Receives() && b.Receives())
}

func direction(send, recv bool) Direction {
	switch {
	case send && recv:
		return SendRecv
	case send:
		return SendOnly
	case recv:
		return RecvOnly
	}
	return Inactive
}

// parseDirection maps an attribute key to a Direction.
func parseDirection(key string) (Direction, bool) {
	switch key {
	case "sendrecv":
		return SendRecv, true
	case "sendonly":
		return SendOnly, true
	case "recvonly":
		return RecvOnly, true
	case "inactive":
		return Inactive, true
	}
	return 0, false
}
