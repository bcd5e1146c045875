package media

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/opdesk/opdesk/audio"
	"github.com/pion/rtp"
)

const (
	// relatchAfter is how long the latched peer must be silent before
	// packets from another address may take over.
	relatchAfter = 2 * time.Second
	// RFC 3550 A.1 sequence number validation limits.
	maxDropout  = 3000
	maxMisorder = 100
	noBadSeq    = 1<<16 + 1
	// maxPayload bounds an audio payload (120 ms of G.711).
	maxPayload = 960
	tsUnit     = time.Second / audio.SampleRate // one RTP timestamp tick
	tsPerMs    = audio.SampleRate / 1000
)

// rxState is everything the RTP receive goroutine owns.
type rxState struct {
	pkt  rtp.Packet
	buf  []byte
	pcm  []int16 // decode scratch
	acc  []int16 // re-framing of non-20 ms packets into 160-sample frames
	accN int

	lastLatchedRx time.Time

	// RFC 3550 A.1 per-source state.
	haveSrc  bool
	first    bool
	ssrc     uint32
	maxSeq   uint16
	cycles   uint32
	base     uint32
	badSeq   uint32
	received uint64
	window   uint64 // bit i: maxSeq-i was received (duplicate detection)

	// RFC 3550 A.8 jitter.
	haveTransit bool
	transit     int32
	jitter      uint32 // ×16

	// RFC 4733 duplicate suppression: last event reported.
	dtmfHave bool
	dtmfTS   uint32

	sinkErrLogged, readErrLogged bool
}

func (rx *rxState) init() {
	rx.buf = make([]byte, mtu)
	rx.pcm = make([]int16, 4*maxPayload)
	rx.acc = make([]int16, audio.FrameSamples)
	rx.badSeq = noBadSeq
	// Reserve room so Unmarshal of packets with CSRCs or extensions does
	// not grow these per packet.
	rx.pkt.CSRC = make([]uint32, 0, 15)
	rx.pkt.Extensions = make([]rtp.Extension, 0, 16)
}

// recvLoop reads the RTP socket until Close.
func (s *Stream) recvLoop() {
	defer s.recvWG.Done()
	buf := s.rx.buf
	for {
		n, from, err := s.rtpConn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.isDone() {
				return
			}
			if !s.rx.readErrLogged {
				s.rx.readErrLogged = true
				s.log.Warn("media: RTP read failed", "err", err)
			}
			continue
		}
		s.handlePacket(buf[:n], from)
	}
}

