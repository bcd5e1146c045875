// Package audiobench compares opdesk's sound-card path with baresip's, in
// one run, on one machine, through the same PulseAudio null sink, the same
// Kamailio and the same measuring peer, with PCMU at 20 ms packets. It is a
// benchmark, not a test: nothing here fails on a slow machine, it measures
// and reports. Run it with test/bench/audio.sh, or:
//
//	go test ./test/bench/audio -run '^$' -bench . -benchtime 1x -v
//
// # What is measured
//
// Loop latency. Every device under test (DUT: opdesk headless with
// audio.input = audio.output = "default", baresip with its alsa module on
// ALSA's default device, which the ALSA pulse plugin routes to PulseAudio)
// plays what it receives on the null sink and captures the sink's monitor,
// so whatever reaches it comes straight back: RTP in, jitter buffer,
// playback, the sound server, capture, RTP out. The peer sends a click (5 ms
// of a loud 1 kHz burst) every second in otherwise silent audio and times
// each click's return. A calibration call to sipp's RTP echo measures what
// the peer and the loopback network add by themselves; its median is
// subtracted, so the figures are the DUT's own loop.
//
// CPU. utime+stime of the DUT's process (from /proc/PID/stat) over a call of
// AUDIOBENCH_CALL (default 60 s), and over AUDIOBENCH_IDLE (default 30 s)
// registered with no call. PulseAudio's own CPU over the same windows is
// reported beside it: a DUT that keeps the card open while idle makes the
// sound server work too.
//
// Memory. VmHWM (peak RSS) of each DUT at the end of its call, and of
// linphonec through the same path.
//
// # Why the peer is hand-built
//
// sip.Phone plays received audio through its jitter buffer on its own 20 ms
// clock, which would round every returning click up to the peer's next tick
// (0-20 ms, uniformly, depending on the DUT's clock phase). The peer here is
// sipgo plus a media.Stream without a jitter buffer: each packet reaches the
// detector when it arrives, and each sent frame is stamped when the send
// clock reads it, so a click is timed to the sample on both ends.
package audiobench
