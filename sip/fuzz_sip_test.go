package sip

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gsip "github.com/emiago/sipgo/sip"
)

// FuzzSIPRequest parses a datagram with sipgo's parser and hands it to a real
// phone the way sipgo's server would: the transport's message hook (onWire)
// sees every message, a request gets a real server transaction and goes
// through the phone's router (guard, then the method's handler) on a
// goroutine of its own. A call that starts ringing is rejected, as the
// operator would, and its transaction ended, as a missing ACK would. Whatever
// the datagram: no handler panics or hangs, no call is left behind, and the
// phone still answers OPTIONS on its real socket. Seeds:
// testdata/fuzz/FuzzSIPRequest.
func FuzzSIPRequest(f *testing.F) {
	for _, s := range sipFuzzSeeds {
		f.Add(wireSIP(s))
	}
	h := newSIPFuzz(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		h.run(t, data)
		// Twice a second at most: the phone's real limiter allows 10/s.
		if time.Since(h.pinged) > 500*time.Millisecond {
			h.ping(t)
			h.pinged = time.Now()
		}
	})
}

type sipFuzz struct {
	p      *Phone
	router *router
	panics *panicLog
	peer   net.PacketConn // the real socket's test client
	pinged time.Time
}

func newSIPFuzz(tb testing.TB) *sipFuzz {
	pl := &panicLog{}
	p, err := New(Config{Listen: "127.0.0.1:0", User: "fuzz", AcceptRegister: true,
		RTPPortMin: 40000, RTPPortMax: 49999}, WithLogger(slog.New(pl)))
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		peer.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	// Every input must reach its handler: the limiter has its own tests.
	open := defaultRateLimits
	for c := range open.Per {
		open.Per[c] = bucketSpec{Rate: 1e9, Burst: 1e9}
	}
	return &sipFuzz{p: p, panics: pl, peer: peer,
		router: p.newRouter(newRateLimiter(p.log, withLimits(open)))}
}

// run feeds one datagram in and waits until the phone is idle again.
func (h *sipFuzz) run(t *testing.T, data []byte) {
	msg, err := gsip.ParseMessage(data)
	if err != nil {
		return
	}
	h.p.onWire(msg)
	req, ok := msg.(*gsip.Request)
	if !ok {
		return
	}
	req.SetTransport("UDP")
	req.SetSource("192.0.2.7:5060")
	conn := &fuzzConn{}
	tx := gsip.NewServerTx("fuzz", req, conn, h.p.log)
	if err := tx.Init(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.router.serve(req, tx)
	}()
	// A new call rings until someone acts: reject it, then end the
	// transaction that waits for the ACK of the rejection.
	deadline := time.Now().Add(5 * time.Second)
	rejected := false
	for !isDone(done) {
		if time.Now().After(deadline) {
			t.Fatalf("handler still running after 5 s for %q", data)
		}
		if calls := h.p.snapshot(); len(calls) > 0 && !rejected {
			for _, c := range calls {
				if c.getState() == StateIncoming {
					c.reject(486)
					rejected = true
				}
			}
		}
		if rejected && conn.final.Load() {
			tx.Terminate()
		}
		time.Sleep(200 * time.Microsecond)
	}
	tx.Terminate()
	if msg := h.panics.get(); msg != "" {
		t.Fatalf("handler panicked on %q: %s", data, msg)
	}
	if !req.IsAck() && !conn.final.Load() {
		t.Fatalf("no final response to %q", data)
	}
	for len(h.p.snapshot()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("calls left after %q: %+v", data, h.p.Status().Calls)
		}
		time.Sleep(time.Millisecond)
	}
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// ping sends a real OPTIONS to the phone's socket: it must still answer.
func (h *sipFuzz) ping(t *testing.T) {
	addr, _ := net.ResolveUDPAddr("udp4", h.p.Addr())
	local := h.peer.LocalAddr().String()
	req := "OPTIONS sip:fuzz@" + h.p.Addr() + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-ping" + time.Now().Format("150405.000000") + "\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:ping@" + local + ">;tag=p1\r\nTo: <sip:fuzz@" + h.p.Addr() + ">\r\n" +
		"Call-ID: ping-" + time.Now().Format("150405.000000") + "\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	if _, err := h.peer.WriteTo([]byte(req), addr); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	_ = h.peer.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		n, _, err := h.peer.ReadFrom(buf)
		if err != nil {
			t.Fatalf("the phone no longer answers OPTIONS: %v", err)
		}
		if strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
			return
		}
	}
}

