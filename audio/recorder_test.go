package audio

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// recordTones records frames of an operator tone and an other-party tone
// into a new recording under dir and closes it.
func recordTones(t *testing.T, dir string, frames int, opHz, otherHz float64) string {
	t.Helper()
	p := RecordingPath(dir, time.Now(), "call-1@host", "+81312345678")
	r, err := CreateRecording(p)
	if err != nil {
		t.Fatal(err)
	}
	op, other := NewTone(opHz), NewTone(otherHz)
	a, b := make([]int16, FrameSamples), make([]int16, FrameSamples)
	for range frames {
		op.ReadFrame(a)
		other.ReadFrame(b)
		if err := r.WriteFrames(a, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// recTonePower is the Goertzel power of x at hz (8 kHz): the energy of one
// DFT bin, without computing the rest of the spectrum.
func recTonePower(x []int16, hz float64) float64 {
	k := 2 * math.Cos(2*math.Pi*hz/SampleRate)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = float64(v)+k*s1-s2, s1
	}
	return s1*s1 + s2*s2 - k*s1*s2
}

// checkStereoTones asserts left is opHz and right otherHz, each with the
// other's tone at least 40 dB down.
func checkStereoTones(t *testing.T, s []int16, opHz, otherHz float64) {
	t.Helper()
	for _, c := range []struct {
		ch         int
		name       string
		want, leak float64
	}{{0, "left (operator)", opHz, otherHz}, {1, "right (other party)", otherHz, opHz}} {
		x := Channel(s, 2, c.ch)
		if f := DominantFrequency(x, SampleRate); math.Abs(f-c.want) > c.want/200 {
			t.Errorf("%s: dominant %.1f Hz, want %v", c.name, f, c.want)
		}
		own, leak := recTonePower(x, c.want), recTonePower(x, c.leak)
		db := 10 * math.Log10(leak/own)
		if own == 0 || db > -40 {
			t.Errorf("%s: %v Hz is %.1f dB below %v Hz, want ≤ -40 dB", c.name, c.leak, -db, c.want)
		}
		t.Logf("%s: %v Hz leak %.1f dB", c.name, c.leak, db)
	}
}

func TestRecorderTenSeconds(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	p := RecordingPath(dir, time.Now(), "abc", "100")
	r, err := CreateRecording(p)
	if err != nil {
		t.Fatal(err)
	}
	if r.Path() != p {
		t.Errorf("Path() = %q, want %q", r.Path(), p)
	}
	op, other := NewTone(900), NewTone(600)
	a, b := make([]int16, FrameSamples), make([]int16, FrameSamples)
	for range 500 {
		op.ReadFrame(a)
		other.ReadFrame(b)
		if err := r.WriteFrames(a, b); err != nil {
			t.Fatal(err)
		}
	}
	if d := r.Duration(); d != 10*time.Second {
		t.Errorf("Duration() = %v, want 10s", d)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteFrames(a, b); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteFrames after Close = %v, want ErrClosed", err)
	}

	s, rate, ch, err := ReadWAV(p)
	if err != nil {
		t.Fatal(err)
	}
	if rate != SampleRate || ch != 2 {
		t.Fatalf("recording is %d Hz %d ch, want 8000 Hz stereo", rate, ch)
	}
	if frames := len(s) / 2; frames < 80000-FrameSamples || frames > 80000+FrameSamples {
		t.Errorf("recording holds %d sample frames, want 80000 ± %d", frames, FrameSamples)
	}
	checkStereoTones(t, s, 900, 600)
	soxAgrees(t, p, s)

	for _, c := range []struct {
		path string
		want os.FileMode
	}{{p, 0o600}, {filepath.Dir(p), 0o700}, {dir, 0o700}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != c.want {
			t.Errorf("%s: mode %v, want %v", c.path, fi.Mode().Perm(), c.want)
		}
	}
	if _, err := CreateRecording(p); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("CreateRecording over an existing recording = %v, want an 'already exists' error", err)
	}
}

func TestRecorderFrames(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f.wav")
	r, err := CreateRecording(p)
	if err != nil {
		t.Fatal(err)
	}
	op := make([]int16, FrameSamples)
	for i := range op {
		op[i] = int16(i + 1)
	}
	if err := r.WriteFrames(op, nil); err != nil { // far end silent
		t.Fatal(err)
	}
	if err := r.WriteFrames(nil, op); err != nil { // mic muted
		t.Fatal(err)
	}
	for _, bad := range [][2][]int16{{op[:159], op}, {op, make([]int16, 320)}} {
		if err := r.WriteFrames(bad[0], bad[1]); !errors.Is(err, ErrRecordingFrame) {
			t.Errorf("WriteFrames(%d, %d samples) = %v, want ErrRecordingFrame", len(bad[0]), len(bad[1]), err)
		}
	}
	if d := r.Duration(); d != 40*time.Millisecond {
		t.Errorf("Duration() = %v after 2 good frames", d)
	}
	r.Close()
	s, _, _, err := ReadWAV(p)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int16, 4*FrameSamples)
	for i, v := range op {
		want[2*i] = v                  // frame 1: left = op, right = 0
		want[2*FrameSamples+2*i+1] = v // frame 2: left = 0, right = op
	}
	if !slices.Equal(s, want) {
		t.Errorf("interleaving wrong: got %v...", s[:8])
	}
}

