package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Cuts at arbitrary byte offsets — mid-sample, mid-frame, on a frame
// boundary — with the header in each state a crash or a copy can leave it:
// data size 0 (killed before the first rewrite), a stale size (killed
// between rewrites), and the full size (cut by a copy). RepairWAV keeps
// every whole frame before the cut, exactly, and a second run changes nothing.
func TestRepairWAVCut(t *testing.T) {
	src := recordTones(t, t.TempDir(), 100, 900, 600) // 2 s
	full, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	orig, _, _, err := ReadWAV(src)
	if err != nil {
		t.Fatal(err)
	}
	const frame = 4 // bytes per stereo sample frame
	offsets := []int{wavHeaderSize, wavHeaderSize + 1, wavHeaderSize + 3, wavHeaderSize + 4,
		wavHeaderSize + 1000*frame + 1, wavHeaderSize + 1000*frame + 2, wavHeaderSize + 12345*frame + 3,
		len(full) - 3, len(full) - 1}
	headers := []struct {
		name string
		data uint32
	}{{"data size 0", 0}, {"stale size", 8000 * frame}, {"full size", uint32(len(full) - wavHeaderSize)}}
	for _, h := range headers {
		for _, off := range offsets {
			t.Run(fmt.Sprintf("%s/cut at %d", h.name, off), func(t *testing.T) {
				b := slices.Clone(full[:off])
				binary.LittleEndian.PutUint32(b[40:44], h.data)
				binary.LittleEndian.PutUint32(b[4:8], h.data+wavHeaderSize-8)
				p := writeTemp(t, "cut.wav", b)
				frames := (off - wavHeaderSize) / frame
				wantRepair := int(h.data) != frames*frame || off != wavHeaderSize+frames*frame
				repaired, dur, err := RepairWAV(p)
				if err != nil {
					t.Fatal(err)
				}
				if repaired != wantRepair {
					t.Errorf("repaired = %v, want %v", repaired, wantRepair)
				}
				if want := time.Duration(frames) * time.Second / SampleRate; dur != want {
					t.Errorf("dur = %v, want %v", dur, want)
				}
				s, _, ch, err := ReadWAV(p)
				if err != nil {
					t.Fatal(err)
				}
				if ch != 2 || !slices.Equal(s, orig[:2*frames]) {
					t.Errorf("repaired file holds %d samples, want the first %d of the original", len(s), 2*frames)
				}
				if fi, _ := os.Stat(p); fi.Size() != int64(wavHeaderSize+frames*frame) {
					t.Errorf("file is %d bytes, want %d", fi.Size(), wavHeaderSize+frames*frame)
				}
				if again, _, err := RepairWAV(p); again || err != nil {
					t.Errorf("second RepairWAV = %v, %v; want false, nil", again, err)
				}
			})
		}
	}
	// One cut file through sox, after repair.
	p := writeTemp(t, "sox.wav", full[:wavHeaderSize+5555*frame+3])
	if _, dur, err := RepairWAV(p); err != nil {
		t.Fatal(err)
	} else {
		soxAccepts(t, p, dur)
	}
}

