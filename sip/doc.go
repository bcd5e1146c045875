// Package sip is opdesk's phone: registration with the PBX, calls (dialogs)
// in both directions, hold, transfer and DTMF, built on emiago/sipgo for the
// transaction and transport layers. Audio for each call is carried by
// sip/media (RTP/RTCP) with SDP negotiated by sip/sdp.
//
// The Phone reports everything that happens through events of plain values
// (Subscribe); sends never block the SIP side: a subscriber that does not keep
// up loses events and the loss is counted.
//
// Hazards worth knowing:
//   - sipgo delivers responses on separate goroutines, so a 180 can be seen
//     after the 200 that followed it; call state only moves forward
//     (see callState.after) and late provisional responses are ignored. A
//     180 handled after a final error response is dropped by sipgo
//     altogether, so whether an outbound call rang is read off the wire
//     (onWire) into Event.Rang.
//   - A sipgo request handler owns its server transaction: when it returns the
//     transaction is terminated, so the INVITE handler blocks until the call
//     is answered, rejected or cancelled.
//   - The 200 OK to an INVITE is retransmitted by sipgo until the ACK comes,
//     and WriteResponse blocks for that time: answer from a goroutine.
package sip