// fuzzConn is the server transaction's connection: it keeps nothing but
// whether a final response went out, and its code.
type fuzzConn struct {
	final atomic.Bool
	code  atomic.Int32
}

func (c *fuzzConn) LocalAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060}
}

func (c *fuzzConn) WriteMsg(msg gsip.Message) error {
	if res, ok := msg.(*gsip.Response); ok && res.StatusCode >= 200 {
		c.code.Store(int32(res.StatusCode))
		c.final.Store(true)
	}
	_ = msg.String() // what the transport would marshal
	return nil
}
func (c *fuzzConn) Ref(int) int            { return 1 }
func (c *fuzzConn) TryClose() (int, error) { return 1, nil }
func (c *fuzzConn) Close() error           { return nil }

// panicLog is a slog handler that remembers the router's panic reports.
type panicLog struct {
	mu  sync.Mutex
	msg string
}

func (l *panicLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *panicLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "SIP handler panicked" {
		return nil
	}
	var b strings.Builder
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(a.Key + "=" + a.Value.String() + "\n")
		return true
	})
	l.mu.Lock()
	l.msg = b.String()
	l.mu.Unlock()
	return nil
}
func (l *panicLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *panicLog) WithGroup(string) slog.Handler      { return l }

func (l *panicLog) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.msg
	l.msg = ""
	return m
}

// wireSIP puts CRLF line ends into a message written with LF and sets its
// Content-Length to the body's.
func wireSIP(s string) []byte {
	head, body, _ := strings.Cut(s, "\n\n")
	body = strings.ReplaceAll(body, "\n", "\r\n")
	var lines []string
	for _, l := range strings.Split(head, "\n") {
		if strings.HasPrefix(l, "Content-Length:") || strings.HasPrefix(l, "l:") {
			l = "Content-Length: " + strconv.Itoa(len(body))
		}
		lines = append(lines, l)
	}
	return []byte(strings.Join(lines, "\r\n") + "\r\n\r\n" + body)
}

// request is a request from sip:a@10.0.0.1 to the phone (LF line ends):
// toTag "" for one outside a dialog, callID "" for none; rest is the
// headers after CSeq, a blank line and the body.
func request(method, toTag, callID string, cseq int, rest string) string {
	s := method + " sip:fuzz@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK" +
		strings.ToLower(method) + strconv.Itoa(cseq) + "\nFrom: <sip:a@10.0.0.1>;tag=a1\nTo: <sip:fuzz@127.0.0.1>"
	if toTag != "" {
		s += ";tag=" + toTag
	}
	if callID != "" {
		s += "\nCall-ID: " + callID
	}
	return s + "\nCSeq: " + strconv.Itoa(cseq) + " " + method + "\n" + rest
}

