package sdp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// parseCryptoSeeds are a=crypto values for FuzzParseCrypto, named for their
// corpus files (kept in step by TestFuzzCorpus).
func parseCryptoSeeds() map[string]string {
	return map[string]string{
		"baresip":       "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30,
		"gcm":           "1 AEAD_AES_128_GCM inline:" + key28,
		"sha1-32":       "4 AES_CM_128_HMAC_SHA1_32 inline:" + key30 + "|2^31 WSH=64",
		"lifetime-mki":  "2 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^31|1:4",
		"two-keys":      "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20|1:4;inline:" + key30 + "|2^20|2:4",
		"unencrypted":   "3 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " UNENCRYPTED_SRTP",
		"f8":            "1 F8_128_HMAC_SHA1_80 inline:" + key30,
		"short-key":     "1 AES_CM_128_HMAC_SHA1_80 inline:" + key28,
		"aes256":        "1 AES_256_CM_HMAC_SHA1_80 inline:LlN4ncLnDDFWe6DF6g80WX6jyO0SN1yBpsvwFTpfhKnO8xg9Yoes0fYbQGWKrw==",
		"no-padding":    "9 AEAD_AES_128_GCM inline:" + strings.TrimRight(key28, "="),
		"no-key-params": "1 AES_CM_128_HMAC_SHA1_80",
	}
}

// answerSRTPSeeds are offers for FuzzAnswerSRTP.
func answerSRTPSeeds() map[string]string {
	return map[string]string{
		"baresip-mand": baresipSRTPMandOffer,
		"baresip-best": baresipSRTPOffer,
		"desk-phone":   deskPhoneSRTPOffer,
		"savp-only":    srtpOffer,
		"savp-then":    bestEffortSRTPOffer,
		"plain":        sippPCMUOffer,
		"gcm":          strings.Replace(baresipSRTPMandOffer, "AES_CM_128_HMAC_SHA1_80 inline:"+key30, "AEAD_AES_128_GCM inline:"+key28, 1),
		"answer-80":    strings.Replace(baresipSRTPOffer, "crypto:1", "crypto:2", 1),
	}
}

// FuzzParseCrypto: any a=crypto value gives a usable line or an error
// value (never a panic), a usable line formats back to itself, and an
// error never quotes the key.
func FuzzParseCrypto(f *testing.F) {
	for _, s := range parseCryptoSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v := string(b)
		c, err := parseCrypto(v)
		if err != nil {
			if !errors.Is(err, errCrypto) {
				t.Fatalf("error %v is not errCrypto", err)
			}
			if k := keyInfo(v); len(k) >= 16 && strings.Contains(err.Error(), k) {
				t.Fatalf("error %q quotes the key", err)
			}
			return
		}
		if len(c.key) != c.suite.keySalt {
			t.Fatalf("%s key of %d bytes", c.suite.name, len(c.key))
		}
		again, err := parseCrypto(cryptoValue(c.tag, c.suite.name, c.key))
		if err != nil || again.tag != c.tag || again.suite != c.suite || !bytes.Equal(again.key, c.key) {
			t.Fatalf("%q does not format back (%v)", v, err)
		}
	})
}

// keyInfo is the key of an a=crypto value when it appears nowhere else in
// it (so that an error quoting the suite or a parameter is no leak).
func keyInfo(v string) string {
	fields := strings.Fields(v)
	if len(fields) < 3 {
		return ""
	}
	k, _, _ := strings.Cut(strings.TrimPrefix(fields[2], "inline:"), "|")
	for i, f := range fields {
		if i != 2 && strings.Contains(f, k) {
			return ""
		}
	}
	return k
}

// FuzzAnswerSRTP answers any offer under each SRTP policy, and reads it as
// the answer to our offer: an error is one of the package's, an SRTP
// answer carries one a=crypto with our key, an SRTP Media has our offered
// key and another for the peer, and a plain stream never comes out of
// SRTPRequired.
func FuzzAnswerSRTP(f *testing.F) {
	for _, s := range answerSRTPSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, offer []byte) {
		for _, p := range []SRTPPolicy{SRTPOptional, SRTPRequired} {
			answer, m, err := NewSession("opdesk").Answer(offer, srtpLocal(p))
			switch {
			case err == nil:
			case errors.Is(err, ErrStreamRejected), errors.Is(err, ErrMalformed), errors.Is(err, ErrNoCommonCodec),
				errors.Is(err, ErrUnsupportedProfile), errors.Is(err, ErrNoCrypto):
				continue
			default:
				t.Fatalf("unexpected error %v", err)
			}
			checkParseAnswerSRTP(t, offer, p)
			if m.SRTP == nil {
				if p == SRTPRequired {
					t.Fatalf("plain RTP under SRTPRequired:\n%s", answer)
				}
				continue
			}
			cs := cryptoAttrs(answer)
			if len(cs) != 1 {
				t.Fatalf("%d a=crypto in an SRTP answer:\n%s", len(cs), answer)
			}
			c, err := parseCrypto(cs[0])
			if err != nil || c.suite.name != m.SRTP.Suite || !bytes.Equal(c.key, m.SRTP.Local) || bytes.Equal(c.key, m.SRTP.Remote) {
				t.Fatalf("answer a=crypto:%s (%v) does not carry our own key for %s", cs[0], err, m.SRTP.Suite)
			}
		}
	})
}

// checkParseAnswerSRTP reads answer as the answer to our offer under p.
func checkParseAnswerSRTP(t *testing.T, answer []byte, p SRTPPolicy) {
	t.Helper()
	s := NewSession("opdesk")
	offer, err := s.Offer(srtpLocal(p))
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.ParseAnswer(answer)
	switch {
	case err != nil:
		if !errors.Is(err, ErrStreamRejected) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNoCommonCodec) &&
			!errors.Is(err, ErrUnsupportedProfile) && !errors.Is(err, ErrNoCrypto) {
			t.Fatalf("ParseAnswer: unexpected error %v", err)
		}
	case m.SRTP == nil:
		if p == SRTPRequired {
			t.Fatalf("plain answer taken under SRTPRequired:\n%s", answer)
		}
	case !strings.Contains(string(offer), m.SRTP.Suite+" inline:"+base64.StdEncoding.EncodeToString(m.SRTP.Local)) ||
		len(m.SRTP.Remote) == 0 || bytes.Equal(m.SRTP.Local, m.SRTP.Remote):
		t.Fatalf("answer read as %s with keys that are not ours and theirs", m.SRTP.Suite)
	}
}
