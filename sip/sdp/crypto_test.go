package sdp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

// Test keys (base64 of 30 and 28 bytes), and SRTP offers as peers send them.
const (
	key30 = "HkNojbLX/CFGa5C12v8kSW6TuN0CJ0xxlrvgBSpP"
	key28 = "HEFmi7DV+h9EaY6z2P0iR2yRttsAJUpvlLneAw=="
)

// baresip 1.0 with mediaenc=srtp-mand: RTP/SAVP, its one suite on tag 1.
var baresipSRTPMandOffer = strings.Replace(baresipPCMAOffer, "RTP/AVP", "RTP/SAVP", 1) +
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "\r\n"

// baresip 1.0 with mediaenc=srtp: best effort, a=crypto on RTP/AVP.
var baresipSRTPOffer = strings.Replace(baresipSRTPMandOffer, "RTP/SAVP", "RTP/AVP", 1)

// A desk phone offering several suites with session parameters, lifetimes
// and MKIs: only the fourth line is one we take.
var deskPhoneSRTPOffer = crlf(`v=0
o=- 5 5 IN IP4 192.0.2.30
s=-
c=IN IP4 192.0.2.30
t=0 0
m=audio 20000 RTP/SAVP 8 0
a=crypto:1 F8_128_HMAC_SHA1_80 inline:` + key30 + `
a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:` + key30 + `|2^31|1:4
a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:` + key30 + ` UNENCRYPTED_SRTP
a=crypto:4 AES_CM_128_HMAC_SHA1_32 inline:` + key30 + `|2^31 WSH=64
a=crypto:5 AES_CM_128_HMAC_SHA1_80 inline:` + key30 + `
`)

func TestParseCrypto(t *testing.T) {
	tests := []struct {
		v     string
		tag   uint32
		suite string
		ok    bool
	}{
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30, 1, "AES_CM_128_HMAC_SHA1_80", true},
		{"7 AEAD_AES_128_GCM inline:" + key28, 7, "AEAD_AES_128_GCM", true},
		{"7 AEAD_AES_128_GCM inline:" + strings.TrimRight(key28, "="), 7, "AEAD_AES_128_GCM", true},
		{"2 AES_CM_128_HMAC_SHA1_32 inline:" + key30 + "|2^31", 2, "AES_CM_128_HMAC_SHA1_32", true},
		{"2 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2147483648 KDR=0 WSH=128", 2, "AES_CM_128_HMAC_SHA1_80", true},
		{"123456789 AES_CM_128_HMAC_SHA1_80 inline:" + key30, 123456789, "AES_CM_128_HMAC_SHA1_80", true},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20", 0, "", false},     // too short a lifetime
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:4", 0, "", false},      // MKI
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^31|1:4", 0, "", false}, // MKI
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + ";inline:" + key30, 0, "", false},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " UNENCRYPTED_SRTCP", 0, "", false},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key28, 0, "", false}, // wrong length
		{"1 AEAD_AES_128_GCM inline:" + key30, 0, "", false},        // wrong length
		{"1 AES_CM_128_HMAC_SHA1_80 inline:!!!notbase64!!!", 0, "", false},
		{"1 AES_CM_128_HMAC_SHA1_80 uri:https://example.com/key", 0, "", false},
		{"1 F8_128_HMAC_SHA1_80 inline:" + key30, 0, "", false},
		{"1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + key30, 0, "", false},
		{"-1 AES_CM_128_HMAC_SHA1_80 inline:" + key30, 0, "", false},
		{"x AES_CM_128_HMAC_SHA1_80 inline:" + key30, 0, "", false},
		{"1 AES_CM_128_HMAC_SHA1_80", 0, "", false},
		{"", 0, "", false},
	}
	for _, tt := range tests {
		c, err := parseCrypto(tt.v)
		if (err == nil) != tt.ok || err == nil && (c.tag != tt.tag || c.suite.name != tt.suite) {
			t.Errorf("parseCrypto(%q) = %d %s, %v; want ok=%v %d %s", tt.v, c.tag, c.suite.name, err, tt.ok, tt.tag, tt.suite)
		}
		if err != nil {
			if !errors.Is(err, errCrypto) {
				t.Errorf("parseCrypto(%q): %v is not errCrypto", tt.v, err)
			}
			noKeyIn(t, err.Error())
		}
	}
}

