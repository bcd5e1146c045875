package audio

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// wavSpec describes a WAV file for buildWAV.
type wavSpec struct {
	format   uint16
	channels int
	rate     int
	bits     int
	before   []string // chunks before fmt: id + body
	between  []string // chunks between fmt and data
	after    []string // chunks after data
	dataSize *uint32  // override of the data chunk's size field
	data     []byte
}

func chunk(id, body string) string { return id + body }

func buildWAV(s wavSpec) []byte {
	le := binary.LittleEndian
	var b bytes.Buffer
	writeChunk := func(c string) {
		id, body := c[:4], c[4:]
		b.WriteString(id)
		b.Write(le.AppendUint32(nil, uint32(len(body))))
		b.WriteString(body)
		if len(body)%2 == 1 {
			b.WriteByte(0)
		}
	}
	b.WriteString("RIFF\x00\x00\x00\x00WAVE")
	for _, c := range s.before {
		writeChunk(c)
	}
	fmtBody := le.AppendUint16(nil, s.format)
	fmtBody = le.AppendUint16(fmtBody, uint16(s.channels))
	fmtBody = le.AppendUint32(fmtBody, uint32(s.rate))
	fmtBody = le.AppendUint32(fmtBody, uint32(s.rate*s.channels*s.bits/8))
	fmtBody = le.AppendUint16(fmtBody, uint16(s.channels*s.bits/8))
	fmtBody = le.AppendUint16(fmtBody, uint16(s.bits))
	writeChunk(chunk("fmt ", string(fmtBody)))
	for _, c := range s.between {
		writeChunk(c)
	}
	size := uint32(len(s.data))
	if s.dataSize != nil {
		size = *s.dataSize
	}
	b.WriteString("data")
	b.Write(le.AppendUint32(nil, size))
	b.Write(s.data)
	if len(s.data)%2 == 1 {
		b.WriteByte(0)
	}
	for _, c := range s.after {
		writeChunk(c)
	}
	out := b.Bytes()
	le.PutUint32(out[4:8], uint32(len(out)-8))
	return out
}

func le16(samples ...int16) []byte {
	var b []byte
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func u32(v uint32) *uint32 { return &v }

func TestReadWAV(t *testing.T) {
	mono := []int16{1, -2, 3, -4, 32767, -32768}
	tests := []struct {
		name     string
		spec     wavSpec
		want     []int16
		rate, ch int
	}{
		{"plain", wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, data: le16(mono...)}, mono, 8000, 1},
		{"48k stereo", wavSpec{format: 1, channels: 2, rate: 48000, bits: 16, data: le16(1, 2, 3, 4)}, []int16{1, 2, 3, 4}, 48000, 2},
		{"LIST and fact chunks", wavSpec{format: 1, channels: 1, rate: 8000, bits: 16,
			before:  []string{chunk("JUNK", "pad")},
			between: []string{chunk("fact", "\x06\x00\x00\x00"), chunk("LIST", "INFOISFT\x05\x00\x00\x00sox!\x00")},
			after:   []string{chunk("LIST", "INFOICMT\x03\x00\x00\x00hi\x00")},
			data:    le16(mono...)}, mono, 8000, 1},
		{"data size 0 means to EOF", wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, dataSize: u32(0), data: le16(mono...)}, mono, 8000, 1},
		{"data size 0xFFFFFFFF means to EOF", wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, dataSize: u32(0xFFFFFFFF), data: le16(mono...)}, mono, 8000, 1},
		{"truncated data", wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, dataSize: u32(1000), data: le16(mono...)}, mono, 8000, 1},
		{"odd trailing byte", wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, data: append(le16(7, 8), 9)}, []int16{7, 8}, 8000, 1},
		{"empty", wavSpec{format: 1, channels: 1, rate: 8000, bits: 16}, nil, 8000, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeTemp(t, "x.wav", buildWAV(tt.spec))
			got, rate, ch, err := ReadWAV(p)
			if err != nil {
				t.Fatal(err)
			}
			if rate != tt.rate || ch != tt.ch || !slicesEqual(got, tt.want) {
				t.Errorf("ReadWAV = %v, %d Hz, %d ch; want %v, %d, %d", got, rate, ch, tt.want, tt.rate, tt.ch)
			}
		})
	}
}

