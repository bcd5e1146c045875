package media

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/rtcp"
)

// ntpEpochOffset is the number of seconds from 1900 (NTP) to 1970 (Unix).
const ntpEpochOffset = 2208988800

// rtcpState is shared between the RTCP reader (which records what the peer
// tells us) and the reporter (which reads it back into our reports).
type rtcpState struct {
	mu sync.Mutex
	// The peer's last sender report, for LSR/DLSR in our reports.
	haveSR   bool
	srSSRC   uint32
	lastSR   uint32 // middle 32 bits of its NTP timestamp
	lastSRAt time.Time
	// The peer's report on our stream.
	remoteFraction uint8
	remoteLost     int32
	remoteJitter   uint32
	rtt            time.Duration
	haveRTT        bool
	bye            bool

	// Reporter-only (RTCP goroutine, then Close): A.3 interval state.
	priorGen      uint32
	expectedPrior uint64
	receivedPrior uint64
	readErrLogged bool
	sendErrLogged bool
}

// toNTP converts t to a 64-bit NTP timestamp (RFC 5905 §6).
func toNTP(t time.Time) uint64 {
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// ntpShort is the middle 32 bits of the NTP timestamp (RFC 3550 §4).
func ntpShort(t time.Time) uint32 { return uint32(toNTP(t) >> 16) }

// rtcpLoop sends a report every interval until Close.
func (s *Stream) rtcpLoop() {
	defer s.sendWG.Done()
	t := s.clock.NewTimer(s.rtcpInterval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C():
			s.sendReport(false)
			t.Reset(s.rtcpInterval)
		}
	}
}

// rtcpRecvLoop reads the RTCP socket until Close.
func (s *Stream) rtcpRecvLoop() {
	defer s.recvWG.Done()
	buf := make([]byte, mtu)
	for {
		n, from, err := s.rtcpConn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.isDone() {
				return
			}
			s.rc.mu.Lock()
			logIt := !s.rc.readErrLogged
			s.rc.readErrLogged = true
			s.rc.mu.Unlock()
			if logIt {
				s.log.Warn("media: RTCP read failed", "err", err)
			}
			continue
		}
		s.handleRTCP(buf[:n], from)
	}
}

// sendReport sends one compound RTCP packet (RFC 3550 §6.1): SR if we are
// sending, else RR, then SDES CNAME, then BYE if bye.
func (s *Stream) sendReport(bye bool) {
	cfg := s.cfg.Load()
	if cfg == nil {
		return
	}
	dst := s.rtcpDest(cfg)
	if !sendable(dst) {
		return
	}
	now := s.clock.Now()
	raw, err := rtcp.Marshal(s.buildReport(cfg, now, bye))
	if err == nil && cfg.out != nil {
		raw, err = cfg.out.protectRTCP(raw)
	}
	if err == nil {
		_, err = s.rtcpConn.WriteToUDPAddrPort(raw, dst)
	}
	if err != nil {
		s.rc.mu.Lock()
		logIt := !s.rc.sendErrLogged
		s.rc.sendErrLogged = true
		s.rc.mu.Unlock()
		if logIt {
			s.log.Warn("media: RTCP send failed", "dst", dst.String(), "err", err)
		}
		return
	}
	s.st.rtcpSent.Add(1)
}

func (s *Stream) buildReport(cfg *config, now time.Time, bye bool) []rtcp.Packet {
	var blocks []rtcp.ReceptionReport
	if rb, ok := s.receptionReport(now); ok {
		blocks = []rtcp.ReceptionReport{rb}
	}
	var first rtcp.Packet
	if sent := s.st.packetsSent.Load(); cfg.send && sent > 0 {
		first = &rtcp.SenderReport{
			SSRC:        s.ssrc,
			NTPTime:     toNTP(now),
			RTPTime:     s.ts0 + uint32(now.Sub(s.epoch)/tsUnit),
			PacketCount: uint32(sent),
			OctetCount:  uint32(s.st.bytesSent.Load()),
			Reports:     blocks,
		}
	} else {
		first = &rtcp.ReceiverReport{SSRC: s.ssrc, Reports: blocks}
	}
	pkts := []rtcp.Packet{first, rtcp.NewCNAMESourceDescription(s.ssrc, s.cname)}
	if bye {
		pkts = append(pkts, &rtcp.Goodbye{Sources: []uint32{s.ssrc}})
	}
	return pkts
}

