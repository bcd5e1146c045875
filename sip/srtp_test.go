package sip

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gsip "github.com/emiago/sipgo/sip"
)

// TestSRTPPolicies calls between two phones for each pair of
// media.encryption settings: SRTP, plain RTP, or refused with 488 and words
// that say why.
func TestSRTPPolicies(t *testing.T) {
	const gcm = "AEAD_AES_128_GCM"
	tests := []struct {
		caller, callee Encryption
		suite          string // "" plain
		hear           bool   // check the tones (else that packets flow)
		refused        bool
		callerCause    string
		callerText     string
		calleeCause    string
	}{
		{caller: EncryptionRequired, callee: EncryptionRequired, suite: gcm, hear: true},
		{caller: EncryptionRequired, callee: "", suite: gcm},
		{caller: "", callee: EncryptionRequired, suite: gcm},
		{caller: EncryptionOptional, callee: EncryptionOptional, suite: gcm},
		{caller: EncryptionOptional, callee: EncryptionOff, hear: true},
		{caller: EncryptionOff, callee: EncryptionOptional},
		{caller: EncryptionOff, callee: EncryptionRequired, refused: true,
			callerCause: CauseNoCodec, callerText: "no common audio codec", calleeCause: CauseNotEncrypted},
		{caller: EncryptionRequired, callee: EncryptionOff, refused: true,
			callerCause: CauseNoCodec, callerText: textSRTPRefused, calleeCause: CauseNoCodec},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s to %s", cmpOr(tt.caller), cmpOr(tt.callee)), func(t *testing.T) {
			a := newParty(t, "alice", 600, Config{Encryption: tt.caller})
			b := newParty(t, "bob", 900, Config{Encryption: tt.callee})
			aID, err := a.Dial(context.Background(), b.uri())
			if err != nil {
				t.Fatal(err)
			}
			if tt.refused {
				ev := endedEvent(t, a.ev, aID, 5*time.Second)
				if ev.Cause != tt.callerCause || ev.Code != 488 || !strings.Contains(ev.Text, tt.callerText) {
					t.Errorf("caller's end: %+v, want %s 488 %q", ev, tt.callerCause, tt.callerText)
				}
				in := nextEvent(t, b.ev, EvEnded, 5*time.Second)
				if in.Cause != tt.calleeCause || in.Code != 488 {
					t.Errorf("callee's end: %+v, want %s 488", in, tt.calleeCause)
				}
				return
			}
			in := nextEvent(t, b.ev, EvIncoming, 3*time.Second)
			if _, err := b.Answer(in.CallID); err != nil {
				t.Fatal(err)
			}
			nextEvent(t, a.ev, EvAnswered, 3*time.Second)
			for _, p := range []struct {
				*party
				id string
			}{{a, aID}, {b, in.CallID}} {
				ci, _ := callInfo(p.Phone, p.id)
				if ci.SRTP != tt.suite {
					t.Errorf("%s: CallInfo.SRTP = %q, want %q", p.cfg.User, ci.SRTP, tt.suite)
				}
			}
			if tt.hear {
				got := listen(t, a, b)
				hears(t, "the caller", got[a], 900, 0.5)
				hears(t, "the callee", got[b], 600, 0.5)
			}
			for _, p := range []*party{a, b} {
				waitFor(t, 3*time.Second, p.cfg.User+" receiving", func() bool {
					ci := p.Status().Calls
					return len(ci) == 1 && ci[0].Media != nil && ci[0].Media.PacketsReceived >= 10
				})
				if ci := p.Status().Calls; ci[0].Media.SRTPAuthFailures != 0 {
					t.Errorf("%s: media %+v", p.cfg.User, ci[0].Media)
				}
			}
		})
	}
}

func cmpOr(e Encryption) Encryption {
	if e == "" {
		return "default"
	}
	return e
}

