package peers

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
// seconds of audio, most of its energy at freq Hz.
func checkHearsTone(t *testing.T, b *Baresip, freq float64, minSec float64) {
	t.Helper()
	recv := b.ReceivedDumps()
	if len(recv) != 1 {
		t.Fatalf("%s's received dumps: %v (all: %v)", b.User, recv, b.DumpFiles())
	}
	var w WAV
	err := waitFor(nil, 5*time.Second, func() bool {
		var err error
		w, err = ReadWAV(recv[0])
		return err == nil && w.Duration() >= minSec
	})
	if err != nil {
		t.Fatalf("%s: %v (%.2f s)", recv[0], err, w.Duration())
	}
	ratio := ToneRatio(w, freq)
	t.Logf("%s: %d Hz, %d ch, %.2f s, RMS %.0f, %.0f Hz share %.2f", recv[0], w.Rate, w.Channels, w.Duration(), RMS(w), freq, ratio)
	if ratio < 0.5 || RMS(w) < 1000 {
		t.Errorf("%s did not hear the %.0f Hz sine: share %.2f, RMS %.0f", b.User, freq, ratio, RMS(w))
	}
	if other := ToneRatio(w, freq*1.4); other > 0.1 {
		t.Errorf("%.0f Hz share %.2f: the detector is not selective", freq*1.4, other)
	}
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
	if err := WriteWAV(src, Sine(8000, 440, 3, 12000)); err != nil {
		t.Fatal(err)
	}
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

func TestWAVRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.wav")
	in := Sine(8000, 1000, 0.5, 10000)
	if err := WriteWAV(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if out.Rate != 8000 || out.Channels != 1 || len(out.Samples) != len(in.Samples) {
		t.Fatalf("got %d Hz %d ch %d samples", out.Rate, out.Channels, len(out.Samples))
	}
	if r := ToneRatio(out, 1000); r < 0.99 {
		t.Errorf("1000 Hz share %.3f", r)
	}
	if r := ToneRatio(out, 1400); r > 0.01 {
		t.Errorf("1400 Hz share %.3f", r)
	}
}
