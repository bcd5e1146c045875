package e2e

import (
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/test/peers"
)

// TestCallThroughSoundCard: a call with baresip through Kamailio where
// opdesk's input and output are the sound card (the PulseAudio null sink
// and its monitor). baresip sends 600 Hz; another application plays
// 1300 Hz on the same sink. What baresip sends must reach the sink (600 Hz
// on the monitor, recorded independently with parecord), and what the
// monitor captures must reach baresip (1300 Hz in baresip's received
// audio, which nothing but opdesk's capture could have carried there).
func TestCallThroughSoundCard(t *testing.T) {
	pa := peers.StartPulse(t)
	k := peers.StartKamailio(t, peers.KamailioOptions{})
	b := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Registrar: k, AutoAnswer: true, Source: "ausine,600"})
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Registrar: k, Input: "default", Output: "default", Env: pa.Env()})
	if err := b.WaitRegistered(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	op.WaitRegistered(10 * time.Second)

	other := filepath.Join(t.TempDir(), "other-app.wav")
	writeToneWAV(t, other, 1300, 30*time.Second)
	stopPlay := pa.Play(t, other)
	monitor := filepath.Join(t.TempDir(), "monitor.wav")
	stopRec := pa.Record(t, monitor)

	id := op.MustCtl("dial", "bob").Call
	op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	waitDeviceRunning(t, op) // an idle phone's card sleeps; a call wakes it
	time.Sleep(3 * time.Second)
	// The operator picks the headset again mid-call (as after plugging one
	// in): the call goes on through the newly opened card.
	op.MustCtl("device", "default")
	time.Sleep(4 * time.Second)
	if st := op.Status(); st.Audio.Device == "" || st.Audio.MicRMSDBFS < -60 {
		t.Fatalf("status after the switch: %+v, want the device named and the microphone level of the monitor", st.Audio)
	}
	op.MustCtl("hangup", id)
	op.WaitEvent(10*time.Second, sip.EvEnded, id)
	if _, err := b.WaitEvent(ctxT(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	stopPlay()
	stopRec()

	mon := readSignal(t, "null-sink monitor", monitor)
	t.Logf("monitor: %.2f s recorded", float64(len(mon))/audio.SampleRate)
	if f := medianShare(mon, 600); f < 0.1 {
		t.Fatalf("the null sink never played baresip's 600 Hz: %.3f of the monitor's energy", f)
	} else {
		t.Logf("monitor: 600 Hz is %.2f of the energy, 1300 Hz %.2f (median of 1 s windows)", f, medianShare(mon, 1300))
	}
	got := readSignal(t, "baresip received", mustOne(t, b.ReceivedDumps()))
	if f := medianShare(got, 1300); f < 0.1 {
		t.Fatalf("baresip did not receive what the monitor captured: 1300 Hz is %.3f of its energy", f)
	} else {
		t.Logf("baresip received: 1300 Hz is %.2f of the energy, 600 Hz (the loop back) %.2f (median of 1 s windows)", f, medianShare(got, 600))
	}
	// The last two seconds came through the card opened by the switch, both
	// ways: baresip's 600 Hz still plays on the sink.
	if f := medianShare(mon[len(mon)-2*audio.SampleRate:], 600); f < 0.1 {
		t.Fatalf("after the device switch the sink no longer plays the call: 600 Hz is %.3f of the monitor's tail", f)
	}
	tail := got[len(got)-2*audio.SampleRate:]
	if f := medianShare(tail, 1300); f < 0.1 {
		t.Fatalf("after the device switch baresip no longer receives the card's capture: 1300 Hz is %.3f", f)
	}
}

// writeToneWAV writes d of a hz sine as an 8 kHz mono WAV.
func writeToneWAV(t *testing.T, path string, hz float64, d time.Duration) {
	t.Helper()
	w, err := audio.CreateWAV(path, audio.SampleRate, 1)
	if err != nil {
		t.Fatal(err)
	}
	tone := audio.NewTone(hz)
	f := make([]int16, audio.FrameSamples)
	for range int(d / audio.FrameDuration) {
		_ = tone.ReadFrame(f)
		if err := w.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// readSignal reads a mono 8 kHz WAV, retrying briefly while its writer
// finishes the header, and fails on silence.
func readSignal(t *testing.T, what, path string) []int16 {
	t.Helper()
	var s []int16
	var err error
	for range 20 {
		var rate, ch int
		s, rate, ch, err = audio.ReadWAV(path)
		if err == nil && ch > 1 {
			s = audio.Channel(s, ch, 0)
		}
		if err == nil && rate != audio.SampleRate {
			t.Fatalf("%s: %d Hz WAV", what, rate)
		}
		if err == nil && len(s) > audio.SampleRate {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if audio.RMS(s) < 0.01 {
		t.Fatalf("%s: %s is silent", what, path)
	}
	return s
}

// toneShare is the fraction of s's energy at hz (a Goertzel filter over the
// whole signal, ±1 bin).
func toneShare(s []int16, hz float64) float64 {
	var total float64
	for _, v := range s {
		total += float64(v) * float64(v)
	}
	if total == 0 {
		return 0
	}
	n := float64(len(s))
	best := 0.0
	for _, df := range []float64{-2, 0, 2} {
		w := 2 * math.Pi * (hz + df) / audio.SampleRate
		c := 2 * math.Cos(w)
		var s1, s2 float64
		for _, v := range s {
			s0 := float64(v) + c*s1 - s2
			s2, s1 = s1, s0
		}
		p := s1*s1 + s2*s2 - c*s1*s2 // |X(k)|²
		best = max(best, 2*p/(n*total))
	}
	return best
}

// TestRingbackAndRingerOnSoundCard: while baresip rings, the operator hears
// the Japanese ringback (400 Hz modulated by 16 Hz) on the sound card; when
// baresip calls, opdesk rings (the jp ringer, 1000+1250 Hz) until answered.
func TestRingbackAndRingerOnSoundCard(t *testing.T) {
	pa := peers.StartPulse(t)
	k := peers.StartKamailio(t, peers.KamailioOptions{})
	b := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Registrar: k})
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Registrar: k, Input: "null", Output: "default", Env: pa.Env()})
	if err := b.WaitRegistered(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	op.WaitRegistered(10 * time.Second)

	ringback := filepath.Join(t.TempDir(), "ringback.wav")
	id := op.MustCtl("dial", "bob").Call
	op.WaitEvent(10*time.Second, sip.EvRinging, id)
	waitDeviceRunning(t, op)
	stop := pa.Record(t, ringback)
	time.Sleep(3200 * time.Millisecond) // one whole 3 s cadence
	stop()
	op.MustCtl("hangup", id)
	op.WaitEvent(10*time.Second, sip.EvEnded, id)
	if _, err := b.WaitEvent(ctxT(t, 10*time.Second), "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	s := readSignal(t, "ringback", ringback)
	if f := toneShare(s, 384) + toneShare(s, 400) + toneShare(s, 416); f < 0.2 {
		t.Fatalf("no 400 Hz ringback on the sound card while the far end rang: %.2f of the energy (dominant %.0f Hz, RMS %.3f)", f, audio.DominantFrequency(s, audio.SampleRate), audio.RMS(s))
	}

	ring := filepath.Join(t.TempDir(), "ring.wav")
	if err := b.Dial(k.AOR("alice")); err != nil {
		t.Fatal(err)
	}
	in := op.WaitEvent(10*time.Second, sip.EvIncoming, "")
	waitDeviceRunning(t, op)
	stop = pa.Record(t, ring)
	time.Sleep(6200 * time.Millisecond) // two cadences: parec may start late on a loaded machine
	stop()
	op.MustCtl("hangup", in.CallID)
	op.WaitEvent(10*time.Second, sip.EvEnded, in.CallID)
	s = readSignal(t, "ringer", ring)
	f := loudestShare(s, 984, 1000, 1016, 1234, 1250, 1266)
	t.Logf("ringer: 1000+1250 Hz are %.2f of the loudest half second's energy", f)
	if f < 0.2 {
		t.Fatalf("opdesk did not ring on the sound card: 1000+1250 Hz are %.2f of the energy of its loudest half second (dominant %.0f Hz, RMS %.3f, %.1f s recorded)",
			f, audio.DominantFrequency(s, audio.SampleRate), audio.RMS(s), float64(len(s))/audio.SampleRate)
	}
}

// loudestShare is the share of the energy at hzs (summed) in the best of
// s's loud half seconds: a cadenced tone is on for a second at a time, and
// what a loaded PulseAudio drops or clicks between bursts is not the tone's
// fault. Windows quieter than half the loudest are not looked at.
func loudestShare(s []int16, hzs ...float64) float64 {
	const win, step = audio.SampleRate / 2, audio.SampleRate / 8
	if len(s) < win {
		var f float64
		for _, hz := range hzs {
			f += toneShare(s, hz)
		}
		return f
	}
	var loudest float64
	for i := 0; i+win <= len(s); i += step {
		loudest = max(loudest, audio.RMS(s[i:i+win]))
	}
	best := 0.0
	for i := 0; i+win <= len(s); i += step {
		w := s[i : i+win]
		if audio.RMS(w) < loudest/2 {
			continue
		}
		var f float64
		for _, hz := range hzs {
			f += toneShare(w, hz)
		}
		best = max(best, f)
	}
	return best
}

// waitDeviceRunning waits until opdesk's sound card is calling back:
// PulseAudio starts a stream a second or two after it is opened or resumed,
// and what is played before then is dropped.
func waitDeviceRunning(t *testing.T, op *Opdesk) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var first uint64
	if st := op.Status().Audio; st.Stats != nil {
		first = st.Stats.Callbacks
	}
	for {
		st := op.Status().Audio
		if st.Stats != nil && st.Stats.Callbacks > first+10 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("opdesk's sound card did not start within 10 s: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// medianShare is the median over 1 s windows of hz's share of the energy:
// the jitter buffer's stretches and a device switch break the phase of a
// tone now and then, which a single filter over the whole file smears.
func medianShare(s []int16, hz float64) float64 {
	var shares []float64
	for i := 0; i+audio.SampleRate <= len(s); i += audio.SampleRate {
		shares = append(shares, toneShare(s[i:i+audio.SampleRate], hz))
	}
	if len(shares) == 0 {
		return toneShare(s, hz)
	}
	slices.Sort(shares)
	return shares[len(shares)/2]
}

// TestIdleCardSleeps: a registered phone with no call suspends its sound
// card after a few seconds (a running card calls back 50 times a second,
// which is what an idle phone's CPU would go to), and a call wakes it.
func TestIdleCardSleeps(t *testing.T) {
	pa := peers.StartPulse(t)
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Input: "default", Output: "default", Env: pa.Env()})
	callbacks := func() uint64 {
		st := op.Status().Audio
		if st.Stats == nil {
			t.Fatalf("no sound card in status: %+v", st)
		}
		return st.Stats.Callbacks
	}
	waitDeviceRunning(t, op) // running at start…
	start := time.Now()
	deadline := start.Add(15 * time.Second)
	for { // …asleep a few seconds later
		a := callbacks()
		time.Sleep(time.Second)
		if b := callbacks(); b == a {
			t.Logf("the card went to sleep %v after it started", time.Since(start).Round(time.Second))
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the idle phone's sound card never went to sleep")
		}
	}
	b := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", AutoAnswer: true})
	id := op.MustCtl("dial", b.URI()).Call
	op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	waitDeviceRunning(t, op)
	op.MustCtl("hangup", id)
}
