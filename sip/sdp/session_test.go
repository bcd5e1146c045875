package sdp

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func newTestSession() *Session {
	s := NewSession("opdesk")
	s.id, s.version = 42, 42
	return s
}

func TestOfferGolden(t *testing.T) {
	got, err := newTestSession().Offer(testLocal())
	if err != nil {
		t.Fatal(err)
	}
	want := crlf(`v=0
o=opdesk 42 42 IN IP4 192.0.2.50
s=opdesk
c=IN IP4 192.0.2.50
t=0 0
m=audio 4000 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
`)
	if string(got) != want {
		t.Errorf("offer:\n%s\nwant:\n%s", got, want)
	}
}

var originRE = regexp.MustCompile(`(?m)^o=(\S+) (\d+) (\d+) IN (IP[46]) (\S+)\r$`)

// origin returns the o= line of sdp without its version, and the version.
func origin(t *testing.T, sdp []byte) (string, string) {
	t.Helper()
	m := originRE.FindStringSubmatch(string(sdp))
	if m == nil {
		t.Fatalf("no o= line in\n%s", sdp)
	}
	return m[1] + " " + m[2] + " " + m[4] + " " + m[5], m[3]
}

// TestVersion walks a dialog through RFC 3264 §8: the o= line never changes
// but for its version, which increments by one exactly when our SDP changes.
func TestVersion(t *testing.T) {
	s := newTestSession()
	l := testLocal()
	hold := testLocal()
	hold.Direction = SendOnly
	moved := testLocal()
	moved.IP, moved.Port = "198.51.100.99", 5000

	steps := []struct {
		name    string
		do      func() ([]byte, error)
		version string
	}{
		{"initial offer", func() ([]byte, error) { return s.Offer(l) }, "42"},
		{"session refresh", func() ([]byte, error) { return s.Offer(l) }, "42"},
		{"hold", func() ([]byte, error) { return s.Offer(hold) }, "43"},
		{"hold refresh", func() ([]byte, error) { return s.Offer(hold) }, "43"},
		{"resume", func() ([]byte, error) { return s.Offer(l) }, "44"},
		{"answer peer's re-INVITE", func() ([]byte, error) {
			a, _, err := s.Answer([]byte(sippPCMUOffer), l)
			return a, err
		}, "45"},
		{"answer it again", func() ([]byte, error) {
			a, _, err := s.Answer([]byte(sippPCMUOffer), l)
			return a, err
		}, "45"},
		{"new address", func() ([]byte, error) { return s.Offer(moved) }, "46"},
	}
	var first string
	for _, st := range steps {
		sdp, err := st.do()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		o, v := origin(t, sdp)
		if first == "" {
			first = o
		}
		if o != first {
			t.Errorf("%s: o= changed to %q from %q", st.name, o, first)
		}
		if v != st.version {
			t.Errorf("%s: version %s, want %s", st.name, v, st.version)
		}
	}
}

func TestNewSessionUsername(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"opdesk", "opdesk"}, {"", "-"}, {"two words", "-"}, {"bad\r\nc=IN IP4 1.2.3.4", "-"}, {"jürgen", "-"},
	} {
		s := NewSession(tt.in)
		if s.user != tt.want {
			t.Errorf("NewSession(%q).user = %q, want %q", tt.in, s.user, tt.want)
		}
		if s.id == 0 || s.id >= 1<<31 || s.version != s.id {
			t.Errorf("id %d version %d", s.id, s.version)
		}
	}
}

// TestReofferKeepsLayout: after answering audio+video with the video
// rejected, our hold re-offer must still carry both m= lines, in order
// (RFC 3264 §8), and ParseAnswer must look at the audio one.
func TestReofferKeepsLayout(t *testing.T) {
	videoFirst := strings.Replace(linphoneAVPFVideoOffer, "m=audio", "m=video 9078 RTP/AVP 96\r\nm=audio", 1)
	for _, tt := range []struct {
		name, offer string
		index       int
		wantLines   string
	}{
		{"audio first", baresipOffer, 0, "m=audio 4000 RTP/AVP 0 8 101\r\n.*m=video 0 RTP/AVP 100\r\n"},
		{"video first", videoFirst, 1, "m=video 0 RTP/AVP 96\r\nm=audio 4000 RTP/AVPF 0 8 101\r\n.*m=video 0 RTP/AVPF 96\r\n$"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSession()
			if _, _, err := s.Answer([]byte(tt.offer), testLocal()); err != nil {
				t.Fatal(err)
			}
			hold := testLocal()
			hold.Direction = SendOnly
			offer, err := s.Offer(hold)
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`(?s)` + tt.wantLines).Match(offer) {
				t.Errorf("re-offer:\n%s\nwant lines %q", offer, tt.wantLines)
			}
			answer := strings.Repeat("m=video 0 RTP/AVP 96\r\n", tt.index) +
				"m=audio 7078 RTP/AVP 8\r\na=recvonly\r\nm=video 0 RTP/AVP 96\r\n"
			m, err := s.ParseAnswer([]byte("v=0\r\no=- 1 2 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n" + answer))
			if err != nil {
				t.Fatal(err)
			}
			if m.Codec != "PCMA" || m.Port != 7078 || m.Direction != SendOnly {
				t.Errorf("media %+v", m)
			}
		})
	}
}

