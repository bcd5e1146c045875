package media

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
)

var testSuites = []string{"AEAD_AES_128_GCM", "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"}

// srtpPair returns the SRTP of two ends of a call with fresh keys: a's
// SendKey is b's RecvKey and the other way round.
func srtpPair(tb testing.TB, suite string) (a, b *SRTP) {
	tb.Helper()
	prof, ok := profiles[suite]
	if !ok {
		tb.Fatalf("no suite %s", suite)
	}
	kl, _ := prof.KeyLen()
	sl, _ := prof.SaltLen()
	k1, k2 := make([]byte, kl+sl), make([]byte, kl+sl)
	_, _ = rand.Read(k1)
	_, _ = rand.Read(k2)
	return &SRTP{Suite: suite, SendKey: k1, RecvKey: k2}, &SRTP{Suite: suite, SendKey: k2, RecvKey: k1}
}

// srtpWire is a sender of protected packets and a receiver driven by hand:
// wire() sends one frame from tx and returns the datagram as it went out.
type srtpWire struct {
	tx, rx *Stream
	peer   *net.UDPConn
	sink   *captureSink
	clk    *fakeClock
	k      int64
}

func newSRTPWire(t *testing.T, suite string) *srtpWire {
	t.Helper()
	a, b := srtpPair(t, suite)
	w := &srtpWire{tx: listen(t), peer: udpPeer(t), sink: &captureSink{}, clk: newFakeClock()}
	bindConfig(t, w.tx, Params{Remote: connAddr(w.peer), Codec: audio.PCMU, Send: true,
		Source: &toneSource{freq: 1000, amp: 8000}, SRTP: a})
	w.rx = newStream(WithClock(w.clk))
	bindConfig(t, w.rx, Params{Remote: netUDP(peerA), Codec: audio.PCMU, Recv: true, Sink: w.sink, SRTP: b})
	return w
}

func (w *srtpWire) wire(t *testing.T) []byte {
	t.Helper()
	w.tx.sendFrame(w.k)
	w.k++
	buf := make([]byte, 1500)
	_ = w.peer.SetReadDeadline(time.Now().Add(time.Second))
	n, _, err := w.peer.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("no packet on the wire: %v", err)
	}
	return buf[:n]
}

// deliver hands a copy of pkt to the receiver 20 ms after the last one.
func (w *srtpWire) deliver(pkt []byte) {
	w.clk.Advance(20 * time.Millisecond)
	w.rx.handlePacket(bytes.Clone(pkt), peerA)
}

// TestSRTPRoundTrip: for each suite, what goes out is protected (not the
// PCMU payload, longer by the tag) and decodes to the tone at the far end.
func TestSRTPRoundTrip(t *testing.T) {
	tags := map[string]int{"AEAD_AES_128_GCM": 16, "AES_CM_128_HMAC_SHA1_80": 10, "AES_CM_128_HMAC_SHA1_32": 4}
	for _, suite := range testSuites {
		t.Run(suite, func(t *testing.T) {
			w := newSRTPWire(t, suite)
			plain := audio.PCMU.Encode(make([]byte, 160), make([]int16, 160))
			for range 20 {
				pkt := w.wire(t)
				if len(pkt) != 12+160+tags[suite] {
					t.Fatalf("%d bytes on the wire, want %d", len(pkt), 12+160+tags[suite])
				}
				if bytes.Contains(pkt, plain[:16]) {
					t.Fatal("payload in the clear")
				}
				w.deliver(pkt)
			}
			st := w.rx.Stats()
			if st.PacketsReceived != 20 || st.SRTPAuthFailures != 0 || st.Bad != 0 || w.sink.count() != 20 || st.SRTP != suite {
				t.Fatalf("receiver: %d frames, stats %+v", w.sink.count(), st)
			}
			w.sink.mu.Lock()
			defer w.sink.mu.Unlock()
			for i, c := range w.sink.crossings {
				if c < 38 || c > 40 || w.sink.rms[i] < 5000 {
					t.Fatalf("frame %d: %d crossings, RMS %.0f: not the 1000 Hz tone", i, c, w.sink.rms[i])
				}
			}
		})
	}
}