// Files whose sizes agree are not touched, whatever they carry (sox's fact,
// LIST and extensible fmt chunks, other formats, no samples at all); files
// that are not WAV, or are cut inside the header, give a clear error and are
// not touched either.
func TestRepairWAVLeavesAlone(t *testing.T) {
	good := []struct {
		name string
		file []byte
		dur  time.Duration
	}{
		{"empty", buildWAV(wavSpec{format: 1, channels: 2, rate: 8000, bits: 16}), 0},
		{"LIST after data", buildWAV(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16,
			after: []string{chunk("LIST", "INFOICMT\x03\x00\x00\x00hi\x00")}, data: le16(1, 2, 3, 4)}), 500 * time.Microsecond},
		{"odd data with pad", buildWAV(wavSpec{format: 7, channels: 1, rate: 8000, bits: 8, data: []byte{1, 2, 3}}), 375 * time.Microsecond},
	}
	for _, name := range []string{"tone440_8k_mono.wav", "sine1000_48k_stereo.wav", "quad900_8k.wav", "float32_8k.wav", "ulaw_8k.wav"} {
		b, err := os.ReadFile(filepath.Join("testdata", "wav", name))
		if err != nil {
			t.Fatal(err)
		}
		good = append(good, struct {
			name string
			file []byte
			dur  time.Duration
		}{name, b, -1})
	}
	for _, g := range good {
		t.Run(g.name, func(t *testing.T) {
			p := writeTemp(t, "good.wav", g.file)
			repaired, dur, err := RepairWAV(p)
			if err != nil || repaired {
				t.Fatalf("RepairWAV = %v, %v; want false, nil", repaired, err)
			}
			if g.dur >= 0 && dur != g.dur {
				t.Errorf("dur = %v, want %v", dur, g.dur)
			}
			if after, _ := os.ReadFile(p); !bytes.Equal(after, g.file) {
				t.Error("a good file was changed")
			}
		})
	}

	hdr := buildWAV(wavSpec{format: 1, channels: 2, rate: 8000, bits: 16, data: le16(1, 2)})
	bad := []struct {
		name    string
		file    []byte
		wantErr error
		wantMsg string
	}{
		{"text", []byte("these are my notes about the call\n"), ErrWAVCorrupt, "no RIFF/WAVE header"},
		{"zero bytes", nil, ErrWAVCorrupt, "shorter than a RIFF header"},
		{"cut in header", hdr[:30], ErrWAVCorrupt, "not a valid WAV file"},
		{"ADPCM", buildWAV(wavSpec{format: 0x11, channels: 1, rate: 8000, bits: 4, data: []byte{1, 2}}), ErrWAVFormat, "only plain PCM"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			p := writeTemp(t, "bad.wav", c.file)
			repaired, _, err := RepairWAV(p)
			if repaired || !errors.Is(err, c.wantErr) || !strings.Contains(err.Error(), c.wantMsg) || !strings.Contains(err.Error(), p) {
				t.Errorf("RepairWAV = %v, %v; want an error wrapping %v that names the file and says %q", repaired, err, c.wantErr, c.wantMsg)
			}
			if after, _ := os.ReadFile(p); !bytes.Equal(after, c.file) {
				t.Error("a file that could not be repaired was changed")
			}
		})
	}
	if _, _, err := RepairWAV(filepath.Join(t.TempDir(), "none.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("RepairWAV of a missing file = %v, want ErrNotExist", err)
	}
}

func TestRecoverRecordings(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "recordings")
	goodPath := recordTones(t, dir, 60, 900, 600)
	good, _ := os.ReadFile(goodPath)

	day := filepath.Join(dir, "2024-05-06")
	if err := os.MkdirAll(day, 0o700); err != nil {
		t.Fatal(err)
	}
	cut := slices.Clone(good[:len(good)-777])
	binary.LittleEndian.PutUint32(cut[40:44], 0) // killed before the first header rewrite
	files := map[string][]byte{
		filepath.Join(day, "101010_100_a.wav"): cut,
		filepath.Join(day, "101011_100_b.WAV"): slices.Clone(good[:len(good)/2+1]),
		filepath.Join(day, "notes.txt"):        []byte("not audio"),
		filepath.Join(day, "fake.wav"):         []byte("<html>not a wav</html>"),
	}
	for p, b := range files {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(day, "101010_100_a.wav"), filepath.Join(day, "link.wav")); err != nil {
		t.Fatal(err)
	}

	repaired, err := RecoverRecordings(dir)
	want := []string{filepath.Join(day, "101010_100_a.wav"), filepath.Join(day, "101011_100_b.WAV")}
	if !slices.Equal(repaired, want) {
		t.Errorf("repaired %v, want %v", repaired, want)
	}
	if !errors.Is(err, ErrWAVCorrupt) || !strings.Contains(err.Error(), "fake.wav") || strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("error = %v, want one error naming fake.wav", err)
	}
	for _, p := range repaired {
		s, _, _, err := ReadWAV(p)
		if err != nil {
			t.Fatal(err)
		}
		checkStereoTones(t, s, 900, 600)
	}
	if after, _ := os.ReadFile(goodPath); !bytes.Equal(after, good) {
		t.Error("the good recording was changed")
	}
	for _, p := range []string{filepath.Join(day, "notes.txt"), filepath.Join(day, "fake.wav")} {
		if after, _ := os.ReadFile(p); !bytes.Equal(after, files[p]) {
			t.Errorf("%s was changed", p)
		}
	}
	if again, err := RecoverRecordings(dir); len(again) != 0 || !strings.Contains(fmt.Sprint(err), "fake.wav") {
		t.Errorf("second RecoverRecordings = %v, %v; want nothing repaired", again, err)
	}
	if r, err := RecoverRecordings(filepath.Join(dir, "missing")); r != nil || err != nil {
		t.Errorf("RecoverRecordings of a missing dir = %v, %v; want nil, nil", r, err)
	}
}