const answerHead = "v=0\r\no=- 1 2 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n"

func TestParseAnswer(t *testing.T) {
	hold := testLocal()
	hold.Direction = SendOnly
	pcmu := testLocal()
	pcmu.Codecs, pcmu.DTMF = []string{"PCMU"}, false

	tests := []struct {
		name    string
		local   Local // what we offered
		answer  string
		want    Media
		wantErr error
	}{
		{
			name: "baresip picks PCMU", local: testLocal(),
			answer: answerHead + crlf("m=audio 10028 RTP/AVP 0 101\na=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\na=sendrecv\na=ptime:20\n"),
			want: Media{IP: "192.0.2.9", Port: 10028, RTCPPort: 10029, Codec: "PCMU", PayloadType: 0,
				DTMFPayloadType: 101, HasDTMF: true, Ptime: 20},
		},
		{
			name: "Asterisk PCMA, DTMF on another PT, a=rtcp", local: testLocal(),
			answer: answerHead + crlf("m=audio 15000 RTP/AVP 8 96\na=rtpmap:8 PCMA/8000\na=rtpmap:96 telephone-event/8000\na=rtcp:15005\na=ptime:40\n"),
			want: Media{IP: "192.0.2.9", Port: 15000, RTCPPort: 15005, Codec: "PCMA", PayloadType: 8,
				DTMFPayloadType: 96, HasDTMF: true, Ptime: 40},
		},
		{
			name: "DTMF answered but not offered", local: pcmu,
			answer: answerHead + crlf("m=audio 6000 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\n"),
			want:   Media{IP: "192.0.2.9", Port: 6000, RTCPPort: 6001, Codec: "PCMU", PayloadType: 0, Ptime: 20},
		},
		{
			name: "peer holds us in its answer", local: testLocal(),
			answer: answerHead + crlf("m=audio 6000 RTP/AVP 0\na=recvonly\n"),
			want: Media{IP: "192.0.2.9", Port: 6000, RTCPPort: 6001, Codec: "PCMU", PayloadType: 0, Ptime: 20,
				Direction: SendOnly, RemoteDirection: RecvOnly},
		},
		{
			name: "our hold answered recvonly", local: hold,
			answer: answerHead + crlf("m=audio 6000 RTP/AVP 0\na=recvonly\n"),
			want: Media{IP: "192.0.2.9", Port: 6000, RTCPPort: 6001, Codec: "PCMU", PayloadType: 0, Ptime: 20,
				Direction: SendOnly, RemoteDirection: RecvOnly},
		},
		{
			name: "our hold answered sendrecv anyway", local: hold,
			answer: answerHead + crlf("m=audio 6000 RTP/AVP 0\n"),
			want: Media{IP: "192.0.2.9", Port: 6000, RTCPPort: 6001, Codec: "PCMU", PayloadType: 0, Ptime: 20,
				Direction: SendOnly, RemoteDirection: SendRecv},
		},
		{
			name: "our hold answered inactive", local: hold,
			answer: answerHead + crlf("m=audio 6000 RTP/AVP 0\na=inactive\n"),
			want: Media{IP: "192.0.2.9", Port: 6000, RTCPPort: 6001, Codec: "PCMU", PayloadType: 0, Ptime: 20,
				Direction: Inactive, RemoteDirection: Inactive},
		},
		{
			name: "answer with c=0.0.0.0", local: testLocal(),
			answer: strings.Replace(answerHead, "c=IN IP4 192.0.2.9", "c=IN IP4 0.0.0.0", 1) + crlf("m=audio 6000 RTP/AVP 0\n"),
			want: Media{IP: "0.0.0.0", Port: 6000, RTCPPort: 6001, Codec: "PCMU", PayloadType: 0, Ptime: 20,
				Direction: RecvOnly, RemoteDirection: SendOnly},
		},
		{
			name: "rejected", local: testLocal(), answer: answerHead + crlf("m=audio 0 RTP/AVP 0\n"),
			want: Media{Direction: Inactive, RemoteDirection: Inactive}, wantErr: ErrStreamRejected,
		},
		{
			name: "codec we did not offer", local: pcmu, answer: answerHead + crlf("m=audio 6000 RTP/AVP 8\n"),
			wantErr: ErrNoCommonCodec,
		},
		{name: "SRTP answer", local: testLocal(), answer: answerHead + crlf("m=audio 6000 RTP/SAVP 0\n"), wantErr: ErrUnsupportedProfile},
		{name: "video instead of audio", local: testLocal(), answer: answerHead + crlf("m=video 6000 RTP/AVP 96\n"), wantErr: ErrMalformed},
		{name: "no m= line", local: testLocal(), answer: answerHead, wantErr: ErrMalformed},
		{name: "garbage", local: testLocal(), answer: "SIP/2.0 200 OK\r\n", wantErr: ErrMalformed},
		{name: "no c=", local: testLocal(), answer: strings.Replace(answerHead, "c=IN IP4 192.0.2.9\r\n", "", 1) + crlf("m=audio 6000 RTP/AVP 0\n"), wantErr: ErrMalformed},
		{name: "non-numeric PT", local: testLocal(), answer: answerHead + crlf("m=audio 6000 RTP/AVP PCMU\n"), wantErr: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSession()
			if _, err := s.Offer(tt.local); err != nil {
				t.Fatal(err)
			}
			m, err := s.ParseAnswer([]byte(tt.answer))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if m != tt.want {
				t.Errorf("media =\n %+v, want\n %+v", m, tt.want)
			}
		})
	}
}