// TestSRTPDrops: a tampered packet, a replay, a plain RTP packet and one
// under another key are dropped and counted; the stream goes on.
func TestSRTPDrops(t *testing.T) {
	for _, suite := range testSuites {
		t.Run(suite, func(t *testing.T) {
			w := newSRTPWire(t, suite)
			first := w.wire(t)
			w.deliver(first)

			tampered := w.wire(t)
			tampered[20] ^= 0x01
			w.deliver(tampered)
			st := w.rx.Stats()
			if st.SRTPAuthFailures != 1 || st.PacketsReceived != 1 {
				t.Fatalf("tampered: %+v", st)
			}

			w.deliver(first) // replay
			if st = w.rx.Stats(); st.Duplicate != 1 || st.PacketsReceived != 1 {
				t.Fatalf("replay: %+v", st)
			}

			w.deliver(rtpPacket(t, 0, 9, 160*9, 42, false, make([]byte, 160)))
			if st = w.rx.Stats(); st.SRTPAuthFailures != 2 || st.PacketsReceived != 1 {
				t.Fatalf("plain RTP: %+v", st)
			}

			other := newSRTPWire(t, suite).wire(t)
			w.deliver(other)
			if st = w.rx.Stats(); st.SRTPAuthFailures != 3 || st.PacketsReceived != 1 {
				t.Fatalf("another key: %+v", st)
			}
			fresh := w.wire(t) // truncated: too short, or the tag cut
			for _, short := range [][]byte{fresh[:12], fresh[:13], fresh[:20]} {
				w.deliver(short)
			}
			// An old packet far behind, past the replay window.
			old := w.wire(t)
			for range replayWindow + 10 {
				w.deliver(w.wire(t))
			}
			before := w.rx.Stats()
			w.deliver(old)
			if st = w.rx.Stats(); st.PacketsReceived != before.PacketsReceived || st.Duplicate != before.Duplicate+1 {
				t.Fatalf("old replay: %+v, before %+v", st, before)
			}
			if w.sink.count() != int(st.PacketsReceived) || st.SRTPAuthFailures != 6 {
				t.Errorf("%d frames played, stats %+v", w.sink.count(), st)
			}
		})
	}
}

// TestSRTCP: reports go out protected and are read back; a plain report on
// an SRTP stream is dropped.
func TestSRTCP(t *testing.T) {
	a, b := srtpPair(t, "AES_CM_128_HMAC_SHA1_80")
	tx, rx := listen(t), listen(t)
	bindConfig(t, tx, Params{Remote: rtpAddr(rx), Codec: audio.PCMU, Send: true, SRTP: a})
	bindConfig(t, rx, Params{Remote: rtpAddr(tx), Codec: audio.PCMU, Recv: true, SRTP: b})
	tx.sendReport(false)
	buf := make([]byte, 1500)
	_ = rx.rtcpConn.SetReadDeadline(time.Now().Add(time.Second))
	n, from, err := rx.rtcpConn.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	if plain := marshalReport(t, tx, false); n != len(plain)+4+10 {
		t.Errorf("SRTCP packet of %d bytes, want %d + index + tag", n, len(plain))
	}
	rx.handleRTCP(buf[:n], from)
	if st := rx.Stats(); st.RTCPReceived != 1 || st.RTCPBad != 0 || st.SRTPAuthFailures != 0 {
		t.Errorf("after a protected report: %+v", st)
	}
	rx.handleRTCP(buf[:n], from) // replay
	rx.handleRTCP(marshalReport(t, tx, false), from)
	if st := rx.Stats(); st.RTCPReceived != 1 || st.Duplicate != 1 || st.SRTPAuthFailures != 1 {
		t.Errorf("after a replay and a plain report: %+v", st)
	}
}

// TestSRTPUpdate: a re-negotiation with the same keys keeps the crypto
// contexts; a new peer key replaces only the receiving one; dropping SRTP
// is plain again.
func TestSRTPUpdate(t *testing.T) {
	a, _ := srtpPair(t, "AEAD_AES_128_GCM")
	peer := udpPeer(t)
	s := listen(t)
	p := Params{Remote: connAddr(peer), Codec: audio.PCMU, Send: true, Recv: true, SRTP: a}
	if err := s.Start(p); err != nil {
		t.Fatal(err)
	}
	first := s.cfg.Load()
	hold := p
	hold.Send = false
	if err := s.Update(hold); err != nil {
		t.Fatal(err)
	}
	if c := s.cfg.Load(); c.out != first.out || c.in != first.in {
		t.Error("hold replaced the crypto contexts")
	}
	rekey := p
	rekey.SRTP = &SRTP{Suite: a.Suite, SendKey: a.SendKey, RecvKey: bytes.Clone(a.SendKey)}
	rekey.SRTP.RecvKey[0] ^= 1
	if err := s.Update(rekey); err != nil {
		t.Fatal(err)
	}
	if c := s.cfg.Load(); c.out != first.out || c.in == first.in {
		t.Error("a new peer key must replace the receiving context only")
	}
	plain := p
	plain.SRTP = nil
	if err := s.Update(plain); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.SRTP != "" {
		t.Errorf("still %s after going plain", st.SRTP)
	}
}

