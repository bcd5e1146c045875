package sdp

import (
	"errors"
	"strings"
	"testing"

	psdp "github.com/pion/sdp/v3"
)

func testLocal() Local {
	return Local{IP: "192.0.2.50", Port: 4000, Codecs: []string{"PCMU", "PCMA"}, DTMF: true}
}

func TestAnswer(t *testing.T) {
	pcmaOnly := testLocal()
	pcmaOnly.Codecs = []string{"pcma"}
	noDTMF := testLocal()
	noDTMF.DTMF = false
	onHold := testLocal()
	onHold.Direction = SendOnly
	v6 := testLocal()
	v6.IP = "2001:db8::50"

	tests := []struct {
		name    string
		offer   string
		local   Local
		want    Media
		lines   []string // must appear in the answer
		absent  []string // must not appear in the answer
		wantErr error
	}{
		{
			name: "baresip audio+video", offer: baresipOffer, local: testLocal(),
			want: Media{IP: "192.168.1.23", Port: 10028, RTCPPort: 10029, Codec: "PCMU", PayloadType: 0,
				DTMFPayloadType: 101, HasDTMF: true, Ptime: 20, Direction: SendRecv, RemoteDirection: SendRecv},
			lines: []string{"m=audio 4000 RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000",
				"a=fmtp:101 0-16", "a=ptime:20", "a=sendrecv", "m=video 0 RTP/AVP 100", "c=IN IP4 192.0.2.50"},
			absent: []string{"opus", "PCMA"},
		},
		{
			name: "baresip PCMA first, our preference wins", offer: baresipPCMAOffer, local: testLocal(),
			want: Media{IP: "203.0.113.9", Port: 10000, RTCPPort: 10001, Codec: "PCMU", PayloadType: 0,
				DTMFPayloadType: 102, HasDTMF: true, Ptime: 20},
			lines: []string{"m=audio 4000 RTP/AVP 0 102", "a=rtpmap:102 telephone-event/8000"},
		},
		{
			name: "baresip, we only do PCMA", offer: baresipPCMAOffer, local: pcmaOnly,
			want: Media{IP: "203.0.113.9", Port: 10000, RTCPPort: 10001, Codec: "PCMA", PayloadType: 8,
				DTMFPayloadType: 102, HasDTMF: true, Ptime: 20},
			lines: []string{"m=audio 4000 RTP/AVP 8 102", "a=rtpmap:8 PCMA/8000"},
		},
		{
			name: "linphone static PTs, DTMF on 100, a=rtcp", offer: linphoneOffer, local: testLocal(),
			want: Media{IP: "192.0.2.12", Port: 7078, RTCPPort: 7082, Codec: "PCMU", PayloadType: 0,
				DTMFPayloadType: 100, HasDTMF: true, Ptime: 20},
			lines:  []string{"m=audio 4000 RTP/AVP 0 100", "a=rtpmap:100 telephone-event/8000"},
			absent: []string{"rtcp-fb", "48000"},
		},
		{
			name: "linphone AVPF with video", offer: linphoneAVPFVideoOffer, local: noDTMF,
			want:   Media{IP: "192.0.2.13", Port: 7078, RTCPPort: 7079, Codec: "PCMU", PayloadType: 0, Ptime: 20},
			lines:  []string{"m=audio 4000 RTP/AVPF 0\r\n", "m=video 0 RTP/AVPF 96"},
			absent: []string{"telephone-event"},
		},
		{
			name: "sipp uac PCMU", offer: sippPCMUOffer, local: testLocal(),
			want:   Media{IP: "127.0.0.1", Port: 6000, RTCPPort: 6001, Codec: "PCMU", PayloadType: 0, Ptime: 20},
			lines:  []string{"m=audio 4000 RTP/AVP 0\r\n"},
			absent: []string{"telephone-event"},
		},
		{
			name: "sipp uac_pcap PCMA", offer: sippPCMAOffer, local: testLocal(),
			want: Media{IP: "127.0.0.1", Port: 6000, RTCPPort: 6001, Codec: "PCMA", PayloadType: 8,
				DTMFPayloadType: 101, HasDTMF: true, Ptime: 20},
			lines: []string{"m=audio 4000 RTP/AVP 8 101"},
		},
		{
			name: "hold offer sendonly", offer: asteriskHoldOffer, local: testLocal(),
			want: Media{IP: "198.51.100.2", Port: 12000, RTCPPort: 12001, Codec: "PCMU", PayloadType: 0,
				DTMFPayloadType: 101, HasDTMF: true, Ptime: 20, Direction: RecvOnly, RemoteDirection: SendOnly},
			lines: []string{"a=recvonly"},
		},
		{
			name: "hold offer while we hold too", offer: asteriskHoldOffer, local: onHold,
			want: Media{IP: "198.51.100.2", Port: 12000, RTCPPort: 12001, Codec: "PCMU", PayloadType: 0,
				DTMFPayloadType: 101, HasDTMF: true, Ptime: 20, Direction: Inactive, RemoteDirection: SendOnly},
			lines: []string{"a=inactive"},
		},
		{
			name: "we hold, peer offers sendrecv", offer: sippPCMUOffer, local: onHold,
			want: Media{IP: "127.0.0.1", Port: 6000, RTCPPort: 6001, Codec: "PCMU", PayloadType: 0, Ptime: 20,
				Direction: SendOnly, RemoteDirection: SendRecv},
			lines: []string{"a=sendonly"},
		},
		{
			name: "inactive", offer: inactiveOffer, local: testLocal(),
			want: Media{IP: "198.51.100.2", Port: 12000, RTCPPort: 12001, Codec: "PCMU", PayloadType: 0,
				DTMFPayloadType: 101, HasDTMF: true, Ptime: 20, Direction: Inactive, RemoteDirection: Inactive},
			lines: []string{"a=inactive"},
		},
		{
			name: "c=0.0.0.0 hold", offer: zeroAddrHoldOffer, local: testLocal(),
			want: Media{IP: "0.0.0.0", Port: 18456, RTCPPort: 18457, Codec: "PCMA", PayloadType: 8,
				DTMFPayloadType: 101, HasDTMF: true, Ptime: 30, Direction: RecvOnly, RemoteDirection: SendOnly},
			lines: []string{"m=audio 4000 RTP/AVP 8 101", "a=recvonly"},
		},
		{
			name: "IPv6 offer, IPv6 answer", offer: ipv6Offer, local: v6,
			want: Media{IP: "2001:db8::10", Port: 20000, RTCPPort: 20001, Codec: "PCMU", PayloadType: 0,
				DTMFPayloadType: 101, HasDTMF: true, Ptime: 20},
			lines: []string{"c=IN IP6 2001:db8::50", "o=opdesk 1 1 IN IP6 2001:db8::50"},
		},
		{
			name: "media-level c= overrides session-level 0.0.0.0", offer: mediaLevelConnOffer, local: testLocal(),
			want: Media{IP: "198.51.100.7", Port: 30000, RTCPPort: 30001, Codec: "PCMU", PayloadType: 0, Ptime: 20},
		},
		{
			name: "media-level c= only, session-level sendonly", offer: sessionDirOffer, local: testLocal(),
			want: Media{IP: "198.51.100.7", Port: 30000, RTCPPort: 30001, Codec: "PCMU", PayloadType: 0, Ptime: 20,
				Direction: RecvOnly, RemoteDirection: SendOnly},
		},
		{
			name: "best-effort SRTP: second audio line", offer: bestEffortSRTPOffer, local: testLocal(),
			want:  Media{IP: "192.0.2.5", Port: 40002, RTCPPort: 40003, Codec: "PCMU", PayloadType: 0, Ptime: 20},
			lines: []string{"m=audio 0 RTP/SAVP 0 8\r\nm=audio 4000 RTP/AVP 0\r\n"},
		},
		{
			name: "dynamic pcmu, PCMA/16000 is not G.711", offer: dynamicPCMUOffer, local: testLocal(),
			want:  Media{IP: "192.0.2.5", Port: 40000, RTCPPort: 40001, Codec: "PCMU", PayloadType: 96, Ptime: 20},
			lines: []string{"m=audio 4000 RTP/AVP 96\r\n", "a=rtpmap:96 PCMU/8000"},
		},
		{
			name: "bare LF, no final newline", offer: bareLFOffer, local: testLocal(),
			want: Media{IP: "192.0.2.8", Port: 8000, RTCPPort: 8001, Codec: "PCMA", PayloadType: 8, Ptime: 20},
		},
		{
			name: "port 0", offer: portZeroOffer, local: testLocal(), wantErr: ErrStreamRejected,
			want:  Media{Direction: Inactive, RemoteDirection: Inactive},
			lines: []string{"m=audio 0 RTP/AVP 0 8"},
		},
		{name: "no common codec", offer: noCommonCodecOffer, local: testLocal(), wantErr: ErrNoCommonCodec},
		{name: "SRTP only", offer: srtpOffer, local: testLocal(), wantErr: ErrUnsupportedProfile},
		{name: "no c=", offer: noConnOffer, local: testLocal(), wantErr: ErrMalformed},
		{name: "empty", offer: "", local: testLocal(), wantErr: ErrMalformed},
		{name: "garbage", offer: "INVITE sip:bob@example.com SIP/2.0\r\n", local: testLocal(), wantErr: ErrMalformed},
		{name: "no m=audio", offer: strings.Replace(sippPCMUOffer, "m=audio 6000 RTP/AVP 0", "m=video 6000 RTP/AVP 96", 1),
			local: testLocal(), wantErr: ErrMalformed},
		{name: "no m= at all", offer: crlf("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"),
			local: testLocal(), wantErr: ErrMalformed},
		{name: "port out of range", offer: strings.Replace(sippPCMUOffer, "6000", "99999", 1), local: testLocal(), wantErr: ErrMalformed},
		{name: "port not a number", offer: strings.Replace(sippPCMUOffer, "6000", "six", 1), local: testLocal(), wantErr: ErrMalformed},
		{name: "non-numeric PT", offer: strings.Replace(sippPCMUOffer, "RTP/AVP 0", "RTP/AVP 0 pcmu", 1), local: testLocal(), wantErr: ErrMalformed},
		{name: "PT above 127", offer: strings.Replace(sippPCMUOffer, "RTP/AVP 0", "RTP/AVP 0 300", 1), local: testLocal(), wantErr: ErrMalformed},
		{name: "c= hostname", offer: strings.Replace(sippPCMUOffer, "c=IN IP4 127.0.0.1", "c=IN IP4 pbx.example.com", 1), local: testLocal(), wantErr: ErrMalformed},
		{name: "bad local IP", offer: sippPCMUOffer, local: Local{IP: "localhost", Port: 4000, Codecs: []string{"PCMU"}}, wantErr: ErrInvalidLocal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSession("opdesk")
			s.id, s.version = 1, 1
			answer, m, err := s.Answer([]byte(tt.offer), tt.local)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if m != tt.want {
				t.Errorf("media =\n %+v, want\n %+v", m, tt.want)
			}
			if err != nil && !errors.Is(err, ErrStreamRejected) {
				if answer != nil {
					t.Errorf("answer with error %v:\n%s", err, answer)
				}
				return
			}
			checkAnswer(t, tt.offer, answer)
			for _, l := range tt.lines {
				if !strings.Contains(string(answer), l) {
					t.Errorf("answer lacks %q:\n%s", l, answer)
				}
			}
			for _, l := range tt.absent {
				if strings.Contains(string(answer), l) {
					t.Errorf("answer has %q:\n%s", l, answer)
				}
			}
		})
	}
}

