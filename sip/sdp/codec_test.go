package sdp

import (
	"errors"
	"testing"
)

// TestStaticPayloadTypesAreFixed: an rtpmap cannot rename a static or
// unassigned payload type (RFC 3551 §3); a dynamic one it can.
func TestStaticPayloadTypesAreFixed(t *testing.T) {
	offer := func(m string) []byte {
		return []byte("v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n" + m)
	}
	tests := []struct {
		name   string
		media  string
		pt     uint8
		codec  string
		reject bool
	}{
		{"PT 6 renamed PCMU stays DVI4", "m=audio 6000 RTP/AVP 6\r\na=rtpmap:6 PCMU/8000\r\n", 0, "", true},
		{"unassigned PT 34 named PCMU", "m=audio 6000 RTP/AVP 34\r\na=rtpmap:34 PCMU/8000\r\n", 0, "", true},
		{"PT 0 renamed PCMA stays PCMU", "m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMA/8000\r\n", 0, "PCMU", false},
		{"dynamic PT 97 PCMA", "m=audio 6000 RTP/AVP 97\r\na=rtpmap:97 PCMA/8000\r\n", 97, "PCMA", false},
	}
	for _, tt := range tests {
		_, m, err := NewSession("t").Answer(offer(tt.media), testLocal())
		if tt.reject {
			if !errors.Is(err, ErrNoCommonCodec) {
				t.Errorf("%s: err %v, want ErrNoCommonCodec", tt.name, err)
			}
			continue
		}
		if err != nil || m.Codec != tt.codec || m.PayloadType != tt.pt {
			t.Errorf("%s: %s on PT %d (%v), want %s on PT %d", tt.name, m.Codec, m.PayloadType, err, tt.codec, tt.pt)
		}
	}
}
