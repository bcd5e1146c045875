package audiobench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/opdesk/opdesk/test/peers"
)

// Environment knobs, for a quick run (e.g. AUDIOBENCH_CALL=10s).
const (
	envLatency = "AUDIOBENCH_LATENCY"           // clicking time of the latency call (default 20s)
	envCall    = "AUDIOBENCH_CALL"              // length of the CPU/memory call (default 60s)
	envIdle    = "AUDIOBENCH_IDLE"              // idle registered window (default 30s)
	envReport  = "AUDIOBENCH_REPORT"            // also write the summary table to this file
	envLinSnd  = "AUDIOBENCH_LINPHONE_SOUNDDEV" // linphonec's card, default linphoneSoundDev
	envOnly    = "AUDIOBENCH_ONLY"              // measure only some of opdesk, device (opdesk's sound card alone), baresip, linphonec: "opdesk,device"
	// envDevPeriod sets the card period (ms) of the sound-card-alone
	// measurement; opdesk itself always runs with its default (10 ms).
	envDevPeriod = "AUDIOBENCH_DEVICE_PERIOD_MS"
	// envOpdeskAudio is more TOML for opdesk's [audio] section, to try a
	// setting ("jitter_min_ms = 10"); the default is opdesk's defaults.
	envOpdeskAudio = "AUDIOBENCH_OPDESK_AUDIO"
)

// clickPeriod is the time between two clicks: far longer than any loop
// delay, so each return pairs with one click.
const clickPeriod = time.Second

// linphoneSoundDev is ALSA's default device (the pulse plugin) as
// linphonec's "soundcard list" names it: the same path as baresip's.
const linphoneSoundDev = "ALSA Unknown: default"

type durations struct{ latency, call, idle time.Duration }

func durationsFromEnv(t testing.TB) durations {
	get := func(name string, def time.Duration) time.Duration {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 3*time.Second {
			t.Fatalf("%s=%q: want a duration of at least 3s, like 10s", name, v)
		}
		return d
	}
	return durations{latency: get(envLatency, 20*time.Second), call: get(envCall, 60*time.Second), idle: get(envIdle, 30*time.Second)}
}

// dut is one device under test, registered on Kamailio and waiting.
type dut struct {
	name   string
	pid    int
	target string                          // its AOR
	answer func(ctx context.Context) error // nil: it answers by itself
	probe  func() string                   // what it says about itself during a call, for the notes
}

// dutResult is everything measured of one DUT.
type dutResult struct {
	name      string
	loop      loopResult // the latency call
	long      loopResult // the clicks of the CPU call
	callCPU   time.Duration
	callWall  time.Duration
	pulseCall time.Duration
	idleCPU   time.Duration
	idleWall  time.Duration
	pulseIdle time.Duration
	hwmKB     int64
	probe     string
	err       string // why it has no figures
}

