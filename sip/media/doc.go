// Package media is the RTP/RTCP transport of one call's audio: it owns a pair
// of UDP sockets (RTP on an even port, RTCP on the next one), paces one
// 20 ms frame out of an [audio.Source] onto the wire, decodes the peer's
// packets into an [audio.Sink], sends and receives RFC 4733 DTMF events and
// keeps RFC 3550 reception statistics that it exchanges in RTCP reports.
//
// A [Stream] is created with [Listen] (before the SDP offer/answer, so the
// local port can be put in the SDP), started with [Stream.Start] once the
// remote description is known, re-negotiated with [Stream.Update] (hold,
// resume, new codec, new address) and ended with [Stream.Close].
//
// # Goroutines
//
// A started Stream runs four goroutines, all owned by it and stopped and
// waited for by Close: the send clock, the RTP reader, the RTCP reader and the
// RTCP reporter. The per-frame work of the send clock and of the RTP reader
// does not allocate (see the AllocsPerRun tests), takes no lock, and never
// logs except on the first occurrence of an error or on a latch change.
//
// # Symmetric RTP
//
// Peers behind NAT, or peers that advertise one interface while sending from
// another, are handled by latching (RFC 4961 symmetric RTP, the "comedia"
// behaviour of most SBCs): the destination of outgoing RTP becomes the source
// address of the first valid packet of a negotiated payload type. Packets
// from any other address are dropped while the latched address is alive; once
// it has been silent for more than two seconds, the next valid packet from a
// new address re-latches.
//
// # SRTP
//
// With [Params].SRTP set, RTP and RTCP are SRTP and SRTCP (RFC 3711, with
// pion/srtp; AES-CM with HMAC-SHA1 and AES-GCM of RFC 7714): each packet is
// protected in place in the send buffer, and a received one is
// authenticated and decrypted in place before anything else looks at it,
// so the per-frame paths still do not allocate. A packet that fails
// (forged, altered, truncated, another key, or plain RTP on an SRTP
// stream) is dropped and counted in Stats.SRTPAuthFailures, the first one
// logged; a replay is dropped as a Duplicate. Nothing is ever sent in the
// clear instead. Update keeps a direction's crypto context while its
// suite and key stay, and starts a new one for a new key (a rekey).
package media
