package audio

import (
	"bytes"
	"encoding/binary"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
)

// The G.711 reference vectors under testdata/g711 were made once with
// SoX v14.4.2 (always -D: no dither) by
//
//	go test ./audio -run TestG711VectorsLiveSox -update
//
// which runs the sox commands in soxVectors. Files:
//
//	{ulaw,alaw}_decode.s16le  256 little-endian int16: sox's decoding of codes 0..255
//	{ulaw,alaw}_encode.u8     65536 codes: sox's encoding of inputs -32768..32767
var update = flag.Bool("update", false, "regenerate testdata reference vectors with sox")

// soxVectors describes each committed vector: its file, the input written for
// sox, and sox's arguments around the input and output file names.
var soxVectors = []struct {
	file     string
	input    func() []byte
	inArgs   []string
	outArgs  []string
	wantSize int
}{
	{"ulaw_decode.s16le", allCodes, []string{"-t", "ul", "-r", "8000", "-c", "1"}, []string{"-t", "raw", "-e", "signed", "-b", "16", "-L"}, 512},
	{"alaw_decode.s16le", allCodes, []string{"-t", "al", "-r", "8000", "-c", "1"}, []string{"-t", "raw", "-e", "signed", "-b", "16", "-L"}, 512},
	{"ulaw_encode.u8", allSamplesLE, []string{"-t", "raw", "-r", "8000", "-c", "1", "-e", "signed", "-b", "16", "-L"}, []string{"-t", "ul"}, 65536},
	{"alaw_encode.u8", allSamplesLE, []string{"-t", "raw", "-r", "8000", "-c", "1", "-e", "signed", "-b", "16", "-L"}, []string{"-t", "al"}, 65536},
}

// Bounds on how many of the 65,536 inputs may decode differently after our
// encoder than after sox's. Measured with zaf/g711 v1.4.0 against SoX 14.4.2:
// μ-law 510 codes differ (508 by decoded value: the other 2 are ±0), A-law
// 1,020. Every difference is one quantisation level. A regression (a different
// rounding rule, a wrong segment) moves thousands of inputs and trips these.
const (
	maxUlawEncodeDiffs = 520
	maxAlawEncodeDiffs = 1030
)

func allCodes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func allSamplesLE() []byte {
	b := make([]byte, 0, 2*65536)
	for x := -32768; x <= 32767; x++ {
		b = binary.LittleEndian.AppendUint16(b, uint16(int16(x)))
	}
	return b
}

func readVector(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "g711", name))
	if err != nil {
		t.Fatalf("reference vector missing (regenerate with -update and sox): %v", err)
	}
	return b
}

