package jitter

import (
	"math"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
)

// lossRun runs a 3 s 440 Hz sine through a buffer pinned at 40 ms with
// packets lost[0]..lost[1]-1 dropped, and returns the output, the index in
// it where the loss begins, and the frames.
func lossRun(t *testing.T, lostFrom, lostTo int) (signal, out []int16, start int, logs []frameLog) {
	t.Helper()
	signal = sine(3*8000, 440, 12000)
	pkts := packetize(signal, []int{160}, 5, 1, 0, 0, constDelay(30*time.Millisecond))
	pkts = append(pkts[:lostFrom:lostFrom], pkts[lostTo:]...)
	b := New(Config{MinDelay: 40 * time.Millisecond, MaxDelay: 40 * time.Millisecond})
	logs = drive(b, pkts, 12*time.Millisecond, 3*50)
	out = concat(logs)
	start = -1
	for k, l := range logs {
		if l.playBefore == extTS(0, lostFrom*160) {
			start = k * 160
		}
	}
	if start < 0 {
		t.Fatal("no frame starts at the lost packet")
	}
	if got := b.Stats().Lost; got != uint64(lostTo-lostFrom) {
		t.Fatalf("Lost = %d, want %d", got, lostTo-lostFrom)
	}
	return signal, out, start, logs
}

// TestConcealSingleLossNoClick: one lost 20 ms packet in a 440 Hz sine is
// filled with 440 Hz, at nearly the sine's level, with no sample step
// larger than twice the sine's own largest step anywhere from the last
// good sample before the loss to the end of the overlap-add after it.
func TestConcealSingleLossNoClick(t *testing.T) {
	signal, out, start, logs := lossRun(t, 100, 101)
	if k := start / 160; logs[k].kind != Concealed || logs[k-1].kind != Audio || logs[k+1].kind != Audio {
		t.Fatalf("frames around the loss: %v %v %v, want audio concealed audio", logs[k-1].kind, logs[k].kind, logs[k+1].kind)
	}
	if n := logs[len(logs)-1].stats.Concealed; n != 1 {
		t.Errorf("%d concealed frames, want 1", n)
	}
	sineStep := maxStep(signal)
	region := out[start-1 : start+2*160] // last good sample, the gap, the frame it is overlap-added into
	if got := maxStep(region); got > 2*sineStep {
		t.Errorf("largest step in and around the concealment %d, sine's own %d: a click", got, sineStep)
	}
	gap := out[start : start+160]
	if f := audio.DominantFrequency(gap, 8000); math.Abs(f-440) > 10 {
		t.Errorf("concealment's dominant frequency %.1f Hz, want 440", f)
	}
	if r, want := audio.RMS(gap), audio.RMS(signal); r < 0.7*want || r > 1.05*want {
		t.Errorf("concealment level %.3f, sine's %.3f", r, want)
	}
	// Away from the loss the output is the sine itself.
	after := out[start+2*160 : start+3*160]
	if f := audio.DominantFrequency(after, 8000); math.Abs(f-440) > 10 {
		t.Errorf("after the loss %.1f Hz", f)
	}
	t.Logf("max step: sine %d, concealment region %d; concealed %.1f Hz at %.0f %% of the level",
		sineStep, maxStep(region), audio.DominantFrequency(gap, 8000), 100*audio.RMS(gap)/audio.RMS(signal))
}

// TestConcealLongLossFadesToSilence: a 200 ms loss is concealed for 60 ms,
// fading after the first 10 ms, then silent until audio returns, which
// fades in without a click.
func TestConcealLongLossFadesToSilence(t *testing.T) {
	signal, out, start, _ := lossRun(t, 100, 110)
	ms := func(a, b int) []int16 { return out[start+a*8 : start+b*8] }
	r0, r2, r4 := audio.RMS(ms(0, 10)), audio.RMS(ms(20, 30)), audio.RMS(ms(40, 50))
	if !(r0 > r2 && r2 > r4 && r4 > 0) {
		t.Errorf("levels at 0, 20, 40 ms into the loss %.3f %.3f %.3f, want falling", r0, r2, r4)
	}
	if r := audio.RMS(ms(0, 10)); r < 0.9*audio.RMS(signal) {
		t.Errorf("first 10 ms at %.3f, sine at %.3f: should hold the level", r, audio.RMS(signal))
	}
	for i, v := range ms(60, 200) {
		if v != 0 {
			t.Fatalf("%.3f ms into the loss: sample %d, want silence after 60 ms", 60+float64(i)/8, v)
		}
	}
	if f := audio.DominantFrequency(ms(0, 40), 8000); math.Abs(f-440) > 10 {
		t.Errorf("concealment %.1f Hz, want 440", f)
	}
	sineStep := maxStep(signal)
	if got := maxStep(out[start-1 : start+60*8]); got > 2*sineStep {
		t.Errorf("step %d in the fading concealment, sine's %d", got, sineStep)
	}
	if got := maxStep(ms(195, 240)); got > 2*sineStep {
		t.Errorf("step %d where audio returns, sine's %d", got, sineStep)
	}
	if r := audio.RMS(ms(220, 240)); math.Abs(r-audio.RMS(signal)) > 0.01 {
		t.Errorf("level after the loss %.3f, want the sine's %.3f", r, audio.RMS(signal))
	}
}

// TestConcealSpeechLikeNoClick: losses in a harmonic, pitch-wandering
// signal conceal without a step larger than twice the signal's own.
func TestConcealSpeechLikeNoClick(t *testing.T) {
	// A 120 Hz vowel with 8 harmonics: steps are up to several times a sine's.
	signal := make([]int16, 3*8000)
	for i := range signal {
		v := 0.0
		for h := 1; h <= 8; h++ {
			v += math.Sin(2*math.Pi*120*float64(h)*float64(i)/8000) / float64(h)
		}
		signal[i] = int16(5000 * v)
	}
	pkts := packetize(signal, []int{160}, 5, 1, 0, 0, constDelay(30*time.Millisecond))
	lost := []int{40, 70, 71, 100}
	var kept []packet
	for i, p := range pkts {
		if !containsInt(lost, i) {
			kept = append(kept, p)
		}
	}
	b := New(Config{MinDelay: 40 * time.Millisecond, MaxDelay: 40 * time.Millisecond})
	out := concat(drive(b, kept, 12*time.Millisecond, 3*50))
	if got, own := maxStep(out), maxStep(signal); got > 2*own {
		t.Errorf("largest step %d, the signal's own %d", got, own)
	} else {
		t.Logf("largest step %d, the signal's own %d", got, own)
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
