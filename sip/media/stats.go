package media

import (
	"sync/atomic"
)

// Stats is a snapshot of a Stream's counters, cheap enough to poll at 10 Hz.
// Byte counts are RTP payload octets, as in RTCP sender reports.
type Stats struct {
	SSRC       uint32 // our SSRC
	RemoteSSRC uint32 // SSRC of the source being received, 0 before any

	PacketsSent     uint64
	BytesSent       uint64
	SendErrors      uint64
	Resyncs         uint64 // send clock skipped ahead instead of bursting
	PacketsReceived uint64 // valid packets of a negotiated payload type, incl. late and duplicate
	BytesReceived   uint64
	// Lost is the RFC 3550 A.3 cumulative loss of all sources received.
	Lost int64
	// Bad counts datagrams on the RTP port that were dropped unparsed:
	// not RTP version 2, truncated, an unknown payload type, or from an
	// address other than the latched peer.
	Bad       uint64
	Late      uint64 // arrived after a later sequence number; not played
	Duplicate uint64 // sequence number already received; not played
	// JitterMs is the RFC 3550 A.8 interarrival jitter of the received audio.
	JitterMs     float64
	DTMFReceived uint64

	// What the peer reports about our stream in its RTCP.
	RemoteLossFraction float64 // 0..1, over the peer's last report interval
	RemoteLost         int64
	RemoteJitterMs     float64
	// RTTMs is the round trip time from the peer's LSR/DLSR (RFC 3550
	// §6.4.1), 0 until computable.
	RTTMs float64

	RTCPSent     uint64
	RTCPReceived uint64
	RTCPBad      uint64
	ByeReceived  bool

	// SRTP is the suite protecting the stream, "" for plain RTP.
	SRTP string
	// SRTPAuthFailures counts RTP and RTCP packets dropped because they
	// failed SRTP/SRTCP authentication: forged or altered, protected with
	// another key, truncated, or plain packets on an SRTP stream. Replays
	// count as Duplicate.
	SRTPAuthFailures uint64

	// Latched is the peer address RTP is sent to after symmetric-RTP
	// latching, "" until the first valid packet.
	Latched string
}

// counters are the atomics behind Stats, written by the goroutine that owns
// the event and read by Stats from anywhere.
type counters struct {
	packetsSent, bytesSent, sendErrors, resyncs atomic.Uint64
	packetsReceived, bytesReceived              atomic.Uint64
	bad, late, duplicate, dtmfReceived          atomic.Uint64
	rtcpSent, rtcpReceived, rtcpBad             atomic.Uint64
	srtpAuthFailures                            atomic.Uint64

	// Published by the receive goroutine for RTCP and Stats.
	rxActive   atomic.Bool
	rxGen      atomic.Uint32 // bumped whenever the sequence state restarts
	rxSSRC     atomic.Uint32
	rxBase     atomic.Uint32 // extended first sequence number
	rxExtMax   atomic.Uint32 // extended highest sequence number
	rxReceived atomic.Uint64 // packets counted for loss (no duplicates)
	rxJitter   atomic.Uint32 // jitter in timestamp units, ×16 (RFC 3550 A.8)
	lostCarry  atomic.Int64  // loss of earlier sources / sequence restarts
}

// currentLost is the cumulative loss of the source being received.
func (c *counters) currentLost() int64 {
	if !c.rxActive.Load() {
		return 0
	}
	expected := int64(c.rxExtMax.Load()) - int64(c.rxBase.Load()) + 1
	return max(0, expected-int64(c.rxReceived.Load()))
}

// Stats returns a snapshot of the stream's counters. It is safe to call from
// any goroutine and does not disturb the media path.
func (s *Stream) Stats() Stats {
	st := Stats{
		SSRC:            s.ssrc,
		PacketsSent:     s.st.packetsSent.Load(),
		BytesSent:       s.st.bytesSent.Load(),
		SendErrors:      s.st.sendErrors.Load(),
		Resyncs:         s.st.resyncs.Load(),
		PacketsReceived: s.st.packetsReceived.Load(),
		BytesReceived:   s.st.bytesReceived.Load(),
		Lost:            s.st.lostCarry.Load() + s.st.currentLost(),
		Bad:             s.st.bad.Load(),
		Late:            s.st.late.Load(),
		Duplicate:       s.st.duplicate.Load(),
		JitterMs:        float64(s.st.rxJitter.Load()) / 16 / tsPerMs,
		DTMFReceived:    s.st.dtmfReceived.Load(),
		RTCPSent:        s.st.rtcpSent.Load(),
		RTCPReceived:    s.st.rtcpReceived.Load(),
		RTCPBad:         s.st.rtcpBad.Load(),

		SRTPAuthFailures: s.st.srtpAuthFailures.Load(),
	}
	if cfg := s.cfg.Load(); cfg != nil {
		st.SRTP = cfg.suite()
	}
	if s.st.rxActive.Load() {
		st.RemoteSSRC = s.st.rxSSRC.Load()
	}
	if l := s.latch.Load(); l != nil {
		st.Latched = l.String()
	}
	s.rc.mu.Lock()
	st.RemoteLossFraction = float64(s.rc.remoteFraction) / 256
	st.RemoteLost = int64(s.rc.remoteLost)
	st.RemoteJitterMs = float64(s.rc.remoteJitter) / tsPerMs
	st.RTTMs = s.rc.rtt.Seconds() * 1000
	st.ByeReceived = s.rc.bye
	s.rc.mu.Unlock()
	return st
}
