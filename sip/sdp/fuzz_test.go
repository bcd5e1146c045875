package sdp

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var updateCorpus = flag.Bool("update", false, "rewrite the seed corpus under testdata/fuzz")

// answerSeeds are offers for FuzzAnswer, named for their corpus files.
func answerSeeds() map[string]string {
	return map[string]string{
		"baresip":         baresipOffer,
		"baresip-pcma":    baresipPCMAOffer,
		"linphone":        linphoneOffer,
		"linphone-avpf":   linphoneAVPFVideoOffer,
		"sipp-pcmu":       sippPCMUOffer,
		"sipp-pcma":       sippPCMAOffer,
		"hold-sendonly":   asteriskHoldOffer,
		"inactive":        inactiveOffer,
		"hold-0000":       zeroAddrHoldOffer,
		"no-common-codec": noCommonCodecOffer,
		"port-0":          portZeroOffer,
		"ipv6":            ipv6Offer,
		"media-level-c":   mediaLevelConnOffer,
		"session-dir":     sessionDirOffer,
		"no-c":            noConnOffer,
		"srtp":            srtpOffer,
		"srtp-best":       bestEffortSRTPOffer,
		"dynamic-pcmu":    dynamicPCMUOffer,
		"bare-lf":         bareLFOffer,
	}
}

// parseAnswerSeeds are answers to testLocal's offer for FuzzParseAnswer.
func parseAnswerSeeds() map[string]string {
	return map[string]string{
		"baresip":      answerHead + crlf("m=audio 10028 RTP/AVP 0 101\na=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\na=sendrecv\na=ptime:20\n"),
		"asterisk":     answerHead + crlf("m=audio 15000 RTP/AVP 8 96\na=rtpmap:8 PCMA/8000\na=rtpmap:96 telephone-event/8000\na=rtcp:15005\na=ptime:40\n"),
		"recvonly":     answerHead + crlf("m=audio 6000 RTP/AVP 0\na=recvonly\n"),
		"inactive":     answerHead + crlf("m=audio 6000 RTP/AVP 0\na=inactive\n"),
		"rejected":     answerHead + crlf("m=audio 0 RTP/AVP 0\n"),
		"srtp":         answerHead + crlf("m=audio 6000 RTP/SAVP 0\n"),
		"video":        answerHead + crlf("m=video 6000 RTP/AVP 96\n"),
		"no-m":         answerHead,
		"ipv6":         crlf("v=0\no=- 1 1 IN IP6 2001:db8::10\ns=-\nc=IN IP6 2001:db8::10\nt=0 0\nm=audio 20000 RTP/AVP 8 101\na=rtpmap:101 telephone-event/8000\n"),
		"zero-addr":    crlf("v=0\no=- 1 1 IN IP4 192.0.2.9\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 6000 RTP/AVP 0\n"),
		"media-c-only": crlf("v=0\no=- 1 1 IN IP4 192.0.2.9\ns=-\nt=0 0\nm=audio 6000 RTP/AVP 0\nc=IN IP4 192.0.2.10\n"),
	}
}

func FuzzAnswer(f *testing.F) {
	for _, s := range answerSeeds() {
		f.Add([]byte(s))
	}
	l := testLocal()
	f.Fuzz(func(t *testing.T, offer []byte) {
		s := NewSession("opdesk")
		answer, m, err := s.Answer(offer, l)
		switch {
		case err == nil:
			checkMedia(t, m)
			// Our answer must be an offer we accept in turn, with the same
			// codec and the mirrored direction.
			_, m2, err := NewSession("opdesk").Answer(answer, l)
			if err != nil {
				t.Fatalf("our answer is not acceptable SDP: %v\n%s", err, answer)
			}
			if m2.Codec != m.Codec || m2.Direction != m.Direction.Reverse() || m2.HasDTMF != m.HasDTMF {
				t.Fatalf("answer %+v re-read as %+v\n%s", m, m2, answer)
			}
		case errors.Is(err, ErrStreamRejected):
			if _, err := parse(answer); err != nil {
				t.Fatalf("rejecting answer does not parse: %v\n%s", err, answer)
			}
		default:
			if answer != nil {
				t.Fatalf("answer with %v", err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNoCommonCodec) && !errors.Is(err, ErrUnsupportedProfile) {
				t.Fatalf("unexpected error %v", err)
			}
		}
		if answer != nil {
			d, _ := parse(offer)
			a, err := parse(answer)
			if err != nil || len(a.MediaDescriptions) != len(d.MediaDescriptions) {
				t.Fatalf("answer m= lines do not mirror the offer's (%v)\n%s", err, answer)
			}
		}
	})
}

func FuzzParseAnswer(f *testing.F) {
	for _, s := range parseAnswerSeeds() {
		f.Add([]byte(s))
	}
	l := testLocal()
	f.Fuzz(func(t *testing.T, answer []byte) {
		s := NewSession("opdesk")
		if _, err := s.Offer(l); err != nil {
			t.Fatal(err)
		}
		m, err := s.ParseAnswer(answer)
		switch {
		case err == nil:
			checkMedia(t, m)
			if m.Direction != m.RemoteDirection.Reverse() {
				t.Fatalf("we offered sendrecv, answer %v, got %v", m.RemoteDirection, m.Direction)
			}
		case errors.Is(err, ErrStreamRejected), errors.Is(err, ErrMalformed),
			errors.Is(err, ErrNoCommonCodec), errors.Is(err, ErrUnsupportedProfile):
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}

func checkMedia(t *testing.T, m Media) {
	t.Helper()
	if (m.Codec != "PCMU" || m.PayloadType != 0) && (m.Codec != "PCMA" || m.PayloadType != 8) && m.PayloadType < 96 {
		t.Fatalf("codec %s on PT %d", m.Codec, m.PayloadType)
	}
	if m.Port < 1 || m.Port > 65535 || m.RTCPPort < 0 || m.RTCPPort > 65535 || m.PayloadType > 127 ||
		m.DTMFPayloadType > 127 || m.Ptime < 10 || m.Ptime > 200 || !m.Direction.valid() || !m.RemoteDirection.valid() {
		t.Fatalf("media out of range: %+v", m)
	}
	if a := m.Addr(); a == nil && m.RemoteDirection.Receives() {
		t.Fatalf("peer receives but there is no address: %+v", m)
	}
}

// TestFuzzCorpus keeps testdata/fuzz in step with the seeds above; run with
// -update after changing them.
func TestFuzzCorpus(t *testing.T) {
	for target, seeds := range map[string]map[string]string{
		"FuzzAnswer":      answerSeeds(),
		"FuzzParseAnswer": parseAnswerSeeds(),
		"FuzzParseCrypto": parseCryptoSeeds(),
		"FuzzAnswerSRTP":  answerSRTPSeeds(),
	} {
		dir := filepath.Join("testdata", "fuzz", target)
		for name, seed := range seeds {
			path := filepath.Join(dir, "seed-"+name)
			want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", seed)
			if *updateCorpus {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != want {
				t.Errorf("%s is missing or stale (%v); run go test -run TestFuzzCorpus -update", path, err)
			}
		}
	}
}