// receptionReport builds the report block on the source being received
// (RFC 3550 §6.4.1, A.3), or reports false if nothing was received.
func (s *Stream) receptionReport(now time.Time) (rtcp.ReceptionReport, bool) {
	if !s.st.rxActive.Load() {
		return rtcp.ReceptionReport{}, false
	}
	gen := s.st.rxGen.Load()
	ssrc := s.st.rxSSRC.Load()
	extMax := s.st.rxExtMax.Load()
	expected := uint64(max(0, int64(extMax)-int64(s.st.rxBase.Load())+1))
	received := s.st.rxReceived.Load()
	lost := min(max(0, int64(expected)-int64(received)), 0x7fffff)

	rc := &s.rc
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if gen != rc.priorGen {
		rc.priorGen, rc.expectedPrior, rc.receivedPrior = gen, 0, 0
	}
	expInt := int64(expected) - int64(rc.expectedPrior)
	lostInt := expInt - (int64(received) - int64(rc.receivedPrior))
	rc.expectedPrior, rc.receivedPrior = expected, received
	var fraction uint8
	if expInt > 0 && lostInt > 0 {
		fraction = uint8(min(lostInt<<8/expInt, 255))
	}
	rb := rtcp.ReceptionReport{
		SSRC:               ssrc,
		FractionLost:       fraction,
		TotalLost:          uint32(lost),
		LastSequenceNumber: extMax,
		Jitter:             s.st.rxJitter.Load() >> 4,
	}
	if rc.haveSR && rc.srSSRC == ssrc {
		rb.LastSenderReport = rc.lastSR
		rb.Delay = uint32(max(0, now.Sub(rc.lastSRAt).Seconds()) * 65536)
	}
	return rb, true
}

// handleRTCP processes one datagram from the RTCP port (or RTCP multiplexed
// on the RTP port). Garbage is counted in RTCPBad and ignored.
func (s *Stream) handleRTCP(buf []byte, from netip.AddrPort) {
	if len(buf) < 8 || buf[0]>>6 != rtpVersion {
		s.st.rtcpBad.Add(1)
		return
	}
	if cfg := s.cfg.Load(); cfg != nil && cfg.in != nil {
		plain, err := cfg.in.unprotectRTCP(buf)
		if err != nil {
			s.srtpDropped(err, "RTCP", len(buf))
			return
		}
		buf = plain
	}
	pkts, err := rtcp.Unmarshal(buf)
	if err != nil {
		s.st.rtcpBad.Add(1)
		return
	}
	s.st.rtcpReceived.Add(1)
	now := s.clock.Now()
	peer := s.st.rxActive.Load()
	peerSSRC := s.st.rxSSRC.Load()
	fromPeer := false

	rc := &s.rc
	rc.mu.Lock()
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			rc.haveSR = true
			rc.srSSRC = p.SSRC
			rc.lastSR = uint32(p.NTPTime >> 16)
			rc.lastSRAt = now
			s.applyBlocks(p.Reports, now)
			fromPeer = fromPeer || (peer && p.SSRC == peerSSRC)
		case *rtcp.ReceiverReport:
			s.applyBlocks(p.Reports, now)
			fromPeer = fromPeer || (peer && p.SSRC == peerSSRC)
		case *rtcp.Goodbye:
			for _, src := range p.Sources {
				if peer && src == peerSSRC {
					rc.bye = true
				}
			}
		}
	}
	rc.mu.Unlock()

	// Symmetric RTCP: answer where the peer's reports come from.
	if from = unmap(from); fromPeer && from.IsValid() {
		if l := s.rtcpLatch.Load(); l == nil || *l != from {
			s.rtcpLatch.Store(&from)
			s.log.Debug("media: RTCP latched", "addr", from.String())
		}
	}
}

// applyBlocks records the peer's report on our stream; rc.mu is held.
func (s *Stream) applyBlocks(blocks []rtcp.ReceptionReport, now time.Time) {
	rc := &s.rc
	for _, b := range blocks {
		if b.SSRC != s.ssrc {
			continue
		}
		rc.remoteFraction = b.FractionLost
		rc.remoteLost = int32(b.TotalLost<<8) >> 8 // 24-bit signed
		rc.remoteJitter = b.Jitter
		if b.LastSenderReport == 0 {
			continue
		}
		// RFC 3550 §6.4.1: RTT = A - LSR - DLSR, in 1/65536 s.
		rtt := int32(ntpShort(now) - b.LastSenderReport - b.Delay)
		switch {
		case rtt >= 0:
			rc.rtt, rc.haveRTT = time.Duration(int64(rtt)*int64(time.Second)/65536), true
		case rtt > -65536/100: // truncation on a sub-10 ms path
			rc.rtt, rc.haveRTT = 0, true
		}
	}
}
