package sdp

import (
	"fmt"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"

	"github.com/opdesk/opdesk/audio"
)

// dtmfName is the RFC 4733 §7.1.1 encoding name of DTMF events.
const dtmfName = "telephone-event"

// dtmfPT is the payload type we offer telephone-event on; any dynamic PT
// (96-127, RFC 3551 §3) would do and 101 is what most phones use.
const dtmfPT = 101

// dtmfEvents is the fmtp of telephone-event: DTMF 0-9 * # A-D and flash
// (RFC 4733 §3.2).
const dtmfEvents = "0-16"

// format is one payload type of an m= line with what we know of it.
type format struct {
	pt       uint8
	name     string // encoding name; "" if the PT is dynamic with no rtpmap
	clock    int
	channels int // 0 when the rtpmap gives none
}

// String renders f for error text, e.g. "opus/48000/2" or "PT 97".
func (f format) String() string {
	if f.name == "" {
		return "PT " + strconv.Itoa(int(f.pt))
	}
	s := clean(f.name) + "/" + strconv.Itoa(f.clock)
	if f.channels > 0 {
		s += "/" + strconv.Itoa(f.channels)
	}
	return s
}

// is reports whether f is the named codec at 8 kHz mono.
func (f format) is(name string) bool {
	return strings.EqualFold(f.name, name) && f.clock == audio.SampleRate && f.channels <= 1
}

// staticFormats are the audio payload types of RFC 3551 §6 table 4, used
// when an m= line lists a static PT without an rtpmap.
var staticFormats = map[uint8]format{
	0: {0, "PCMU", 8000, 0}, 3: {3, "GSM", 8000, 0}, 4: {4, "G723", 8000, 0},
	5: {5, "DVI4", 8000, 0}, 6: {6, "DVI4", 16000, 0}, 7: {7, "LPC", 8000, 0},
	8: {8, "PCMA", 8000, 0}, 9: {9, "G722", 8000, 0}, 10: {10, "L16", 44100, 2},
	11: {11, "L16", 44100, 0}, 12: {12, "QCELP", 8000, 0}, 13: {13, "CN", 8000, 0},
	14: {14, "MPA", 90000, 0}, 15: {15, "G728", 8000, 0}, 16: {16, "DVI4", 11025, 0},
	17: {17, "DVI4", 22050, 0}, 18: {18, "G729", 8000, 0},
}

// mediaFormats returns the formats of an RTP m= line in the listed order,
// named by the line's a=rtpmap attributes (RFC 4566 §6) or, for static
// payload types, by RFC 3551. Only dynamic payload types (96-127) take
// their meaning from an rtpmap: static and unassigned ones (0-95) are fixed
// by RFC 3551 §3, so "a=rtpmap:6 PCMU/8000" is still DVI4 (sending PCMU
// under PT 6 would be heard as DVI4 by a conforming peer) and an unassigned
// PT is an unknown format. A format that is not a payload
// type (0-127) makes the line malformed. A garbled rtpmap is ignored.
func mediaFormats(md *psdp.MediaDescription) ([]format, error) {
	var maps [128]format // by PT; the first rtpmap for a PT wins
	var mapped [128]bool
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		if f, ok := parseRtpmap(a.Value); ok && !mapped[f.pt] {
			maps[f.pt], mapped[f.pt] = f, true
		}
	}
	out := make([]format, 0, len(md.MediaName.Formats))
	for _, s := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(s, 10, 8)
		if err != nil || pt > 127 {
			return nil, fmt.Errorf("%w: RTP payload type %q in m=%s is not 0-127",
				ErrMalformed, clean(s), md.MediaName.Media)
		}
		switch f, static := staticFormats[uint8(pt)]; {
		case static:
			out = append(out, f)
		case mapped[pt] && pt >= 96:
			out = append(out, maps[pt])
		default:
			out = append(out, format{pt: uint8(pt)})
		}
	}
	return out, nil
}

// parseRtpmap parses the value of "a=rtpmap:<pt> <name>/<clock>[/<channels>]".
func parseRtpmap(v string) (format, bool) {
	ptStr, enc, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return format{}, false
	}
	pt, err := strconv.ParseUint(ptStr, 10, 8)
	if err != nil || pt > 127 {
		return format{}, false
	}
	parts := strings.Split(strings.TrimSpace(enc), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		return format{}, false
	}
	f := format{pt: uint8(pt), name: parts[0]}
	if f.clock, err = strconv.Atoi(parts[1]); err != nil || f.clock <= 0 {
		return format{}, false
	}
	if len(parts) == 3 {
		if f.channels, err = strconv.Atoi(parts[2]); err != nil || f.channels <= 0 {
			return format{}, false
		}
	}
	return f, true
}

// describe lists formats for error text, at most maxListed of them.
func describe(fs []format) string {
	const maxListed = 12
	var b strings.Builder
	for i, f := range fs {
		if i == maxListed {
			fmt.Fprintf(&b, " (+%d more)", len(fs)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.String())
	}
	if b.Len() == 0 {
		return "nothing"
	}
	return b.String()
}

// clean makes a string from the network safe for error text: anything but
// printable ASCII becomes '?', and it is cut to 64 bytes.
func clean(s string) string {
	const maxLen = 64
	cut := len(s) > maxLen
	if cut {
		s = s[:maxLen]
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	if cut {
		return string(b) + "..."
	}
	return string(b)
}