// noKeyIn fails if s holds key material: an inline: key, a test key, or
// a long run of base64.
func noKeyIn(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, "inline:") || strings.Contains(s, key30[:12]) || strings.Contains(s, key28[:12]) ||
		longBase64.MatchString(s) {
		t.Errorf("key material in %q", s)
	}
}

var longBase64 = regexp.MustCompile(`[A-Za-z0-9+/]{24,}`)

func srtpLocal(p SRTPPolicy) Local {
	l := testLocal()
	l.SRTP = p
	return l
}

// cryptoAttrs returns the a=crypto values of an SDP.
func cryptoAttrs(sdp []byte) []string {
	var out []string
	for _, line := range strings.Split(string(sdp), "\r\n") {
		if v, ok := strings.CutPrefix(line, "a=crypto:"); ok {
			out = append(out, v)
		}
	}
	return out
}

func TestOfferSRTP(t *testing.T) {
	for _, tt := range []struct {
		policy  SRTPPolicy
		profile string
		lines   int
	}{
		{SRTPOff, "RTP/AVP", 0},
		{SRTPOptional, "RTP/AVP", 2},
		{SRTPRequired, "RTP/SAVP", 2},
	} {
		t.Run(tt.policy.String(), func(t *testing.T) {
			s := newTestSession()
			o, err := s.Offer(srtpLocal(tt.policy))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(o), "m=audio 4000 "+tt.profile+" 0 8 101\r\n") {
				t.Errorf("offer is not %s:\n%s", tt.profile, o)
			}
			cs := cryptoAttrs(o)
			if len(cs) != tt.lines {
				t.Fatalf("%d a=crypto lines, want %d:\n%s", len(cs), tt.lines, o)
			}
			if tt.lines == 0 {
				return
			}
			for i, want := range []string{"1 AEAD_AES_128_GCM inline:", "2 AES_CM_128_HMAC_SHA1_80 inline:"} {
				c, err := parseCrypto(cs[i])
				if !strings.HasPrefix(cs[i], want) || err != nil {
					t.Errorf("a=crypto:%s (%v), want %s...", cs[i], err, want)
				}
				if bytes.Count(c.key, c.key[:1]) == len(c.key) {
					t.Errorf("key of line %d is not random", i+1)
				}
			}
			// The same Local again: the same bytes (unused keys are kept).
			again, err := s.Offer(srtpLocal(tt.policy))
			if err != nil || !bytes.Equal(again, o) {
				t.Errorf("re-offer differs (%v):\n%s\nfirst:\n%s", err, again, o)
			}
		})
	}
}

