package peers

import (
	"context"
	"math"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
)

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestKamailioConfigChecks(t *testing.T) {
	for _, tcp := range []bool{false, true} {
		k := StartKamailio(t, KamailioOptions{TCP: tcp})
		out, err := exec.Command("kamailio", "-c", "-f", k.ConfigPath()).CombinedOutput()
		if err != nil {
			t.Fatalf("kamailio -c -f %s (tcp=%v): %v\n%s", k.ConfigPath(), tcp, err, out)
		}
	}
}

func TestKamailioAnswersStopsAndRestarts(t *testing.T) {
	k := StartKamailio(t, KamailioOptions{TCP: true})
	if !k.answers() {
		t.Fatal("no answer to OPTIONS after start")
	}
	c, err := net.DialTimeout("tcp4", k.Addr(), time.Second)
	if err != nil {
		t.Fatalf("TCP listener: %v", err)
	}
	c.Close()
	k.Stop()
	if k.Running() || k.answers() {
		t.Fatal("still answering after Stop")
	}
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	if !k.answers() {
		t.Fatal("no answer after restart on the same port")
	}
}

func TestBaresipRegisters(t *testing.T) {
	k := StartKamailio(t, KamailioOptions{})
	b := StartBaresip(t, BaresipOptions{User: "alice", Registrar: k})
	if err := b.WaitRegistered(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	log := tailFile(k.LogPath(), 1<<20)
	challenge := strings.Index(log, "AUTH challenge REGISTER sip:alice@")
	ok := strings.Index(log, "REGISTERED sip:alice@")
	if challenge < 0 || ok < challenge {
		t.Fatalf("want a 401 challenge, then a successful REGISTER in Kamailio's log (challenge at %d, ok at %d)", challenge, ok)
	}
}

func TestBaresipCallThroughKamailio(t *testing.T) {
	k := StartKamailio(t, KamailioOptions{})
	alice := StartBaresip(t, BaresipOptions{User: "alice", Registrar: k})
	bob := StartBaresip(t, BaresipOptions{User: "bob", Registrar: k, AutoAnswer: true})
	ctx := ctxT(t, 30*time.Second)
	for _, b := range []*Baresip{alice, bob} {
		if err := b.WaitRegistered(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := alice.Dial(k.AOR("bob")); err != nil {
		t.Fatal(err)
	}
	for _, b := range []*Baresip{alice, bob} {
		if _, err := b.WaitEvent(ctx, "CALL_ESTABLISHED"); err != nil {
			t.Fatal(err)
		}
	}
	// baresip 1.0 stops writing its -dec.wav dump after a re-INVITE (hold,
	// resume) although RTP keeps flowing, so check the audio first.
	time.Sleep(2 * time.Second)
	checkHearsTone(t, bob, 1000, 1.5)

	if err := alice.SendDTMF("12#"); err != nil {
		t.Fatal(err)
	}
	var digits string
	for range 3 {
		ev, err := bob.WaitEvent(ctx, "CALL_DTMF_START")
		if err != nil {
			t.Fatal(err)
		}
		digits += ev.Param
	}
	if digits != "12#" {
		t.Errorf("bob received DTMF %q, want 12#", digits)
	}
	if err := alice.Hold(); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.WaitEventFunc(ctx, "re-INVITE offer", func(ev BaresipEvent) bool {
		return ev.Type == "CALL_REMOTE_SDP" && ev.Param == "offer"
	}); err != nil {
		t.Fatal(err)
	}
	if err := alice.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := alice.Hangup(); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.WaitEvent(ctx, "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	checkHearsTone(t, bob, 1000, 1.5)
}

// checkHearsTone asserts that b's one received dump holds at least minSec
// seconds of audio whose first channel has its strongest spectral peak
// within ±1 % of freq Hz (so a tone at 1.4×freq, say, fails) and an RMS
// level above 1000/32768 of full scale (so near-silence fails).
func checkHearsTone(t *testing.T, b *Baresip, freq float64, minSec float64) {
	t.Helper()
	recv := b.ReceivedDumps()
	if len(recv) != 1 {
		t.Fatalf("%s's received dumps: %v (all: %v)", b.User, recv, b.DumpFiles())
	}
	var samples []int16
	var rate, ch int
	var sec float64
	err := waitFor(nil, 5*time.Second, func() bool {
		var err error
		samples, rate, ch, err = audio.ReadWAV(recv[0])
		if err != nil {
			return false
		}
		samples = audio.Channel(samples, ch, 0)
		sec = float64(len(samples)) / float64(rate)
		return sec >= minSec
	})
	if err != nil {
		t.Fatalf("%s: %v (%.2f s)", recv[0], err, sec)
	}
	got, rms := audio.DominantFrequency(samples, rate), audio.RMS(samples)
	t.Logf("%s: %d Hz, %d ch, %.2f s, RMS %.3f, dominant %.1f Hz", recv[0], rate, ch, sec, rms, got)
	if math.Abs(got-freq) > 0.01*freq || rms < 1000.0/32768 {
		t.Errorf("%s did not hear the %.0f Hz sine: dominant %.1f Hz, RMS %.3f", b.User, freq, got, rms)
	}
	// Most of the energy is the tone, not merely its strongest peak.
	if share := toneShare(samples, rate, freq); share < 0.5 {
		t.Errorf("%s: only %.2f of the energy is at %.0f Hz", b.User, share, freq)
	}
}

// toneShare is the share (0..1) of the signal's energy at freq Hz: the
// Goertzel power over 20 ms blocks, summed so that phase jumps (jitter
// buffers, lost packets) do not cancel the tone out. A sine of amplitude A
// gives power (A*n/2)^2 per block of n samples and energy A^2*n/2.
func toneShare(x []int16, rate int, freq float64) float64 {
	block := rate / 50
	coeff := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var power, energy float64
	for start := 0; start+block <= len(x); start += block {
		var s1, s2 float64
		for _, v := range x[start : start+block] {
			f := float64(v)
			energy += f * f
			s1, s2 = f+coeff*s1-s2, s1
		}
		power += s1*s1 + s2*s2 - coeff*s1*s2
	}
	if energy == 0 {
		return 0
	}
	return power / energy / (float64(block) / 2)
}

func TestLinphoneRegistersAndCalls(t *testing.T) {
	k := StartKamailio(t, KamailioOptions{})
	bob := StartBaresip(t, BaresipOptions{User: "bob", Registrar: k, AutoAnswer: true})
	l := StartLinphone(t, LinphoneOptions{User: "carol", Registrar: k})
	ctx := ctxT(t, 30*time.Second)
	if err := l.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	if err := bob.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}
	if s := l.Status(); s != "hook=on-hook" {
		t.Errorf("idle status %q", s)
	}
	if err := l.Call(k.AOR("bob")); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.WaitEvent(ctx, "CALL_ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.WaitStatus(ctx, func(s string) bool { return strings.HasPrefix(s, "Call out") }); err != nil {
		t.Fatal(err)
	}
	if err := l.Terminate(); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.WaitEvent(ctx, "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.WaitStatus(ctx, func(s string) bool { return s == "hook=on-hook" }); err != nil {
		t.Fatal(err)
	}
}

func TestSippBuiltinUACCallsUAS(t *testing.T) {
	uas := StartSipp(t, SippOptions{Scenario: "uas"})
	uac := StartSipp(t, SippOptions{Scenario: "uac", Remote: uas.Addr()})
	ctx := ctxT(t, 30*time.Second)
	if err := uac.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := uas.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPulseNullSink(t *testing.T) {
	p := StartPulse(t)
	out, err := p.Pactl(context.Background(), "list", "short", "sinks")
	if err != nil {
		t.Fatalf("pactl: %v: %s", err, out)
	}
	if !strings.Contains(out, PulseSink) {
		t.Fatalf("sinks %q lack %s", out, PulseSink)
	}
	if !strings.HasPrefix(p.Server(), "unix:") || len(p.Env()) != 1 {
		t.Errorf("Server %q Env %v", p.Server(), p.Env())
	}
}

func TestBaresipAufileManualAnswerOverTCP(t *testing.T) {
	k := StartKamailio(t, KamailioOptions{TCP: true})
	src := filepath.Join(t.TempDir(), "tone.wav")
	writeToneWAV(t, src, 440, 3)
	alice := StartBaresip(t, BaresipOptions{User: "alice", Registrar: k, TCP: true, Source: "aufile," + src})
	bob := StartBaresip(t, BaresipOptions{User: "bob", Registrar: k, TCP: true})
	ctx := ctxT(t, 30*time.Second)
	for _, b := range []*Baresip{alice, bob} {
		if err := b.WaitRegistered(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := alice.Dial(k.AOR("bob") + ";transport=tcp"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.WaitEvent(ctx, "CALL_INCOMING"); err != nil {
		t.Fatal(err)
	}
	if err := bob.Answer(); err != nil {
		t.Fatal(err)
	}
	// aufile ends the call at the end of the file.
	if _, err := bob.WaitEvent(ctx, "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	checkHearsTone(t, bob, 440, 2)
	if log := tailFile(k.LogPath(), 1<<20); !strings.Contains(log, "REQ INVITE sip:bob@") || !strings.Contains(log, "(tcp)") {
		t.Errorf("no INVITE over TCP in Kamailio's log")
	}
}

// TestLinphoneTwoTestsSerialize shows that parallel tests each get their
// own linphonec: the second waits on the lock for the first to finish.
func TestLinphoneTwoTestsSerialize(t *testing.T) {
	k := StartKamailio(t, KamailioOptions{})
	for _, user := range []string{"dave", "erin"} {
		t.Run(user, func(t *testing.T) {
			t.Parallel()
			l := StartLinphone(t, LinphoneOptions{User: user, Registrar: k})
			if err := l.WaitRegistered(ctxT(t, 20*time.Second)); err != nil {
				t.Fatal(err)
			}
			out, err := l.Cmd("status", "register")
			if err != nil || !strings.Contains(out, "sip:"+user+"@") {
				t.Errorf("status register %q %v: not this test's daemon", out, err)
			}
		})
	}
}

// writeToneWAV writes seconds of audio.NewTone(hz) to path as an 8000 Hz
// mono WAV, for an aufile source.
func writeToneWAV(t *testing.T, path string, hz, seconds float64) {
	t.Helper()
	w, err := audio.CreateWAV(path, audio.SampleRate, 1)
	if err != nil {
		t.Fatal(err)
	}
	tone, frame := audio.NewTone(hz), make([]int16, audio.FrameSamples)
	for n := int(seconds * audio.SampleRate / audio.FrameSamples); n > 0; n-- {
		if err := tone.ReadFrame(frame); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestToneWAV checks the aufile source writeToneWAV makes: 8000 Hz mono,
// the right length, and sample for sample the tone audio.NewTone plays.
func TestToneWAV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.wav")
	writeToneWAV(t, path, 1000, 0.5)
	got, rate, ch, err := audio.ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 8000 || ch != 1 || len(got) != 4000 {
		t.Fatalf("got %d Hz %d ch %d samples", rate, ch, len(got))
	}
	want := make([]int16, len(got))
	if err := audio.NewTone(1000).ReadFrame(want); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("samples differ from audio.NewTone(1000)")
	}
}