func slicesEqual(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReadWAVErrors(t *testing.T) {
	tests := []struct {
		name    string
		file    []byte
		wantErr error
		wantMsg []string
	}{
		{"not RIFF", []byte("ID3\x03 this is an mp3, honest"), ErrWAVCorrupt, []string{"no RIFF/WAVE header"}},
		{"too short", []byte("RIFF"), ErrWAVCorrupt, []string{"shorter than a RIFF header"}},
		{"no data", buildWAV(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16})[:36], ErrWAVCorrupt, []string{"no data chunk"}},
		{"8-bit", buildWAV(wavSpec{format: 1, channels: 1, rate: 8000, bits: 8, data: []byte{1, 2}}), ErrWAVFormat, []string{"8000 Hz mono 8-bit PCM", "sox"}},
		{"float", buildWAV(wavSpec{format: 3, channels: 2, rate: 44100, bits: 32, data: make([]byte, 8)}), ErrWAVFormat, []string{"44100 Hz stereo 32-bit float"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeTemp(t, "bad.wav", tt.file)
			_, _, _, err := ReadWAV(p)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadWAV error = %v, want %v", err, tt.wantErr)
			}
			for _, m := range append(tt.wantMsg, p) {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

// Files written by sox itself, including WAVE_FORMAT_EXTENSIBLE and fact chunks.
func TestReadWAVFromSox(t *testing.T) {
	tests := []struct {
		file      string
		rate, ch  int
		frames    int
		hz        float64
		wantError error
	}{
		{"tone440_8k_mono.wav", 8000, 1, 4000, 440, nil},
		{"sine1000_48k_stereo.wav", 48000, 2, 4800, 1000, nil},
		{"quad900_8k.wav", 8000, 4, 400, 900, nil},
		{"float32_8k.wav", 0, 0, 0, 0, ErrWAVFormat},
		{"ulaw_8k.wav", 0, 0, 0, 0, ErrWAVFormat},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s, rate, ch, err := ReadWAV(filepath.Join("testdata", "wav", tt.file))
			if tt.wantError != nil {
				if !errors.Is(err, tt.wantError) {
					t.Fatalf("err = %v, want %v", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rate != tt.rate || ch != tt.ch || len(s) != tt.frames*tt.ch {
				t.Fatalf("got %d Hz, %d ch, %d samples; want %d, %d, %d", rate, ch, len(s), tt.rate, tt.ch, tt.frames*tt.ch)
			}
			for c := range ch {
				if f := DominantFrequency(Channel(s, ch, c), rate); math.Abs(f-tt.hz) > tt.hz/100 {
					t.Errorf("channel %d: %.1f Hz, want %v", c, f, tt.hz)
				}
			}
		})
	}
}

func TestChannel(t *testing.T) {
	in := []int16{1, 10, 2, 20, 3, 30}
	if got := Channel(in, 2, 1); !slicesEqual(got, []int16{10, 20, 30}) {
		t.Errorf("Channel(.., 2, 1) = %v", got)
	}
	if got := Channel(in, 2, 2); got != nil {
		t.Errorf("Channel(.., 2, 2) = %v, want nil", got)
	}
}

func TestWAVWriterRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out.wav")
	w, err := CreateWAV(p, 48000, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int16, 3*2048+6) // several conversion chunks and a ragged end
	for i := range want {
		want[i] = int16(i*31 - 20000)
	}
	if err := w.Write(want[:100]); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(want[100:]); err != nil {
		t.Fatal(err)
	}
	if got := w.Samples(); got != int64(len(want)) {
		t.Errorf("Samples() = %d, want %d", got, len(want))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if err := w.Write(want); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	got, rate, ch, err := ReadWAV(p)
	if err != nil || rate != 48000 || ch != 2 || !slicesEqual(got, want) {
		t.Fatalf("ReadWAV = %d samples, %d Hz, %d ch, %v", len(got), rate, ch, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	soxAgrees(t, p, want)
}

// soxAgrees checks that sox reads the file as the same samples, if sox is installed.
func soxAgrees(t *testing.T, path string, want []int16) {
	t.Helper()
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Log("sox not on PATH: not cross-checking the written WAV with sox")
		return
	}
	out, err := exec.Command(sox, "-D", "-V1", path, "-t", "raw", "-e", "signed", "-b", "16", "-L", "-").Output()
	if err != nil {
		t.Fatalf("sox could not read %s: %v", path, err)
	}
	if got := decodeS16LE(out); !slicesEqual(got, want) {
		t.Errorf("sox reads %d samples, want the %d written", len(got), len(want))
	}
}

func TestWAVWriterBadFormat(t *testing.T) {
	if _, err := CreateWAV(filepath.Join(t.TempDir(), "x.wav"), 0, 1); !errors.Is(err, ErrWAVFormat) {
		t.Errorf("CreateWAV rate 0: %v, want ErrWAVFormat", err)
	}
}

// The header is rewritten at least once per second of audio: with the
// writer still open, the file must already hold all but the last second.
func TestWAVWriterHeaderFixedEverySecond(t *testing.T) {
	p := filepath.Join(t.TempDir(), "live.wav")
	w, err := CreateWAV(p, SampleRate, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	frame := make([]int16, FrameSamples)
	for i := 1; i <= 175; i++ { // 3.5 s
		if err := w.WriteFrame(frame); err != nil {
			t.Fatal(err)
		}
		got, _, _, err := ReadWAV(p)
		if err != nil {
			t.Fatal(err)
		}
		if written := i * FrameSamples; len(got) <= written-SampleRate || len(got) > written {
			t.Fatalf("after %d samples the header says %d, want more than %d", written, len(got), written-SampleRate)
		}
	}
}

// A process killed while writing leaves a WAV that readers (ours and sox)
// accept, holding all but at most the last second. The test re-runs its own
// binary as the writer and has it SIGKILL itself.
func TestWAVWriterSurvivesKill(t *testing.T) {
	if p := os.Getenv("OPDESK_WAV_KILL_HELPER"); p != "" {
		w, err := CreateWAV(p, SampleRate, 1)
		if err != nil {
			os.Exit(3)
		}
		frame := make([]int16, FrameSamples)
		for i := 0; i < 125; i++ { // 2.5 s
			frame[0] = int16(i)
			if w.WriteFrame(frame) != nil {
				os.Exit(4)
			}
		}
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	p := filepath.Join(t.TempDir(), "killed.wav")
	cmd := exec.Command(os.Args[0], "-test.run=^TestWAVWriterSurvivesKill$")
	cmd.Env = append(os.Environ(), "OPDESK_WAV_KILL_HELPER="+p)
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper did not die by SIGKILL: %v", err)
	}
	got, _, _, err := ReadWAV(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 2*SampleRate || len(got) > 125*FrameSamples || len(got)%FrameSamples != 0 {
		t.Fatalf("killed writer left %d samples, want 2 s..2.5 s", len(got))
	}
	for i := 0; i < len(got)/FrameSamples; i++ {
		if got[i*FrameSamples] != int16(i) {
			t.Fatalf("frame %d starts with %d", i, got[i*FrameSamples])
		}
	}
	soxAgrees(t, p, got)
}

func TestWAVWriterNoAllocs(t *testing.T) {
	w, err := CreateWAV(filepath.Join(t.TempDir(), "a.wav"), SampleRate, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	frame := make([]int16, FrameSamples)
	if n := testing.AllocsPerRun(200, func() { _ = w.WriteFrame(frame) }); n != 0 { // crosses header fix-ups
		t.Errorf("WriteFrame allocates %v times, want 0", n)
	}
}

func FuzzParseWAVHeader(f *testing.F) {
	f.Add(buildWAV(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, data: le16(1, 2, 3)}))
	f.Add(buildWAV(wavSpec{format: 1, channels: 2, rate: 48000, bits: 16, dataSize: u32(0xFFFFFFFF),
		between: []string{chunk("LIST", "INFO")}, data: le16(1, 2)}))
	for _, name := range []string{"quad900_8k.wav", "float32_8k.wav"} {
		if b, err := os.ReadFile(filepath.Join("testdata", "wav", name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := parseWAVHeader(bufio.NewReader(bytes.NewReader(b)), "fuzz.wav")
		if err != nil {
			if !errors.Is(err, ErrWAVCorrupt) {
				t.Fatalf("error %v does not wrap ErrWAVCorrupt", err)
			}
			return
		}
		if info.dataOffset < 20 || info.dataOffset > int64(len(b)) || info.dataSize < -1 {
			t.Fatalf("impossible header %+v for %d bytes", info, len(b))
		}
		_ = info.describe()
		_ = info.checkCallFormat("fuzz.wav")
	})
}