func TestAnswerSRTP(t *testing.T) {
	tests := []struct {
		name    string
		offer   string
		policy  SRTPPolicy
		suite   string // "" plain
		tag     string // of our answer's a=crypto
		profile string // of our answer
		wantErr error
	}{
		{name: "mand, optional", offer: baresipSRTPMandOffer, policy: SRTPOptional, suite: "AES_CM_128_HMAC_SHA1_80", tag: "1", profile: "RTP/SAVP"},
		{name: "mand, required", offer: baresipSRTPMandOffer, policy: SRTPRequired, suite: "AES_CM_128_HMAC_SHA1_80", tag: "1", profile: "RTP/SAVP"},
		{name: "mand, off", offer: baresipSRTPMandOffer, policy: SRTPOff, wantErr: ErrUnsupportedProfile},
		{name: "best effort, optional", offer: baresipSRTPOffer, policy: SRTPOptional, suite: "AES_CM_128_HMAC_SHA1_80", tag: "1", profile: "RTP/AVP"},
		{name: "best effort, required", offer: baresipSRTPOffer, policy: SRTPRequired, suite: "AES_CM_128_HMAC_SHA1_80", tag: "1", profile: "RTP/AVP"},
		{name: "best effort, off", offer: baresipSRTPOffer, policy: SRTPOff, profile: "RTP/AVP"},
		{name: "plain, optional", offer: sippPCMUOffer, policy: SRTPOptional, profile: "RTP/AVP"},
		{name: "plain, required", offer: sippPCMUOffer, policy: SRTPRequired, wantErr: ErrNoCrypto},
		{name: "desk phone: first usable line", offer: deskPhoneSRTPOffer, policy: SRTPRequired, suite: "AES_CM_128_HMAC_SHA1_32", tag: "4", profile: "RTP/SAVP"},
		{name: "SAVP, nothing usable", offer: deskPhoneSRTPOffer[:strings.Index(deskPhoneSRTPOffer, "a=crypto:4")],
			policy: SRTPOptional, wantErr: ErrNoCrypto},
		{name: "SAVP without a=crypto", offer: strings.Replace(sippPCMUOffer, "RTP/AVP", "RTP/SAVP", 1), policy: SRTPOptional, wantErr: ErrNoCrypto},
		{name: "best effort: the SAVP line", offer: bestEffortSRTPOffer, policy: SRTPOptional, suite: "AES_CM_128_HMAC_SHA1_80", tag: "1", profile: "RTP/SAVP"},
		{name: "DTLS-SRTP", offer: strings.Replace(sippPCMUOffer, "RTP/AVP", "UDP/TLS/RTP/SAVPF", 1), policy: SRTPRequired, wantErr: ErrUnsupportedProfile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer, m, err := newTestSession().Answer([]byte(tt.offer), srtpLocal(tt.policy))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				noKeyIn(t, err.Error())
				return
			}
			if !strings.Contains(string(answer), " "+tt.profile+" ") {
				t.Errorf("answer is not %s:\n%s", tt.profile, answer)
			}
			cs := cryptoAttrs(answer)
			if tt.suite == "" {
				if m.SRTP != nil || len(cs) != 0 {
					t.Errorf("plain answer with SRTP %v / %q", m.SRTP, cs)
				}
				return
			}
			if m.SRTP == nil || m.SRTP.Suite != tt.suite || len(cs) != 1 {
				t.Fatalf("SRTP = %v, a=crypto %q; want %s", m.SRTP, cs, tt.suite)
			}
			c, err := parseCrypto(cs[0])
			if err != nil || fmt.Sprint(c.tag) != tt.tag || c.suite.name != tt.suite || !bytes.Equal(c.key, m.SRTP.Local) {
				t.Errorf("a=crypto:%s (%v) does not carry tag %s, %s and our key", cs[0], err, tt.tag, tt.suite)
			}
			if remote := offeredKey(t, tt.offer, tt.tag); !bytes.Equal(m.SRTP.Remote, remote) {
				t.Error("Remote is not the offer's key")
			}
			if bytes.Equal(m.SRTP.Local, m.SRTP.Remote) {
				t.Error("we answer with the peer's own key")
			}
		})
	}
}

// offeredKey is the key of the offer's a=crypto line with tag.
func offeredKey(t *testing.T, offer, tag string) Key {
	t.Helper()
	for _, v := range cryptoAttrs([]byte(offer)) {
		if c, err := parseCrypto(v); err == nil && fmt.Sprint(c.tag) == tag {
			return c.key
		}
	}
	t.Fatalf("no usable a=crypto:%s in the offer", tag)
	return nil
}

