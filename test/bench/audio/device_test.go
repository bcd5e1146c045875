package audiobench

import (
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/test/peers"
)

// deviceLoop measures opdesk's sound-card share of the loop alone: the
// audio package's Device opened on the null sink as opdesk opens it, driven
// by a 20 ms clock on an absolute grid that, like the media clock, writes
// one frame (a click every clickPeriod) and then reads one frame per tick.
// What it finds is the WriteFrame → ring → miniaudio → PulseAudio → monitor
// → miniaudio → ring → ReadFrame delay; the rest of opdesk's loop is RTP,
// the jitter buffer and the wait for the send tick.
//
// It runs in the benchmark's own process, so PULSE_SERVER is set for it.
// The card idles for 3 s before the clock starts, as opdesk's does
// between calls.
//
// periodMs is the card's period (0: opdesk's default), to see how much of
// the delay follows it.
func deviceLoop(b *testing.B, pa *peers.Pulse, pulsePID int, dur time.Duration, periodMs int) (deviceResult, error) {
	b.Setenv("PULSE_SERVER", pa.Server())
	var res deviceResult
	var mu sync.Mutex
	logf := func(msg string) { // miniaudio's account of the buffers PulseAudio granted
		if strings.Contains(msg, "actual attr") {
			mu.Lock()
			res.attrs = append(res.attrs, strings.TrimSpace(msg))
			mu.Unlock()
		}
	}
	dev, err := audio.OpenDevice(audio.DeviceConfig{Backend: "pulseaudio", Input: "default", Output: "default", PeriodMs: periodMs, Log: logf})
	if err != nil {
		return res, fmt.Errorf("opening the sound card as opdesk does: %w", err)
	}
	defer dev.Close()
	// Idle first, as opdesk's card is between calls (capture ring full of
	// stale audio, playback drained), so a call starts from the same state.
	time.Sleep(3 * time.Second)
	const settle = 2 * time.Second
	ticks := int((settle + dur + time.Second) / frameDur)
	every := int(clickPeriod / frameDur)
	first, last := int(settle/frameDur), int((settle+dur)/frameDur)
	burst := make([]int16, clickLen)
	for i := range burst {
		burst[i] = int16(clickAmp * math.Cos(2*math.Pi*clickHz*float64(i)/audio.SampleRate))
	}
	out := make([]int16, audio.FrameSamples)
	in := make([]int16, audio.FrameSamples)
	samples := make([]int16, 0, ticks*audio.FrameSamples)
	arrivals := make([]time.Time, 0, ticks)
	var onsets []time.Time
	m := startCPU(os.Getpid(), pulsePID)
	epoch := time.Now()
	for k := range ticks {
		due := epoch.Add(time.Duration(k) * frameDur)
		time.Sleep(time.Until(due))
		now := time.Now()
		clear(out)
		if k >= first && k < last && (k-first)%every == 0 {
			copy(out[clickOffset:], burst)
			onsets = append(onsets, now.Add(-frameDur+clickOffset*sampleDur))
		}
		_ = dev.WriteFrame(out)
		_ = dev.ReadFrame(in)
		samples = append(samples, in...)
		arrivals = append(arrivals, now)
	}
	cpu, wall := m.stop()
	res.selfPct, res.pulsePct = pct(cpu[0], wall), pct(cpu[1], wall)
	res.loop, res.stats = analyseSignal(onsets, samples, arrivals, clickPeriod), dev.Stats()
	mu.Lock()
	defer mu.Unlock()
	return res, nil
}

// deviceResult is deviceLoop's.
type deviceResult struct {
	loop  loopResult
	stats audio.DeviceStats
	attrs []string // the PulseAudio buffer attributes miniaudio got
	// CPU % of this process (the card's threads and the 20 ms clock; the
	// idle peer costs nothing) and of PulseAudio while the loop ran.
	selfPct, pulsePct float64
	err               error
}