func TestParseAnswerNeedsOffer(t *testing.T) {
	s := newTestSession()
	answer := []byte(answerHead + "m=audio 6000 RTP/AVP 0\r\n")
	if _, err := s.ParseAnswer(answer); !errors.Is(err, ErrNoOffer) {
		t.Errorf("before any offer: %v", err)
	}
	if _, err := s.Offer(testLocal()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Answer([]byte(sippPCMUOffer), testLocal()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ParseAnswer(answer); !errors.Is(err, ErrNoOffer) {
		t.Errorf("after answering the peer's offer: %v", err)
	}
}

func TestInvalidLocal(t *testing.T) {
	ok := testLocal()
	tests := []struct {
		name string
		edit func(*Local)
	}{
		{"hostname", func(l *Local) { l.IP = "pbx.local" }},
		{"empty IP", func(l *Local) { l.IP = "" }},
		{"zone", func(l *Local) { l.IP = "fe80::1%eth0" }},
		{"port 0", func(l *Local) { l.Port = 0 }},
		{"port too big", func(l *Local) { l.Port = 70000 }},
		{"no codecs", func(l *Local) { l.Codecs = nil }},
		{"opus", func(l *Local) { l.Codecs = []string{"PCMU", "opus"} }},
		{"direction", func(l *Local) { l.Direction = 9 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := ok
			l.Codecs = append([]string(nil), ok.Codecs...)
			tt.edit(&l)
			if _, err := newTestSession().Offer(l); !errors.Is(err, ErrInvalidLocal) {
				t.Errorf("Offer: %v", err)
			}
			if _, _, err := newTestSession().Answer([]byte(sippPCMUOffer), l); !errors.Is(err, ErrInvalidLocal) {
				t.Errorf("Answer: %v", err)
			}
		})
	}
}

func TestOfferDedupsCodecs(t *testing.T) {
	l := testLocal()
	l.Codecs, l.DTMF = []string{"pcma", "PCMA", "pcmu"}, false
	o, err := newTestSession().Offer(l)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(o), "m=audio 4000 RTP/AVP 8 0\r\n") || strings.Contains(string(o), "telephone-event") {
		t.Errorf("offer:\n%s", o)
	}
}

func TestMediaAddr(t *testing.T) {
	tests := []struct {
		m    Media
		want string
	}{
		{Media{IP: "192.0.2.1", Port: 4000}, "192.0.2.1:4000"},
		{Media{IP: "2001:db8::1", Port: 4000}, "[2001:db8::1]:4000"},
		{Media{IP: "0.0.0.0", Port: 4000}, ""},
		{Media{IP: "::", Port: 4000}, ""},
		{Media{IP: "192.0.2.1", Port: 0}, ""},
		{Media{IP: "", Port: 4000}, ""},
	}
	for _, tt := range tests {
		got := tt.m.Addr()
		if (got == nil) != (tt.want == "") || (got != nil && got.String() != tt.want) {
			t.Errorf("%+v.Addr() = %v, want %q", tt.m, got, tt.want)
		}
	}
}