func (s *Stream) isDone() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// handlePacket processes one datagram from the RTP port. It never panics on
// garbage and does not allocate for a valid packet from the latched peer.
// Under SRTP it decrypts buf in place.
func (s *Stream) handlePacket(buf []byte, from netip.AddrPort) {
	// RFC 5761 §4: RTCP multiplexed on the RTP port has PT 192-223.
	if len(buf) >= 2 && buf[0]>>6 == rtpVersion && buf[1] >= 192 && buf[1] <= 223 {
		s.handleRTCP(buf, from)
		return
	}
	if len(buf) < 12 || buf[0]>>6 != rtpVersion {
		s.st.bad.Add(1)
		return
	}
	rx := &s.rx
	p := &rx.pkt
	cfg := s.cfg.Load()
	if cfg == nil {
		s.st.bad.Add(1)
		return
	}
	if cfg.in != nil {
		// In place; a plain packet fails here like a forged one.
		plain, err := cfg.in.rtp.DecryptRTP(buf, buf, &p.Header)
		if err != nil {
			s.srtpDropped(err, "RTP", len(buf))
			return
		}
		buf = plain
	}
	if p.Unmarshal(buf) != nil {
		s.st.bad.Add(1)
		return
	}
	isAudio := p.PayloadType == cfg.codec.PayloadType()
	isDTMF := !isAudio && cfg.hasDTMF && p.PayloadType == cfg.dtmfPT
	if (!isAudio && !isDTMF) || len(p.Payload) > maxPayload {
		s.st.bad.Add(1)
		return
	}
	now := s.clock.Now()
	if !s.checkLatch(unmap(from), now) {
		s.st.bad.Add(1)
		return
	}
	s.st.packetsReceived.Add(1)
	if !rx.haveSrc || p.SSRC != rx.ssrc {
		s.resetSource(p.SSRC)
	}
	switch rx.updateSeq(p.SequenceNumber) {
	case seqDuplicate:
		s.st.duplicate.Add(1)
		return
	case seqLate:
		s.st.late.Add(1)
		s.publishSeq()
		if s.jb == nil || isDTMF {
			return
		}
		// With a jitter buffer a misordered packet may still be in time
		// for its playout: the buffer decides.
		if cfg.recv && len(p.Payload) > 0 {
			s.jb.Push(p.SSRC, p.SequenceNumber, p.Timestamp, p.Marker, cfg.codec.Decode(rx.pcm, p.Payload), now)
		}
		return
	case seqJump:
		s.st.bad.Add(1)
		return
	case seqRestart:
		s.restartSeq(p.SequenceNumber)
	}
	s.publishSeq()
	s.st.bytesReceived.Add(uint64(len(p.Payload)))
	if isDTMF {
		s.handleEvent(p)
		return
	}
	s.updateJitter(p.Timestamp, now)
	switch {
	case !cfg.recv || len(p.Payload) == 0:
	case s.jb != nil:
		s.jb.Push(p.SSRC, p.SequenceNumber, p.Timestamp, p.Marker, cfg.codec.Decode(rx.pcm, p.Payload), now)
	case cfg.sink != nil:
		s.writeSink(cfg.sink, cfg.codec.Decode(rx.pcm, p.Payload))
	}
}

// checkLatch implements symmetric RTP: it reports whether a packet from
// `from` is from the media peer, latching to it if there is none yet or the
// latched one has been silent for relatchAfter.
func (s *Stream) checkLatch(from netip.AddrPort, now time.Time) bool {
	l := s.latch.Load()
	switch {
	case l == nil:
	case *l == from:
		s.rx.lastLatchedRx = now
		return true
	case now.Sub(s.rx.lastLatchedRx) <= relatchAfter:
		return false
	}
	a := from
	s.latch.Store(&a) // allocates, but only when the peer address changes
	s.rx.lastLatchedRx = now
	if l == nil {
		s.log.Info("media: latched", "addr", from.String())
	} else {
		s.log.Info("media: re-latched", "from", l.String(), "to", from.String())
	}
	return true
}

type seqResult int

const (
	seqInOrder   seqResult = iota
	seqLate                // behind the highest sequence number: counted, not played
	seqDuplicate           // seen before
	seqJump                // a large jump, dropped until confirmed
	seqRestart             // the second packet after a jump: the sender restarted
)

// resetSource starts RFC 3550 A.1 state for a new SSRC.
func (s *Stream) resetSource(ssrc uint32) {
	rx := &s.rx
	if rx.haveSrc {
		s.st.lostCarry.Add(s.st.currentLost())
	}
	rx.haveSrc = true
	rx.ssrc = ssrc
	rx.first = true
	rx.badSeq = noBadSeq
	rx.haveTransit = false
	rx.jitter = 0
	rx.dtmfHave = false
	s.st.rxSSRC.Store(ssrc)
}

// restartSeq re-bases the sequence state after a confirmed jump (A.1).
func (s *Stream) restartSeq(seq uint16) {
	rx := &s.rx
	s.st.lostCarry.Add(s.st.currentLost())
	rx.first = true
	rx.badSeq = noBadSeq
	rx.dtmfHave = false
	rx.updateSeq(seq)
}