// BenchmarkAudioPath measures opdesk, baresip and linphonec through the
// same sound path in one run; see the package doc. It runs once whatever
// b.N is (a run takes minutes); -benchtime 1x says so.
func BenchmarkAudioPath(b *testing.B) {
	peers.Require(b, "kamailio", "pulseaudio", "pactl", "sipp", "baresip", "linphonec", "linphonecsh")
	if _, err := os.Stat("/usr/lib/baresip/modules/alsa.so"); err != nil {
		msg := "PEER MISSING: baresip's alsa module (/usr/lib/baresip/modules/alsa.so) — apt-get install baresip-core; this benchmark is NOT run"
		if os.Getenv(peers.EnvRequirePeers) == "1" {
			b.Fatal(msg)
		}
		b.Skip(msg)
	}
	if m, _ := filepath.Glob("/usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so"); len(m) == 0 {
		b.Logf("note: the ALSA pulse plugin (libasound2-plugins) was not found; baresip and linphonec may not reach the null sink")
	}
	durs := durationsFromEnv(b)
	bin := buildOpdesk(b, b.TempDir())
	loadStart := loadAvg()
	b.ResetTimer()

	pa := peers.StartPulse(b)
	pulsePID := findPulse(pa.Server())
	k := peers.StartKamailio(b, peers.KamailioOptions{})
	peer := startPeer(b)

	// Calibration: the peer against sipp's RTP echo, through Kamailio.
	echo := peers.StartSipp(b, peers.SippOptions{Scenario: "uas_answer", Args: []string{"-rtp_echo"}})
	cal, _ := latencyCall(b, peer, dut{name: "sipp echo", target: echo.URI("echo")}, k.URI(), durs.latency, nil)
	if cal.Returned == 0 {
		b.Fatalf("calibration: no click came back from sipp's RTP echo (%d sent); the peer is broken", cal.Sent)
	}
	offset := quantile(cal.Latencies, 0.5)
	_ = echo.Wait(ctxT(b, 10*time.Second))

	g := &rig{b: b, peer: peer, pa: pa, pulsePID: pulsePID, durs: durs, offset: offset}
	only := os.Getenv(envOnly)
	want := func(name string) bool {
		return only == "" || slices.Contains(strings.Split(only, ","), name)
	}
	skipped := func(name string) dutResult {
		return dutResult{name: name, err: "not selected (" + envOnly + "=" + only + ")"}
	}

	results := []dutResult{skipped("opdesk"), skipped("baresip"), skipped("linphonec")}
	var dev deviceResult
	if want("device") {
		period, _ := strconv.Atoi(os.Getenv(envDevPeriod))
		dev, dev.err = deviceLoop(b, pa, pulsePID, durs.latency, period)
		b.Logf("opdesk audio.Device alone: %d/%d clicks back, latencies %v, err %v", dev.loop.Returned, dev.loop.Sent, roundAll(dev.loop.Latencies), dev.err)
	}
	if want("opdesk") {
		op := startOpdesk(b, bin, "alice", k, pa.Env(), os.Getenv(envOpdeskAudio))
		if err := op.waitRegistered(ctxT(b, 15*time.Second)); err != nil {
			b.Fatal(err)
		}
		results[0] = g.measure(dut{
			name: "opdesk", pid: op.pid(), target: aor(k, "alice"), answer: op.answer,
			probe: func() string { return opdeskProbe(op) },
		})
		op.stop()
	}

	if want("baresip") {
		bs := peers.StartBaresip(b, peers.BaresipOptions{User: "bob", Registrar: k, AutoAnswer: true,
			Source: "alsa,default", Player: "alsa,default", Env: pa.Env(), NoDumps: true})
		if err := bs.WaitRegistered(ctxT(b, 15*time.Second)); err != nil {
			b.Fatal(err)
		}
		results[1] = g.measure(dut{name: "baresip", pid: bs.PID(), target: aor(k, "bob")})
	}

	if want("linphonec") {
		snd := os.Getenv(envLinSnd)
		if snd == "" {
			snd = linphoneSoundDev
		}
		ln := peers.StartLinphone(b, peers.LinphoneOptions{User: "carol", Registrar: k, AutoAnswer: true, Pulse: pa, SoundDev: snd})
		if err := ln.WaitRegistered(ctxT(b, 15*time.Second)); err != nil {
			b.Fatal(err)
		}
		results[2] = g.measure(dut{name: "linphonec", pid: ln.PID(), target: aor(k, "carol"),
			probe: func() string { return "sound card " + snd }})
	}
	b.StopTimer()

	rep := report(cal, offset, results, dev, durs, loadStart, os.Getenv(envOpdeskAudio))
	fmt.Fprint(os.Stdout, rep)
	if path := os.Getenv(envReport); path != "" {
		if err := os.WriteFile(path, []byte(rep), 0o644); err != nil {
			b.Error(err)
		}
	}
	opd, bar := results[0], results[1]
	for _, r := range results {
		if r.err != "" {
			continue
		}
		if r.loop.Returned > 0 {
			b.ReportMetric(ms(quantile(r.loop.Latencies, 0.5)-offset), r.name+"-loop-p50-ms")
			b.ReportMetric(ms(quantile(r.loop.Latencies, 0.9)-offset), r.name+"-loop-p90-ms")
		}
		b.ReportMetric(r.callCPU.Seconds(), r.name+"-call-cpu-s")
		b.ReportMetric(pct(r.idleCPU, r.idleWall), r.name+"-idle-cpu-%")
		b.ReportMetric(float64(r.hwmKB)/1024, r.name+"-hwm-MiB")
	}
	if opd.loop.Returned > 0 && bar.loop.Returned > 0 {
		b.ReportMetric(ratio(ms(quantile(opd.loop.Latencies, 0.5)-offset), ms(quantile(bar.loop.Latencies, 0.5)-offset)), "loop-p50-opdesk/baresip")
	}
	if opd.err == "" && bar.err == "" {
		b.ReportMetric(ratio(opd.callCPU.Seconds(), bar.callCPU.Seconds()), "call-cpu-opdesk/baresip")
	}
}