// checkAnswer verifies an answer is valid SDP with CRLF lines and one m= line
// per m= line of the offer, of the same media type (RFC 3264 §6).
func checkAnswer(t *testing.T, offer string, answer []byte) {
	t.Helper()
	var o, a psdp.SessionDescription
	if err := a.Unmarshal(answer); err != nil {
		t.Fatalf("answer does not parse: %v\n%s", err, answer)
	}
	if strings.Count(string(answer), "\n") != strings.Count(string(answer), "\r\n") {
		t.Errorf("answer has bare LF:\n%q", answer)
	}
	if !strings.HasPrefix(string(answer), "v=0\r\no=opdesk ") || !strings.Contains(string(answer), "\r\ns=opdesk\r\n") ||
		!strings.Contains(string(answer), "\r\nt=0 0\r\n") {
		t.Errorf("answer lacks v=/o=/s=/t=:\n%s", answer)
	}
	if err := o.UnmarshalString(offer); err != nil {
		return // an offer only we forgive (no final newline)
	}
	if len(a.MediaDescriptions) != len(o.MediaDescriptions) {
		t.Fatalf("answer has %d m= lines, offer %d", len(a.MediaDescriptions), len(o.MediaDescriptions))
	}
	for i := range a.MediaDescriptions {
		if a.MediaDescriptions[i].MediaName.Media != o.MediaDescriptions[i].MediaName.Media {
			t.Errorf("m= line %d is %s, offer has %s", i, a.MediaDescriptions[i].MediaName.Media, o.MediaDescriptions[i].MediaName.Media)
		}
	}
}

func TestAnswerErrorText(t *testing.T) {
	_, _, err := NewSession("opdesk").Answer([]byte(noCommonCodecOffer), testLocal())
	const want = "sdp: no common codec: offered opus/48000/2, G722/8000, G729/8000, telephone-event/48000"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	hostile := strings.Replace(noCommonCodecOffer, "opus/48000/2", "\x1b[2Jopus/48000/2", 1)
	_, _, err = NewSession("opdesk").Answer([]byte(hostile), testLocal())
	if err == nil || strings.ContainsAny(err.Error(), "\x1b\r\n") {
		t.Errorf("control characters leak into %q", err)
	}
}

func BenchmarkAnswer(b *testing.B) {
	s := NewSession("opdesk")
	offer := []byte(baresipOffer)
	l := testLocal()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Answer(offer, l); err != nil {
			b.Fatal(err)
		}
	}
}
