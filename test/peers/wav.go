package peers

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// WAV is decoded 16-bit PCM audio.
type WAV struct {
	Rate     int
	Channels int
	// Samples are interleaved when Channels > 1.
	Samples []int16
}

// Duration is the audio's length in seconds.
func (w WAV) Duration() float64 {
	if w.Rate == 0 || w.Channels == 0 {
		return 0
	}
	return float64(len(w.Samples)/w.Channels) / float64(w.Rate)
}

// ReadWAV reads a 16-bit PCM WAV file. A data chunk whose size is 0 or runs
// past the end (a file still being written, like baresip's dumps during a
// call) is read to the end of the file.
func ReadWAV(path string) (WAV, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return WAV{}, err
	}
	w, data, err := parseWAV(b)
	if err != nil {
		return WAV{}, fmt.Errorf("%s: %w", path, err)
	}
	w.Samples = make([]int16, len(data)/2)
	for i := range w.Samples {
		w.Samples[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
	}
	return w, nil
}

// wavFormat returns a WAV file's sample rate and channel count.
func wavFormat(path string) (rate, channels int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return 0, 0, err
	}
	w, _, err := parseWAV(head[:n])
	return w.Rate, w.Channels, err
}

func parseWAV(b []byte) (WAV, []byte, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return WAV{}, nil, errors.New("not a RIFF/WAVE file")
	}
	var w WAV
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8:]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return WAV{}, nil, errors.New("short fmt chunk")
			}
			format := binary.LittleEndian.Uint16(body[0:])
			w.Channels = int(binary.LittleEndian.Uint16(body[2:]))
			w.Rate = int(binary.LittleEndian.Uint32(body[4:]))
			bits := binary.LittleEndian.Uint16(body[14:])
			if (format != 1 && format != 0xFFFE) || bits != 16 {
				return WAV{}, nil, fmt.Errorf("want 16-bit PCM, got format %d with %d bits", format, bits)
			}
		case "data":
			if w.Rate == 0 {
				return WAV{}, nil, errors.New("data chunk before fmt chunk")
			}
			if size == 0 || size > len(body) {
				size = len(body)
			}
			return w, body[:size&^1], nil
		}
		off += 8 + size + size&1
	}
	if w.Rate == 0 {
		return WAV{}, nil, errors.New("no fmt chunk")
	}
	return w, nil, errors.New("no data chunk")
}

// ToneRatio returns which share (0..1) of the signal's energy lies at freq
// Hz in the first channel. It runs the Goertzel algorithm over 20 ms blocks
// and sums, so phase jumps from jitter buffers or lost packets do not cancel
// the tone out. A clean sine at freq gives close to 1, silence or noise
// close to 0.
func ToneRatio(w WAV, freq float64) float64 {
	if w.Rate == 0 || w.Channels == 0 {
		return 0
	}
	block := w.Rate / 50
	total := len(w.Samples) / w.Channels
	coeff := 2 * math.Cos(2*math.Pi*freq/float64(w.Rate))
	var power, energy float64
	for start := 0; start+block <= total; start += block {
		var s1, s2 float64
		for i := start; i < start+block; i++ {
			x := float64(w.Samples[i*w.Channels])
			energy += x * x
			s0 := x + coeff*s1 - s2
			s2, s1 = s1, s0
		}
		power += s1*s1 + s2*s2 - coeff*s1*s2
	}
	if energy == 0 {
		return 0
	}
	// A sine of amplitude A gives Goertzel power (A*n/2)^2 per block of n
	// samples and energy A^2*n/2, so power/energy = n/2 for a pure tone.
	return power / energy / (float64(block) / 2)
}

// RMS is the root mean square of the first channel's samples (0..32768).
func RMS(w WAV) float64 {
	if w.Channels == 0 {
		return 0
	}
	n := len(w.Samples) / w.Channels
	if n == 0 {
		return 0
	}
	var sum float64
	for i := 0; i < n; i++ {
		x := float64(w.Samples[i*w.Channels])
		sum += x * x
	}
	return math.Sqrt(sum / float64(n))
}

// WriteWAV writes w as a 16-bit PCM WAV file, for example an aufile source
// for baresip.
func WriteWAV(path string, w WAV) error {
	data := len(w.Samples) * 2
	b := make([]byte, 44+data)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+data))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], uint16(w.Channels))
	binary.LittleEndian.PutUint32(b[24:], uint32(w.Rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(w.Rate*w.Channels*2))
	binary.LittleEndian.PutUint16(b[32:], uint16(w.Channels*2))
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(data))
	for i, s := range w.Samples {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(s))
	}
	return os.WriteFile(path, b, 0o644)
}

// Sine returns seconds of a mono sine at freq Hz with peak amplitude amp.
func Sine(rate int, freq, seconds, amp float64) WAV {
	n := int(float64(rate) * seconds)
	w := WAV{Rate: rate, Channels: 1, Samples: make([]int16, n)}
	for i := range w.Samples {
		w.Samples[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return w
}