// rig is what every DUT is measured with.
type rig struct {
	b        *testing.B
	peer     *clickPeer
	pa       *peers.Pulse
	pulsePID int
	durs     durations
	offset   time.Duration // the calibration median
}

// measure runs the three phases on one DUT: idle, a latency call, a CPU
// call. A failed call is recorded in the result, not fatal, so the other
// DUTs are still measured.
func (g *rig) measure(d dut) dutResult {
	b, peer, pulsePID, durs := g.b, g.peer, g.pulsePID, g.durs
	r := dutResult{name: d.name}
	if d.pid == 0 {
		r.err = "no process id"
		return r
	}
	// Idle: registered, no call. Two seconds first for registration and
	// the sound card to settle.
	time.Sleep(2 * time.Second)
	m := startCPU(d.pid, pulsePID)
	time.Sleep(durs.idle)
	cpu, wall := m.stop()
	r.idleCPU, r.pulseIdle, r.idleWall = cpu[0], cpu[1], wall

	// The probes ask the DUT and PulseAudio questions, so they are asked
	// in this call, not in the CPU call.
	r.loop, r.probe = latencyCall(b, peer, d, "", durs.latency, func() string {
		s := ""
		if d.probe != nil {
			s = d.probe() + "\n  "
		}
		return s + pulseProbe(g.pa)
	})

	// The CPU and memory call: from the INVITE to just after the BYE.
	time.Sleep(time.Second)
	m = startCPU(d.pid, pulsePID)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	c, err := peer.call(ctx, d.target, "", d.answer, clickPlan{First: time.Second, Period: clickPeriod, For: durs.call - 2*time.Second})
	cancel()
	if err != nil {
		r.err = err.Error()
		b.Logf("%s: %v", d.name, err)
		return r
	}
	time.Sleep(durs.call - time.Since(c.answered) - 500*time.Millisecond)
	r.hwmKB, _ = statusKB(d.pid, "VmHWM")
	r.probe += "\n  threads (CPU since start, at the end of the call): " + threadCPU(d.pid, 5)
	time.Sleep(500 * time.Millisecond)
	peer.hangup(c)
	time.Sleep(500 * time.Millisecond)
	cpu, wall = m.stop()
	r.callCPU, r.pulseCall, r.callWall = cpu[0], cpu[1], wall
	r.long = analyse(c, clickPeriod)
	b.Logf("%s: idle %.2f %%, call CPU %.2f s over %.1f s, VmHWM %d kB, clicks %d/%d (latency call) %d/%d (CPU call)",
		d.name, pct(r.idleCPU, r.idleWall), r.callCPU.Seconds(), r.callWall.Seconds(), r.hwmKB,
		r.loop.Returned, r.loop.Sent, r.long.Returned, r.long.Sent)
	return r
}

// latencyCall makes one call clicking for dur and returns what came back,
// and what probe (if not nil) said just after the last click.
func latencyCall(b *testing.B, peer *clickPeer, d dut, proxy string, dur time.Duration, probe func() string) (loopResult, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	c, err := peer.call(ctx, d.target, proxy, d.answer, clickPlan{First: 2 * time.Second, Period: clickPeriod, For: dur})
	cancel()
	if err != nil {
		b.Logf("%s latency call: %v", d.name, err)
		return loopResult{}, ""
	}
	time.Sleep(2*time.Second + dur)
	said := ""
	if probe != nil {
		said = probe()
	}
	time.Sleep(time.Until(c.answered.Add(2*time.Second + dur + 1500*time.Millisecond)))
	peer.hangup(c)
	r := analyse(c, clickPeriod)
	b.Logf("%s: %d/%d clicks back, peak %d, stray %d, latencies %v", d.name, r.Returned, r.Sent, r.PeakIn, r.Stray, roundAll(r.Latencies))
	return r, said
}

// opdeskProbe is opdesk's own account of its sound card and call.
func opdeskProbe(o *opdesk) string {
	st, err := o.status()
	if err != nil {
		return err.Error()
	}
	s := "device " + st.Audio.Device
	if ds := st.Audio.Stats; ds != nil {
		s += fmt.Sprintf("; callbacks %d, capture overruns %d underruns %d skips %d, playback underruns %d overruns %d",
			ds.Callbacks, ds.CaptureOverruns, ds.CaptureUnderruns, ds.CaptureSkips, ds.PlaybackUnderruns, ds.PlaybackOverruns)
	}
	for _, c := range st.Calls {
		if c.Media != nil {
			s += fmt.Sprintf("; call %s %s: jitter %.1f ms, lost %d", c.ID, c.Codec, c.Media.JitterMs, c.Media.Lost)
		}
	}
	return s
}