func TestSRTPBadParams(t *testing.T) {
	key := bytes.Repeat([]byte{0xa5}, 30)
	for _, tt := range []struct {
		srtp *SRTP
		want error
	}{
		{&SRTP{Suite: "F8_128_HMAC_SHA1_80", SendKey: key, RecvKey: key}, ErrSRTPSuite},
		{&SRTP{Suite: "AEAD_AES_128_GCM", SendKey: key, RecvKey: key}, ErrSRTPKey},
		{&SRTP{Suite: "AES_CM_128_HMAC_SHA1_80", SendKey: key, RecvKey: key[:29]}, ErrSRTPKey},
	} {
		err := listen(t).Start(Params{Remote: netUDP(peerA), Codec: audio.PCMU, SRTP: tt.srtp})
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.srtp.Suite, err, tt.want)
		}
		if err != nil && (strings.Contains(err.Error(), "a5a5") || strings.Contains(err.Error(), "165")) {
			t.Errorf("key in %q", err)
		}
	}
	sp := &SRTP{Suite: "AES_CM_128_HMAC_SHA1_80", SendKey: key, RecvKey: key}
	if s := fmt.Sprintf("%v %+v %#v %x %d", *sp, sp, Params{SRTP: sp}, sp, sp); strings.Contains(s, "165") ||
		strings.Contains(s, "a5a5") || s != "AES_CM_128_HMAC_SHA1_80 AES_CM_128_HMAC_SHA1_80 "+
		"media.Params{Remote:(*net.UDPAddr)(nil), RemoteRTCP:(*net.UDPAddr)(nil), Codec:audio.Codec(nil), "+
		"DTMFPayloadType:0x0, HasDTMF:false, Send:false, Recv:false, Source:audio.Source(nil), Sink:audio.Sink(nil), "+
		"SRTP:AES_CM_128_HMAC_SHA1_80} AES_CM_128_HMAC_SHA1_80 AES_CM_128_HMAC_SHA1_80" {
		t.Errorf("printed: %s", s)
	}
}

// TestSRTPLoopback runs two started streams against each other: a tone
// goes each way protected, and neither side sees a failure.
func TestSRTPLoopback(t *testing.T) {
	sa, sb := srtpPair(t, "AEAD_AES_128_GCM")
	a, b := listen(t), listen(t)
	sinkA, sinkB := &captureSink{}, &captureSink{}
	if err := a.Start(Params{Remote: rtpAddr(b), Codec: audio.PCMA, Send: true, Recv: true,
		Source: &toneSource{freq: 1000, amp: 8000}, Sink: sinkA, SRTP: sa}); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(Params{Remote: rtpAddr(a), Codec: audio.PCMA, Send: true, Recv: true,
		Source: &toneSource{freq: 1000, amp: 8000}, Sink: sinkB, SRTP: sb}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "frames both ways", func() bool { return sinkA.count() >= 25 && sinkB.count() >= 25 })
	for _, s := range []*Stream{a, b} {
		if st := s.Stats(); st.SRTPAuthFailures != 0 || st.Bad != 0 || st.SRTP != "AEAD_AES_128_GCM" {
			t.Errorf("stats %+v", st)
		}
	}
}

// FuzzSRTPPacket feeds any datagram to an SRTP stream: it is dropped and
// counted, or (only if it authenticates) played; it never panics. The
// seeds are protected with the fixed keys fuzzSRTP uses, and altered.
func FuzzSRTPPacket(f *testing.F) {
	for _, suite := range testSuites {
		out, err := newSRTPDir(suite, fuzzKey(suite), false)
		if err != nil {
			f.Fatal(err)
		}
		for seq := range 3 {
			pkt := rtpPacket(f, 0, uint16(seq), uint32(seq*160), 42, seq == 0, make([]byte, 160))
			enc, err := out.rtp.EncryptRTP(nil, pkt, nil)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(suite, enc)
			f.Add(suite, enc[:len(enc)-1])
		}
		rtcpOut, _ := newSRTPDir(suite, fuzzKey(suite), false)
		rr := []byte{0x81, 201, 0, 7, 0, 0, 0, 42, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
		if enc, err := rtcpOut.protectRTCP(rr); err == nil {
			f.Add(suite, enc)
		}
	}
	f.Fuzz(func(t *testing.T, suite string, data []byte) {
		if _, ok := profiles[suite]; !ok {
			return
		}
		s := fuzzStream(t)
		bindConfig(t, s, Params{Remote: netUDP(peerA), Codec: testCodec{}, Recv: true,
			SRTP: &SRTP{Suite: suite, SendKey: fuzzKey(suite), RecvKey: fuzzKey(suite)}})
		s.handlePacket(bytes.Clone(data), peerA)
		s.handlePacket(bytes.Clone(data), peerA) // a replay
		st := s.Stats()
		if st.PacketsReceived+st.Bad+st.Duplicate+st.SRTPAuthFailures+st.RTCPReceived+st.RTCPBad < 2 {
			t.Fatalf("datagram neither accepted nor counted: %+v", st)
		}
		if st.PacketsReceived > 1 || st.RTCPReceived > 1 {
			t.Fatalf("a replay got through: %+v", st)
		}
	})
}

// fuzzKey is a fixed key||salt for suite.
func fuzzKey(suite string) []byte {
	prof := profiles[suite]
	kl, _ := prof.KeyLen()
	sl, _ := prof.SaltLen()
	k := make([]byte, kl+sl)
	for i := range k {
		k[i] = byte(i*7 + 1)
	}
	return k
}
