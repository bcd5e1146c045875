package media

import (
	"net/netip"
	"time"

	"github.com/opdesk/opdesk/audio"
	"github.com/pion/rtp"
)

const (
	// maxLagFrames is how far the send clock may fall behind its grid and
	// still catch up by sending back to back; beyond it, it skips to the
	// current slot instead of bursting.
	maxLagFrames = 4
	rtpVersion   = 2
	mtu          = 1500
)

// txState is everything the send goroutine owns: one reused packet, one
// reused wire buffer, the PCM and payload scratch buffers.
type txState struct {
	pkt     rtp.Packet
	hdr     rtp.Header // SRTP's parse of the packet it protects
	buf     []byte
	pcm     []int16
	payload []byte
	event   [dtmfEventSize]byte
	seq     uint16
	marker  bool // next audio packet starts a talkspurt (RFC 3551 §4.1)
	dtmf    dtmfTx

	zero []int16 // one frame of silence, never written

	srcErrLogged, writeErrLogged, dtmfDropLogged, sinkErrLogged bool
}

func (tx *txState) init(seq uint16) {
	tx.buf = make([]byte, mtu)
	tx.pcm = make([]int16, audio.FrameSamples)
	tx.zero = make([]int16, audio.FrameSamples)
	tx.payload = make([]byte, mtu-12)
	tx.seq = seq
	tx.marker = true
	tx.pkt.Version = rtpVersion
}

// pace returns the frame slot to send next: k itself while the clock is at
// most maxLagFrames behind the grid, else the slot the grid is at now
// (resync: the skipped frames are never sent, their timestamps are).
func pace(k int64, elapsed time.Duration) int64 {
	if cur := int64(elapsed / audio.FrameDuration); cur-k > maxLagFrames {
		return cur
	}
	return k
}

// sendLoop is the media clock of the stream: frame k is due at
// epoch + k·20 ms, an absolute deadline, so timer lateness never accumulates.
func (s *Stream) sendLoop() {
	defer s.sendWG.Done()
	timer := s.clock.NewTimer(time.Hour)
	timer.Stop() // armed per frame below
	defer timer.Stop()
	var k int64
	for {
		now := s.clock.Now()
		if wait := s.epoch.Add(time.Duration(k) * audio.FrameDuration).Sub(now); wait > 0 {
			timer.Reset(wait)
			select {
			case <-s.done:
				return
			case <-timer.C():
			}
			continue // re-read the clock: the wake-up may be late
		}
		select {
		case <-s.done:
			return
		default:
		}
		if next := pace(k, now.Sub(s.epoch)); next != k {
			s.st.resyncs.Add(1)
			k = next
		}
		played := s.playFrame(now)
		sent := s.sendFrame(k)
		if tb := s.tap.Load(); tb != nil {
			tb.tap.Frame(sent, played)
		}
		if s.onSent != nil {
			s.onSent(k, s.clock.Now())
		}
		k++
	}
}

// sendFrame does the work of frame slot k: one DTMF event packet if a digit
// is playing, else one audio frame from the Source. It returns the audio
// frame it sent (silence when it sent none), for the Tap. It does not
// allocate.
func (s *Stream) sendFrame(k int64) []int16 {
	tx := &s.tx
	cfg := s.cfg.Load()
	if cfg == nil {
		return tx.zero
	}
	ts := s.ts0 + uint32(k)*audio.FrameSamples
	if !cfg.send {
		tx.dtmf.active = false // a digit cut by hold is abandoned
		tx.marker = true
		return tx.zero
	}
	dst := s.rtpDest(cfg)
	if !sendable(dst) {
		return tx.zero
	}
	if s.sendDTMFTick(cfg, ts, dst) {
		return tx.zero
	}
	pcm := tx.pcm
	if cfg.source == nil {
		clear(pcm)
	} else if err := cfg.source.ReadFrame(pcm); err != nil {
		clear(pcm)
		if !tx.srcErrLogged {
			tx.srcErrLogged = true
			s.log.Warn("media: source failed, sending silence", "err", err)
		}
	}
	if s.muted.Load() {
		clear(pcm)
	}
	payload := cfg.codec.Encode(tx.payload, pcm)
	s.writeRTP(cfg, cfg.codec.PayloadType(), tx.marker, ts, payload, dst)
	tx.marker = false
	return pcm
}