func TestRecorderWriteFramesNoAllocs(t *testing.T) {
	r, err := CreateRecording(filepath.Join(t.TempDir(), "a.wav"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a, b := make([]int16, FrameSamples), make([]int16, FrameSamples)
	// 200 frames = 4 s: crosses several header rewrites.
	if n := testing.AllocsPerRun(200, func() { _ = r.WriteFrames(a, b) }); n != 0 {
		t.Errorf("WriteFrames allocates %v times per frame, want 0", n)
	}
	if n := testing.AllocsPerRun(50, func() { _ = r.WriteFrames(a, nil) }); n != 0 {
		t.Errorf("WriteFrames with a silent side allocates %v times per frame, want 0", n)
	}
}

func BenchmarkRecorderWriteFrames(b *testing.B) {
	r, err := CreateRecording(filepath.Join(b.TempDir(), "a.wav"))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	op, other := make([]int16, FrameSamples), make([]int16, FrameSamples)
	NewTone(900).ReadFrame(op)
	NewTone(600).ReadFrame(other)
	b.ReportAllocs()
	for b.Loop() {
		if err := r.WriteFrames(op, other); err != nil {
			b.Fatal(err)
		}
	}
}

const recKillEnv = "OPDESK_REC_KILL_HELPER"

// A recorder killed with SIGKILL mid-call: the file is repaired to hold all
// the audio written (at least the elapsed time less the last second), and
// sox reads it without complaint. The test re-runs its own binary as the
// recording process, recording in real time (one frame per 20 ms), and kills
// it after about 3.3 s.
func TestRecorderSurvivesKill(t *testing.T) {
	if p := os.Getenv(recKillEnv); p != "" {
		recKillHelper(p)
		return
	}
	if testing.Short() {
		t.Skip("records for 3.3 s in real time")
	}
	p := filepath.Join(t.TempDir(), "rec", "killed.wav")
	cmd := exec.Command(os.Args[0], "-test.run=^TestRecorderSurvivesKill$")
	cmd.Env = append(os.Environ(), recKillEnv+"="+p)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "OPDESK_REC_READY" {
				ready <- true
			}
		}
		close(ready)
	}()
	select {
	case ok := <-ready:
		if !ok {
			cmd.Wait()
			t.Fatal("helper exited before it started recording")
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("helper did not start recording within 30 s")
	}
	started := time.Now()
	// 3.3 s, not 3 s: the header is rewritten every 50 frames, so a kill at
	// a whole second would often find it just fixed, with nothing to repair.
	time.Sleep(3300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(started)
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper did not die by SIGKILL: %v", err)
	}

	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	headerData := int(binary.LittleEndian.Uint32(raw[40:44]))
	stale := headerData != len(raw)-wavHeaderSize
	before, _, _, _ := ReadWAV(p)

	repaired, dur, err := RepairWAV(p)
	if err != nil {
		t.Fatal(err)
	}
	if repaired != stale {
		t.Errorf("RepairWAV repaired = %v; header said %d data bytes of %d in the file", repaired, headerData, len(raw)-wavHeaderSize)
	}
	s, rate, ch, err := ReadWAV(p)
	if err != nil {
		t.Fatal(err)
	}
	got := time.Duration(len(s)/2) * time.Second / SampleRate
	t.Logf("killed after %v; header said %v; after repair %v (RepairWAV: %v, %v)",
		elapsed.Round(time.Millisecond), time.Duration(len(before)/2)*time.Second/SampleRate, got, repaired, dur)
	if rate != SampleRate || ch != 2 || len(s)%2 != 0 {
		t.Fatalf("repaired file is %d Hz %d ch with %d samples", rate, ch, len(s))
	}
	if got < elapsed-time.Second || got != dur {
		t.Errorf("repaired file holds %v (RepairWAV says %v), want at least %v", got, dur, elapsed-time.Second)
	}
	if fi, _ := os.Stat(p); fi.Size() != int64(wavHeaderSize+2*len(s)) {
		t.Errorf("file is %d bytes, want header + %d samples", fi.Size(), len(s))
	}
	checkStereoTones(t, s, 900, 600)
	if again, _, err := RepairWAV(p); again || err != nil {
		t.Errorf("second RepairWAV = %v, %v; want false, nil", again, err)
	}
	soxAccepts(t, p, dur)
}

// recKillHelper records 900/600 Hz in real time into p until it is killed
// (or 30 s pass, in case the parent died).
func recKillHelper(p string) {
	r, err := CreateRecording(p)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	fmt.Println("OPDESK_REC_READY")
	op, other := NewTone(900), NewTone(600)
	a, b := make([]int16, FrameSamples), make([]int16, FrameSamples)
	start := time.Now()
	for n := 0; n < 1500; n++ {
		time.Sleep(time.Until(start.Add(time.Duration(n) * FrameDuration)))
		op.ReadFrame(a)
		other.ReadFrame(b)
		if r.WriteFrames(a, b) != nil {
			os.Exit(4)
		}
	}
	os.Exit(5)
}

// soxAccepts checks with sox, if installed, that p is a WAV of duration dur
// that sox reads without a warning.
func soxAccepts(t *testing.T, p string, dur time.Duration) {
	t.Helper()
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Log("!!! sox is not on PATH: NOT checking the repaired file with sox --i / sox stat !!!")
		return
	}
	out, err := exec.Command(sox, "--i", "-D", p).CombinedOutput()
	if err != nil {
		t.Fatalf("sox --i %s: %v\n%s", p, err, out)
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil || math.Abs(secs-dur.Seconds()) > 0.001 {
		t.Errorf("sox --i -D says %q, want %.3f s", out, dur.Seconds())
	}
	out, err = exec.Command(sox, p, "-n", "stat").CombinedOutput()
	if err != nil {
		t.Fatalf("sox %s -n stat: %v\n%s", p, err, out)
	}
	if bytes.Contains(out, []byte("WARN")) || !bytes.Contains(out, []byte("Length (seconds)")) {
		t.Errorf("sox stat did not read the file cleanly:\n%s", out)
	}
}

func TestRecordingPath(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2025, 3, 4, 23, 30, 5, 0, time.FixedZone("UTC-10", -10*3600))
	local := start.Local()
	wantDay := filepath.Join(dir, local.Format("2006-01-02"))
	hhmmss := local.Format("150405")
	tests := []struct {
		name, callID, number, want string
	}{
		{"plain", "a84b4c76e66710@pc33.atlanta.com", "+81312345678", hhmmss + "_+81312345678_a84b4c76e66710_pc33_atlanta_com.wav"},
		{"empty", "", "", hhmmss + "_unknown_unknown.wav"},
		{"slashes", "../../../etc/passwd", "../..", hhmmss + "_unknown_etc_passwd.wav"},
		{"absolute", "/etc/cron.d/x", "/root", hhmmss + "_root_etc_cron_d_x.wav"},
		{"control chars", "id\x00\n\r\x1b[31m", "1\t2", hhmmss + "_1_2_id_31m.wav"},
		{"backslash and dots", `..\..\windows`, "..", hhmmss + "_unknown_windows.wav"},
		{"unicode", "呼び出し/ID", "０３", hhmmss + "_unknown_ID.wav"},
		{"long", strings.Repeat("x", 5000), strings.Repeat("9", 500), hhmmss + "_" + strings.Repeat("9", maxNumberInName) + "_" + strings.Repeat("x", maxCallIDInName) + ".wav"},
	}
	safe := regexp.MustCompile(`^[0-9]{6}_[A-Za-z0-9+-]+(_[A-Za-z0-9+-]+)*\.wav$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := RecordingPath(dir, start, tt.callID, tt.number)
			if filepath.Dir(p) != wantDay {
				t.Errorf("RecordingPath = %q, not directly in %q", p, wantDay)
			}
			if rel, err := filepath.Rel(dir, p); err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("RecordingPath = %q escapes %q", p, dir)
			}
			base := filepath.Base(p)
			if base != tt.want {
				t.Errorf("name = %q, want %q", base, tt.want)
			}
			if !safe.MatchString(base) || len(base) > 100 {
				t.Errorf("name %q is not in the safe charset or too long", base)
			}
		})
	}

	// Unique when the name is taken.
	first := RecordingPath(dir, start, "x", "1")
	seen := map[string]bool{}
	for i := range 3 {
		p := RecordingPath(dir, start, "x", "1")
		if seen[p] {
			t.Fatalf("RecordingPath returned %q twice", p)
		}
		seen[p] = true
		r, err := CreateRecording(p)
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		if i == 0 && p != first {
			t.Errorf("free name %q, want %q", p, first)
		}
		if i == 2 && !strings.HasSuffix(p, "_3.wav") {
			t.Errorf("third recording is %q, want a _3 suffix", p)
		}
	}
}

func TestParseRecordMode(t *testing.T) {
	tests := []struct {
		in   string
		want RecordMode
		ok   bool
	}{
		{"always", RecordAlways, true},
		{"ask", RecordAsk, true},
		{"never", RecordNever, true},
		{" Always ", RecordAlways, true},
		{"NEVER", RecordNever, true},
		{"", RecordNever, false},
		{"sometimes", RecordNever, false},
		{"yes", RecordNever, false},
		{"alwaysx", RecordNever, false},
	}
	for _, tt := range tests {
		got, err := ParseRecordMode(tt.in)
		if tt.ok {
			if err != nil || got != tt.want {
				t.Errorf("ParseRecordMode(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, ErrRecordMode) {
			t.Errorf("ParseRecordMode(%q) error = %v, want ErrRecordMode", tt.in, err)
			continue
		}
		for _, m := range []string{strconv.Quote(tt.in), "always", "ask", "never"} {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("error %q does not mention %s", err, m)
			}
		}
	}
	for _, m := range []RecordMode{RecordNever, RecordAsk, RecordAlways} {
		b, err := m.MarshalText()
		var back RecordMode
		if err != nil || back.UnmarshalText(b) != nil || back != m || m.String() != string(b) {
			t.Errorf("%v does not round-trip through text: %q, %v", m, b, err)
		}
	}
	var zero RecordMode
	if zero != RecordNever {
		t.Error("the zero RecordMode must be RecordNever")
	}
	if _, err := RecordMode(7).MarshalText(); !errors.Is(err, ErrRecordMode) {
		t.Errorf("MarshalText(7) = %v, want ErrRecordMode", err)
	}
	var m RecordMode
	if err := m.UnmarshalText([]byte("maybe")); err == nil || !strings.Contains(err.Error(), "always, ask, never") {
		t.Errorf("UnmarshalText(maybe) = %v", err)
	}
}

// Whatever the bytes, RepairWAV does not panic, leaves a file it rejects
// unchanged, and leaves a file it accepts in a state a second run accepts
// as it is, with the duration it reported. Each run writes and fsyncs a
// file, so minimising an input is slow: add -fuzzminimizetime=200x.
func FuzzRepairWAV(f *testing.F) {
	f.Add(buildWAV(wavSpec{format: 1, channels: 2, rate: 8000, bits: 16, data: le16(1, 2, 3, 4)}))
	f.Add(buildWAV(wavSpec{format: 1, channels: 2, rate: 8000, bits: 16, dataSize: u32(0), data: le16(1, 2, 3, 4, 5)}))
	f.Add(buildWAV(wavSpec{format: 1, channels: 1, rate: 8000, bits: 16, dataSize: u32(2),
		after: []string{chunk("LIST", "INFO")}, data: le16(1, 2, 3)}))
	f.Add(buildWAV(wavSpec{format: 7, channels: 1, rate: 8000, bits: 8, data: []byte{1, 2, 3}}))
	for _, name := range []string{"quad900_8k.wav", "ulaw_8k.wav"} {
		if b, err := os.ReadFile(filepath.Join("testdata", "wav", name)); err == nil {
			f.Add(b)
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "fuzz.wav")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		repaired, dur, err := RepairWAV(p)
		after, _ := os.ReadFile(p)
		if err != nil || !repaired {
			if !bytes.Equal(after, b) {
				t.Fatalf("RepairWAV = %v, %v but changed the file", repaired, err)
			}
			return
		}
		again, dur2, err := RepairWAV(p)
		if err != nil || again || dur2 != dur {
			t.Fatalf("after a repair to %v, RepairWAV = %v, %v, %v", dur, again, dur2, err)
		}
	})
}