// syncBuffer is a log sink safe for the phone's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// loggedParty is a party requiring SRTP whose phone logs to log from the
// start (sipgo's loggers included).
func loggedParty(t *testing.T, user string, log *slog.Logger) *party {
	t.Helper()
	p, err := New(Config{User: user, Listen: "127.0.0.1:0", RTPPortMin: 30000, RTPPortMax: 39999,
		Input: "tone:700", Encryption: EncryptionRequired}, WithLogger(log.With("phone", user)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	ev, stop := p.Subscribe(512)
	t.Cleanup(stop)
	return &party{Phone: p, ev: ev}
}

// TestSRTPKeysNeverLogged runs an SRTP call through hold, resume and
// hang-up with both phones logging at debug level, and looks for the keys
// in the logs: as SDP (inline:), as base64, as hex and as bytes.
func TestSRTPKeysNeverLogged(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := loggedParty(t, "alice", log)
	b := loggedParty(t, "bob", log)
	custID, bobID := connect(t, a, b)
	if _, err := a.Hold(custID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Resume(custID); err != nil {
		t.Fatal(err)
	}
	c, err := a.find(custID, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	keys := c.neg.SRTP
	c.mu.Unlock()
	if keys == nil {
		t.Fatal("no SRTP on the call")
	}
	if _, err := b.Hangup(bobID); err != nil {
		t.Fatal(err)
	}
	endedEvent(t, a.ev, custID, 5*time.Second)
	out := logs.String()
	t.Logf("%d log lines", strings.Count(out, "\n"))
	if !strings.Contains(out, "srtp=AEAD_AES_128_GCM") {
		t.Errorf("the suite is not logged at debug level:\n%s", out)
	}
	if strings.Contains(out, "inline:") || strings.Contains(out, "a=crypto") {
		t.Errorf("SDP crypto in the log:\n%s", out)
	}
	for _, k := range [][]byte{keys.Local, keys.Remote} {
		for _, enc := range []string{base64.StdEncoding.EncodeToString(k)[:16], base64.RawURLEncoding.EncodeToString(k)[:16],
			fmt.Sprintf("%x", []byte(k))[:16], strings.Trim(fmt.Sprint([]byte(k)), "[]")[:16]} {
			if strings.Contains(out, enc) {
				t.Errorf("key material %q in the log", enc)
			}
		}
	}
}

// plainUAS answers every INVITE with 200 OK and plain SDP (RTP/AVP, no
// a=crypto) pointing at its own RTP socket, and every BYE with 200 OK. It
// returns its SIP address and the RTP socket.
func plainUAS(t *testing.T) (string, net.PacketConn) {
	t.Helper()
	sipConn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rtpConn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sipConn.Close(); rtpConn.Close() })
	port := rtpConn.LocalAddr().(*net.UDPAddr).Port
	answer := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n", port)
	tag := gsip.GenerateTagN(8)
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := sipConn.ReadFrom(buf)
			if err != nil {
				return
			}
			msg, err := gsip.ParseMessage(append([]byte(nil), buf[:n]...))
			req, ok := msg.(*gsip.Request)
			if err != nil || !ok || req.IsAck() {
				continue
			}
			var res *gsip.Response
			if req.IsInvite() {
				res = gsip.NewSDPResponseFromRequest(req, []byte(answer))
				res.AppendHeader(&gsip.ContactHeader{Address: gsip.Uri{Scheme: "sip", User: "plain",
					Host: "127.0.0.1", Port: sipConn.LocalAddr().(*net.UDPAddr).Port}})
			} else {
				res = gsip.NewResponseFromRequest(req, 200, "OK", nil)
			}
			if _, ok := res.To().Params.Get("tag"); !ok {
				res.To().Params.Add("tag", tag)
			}
			_, _ = sipConn.WriteTo([]byte(res.String()), from)
		}
	}()
	return sipConn.LocalAddr().String(), rtpConn
}

// TestSRTPRequiredPlainAnswer: a phone requiring SRTP whose INVITE is
// answered with plain RTP ends the call (BYE) with words that say why and
// never sends an RTP packet.
func TestSRTPRequiredPlainAnswer(t *testing.T) {
	addr, rtp := plainUAS(t)
	a := newParty(t, "alice", 600, Config{Encryption: EncryptionRequired})
	id, err := a.Dial(context.Background(), "sip:plain@"+addr)
	if err != nil {
		t.Fatal(err)
	}
	ev := endedEvent(t, a.ev, id, 10*time.Second)
	if ev.Cause != CauseNotEncrypted || ev.Text != textNotEncrypted {
		t.Errorf("ended %+v, want %s: %q", ev, CauseNotEncrypted, textNotEncrypted)
	}
	_ = rtp.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if n, from, err := rtp.ReadFrom(make([]byte, 1500)); err == nil {
		t.Errorf("%d bytes of RTP from %v: plain RTP was sent", n, from)
	}
}