// playFrame pops the frame due now from the jitter buffer into the Sink
// and returns it (silence without a jitter buffer, or while not
// receiving). The buffer is popped even on hold, so that its clock keeps
// running and stale audio is not played on resume.
func (s *Stream) playFrame(now time.Time) []int16 {
	if s.jb == nil {
		return s.tx.zero
	}
	s.jb.Pop(s.play, now)
	cfg := s.cfg.Load()
	if cfg == nil || !cfg.recv {
		return s.tx.zero
	}
	if cfg.sink != nil {
		if err := cfg.sink.WriteFrame(s.play); err != nil && !s.tx.sinkErrLogged {
			s.tx.sinkErrLogged = true
			s.log.Warn("media: sink failed", "err", err)
		}
	}
	return s.play
}

// sendDTMFTick sends the next RFC 4733 packet of the current digit, starting
// the next queued digit if none is playing. It reports whether it used the
// frame slot (audio is paused while a digit plays).
func (s *Stream) sendDTMFTick(cfg *config, ts uint32, dst netip.AddrPort) bool {
	tx := &s.tx
	d := &tx.dtmf
	if !d.active {
		if d.gap > 0 {
			d.gap--
			return false
		}
		select {
		case ev := <-s.dtmfq:
			*d = dtmfTx{active: true, event: ev, startTS: ts}
		default:
			return false
		}
	}
	if !cfg.hasDTMF { // re-negotiated away mid-digit
		d.active = false
		if !tx.dtmfDropLogged {
			tx.dtmfDropLogged = true
			s.log.Warn("media: DTMF dropped, telephone-event no longer negotiated")
		}
		return false
	}
	d.tick++
	end := d.tick > dtmfToneTicks
	duration := uint16(min(d.tick, dtmfToneTicks) * audio.FrameSamples)
	putEvent(tx.event[:], d.event, end, dtmfVolume, duration)
	s.writeRTP(cfg, cfg.dtmfPT, d.tick == 1, d.startTS, tx.event[:], dst)
	if d.tick >= dtmfToneTicks+dtmfEndPackets {
		d.active = false
		d.gap = dtmfGapTicks
	}
	return true
}

// writeRTP marshals the reused packet into the reused buffer, protects it
// in place under SRTP, and sends it.
func (s *Stream) writeRTP(cfg *config, pt uint8, marker bool, ts uint32, payload []byte, dst netip.AddrPort) {
	tx := &s.tx
	p := &tx.pkt
	p.PayloadType = pt
	p.Marker = marker
	p.SequenceNumber = tx.seq
	p.Timestamp = ts
	p.SSRC = s.ssrc
	p.Payload = payload
	n, err := p.MarshalTo(tx.buf)
	if err != nil { // payload larger than the MTU: a codec bug
		s.st.sendErrors.Add(1)
		return
	}
	tx.seq++
	wire := tx.buf[:n]
	if cfg.out != nil {
		// In place: the buffer has room for the tag (mtu).
		if wire, err = cfg.out.rtp.EncryptRTP(wire, wire, &tx.hdr); err != nil {
			s.st.sendErrors.Add(1) // never sent in the clear instead
			return
		}
	}
	if _, err := s.rtpConn.WriteToUDPAddrPort(wire, dst); err != nil {
		s.st.sendErrors.Add(1)
		if !tx.writeErrLogged {
			tx.writeErrLogged = true
			s.log.Warn("media: RTP send failed", "dst", dst.String(), "err", err)
		}
		return
	}
	s.st.packetsSent.Add(1)
	s.st.bytesSent.Add(uint64(len(payload)))
}