// pulseProbe is what PulseAudio says about the streams open on it during
// the call: each client's sample format and the latencies it runs with.
func pulseProbe(pa *peers.Pulse) string {
	var parts []string
	for _, kind := range []string{"sink-inputs", "source-outputs"} {
		out, err := pa.Pactl(context.Background(), "list", kind)
		if err != nil {
			parts = append(parts, kind+": "+err.Error())
			continue
		}
		parts = append(parts, pulseStreams(kind, out)...)
	}
	if len(parts) == 0 {
		return "PulseAudio: no streams open"
	}
	return "PulseAudio " + strings.Join(parts, "\n  PulseAudio ")
}

// pulseStreams condenses `pactl list sink-inputs|source-outputs` to one
// line per stream.
func pulseStreams(kind, out string) []string {
	var lines []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			lines = append(lines, strings.Join(cur, ", "))
		}
		cur = nil
	}
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "Sink Input #"), strings.HasPrefix(l, "Source Output #"):
			flush()
			cur = []string{l}
		case strings.HasPrefix(l, "Sample Specification:"), strings.Contains(l, "Latency:"),
			strings.HasPrefix(l, "application.name = "), strings.HasPrefix(l, "application.process.binary = "):
			cur = append(cur, l)
		}
	}
	flush()
	return lines
}

