package audio

import (
	"strings"

	"github.com/zaf/g711"
)

// G.711 (ITU-T G.711, RTP static payload types from RFC 3551 §6) on top of
// github.com/zaf/g711's per-sample functions. Its decoders are table lookups
// that match the ITU tables exactly; its encoders disagree with sox/ITU
// reference code by one code step for a few inputs that sit exactly on a
// quantisation boundary (see g711_test.go for the measured counts). That is
// inaudible and both ends of a call always agree because decoding is exact.

// PCMU is G.711 μ-law, RTP payload type 0.
var PCMU Codec = ulawCodec{}

// PCMA is G.711 A-law, RTP payload type 8.
var PCMA Codec = alawCodec{}

// codecs lists every codec opdesk offers, in SDP preference order.
var codecs = [...]Codec{PCMU, PCMA}

// Codecs returns the supported codecs in preference order (PCMU, PCMA).
// The returned slice is a fresh copy.
func Codecs() []Codec {
	out := make([]Codec, len(codecs))
	copy(out, codecs[:])
	return out
}

// CodecByName returns the codec with the SDP encoding name name, compared
// case-insensitively ("pcmu", "PCMA"). Only the bare name is accepted, not
// "PCMU/8000".
func CodecByName(name string) (Codec, bool) {
	for _, c := range codecs {
		if strings.EqualFold(c.Name(), name) {
			return c, true
		}
	}
	return nil, false
}

// CodecByPayloadType returns the codec for a static RTP payload type (0 or 8).
func CodecByPayloadType(pt uint8) (Codec, bool) {
	for _, c := range codecs {
		if c.PayloadType() == pt {
			return c, true
		}
	}
	return nil, false
}

type ulawCodec struct{}

func (ulawCodec) Name() string       { return "PCMU" }
func (ulawCodec) PayloadType() uint8 { return 0 }
func (ulawCodec) String() string     { return "PCMU/8000" }

// Encode writes len(pcm) μ-law bytes into dst[:len(pcm)] and returns them.
// It allocates only if cap(dst) < len(pcm), which callers on the per-frame
// path must avoid by passing a buffer of FrameSamples bytes.
func (ulawCodec) Encode(dst []byte, pcm []int16) []byte {
	dst = growBytes(dst, len(pcm))
	for i, s := range pcm {
		dst[i] = g711.EncodeUlawFrame(s)
	}
	return dst
}

// Decode writes len(payload) samples into dst[:len(payload)] and returns
// them. It allocates only if cap(dst) < len(payload).
func (ulawCodec) Decode(dst []int16, payload []byte) []int16 {
	dst = growSamples(dst, len(payload))
	for i, b := range payload {
		dst[i] = g711.DecodeUlawFrame(b)
	}
	return dst
}

type alawCodec struct{}

func (alawCodec) Name() string       { return "PCMA" }
func (alawCodec) PayloadType() uint8 { return 8 }
func (alawCodec) String() string     { return "PCMA/8000" }

// Encode writes len(pcm) A-law bytes into dst[:len(pcm)] and returns them.
// It allocates only if cap(dst) < len(pcm).
func (alawCodec) Encode(dst []byte, pcm []int16) []byte {
	dst = growBytes(dst, len(pcm))
	for i, s := range pcm {
		dst[i] = g711.EncodeAlawFrame(s)
	}
	return dst
}

// Decode writes len(payload) samples into dst[:len(payload)] and returns
// them. It allocates only if cap(dst) < len(payload).
func (alawCodec) Decode(dst []int16, payload []byte) []int16 {
	dst = growSamples(dst, len(payload))
	for i, b := range payload {
		dst[i] = g711.DecodeAlawFrame(b)
	}
	return dst
}

// growBytes returns dst resliced to n, allocating only when it is too small.
func growBytes(dst []byte, n int) []byte {
	if cap(dst) < n {
		return make([]byte, n)
	}
	return dst[:n]
}

// growSamples returns dst resliced to n, allocating only when it is too small.
func growSamples(dst []int16, n int) []int16 {
	if cap(dst) < n {
		return make([]int16, n)
	}
	return dst[:n]
}