func TestParseAnswerSRTP(t *testing.T) {
	answer := func(profile, crypto string) string {
		s := answerHead + crlf("m=audio 6000 "+profile+" 0\n")
		if crypto != "" {
			s += "a=crypto:" + crypto + "\r\n"
		}
		return s
	}
	tests := []struct {
		name    string
		policy  SRTPPolicy
		answer  string
		suite   string
		wantErr error
	}{
		{name: "GCM", policy: SRTPRequired, answer: answer("RTP/SAVP", "1 AEAD_AES_128_GCM inline:"+key28), suite: "AEAD_AES_128_GCM"},
		{name: "SHA1_80", policy: SRTPOptional, answer: answer("RTP/AVP", "2 AES_CM_128_HMAC_SHA1_80 inline:"+key30), suite: "AES_CM_128_HMAC_SHA1_80"},
		{name: "optional, plain", policy: SRTPOptional, answer: answer("RTP/AVP", "")},
		{name: "required, plain", policy: SRTPRequired, answer: answer("RTP/AVP", ""), wantErr: ErrNoCrypto},
		{name: "required, SAVP without a=crypto", policy: SRTPRequired, answer: answer("RTP/SAVP", ""), wantErr: ErrNoCrypto},
		{name: "tag of another suite", policy: SRTPOptional, answer: answer("RTP/AVP", "1 AES_CM_128_HMAC_SHA1_80 inline:"+key30), wantErr: ErrNoCrypto},
		{name: "tag never offered", policy: SRTPOptional, answer: answer("RTP/AVP", "3 AES_CM_128_HMAC_SHA1_80 inline:"+key30), wantErr: ErrNoCrypto},
		{name: "garbled a=crypto", policy: SRTPOptional, answer: answer("RTP/AVP", "2 AES_CM_128_HMAC_SHA1_80 inline:"+key28), wantErr: ErrNoCrypto},
		{name: "off: a=crypto ignored", policy: SRTPOff, answer: answer("RTP/AVP", "1 AES_CM_128_HMAC_SHA1_80 inline:"+key30)},
		{name: "our key reflected", policy: SRTPOptional, answer: "reflect", wantErr: ErrNoCrypto},
		{name: "off: SAVP", policy: SRTPOff, answer: answer("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_80 inline:"+key30), wantErr: ErrUnsupportedProfile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSession()
			offer, err := s.Offer(srtpLocal(tt.policy))
			if err != nil {
				t.Fatal(err)
			}
			if tt.answer == "reflect" {
				tt.answer = answer("RTP/AVP", cryptoAttrs(offer)[1])
			}
			m, err := s.ParseAnswer([]byte(tt.answer))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				noKeyIn(t, err.Error())
				return
			}
			if tt.suite == "" {
				if m.SRTP != nil {
					t.Errorf("SRTP %v on a plain answer", m.SRTP)
				}
				return
			}
			if m.SRTP == nil || m.SRTP.Suite != tt.suite {
				t.Fatalf("SRTP = %v, want %s", m.SRTP, tt.suite)
			}
			ours := "inline:" + base64.StdEncoding.EncodeToString(m.SRTP.Local)
			if !strings.Contains(string(offer), tt.suite+" "+ours) {
				t.Errorf("Local is not the key we offered for %s", tt.suite)
			}
		})
	}
}

// exchange has o offer with lo and a answer with la; it returns the Media
// each negotiated.
func exchange(t *testing.T, o *Session, lo Local, a *Session, la Local) (offerer, answerer Media) {
	t.Helper()
	offer, err := o.Offer(lo)
	if err != nil {
		t.Fatal(err)
	}
	answer, answerer, err := a.Answer(offer, la)
	if err != nil {
		t.Fatal(err)
	}
	if offerer, err = o.ParseAnswer(answer); err != nil {
		t.Fatal(err)
	}
	return offerer, answerer
}