func decodeS16LE(b []byte) []int16 {
	out := make([]int16, len(b)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return out
}

func TestCodecLookup(t *testing.T) {
	tests := []struct {
		name string
		pt   uint8
		want Codec
	}{
		{"PCMU", 0, PCMU},
		{"pcmu", 0, PCMU},
		{"PCMA", 8, PCMA},
		{"pcMa", 8, PCMA},
		{"G722", 9, nil},
		{"PCMU/8000", 18, nil},
		{"", 101, nil},
	}
	for _, tt := range tests {
		got, ok := CodecByName(tt.name)
		if got != tt.want || ok != (tt.want != nil) {
			t.Errorf("CodecByName(%q) = %v, %v; want %v", tt.name, got, ok, tt.want)
		}
		got, ok = CodecByPayloadType(tt.pt)
		if got != tt.want || ok != (tt.want != nil) {
			t.Errorf("CodecByPayloadType(%d) = %v, %v; want %v", tt.pt, got, ok, tt.want)
		}
	}
	if c := Codecs(); len(c) != 2 || c[0] != PCMU || c[1] != PCMA {
		t.Errorf("Codecs() = %v, want [PCMU PCMA]", c)
	}
}

func TestG711DecodeMatchesSox(t *testing.T) {
	for _, c := range []struct {
		codec Codec
		file  string
	}{{PCMU, "ulaw_decode.s16le"}, {PCMA, "alaw_decode.s16le"}} {
		want := decodeS16LE(readVector(t, c.file))
		got := c.codec.Decode(nil, allCodes())
		for code := range want {
			if got[code] != want[code] {
				t.Errorf("%s: Decode(0x%02x) = %d, sox says %d", c.codec.Name(), code, got[code], want[code])
			}
		}
	}
}

func TestG711EncodeAgainstSox(t *testing.T) {
	in := decodeS16LE(allSamplesLE())
	for _, c := range []struct {
		codec    Codec
		file     string
		maxDiffs int
	}{{PCMU, "ulaw_encode.u8", maxUlawEncodeDiffs}, {PCMA, "alaw_encode.u8", maxAlawEncodeDiffs}} {
		sox := readVector(t, c.file)
		ours := c.codec.Encode(nil, in)
		level := levelIndex(c.codec)
		codeDiffs, diffs := 0, 0
		for i, x := range in {
			if ours[i] == sox[i] {
				continue
			}
			codeDiffs++
			a := c.codec.Decode(nil, ours[i:i+1])[0]
			b := c.codec.Decode(nil, sox[i:i+1])[0]
			if a == b {
				continue
			}
			diffs++
			if d := level[a] - level[b]; d < -1 || d > 1 {
				t.Errorf("%s: Encode(%d) decodes to %d, sox's to %d: %d levels apart, want ≤ 1",
					c.codec.Name(), x, a, b, d)
			}
		}
		t.Logf("%s: %d of 65536 inputs encode to a different code than sox, %d to a different decoded value",
			c.codec.Name(), codeDiffs, diffs)
		if diffs > c.maxDiffs {
			t.Errorf("%s: %d inputs decode differently from sox, want ≤ %d", c.codec.Name(), diffs, c.maxDiffs)
		}
	}
}

// levelIndex maps every decoded value of c to its rank among all of them.
func levelIndex(c Codec) map[int16]int {
	vals := c.Decode(nil, allCodes())
	sorted := append([]int16(nil), vals...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	idx := make(map[int16]int)
	for _, v := range sorted {
		if _, ok := idx[v]; !ok {
			idx[v] = len(idx)
		}
	}
	return idx
}

// Every decoded level must encode back to itself: a call relayed through
// decode and encode again must not drift.
func TestG711ReencodeIsStable(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		levels := c.Decode(nil, allCodes())
		again := c.Decode(nil, c.Encode(nil, levels))
		for i := range levels {
			if again[i] != levels[i] {
				t.Errorf("%s: code 0x%02x decodes to %d, re-encodes to a code decoding to %d",
					c.Name(), i, levels[i], again[i])
			}
		}
	}
}

// TestG711VectorsLiveSox regenerates every reference vector with the sox on
// PATH and checks it is byte-identical to the committed file (or, with
// -update, rewrites the committed file).
func TestG711VectorsLiveSox(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("SKIPPED: sox is not on PATH, so the committed G.711 vectors were NOT " +
			"re-checked against a live sox (apt-get install sox to run this check)")
	}
	dir := t.TempDir()
	for _, v := range soxVectors {
		in := filepath.Join(dir, "in-"+v.file)
		out := filepath.Join(dir, v.file)
		if err := os.WriteFile(in, v.input(), 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"-D", "-V1"}
		args = append(args, v.inArgs...)
		args = append(args, in)
		args = append(args, v.outArgs...)
		args = append(args, out)
		if msg, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
			t.Fatalf("sox %v: %v\n%s", args, err, msg)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != v.wantSize {
			t.Fatalf("sox made %d bytes for %s, want %d", len(got), v.file, v.wantSize)
		}
		ref := filepath.Join("testdata", "g711", v.file)
		if *update {
			if err := os.MkdirAll(filepath.Dir(ref), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(ref, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if want := readVector(t, v.file); !bytes.Equal(got, want) {
			t.Errorf("live sox output for %s differs from the committed vector", v.file)
		}
	}
}

func TestG711NoAllocs(t *testing.T) {
	pcm := make([]int16, FrameSamples)
	for i := range pcm {
		pcm[i] = int16(i*397 - 30000)
	}
	payload := make([]byte, FrameSamples)
	out := make([]int16, FrameSamples)
	for _, c := range []Codec{PCMU, PCMA} {
		if n := testing.AllocsPerRun(100, func() {
			payload = c.Encode(payload, pcm)
			out = c.Decode(out, payload)
		}); n != 0 {
			t.Errorf("%s: Encode+Decode of a frame allocates %v times, want 0", c.Name(), n)
		}
	}
}

func BenchmarkG711(b *testing.B) {
	pcm := make([]int16, FrameSamples)
	for i := range pcm {
		pcm[i] = int16(i*397 - 30000)
	}
	payload := make([]byte, FrameSamples)
	out := make([]int16, FrameSamples)
	for _, c := range []Codec{PCMU, PCMA} {
		b.Run(c.Name()+"/Encode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				payload = c.Encode(payload, pcm)
			}
		})
		b.Run(c.Name()+"/Decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out = c.Decode(out, payload)
			}
		})
	}
}