// report is the summary table.
func report(cal loopResult, offset time.Duration, rs []dutResult, dev deviceResult, durs durations, loadStart, opdeskAudio string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n=== audiobench: opdesk vs baresip (and linphonec) through one PulseAudio null sink, PCMU, ptime 20\n")
	fmt.Fprintf(&sb, "load average: %s at start, %s at end (2 cores)\n", loadStart, loadAvg())
	fmt.Fprintf(&sb, "calibration (peer <-> sipp RTP echo via Kamailio): median %.2f ms, p90 %.2f ms, %d/%d clicks; the median is subtracted below\n\n",
		ms(offset), ms(quantile(cal.Latencies, 0.9)), cal.Returned, cal.Sent)
	tw := tabwriter.NewWriter(&sb, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "measure\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t", r.name)
	}
	fmt.Fprintf(tw, "opdesk/baresip\tgoal\t\n")
	row := func(label string, val func(dutResult) (float64, bool), format, goal string, withRatio bool) {
		fmt.Fprintf(tw, "%s\t", label)
		vals := make([]float64, len(rs))
		oks := make([]bool, len(rs))
		for i, r := range rs {
			vals[i], oks[i] = val(r)
			if r.err != "" || !oks[i] {
				fmt.Fprintf(tw, "-\t")
				continue
			}
			fmt.Fprintf(tw, format+"\t", vals[i])
		}
		if withRatio && oks[0] && oks[1] && rs[0].err == "" && rs[1].err == "" {
			fmt.Fprintf(tw, "%.2f\t", ratio(vals[0], vals[1]))
		} else {
			fmt.Fprintf(tw, "\t")
		}
		fmt.Fprintf(tw, "%s\t\n", goal)
	}
	lat := func(l func(dutResult) loopResult, q float64) func(dutResult) (float64, bool) {
		return func(r dutResult) (float64, bool) {
			lr := l(r)
			return ms(quantile(lr.Latencies, q) - offset), lr.Returned > 0
		}
	}
	short := func(r dutResult) loopResult { return r.loop }
	long := func(r dutResult) loopResult { return r.long }
	row(fmt.Sprintf("loop latency median, ms (%s call)", durs.latency), lat(short, 0.5), "%.1f", "<= 0.8", true)
	row("loop latency p90, ms", lat(short, 0.9), "%.1f", "", true)
	row("clicks returned, %", func(r dutResult) (float64, bool) {
		return pct(time.Duration(r.loop.Returned), time.Duration(r.loop.Sent)), r.loop.Sent > 0
	}, "%.0f", "", false)
	row(fmt.Sprintf("loop latency median, ms (%s call)", durs.call), lat(long, 0.5), "%.1f", "", true)
	row(fmt.Sprintf("CPU in a %s call, s", durs.call), func(r dutResult) (float64, bool) { return r.callCPU.Seconds(), r.callWall > 0 }, "%.2f", "<= 1.0", true)
	row(fmt.Sprintf("idle registered CPU (%s), %%", durs.idle), func(r dutResult) (float64, bool) { return pct(r.idleCPU, r.idleWall), r.idleWall > 0 }, "%.2f", "opdesk <= 0.5 %", false)
	row("peak RSS in the call (VmHWM), MiB", func(r dutResult) (float64, bool) { return float64(r.hwmKB) / 1024, r.hwmKB > 0 }, "%.1f", "", true)
	row("PulseAudio CPU during the call, s", func(r dutResult) (float64, bool) { return r.pulseCall.Seconds(), r.callWall > 0 }, "%.2f", "", true)
	row("DUT + PulseAudio CPU in the call, s", func(r dutResult) (float64, bool) { return (r.callCPU + r.pulseCall).Seconds(), r.callWall > 0 }, "%.2f", "", true)
	row("PulseAudio CPU while DUT idle, %", func(r dutResult) (float64, bool) { return pct(r.pulseIdle, r.idleWall), r.idleWall > 0 }, "%.2f", "", false)
	_ = tw.Flush()
	fmt.Fprintf(&sb, "\n")
	switch {
	case dev.err != nil:
		fmt.Fprintf(&sb, "opdesk sound card alone: NOT MEASURED: %v\n", dev.err)
	case dev.loop.Sent > 0:
		ds := dev.stats
		fmt.Fprintf(&sb, "opdesk sound card alone (audio.Device in this process, WriteFrame then ReadFrame on one 20 ms clock, no SIP, no jitter buffer): "+
			"median %.1f ms, p90 %.1f ms, %d/%d clicks; CPU %.2f %% here, PulseAudio %.2f %%; capture overruns %d underruns %d skips %d, playback underruns %d overruns %d\n",
			ms(quantile(dev.loop.Latencies, 0.5)), ms(quantile(dev.loop.Latencies, 0.9)), dev.loop.Returned, dev.loop.Sent,
			dev.selfPct, dev.pulsePct, ds.CaptureOverruns, ds.CaptureUnderruns, ds.CaptureSkips, ds.PlaybackUnderruns, ds.PlaybackOverruns)
		for _, a := range dev.attrs {
			fmt.Fprintf(&sb, "  miniaudio: %s\n", a)
		}
	}
	for _, r := range rs {
		if r.err != "" {
			fmt.Fprintf(&sb, "%s: NOT MEASURED: %s\n", r.name, r.err)
		}
		if r.probe != "" {
			fmt.Fprintf(&sb, "%s: %s\n", r.name, r.probe)
		}
		if len(r.loop.Missing) > 0 || len(r.long.Missing) > 0 {
			fmt.Fprintf(&sb, "%s: clicks that never came back (0 = the first): latency call %v, CPU call %v of %d\n",
				r.name, r.loop.Missing, r.long.Missing, r.long.Sent)
		}
		if r.loop.Stray > 0 || r.long.Stray > 0 {
			fmt.Fprintf(&sb, "%s: %d + %d onsets matched no click (echo of a click's tail, or a late return)\n", r.name, r.loop.Stray, r.long.Stray)
		}
	}
	fmt.Fprintf(&sb, "setup: opdesk headless, audio.input = audio.output = \"default\" (miniaudio, PulseAudio backend, 8 kHz mono, 20 ms period, suspended while idle), jitter buffer 20-200 ms (defaults)\n")
	if opdeskAudio != "" {
		fmt.Fprintf(&sb, "       opdesk [audio] also had: %q (%s)\n", opdeskAudio, envOpdeskAudio)
	}
	fmt.Fprintf(&sb, "       baresip 1.0 alsa,default -> ALSA pulse plugin, codec rate, audio_buffer 20-160 ms, jitter_buffer_delay 5-10 frames, audio_txmode poll (its defaults), no sndfile\n")
	fmt.Fprintf(&sb, "       linphonec 5 on the sound card named above (ALSA's default = the pulse plugin unless %s says otherwise), audio_jitt_comp 60 ms\n", envLinSnd)
	return sb.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func pct(part, whole time.Duration) float64 {
	if whole <= 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(100 * time.Microsecond)
	}
	return out
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