// TestSRTPReoffers walks a dialog: the re-offers of a call in SRTP carry
// the suite, tag and key in use; once SRTP stops, its key is never used
// again.
func TestSRTPReoffers(t *testing.T) {
	a, b := newTestSession(), NewSession("peer")
	la, lb := srtpLocal(SRTPOptional), srtpLocal(SRTPRequired)
	lb.IP, lb.Port = "192.0.2.60", 6000

	ma, mb := exchange(t, a, la, b, lb)
	if ma.SRTP == nil || mb.SRTP == nil || ma.SRTP.Suite != "AEAD_AES_128_GCM" || mb.SRTP.Suite != ma.SRTP.Suite ||
		!bytes.Equal(ma.SRTP.Local, mb.SRTP.Remote) || !bytes.Equal(ma.SRTP.Remote, mb.SRTP.Local) {
		t.Fatalf("a %v, b %v: keys do not cross", ma.SRTP, mb.SRTP)
	}

	// A puts B on hold: only the suite in use, same tag and key.
	hold := la
	hold.Direction = SendOnly
	ma2, mb2 := exchange(t, a, hold, b, lb)
	if cs := cryptoAttrs(a.last); len(cs) != 1 || cs[0] != cryptoValue(1, "AEAD_AES_128_GCM", ma.SRTP.Local) {
		t.Fatalf("hold re-offer a=crypto %q, want the one in use", cs)
	}
	if !bytes.Equal(ma2.SRTP.Local, ma.SRTP.Local) || !bytes.Equal(ma2.SRTP.Remote, ma.SRTP.Remote) ||
		!bytes.Equal(mb2.SRTP.Local, mb.SRTP.Local) {
		t.Error("a hold changed keys")
	}

	// B re-offers (it is in SRTP too): its key, our key in the answer.
	_, ma3 := exchange(t, b, lb, a, la)
	if !bytes.Equal(ma3.SRTP.Local, ma.SRTP.Local) || !bytes.Equal(ma3.SRTP.Remote, ma.SRTP.Remote) {
		t.Error("answering the peer's re-offer changed keys")
	}

	// The peer re-offers with a new key for the same suite: we keep ours.
	peerOffer := strings.Replace(baresipSRTPOffer, "AES_CM_128_HMAC_SHA1_80 inline:"+key30,
		"AEAD_AES_128_GCM inline:"+key28, 1)
	_, ma4, err := a.Answer([]byte(peerOffer), la)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ma4.SRTP.Local, ma.SRTP.Local) || bytes.Equal(ma4.SRTP.Remote, ma.SRTP.Remote) {
		t.Error("a new peer key: ours must stay, theirs must change")
	}

	// Then plain: our key is dropped for good.
	if _, m, err := a.Answer([]byte(sippPCMUOffer), la); err != nil || m.SRTP != nil {
		t.Fatalf("plain re-offer: %v, %v", m.SRTP, err)
	}
	again, err := a.Offer(la)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range cryptoAttrs(again) {
		c, _ := parseCrypto(v)
		if bytes.Equal(c.key, ma.SRTP.Local) {
			t.Errorf("a key used before is offered again after a plain stretch: %s", c.suite.name)
		}
	}
}

// TestSRTPNeverPrinted: Media and its SRTP print the suite, never a key,
// whatever the verb, and so does log/slog.
func TestSRTPNeverPrinted(t *testing.T) {
	_, m, err := newTestSession().Answer([]byte(baresipSRTPMandOffer), srtpLocal(SRTPRequired))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	log.Debug("negotiated", "media", m, "srtp", m.SRTP, "local", m.SRTP.Local)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("negotiated", "media", m, "srtp", *m.SRTP)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q", "%d"} {
		fmt.Fprintf(&buf, verb+"\n", m)
		fmt.Fprintf(&buf, verb+"\n", m.SRTP)
		fmt.Fprintf(&buf, verb+"\n", m.SRTP.Local)
	}
	out := buf.String()
	if !strings.Contains(out, "AES_CM_128_HMAC_SHA1_80") {
		t.Errorf("the suite is not shown:\n%s", out)
	}
	for _, k := range [][]byte{m.SRTP.Local, m.SRTP.Remote} {
		for _, enc := range []string{base64.StdEncoding.EncodeToString(k)[:16], fmt.Sprintf("%x", []byte(k))[:16],
			fmt.Sprint([]byte(k))[:16]} {
			if strings.Contains(out, enc) {
				t.Errorf("key material %q printed:\n%s", enc, out)
			}
		}
	}
	noKeyIn(t, out)
}
