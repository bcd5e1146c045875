package demoline

import (
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"time"

	"github.com/opdesk/opdesk/audio"
)

// speechFS holds the customer's recorded utterances, generated once by
// speech/make.sh and committed: 8 kHz mono 16-bit PCM, the call format.
//
//go:embed speech/*.wav
var speechFS embed.FS

// loadSpeech decodes every embedded utterance, in file-name order (the
// first is the customer's opening line).
func loadSpeech() ([][]int16, error) {
	names, err := fs.Glob(speechFS, "speech/*.wav")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out [][]int16
	for _, n := range names {
		b, err := speechFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		pcm, err := decodeWAV(b)
		if err != nil {
			return nil, fmt.Errorf("demo speech %s: %w", path.Base(n), err)
		}
		out = append(out, pcm)
	}
	if len(out) == 0 {
		return nil, errors.New("demo speech: no recordings embedded")
	}
	return out, nil
}

// decodeWAV reads an 8 kHz mono 16-bit PCM WAV held in memory. It walks the
// RIFF chunks (sox may add some before "data").
func decodeWAV(b []byte) ([]int16, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, errors.New("not a WAV file")
	}
	fmtOK := false
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8:]
		if size > len(body) {
			size = len(body)
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return nil, errors.New("short fmt chunk")
			}
			format := binary.LittleEndian.Uint16(body[0:])
			ch := binary.LittleEndian.Uint16(body[2:])
			rate := binary.LittleEndian.Uint32(body[4:])
			bits := binary.LittleEndian.Uint16(body[14:])
			if format != 1 || ch != 1 || rate != audio.SampleRate || bits != 16 {
				return nil, fmt.Errorf("want 8 kHz mono 16-bit PCM, found format %d, %d channels, %d Hz, %d bits (regenerate with speech/make.sh)",
					format, ch, rate, bits)
			}
			fmtOK = true
		case "data":
			if !fmtOK {
				return nil, errors.New("data before fmt chunk")
			}
			pcm := make([]int16, size/2)
			for i := range pcm {
				pcm[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			if len(pcm) == 0 {
				return nil, errors.New("no samples")
			}
			return pcm, nil
		}
		off += 8 + size + size%2
	}
	return nil, errors.New("no data chunk")
}

// segment is a stretch of a call's audio: an utterance, or silence when
// pcm is nil.
type segment struct {
	pcm     []int16
	silence int // samples, when pcm is nil
}

func (s segment) len() int {
	if s.pcm != nil {
		return len(s.pcm)
	}
	return s.silence
}

// pauses are the gaps after each utterance, varied so the customer does not
// sound like a metronome; the last, longer one is where the operator would
// answer before the customer starts over.
var pauses = []time.Duration{2500 * time.Millisecond, 3 * time.Second, 2 * time.Second, 4500 * time.Millisecond}

// customerScript is what the customer on call n says: a short breath, the
// opening line, then the other utterances in an order rotated by n, each
// followed by a pause; the whole loops until the call ends.
func customerScript(speech [][]int16, n int) []segment {
	samples := func(d time.Duration) int { return int(d * audio.SampleRate / time.Second) }
	segs := []segment{{silence: samples(600 * time.Millisecond)}}
	order := []int{0}
	if rest := len(speech) - 1; rest > 0 {
		for i := range rest {
			order = append(order, 1+(n+i)%rest)
		}
	}
	for i, u := range order {
		segs = append(segs, segment{pcm: speech[u]},
			segment{silence: samples(pauses[(i+n)%len(pauses)])})
	}
	return segs
}

// speechSource plays a script of segments in a loop. It is pulled by one
// call's media clock and allocates nothing per frame.
type speechSource struct {
	segs []segment
	seg  int // current segment
	pos  int // samples played of it
}

func newSpeechSource(segs []segment) *speechSource { return &speechSource{segs: segs} }

// ReadFrame fills f with the next samples, crossing segment boundaries and
// starting over after the last.
func (s *speechSource) ReadFrame(f []int16) error {
	for i := 0; i < len(f); {
		cur := s.segs[s.seg]
		n := min(cur.len()-s.pos, len(f)-i)
		if cur.pcm != nil {
			copy(f[i:i+n], cur.pcm[s.pos:s.pos+n])
		} else {
			clear(f[i : i+n])
		}
		i += n
		s.pos += n
		if s.pos >= cur.len() {
			s.seg = (s.seg + 1) % len(s.segs)
			s.pos = 0
		}
	}
	return nil
}