// updateSeq is RFC 3550 A.1 update_seq without probation (audio is played
// from the first packet), plus a 64-packet window to tell duplicates from
// late packets.
func (rx *rxState) updateSeq(seq uint16) seqResult {
	if rx.first {
		rx.first = false
		rx.maxSeq = seq
		rx.cycles = 0
		rx.base = uint32(seq)
		rx.received = 1
		rx.window = 1
		return seqInOrder
	}
	udelta := seq - rx.maxSeq
	switch {
	case udelta == 0:
		return seqDuplicate
	case udelta < maxDropout:
		if seq < rx.maxSeq {
			rx.cycles += 1 << 16
		}
		rx.maxSeq = seq
		if udelta >= 64 {
			rx.window = 1
		} else {
			rx.window = rx.window<<udelta | 1
		}
		rx.received++
		rx.badSeq = noBadSeq
		return seqInOrder
	case udelta <= 1<<16-maxMisorder:
		if uint32(seq) == rx.badSeq {
			return seqRestart
		}
		rx.badSeq = uint32(seq + 1)
		return seqJump
	default:
		if back := rx.maxSeq - seq; back < 64 {
			bit := uint64(1) << back
			if rx.window&bit != 0 {
				return seqDuplicate
			}
			rx.window |= bit
		}
		rx.received++
		return seqLate
	}
}

// publishSeq makes the sequence state visible to RTCP and Stats.
func (s *Stream) publishSeq() {
	rx := &s.rx
	if !s.st.rxActive.Load() {
		s.st.rxActive.Store(true)
	}
	s.st.rxBase.Store(rx.base)
	s.st.rxExtMax.Store(rx.cycles + uint32(rx.maxSeq))
	s.st.rxReceived.Store(rx.received)
	if rx.received == 1 {
		s.st.rxGen.Add(1)
	}
}

// updateJitter is RFC 3550 A.8, in timestamp units scaled by 16.
func (s *Stream) updateJitter(ts uint32, now time.Time) {
	rx := &s.rx
	arrival := uint32(now.Sub(s.epoch) / tsUnit)
	transit := int32(arrival - ts)
	if rx.haveTransit {
		d := int64(transit) - int64(rx.transit)
		if d < 0 {
			d = -d
		}
		d = min(d, 1<<24) // a timestamp jump must not wrap the estimate
		rx.jitter += uint32(d) - (rx.jitter+8)>>4
	}
	rx.transit = transit
	rx.haveTransit = true
	s.st.rxJitter.Store(rx.jitter)
}

// writeSink hands decoded audio to the sink in 160-sample frames.
func (s *Stream) writeSink(sink audio.Sink, pcm []int16) {
	rx := &s.rx
	for len(pcm) > 0 {
		var frame []int16
		if rx.accN == 0 && len(pcm) >= audio.FrameSamples {
			frame, pcm = pcm[:audio.FrameSamples], pcm[audio.FrameSamples:]
		} else {
			n := copy(rx.acc[rx.accN:], pcm)
			rx.accN += n
			pcm = pcm[n:]
			if rx.accN < audio.FrameSamples {
				return
			}
			frame, rx.accN = rx.acc, 0
		}
		if err := sink.WriteFrame(frame); err != nil && !rx.sinkErrLogged {
			rx.sinkErrLogged = true
			s.log.Warn("media: sink failed", "err", err)
		}
	}
}

// handleEvent reports an RFC 4733 telephone event once: the first packet of
// an event (any of its packets, if the first was lost) is reported, the rest
// of the event and its end retransmits share its timestamp and are ignored.
func (s *Stream) handleEvent(p *rtp.Packet) {
	if len(p.Payload) < dtmfEventSize {
		s.st.bad.Add(1)
		return
	}
	rx := &s.rx
	if rx.dtmfHave && int32(p.Timestamp-rx.dtmfTS) <= 0 {
		return
	}
	rx.dtmfHave = true
	rx.dtmfTS = p.Timestamp
	digit, ok := eventDigit(p.Payload[0])
	if !ok {
		return
	}
	s.st.dtmfReceived.Add(1)
	if s.onDTMF != nil {
		s.onDTMF(digit)
	}
}