// TestRepairWAVZeroSizes: a header written and never updated (RIFF and
// data sizes both 0, or a streaming writer's 0xFFFFFFFF) over whole frames
// gets the sizes of what the file holds.
func TestRepairWAVZeroSizes(t *testing.T) {
	full, orig := toneFile(t)
	for _, c := range []struct {
		name       string
		riff, data uint32
	}{{"both zero", 0, 0}, {"streaming", 0xFFFFFFFF, 0xFFFFFFFF}, {"riff only", 0, uint32(len(full) - wavHeaderSize)}} {
		t.Run(c.name, func(t *testing.T) {
			b := slices.Clone(full)
			binary.LittleEndian.PutUint32(b[4:8], c.riff)
			binary.LittleEndian.PutUint32(b[40:44], c.data)
			p := writeTemp(t, "zero.wav", b)
			repaired, dur, err := RepairWAV(p)
			if err != nil || !repaired || dur != 2*time.Second {
				t.Fatalf("RepairWAV = %v, %v, %v; want true, 2s, nil", repaired, dur, err)
			}
			after, _ := os.ReadFile(p)
			if !bytes.Equal(after, full) {
				t.Error("the repaired file differs from the file as WAVWriter closed it")
			}
			if s, _, _, err := ReadWAV(p); err != nil || !slices.Equal(s, orig) {
				t.Errorf("ReadWAV after repair: %v, %d samples", err, len(s))
			}
		})
	}
}

// TestRepairWAVGarbageTail: bytes after the samples that are not a chunk —
// half a frame written when the process died, or junk — are not a chunk
// chain, so they are taken as samples up to the last whole frame; what
// remains of a frame is cut. The result is a valid WAV whose sizes agree.
func TestRepairWAVGarbageTail(t *testing.T) {
	full, orig := toneFile(t)
	const frame = 4
	for _, c := range []struct {
		name   string
		tail   []byte
		frames int // whole frames the tail adds
	}{
		{"half a frame", []byte{0xde, 0xad}, 0},
		{"three bytes", []byte{0xde, 0xad, 0xbe}, 0},
		{"chunk-like id with a wrong size", []byte("JUNK\xff\xff\x00\x00abc"), 2},
		{"zeros", make([]byte, 4096+1), 1024},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := writeTemp(t, "tail.wav", append(slices.Clone(full), c.tail...))
			repaired, dur, err := RepairWAV(p)
			want := len(orig)/2 + c.frames
			if err != nil || !repaired || dur != time.Duration(want)*time.Second/SampleRate {
				t.Fatalf("RepairWAV = %v, %v, %v; want true, %d frames, nil", repaired, dur, err, want)
			}
			s, rate, ch, err := ReadWAV(p)
			if err != nil || rate != SampleRate || ch != 2 || len(s) != 2*want || !slices.Equal(s[:len(orig)], orig) {
				t.Fatalf("after repair: %v, %d Hz, %d ch, %d samples; want the original's %d then the tail's", err, rate, ch, len(s), len(orig))
			}
			if fi, _ := os.Stat(p); fi.Size() != int64(wavHeaderSize+want*frame) {
				t.Errorf("file is %d bytes, want %d", fi.Size(), wavHeaderSize+want*frame)
			}
			if again, _, err := RepairWAV(p); again || err != nil {
				t.Errorf("second RepairWAV = %v, %v; want false, nil", again, err)
			}
		})
	}
}

// toneFile is a closed 2 s stereo recording's bytes and samples.
func toneFile(t *testing.T) (file []byte, samples []int16) {
	t.Helper()
	src := recordTones(t, t.TempDir(), 100, 900, 600)
	file, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if samples, _, _, err = ReadWAV(src); err != nil {
		t.Fatal(err)
	}
	return file, samples
}