// sipFuzzSeeds are requests as scanners, floods and real phones send them
// (LF line ends and any Content-Length: wireSIP makes them right).
var sipFuzzSeeds = []string{
	// svmap's OPTIONS
	`OPTIONS sip:100@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.1.1:5061;branch=z9hG4bK-3514124562;rport
Content-Length: 0
To: "sipvicious"<sip:100@1.1.1.1>
From: "sipvicious"<sip:100@1.1.1.1>;tag=6633623732356230313363340131303333343832383133
Accept: application/sdp
User-Agent: friendly-scanner
Contact: sip:100@127.0.1.1:5061
CSeq: 1 OPTIONS
Call-ID: 1143127843937836393719418
Max-Forwards: 70

`,
	// svwar's REGISTER
	`REGISTER sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.1.1:5061;branch=z9hG4bK-1491410578;rport
Content-Length: 0
To: "1000"<sip:1000@127.0.0.1>
From: "1000"<sip:1000@127.0.0.1>;tag=3130303013313033393934353734
User-Agent: friendly-scanner
Contact: sip:1000@127.0.1.1:5061
CSeq: 1 REGISTER
Call-ID: 2085338543
Max-Forwards: 70
Expires: 60

`,
	// sipp -sn uac
	`INVITE sip:service@127.0.0.1:5080 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0
From: sipp <sip:sipp@127.0.0.1:5061>;tag=1
To: service <sip:service@127.0.0.1:5080>
Call-ID: 1-100@127.0.0.1
CSeq: 1 INVITE
Contact: sip:sipp@127.0.0.1:5061
Max-Forwards: 70
Subject: Performance Test
Content-Type: application/sdp
Content-Length: 129

v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
`,
	// baresip through Kamailio, with a hostile display name
	`INVITE sip:operator@127.0.0.1:5080 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKc1a2.0;rport
Via: SIP/2.0/UDP 127.0.0.1:5070;received=127.0.0.1;rport=5070;branch=z9hG4bK0e2b
Record-Route: <sip:127.0.0.1:5060;lr>
Max-Forwards: 69
Contact: <sip:bob-0x5b@127.0.0.1:5070;transport=udp>
To: <sip:operator@127.0.0.1>
From: "` + "\x1b]0;pwned\x07\x1b[2J山田\u202e" + `" <sip:bob@127.0.0.1>;tag=64c0d4a7
Call-ID: 5a3e1d0c8e2b4f61
CSeq: 9431 INVITE
Allow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,UPDATE,REFER
Supported: replaces,norefersub
User-Agent: baresip v1.0.0 (x86_64/linux)
P-Asserted-Identity: "佐藤" <sip:+81312345678@127.0.0.1>
Content-Type: application/sdp
Content-Length: 200

v=0
o=- 1 2 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 10000 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=sendrecv
`,
	// delayed offer, compact headers
	`INVITE sip:fuzz@127.0.0.1 SIP/2.0
v: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK776asdhds
f: <sip:a@10.0.0.1>;tag=1928301774
t: <sip:fuzz@127.0.0.1>
i: a84b4c76e66710
CSeq: 314159 INVITE
m: <sip:a@10.0.0.1>
l: 0

`,
	// a supervisor's monitor INVITE
	`INVITE sip:fuzz@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKmon1
From: "Supervisor" <sip:sv@10.0.0.9>;tag=sv1
To: <sip:fuzz@127.0.0.1>
Call-ID: mon-1
CSeq: 1 INVITE
Contact: <sip:sv@10.0.0.9>
X-Opdesk-Grant: eyJhbGciOiJFZERTQSJ9.e30.sig
Content-Length: 0

`,
	// attended transfer to us
	`INVITE sip:fuzz@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKrep1
From: <sip:c@10.0.0.2>;tag=r1
To: <sip:fuzz@127.0.0.1>
Call-ID: rep-1
CSeq: 1 INVITE
Contact: <sip:c@10.0.0.2>
Replaces: 425928@bobster.example.org;to-tag=7743;from-tag=6472
Content-Length: 0

`,
	// re-INVITE of a dialog we do not have
	`INVITE sip:fuzz@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKre1
From: <sip:a@10.0.0.1>;tag=a1
To: <sip:fuzz@127.0.0.1>;tag=gone
Call-ID: gone-1
CSeq: 2 INVITE
Content-Length: 0

`,
	// the panic this target found: no Call-ID
	request("BYE", "b1", "", 3, "Content-Length: 0\n\n"),
	request("INFO", "b1", "x-1", 4, "Content-Type: application/dtmf-relay\nContent-Length: 0\n\nSignal=5\nDuration=160\n"),
	request("NOTIFY", "b1", "x-1", 5, "Event: refer\nSubscription-State: terminated;reason=noresource\n"+
		"Content-Type: message/sipfrag;version=2.0\nContent-Length: 0\n\nSIP/2.0 200 OK\n"),
	request("REFER", "b1", "x-1", 6, "Refer-To: <sip:300@10.0.0.1?Replaces=abc%3Bto-tag%3D1%3Bfrom-tag%3D2>\n"+
		"Referred-By: <sip:a@10.0.0.1>\nContent-Length: 0\n\n"),
	request("CANCEL", "", "x-2", 1, "Content-Length: 0\n\n"),
	request("ACK", "b1", "x-3", 1, "Content-Length: 0\n\n"),
	request("MESSAGE", "", "x-4", 1, "Content-Type: text/plain\nContent-Length: 0\n\nhello"),
	`REGISTER sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKregstar
From: <sip:a@127.0.0.1>;tag=a1
To: <sip:a@127.0.0.1>
Call-ID: reg-1
CSeq: 2 REGISTER
Contact: *
Expires: 0
Content-Length: 0

`,
	`SIP/2.0 180 Ringing
Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK.out1
From: <sip:fuzz@127.0.0.1>;tag=o1
To: <sip:300@10.0.0.1>;tag=r9
Call-ID: out-1
CSeq: 1 INVITE
Content-Length: 0

`,
}
