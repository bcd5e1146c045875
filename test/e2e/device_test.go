package e2e

import (
	"math"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/test/peers"
)

// TestDeviceToneThroughNullSink plays a tone on the sound card and captures
// it back: the PulseAudio null sink's monitor is the default source, so what
// opdesk plays is what it records. Both ways opdesk reaches a real card are
// proven: miniaudio's PulseAudio backend, and its ALSA backend through the
// pulse plugin (libasound2-plugins), which is what machines without a
// PulseAudio client library path use.
func TestDeviceToneThroughNullSink(t *testing.T) {
	pa := peers.StartPulse(t)
	t.Setenv("PULSE_SERVER", pa.Server())
	for _, backend := range []string{"pulseaudio", "alsa"} {
		t.Run(backend, func(t *testing.T) {
			dev, err := audio.OpenDevice(audio.DeviceConfig{Backend: backend})
			if err != nil {
				t.Fatalf("open %s: %v", backend, err)
			}
			defer dev.Close()
			t.Logf("opened %s", dev.Name())
			waitCallbacks(t, dev)
			captured, onset := playAndCapture(t, dev, 1000, 4*time.Second)
			if onset < 0 {
				t.Fatalf("%s: the tone never came back from the monitor (stats %+v)", backend, dev.Stats())
			}
			last := captured[len(captured)-audio.SampleRate:]
			got := audio.DominantFrequency(last, audio.SampleRate)
			if math.Abs(got-1000) > 20 {
				t.Fatalf("%s: captured %.1f Hz, want 1000 Hz", backend, got)
			}
			if rms := audio.RMS(last); rms < 0.1 {
				t.Fatalf("%s: captured RMS %.3f, want the tone's ≈ 0.22", backend, rms)
			}
			st := dev.Stats()
			t.Logf("%s: %.1f Hz back after %v (play → monitor → capture), stats %+v", backend, got, onset, st)
			if st.Callbacks == 0 {
				t.Fatalf("%s: no callbacks", backend)
			}
		})
	}
}

// playAndCapture runs a 20 ms media clock for d: silence for the first
// second, then a tone of hz; it returns everything captured and how long
// after the tone started it was first heard (-1: never).
func playAndCapture(t *testing.T, dev audio.Device, hz float64, d time.Duration) ([]int16, time.Duration) {
	t.Helper()
	tone := audio.NewTone(hz)
	out := make([]int16, audio.FrameSamples)
	in := make([]int16, audio.FrameSamples)
	var captured []int16
	frames := int(d / audio.FrameDuration)
	toneFrom := int(time.Second / audio.FrameDuration)
	onset := time.Duration(-1)
	start := time.Now()
	for k := 0; k < frames; k++ {
		time.Sleep(time.Until(start.Add(time.Duration(k) * audio.FrameDuration)))
		if k >= toneFrom {
			_ = tone.ReadFrame(out)
		} else {
			clear(out)
		}
		if err := dev.WriteFrame(out); err != nil {
			t.Fatal(err)
		}
		if err := dev.ReadFrame(in); err != nil {
			t.Fatal(err)
		}
		if onset < 0 && k >= toneFrom {
			for i, s := range in {
				if s > 3000 || s < -3000 {
					onset = time.Duration(k-toneFrom)*audio.FrameDuration + time.Duration(i)*time.Second/audio.SampleRate
					break
				}
			}
		}
		captured = append(captured, in...)
	}
	return captured, onset
}

// waitCallbacks waits until the card has started calling back: PulseAudio
// takes a second or two after Start.
func waitCallbacks(t *testing.T, dev audio.Device) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for dev.Stats().Callbacks < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("%s: no callbacks within 10 s", dev.Name())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
