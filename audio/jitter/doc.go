// Package jitter is the receive side of a call's audio: an adaptive jitter
// buffer with packet loss concealment. The RTP receive goroutine pushes each
// packet's decoded 8 kHz PCM with its sequence number, timestamp, marker bit
// and arrival time; the call's 20 ms media clock pops one frame at a time
// and gets real audio, concealment of a lost or late packet, or silence.
//
// # Why our own
//
// pion/interceptor's pkg/jitterbuffer reorders RTP packets by sequence
// number, but it starts playing only once a fixed count of packets has
// piled up, allocates a priority-queue node per packet, keeps the caller's
// packet (no copy), knows nothing about time (no playout clock, so no
// notion of "late"), has no target delay that follows the network, and does
// no concealment. A softphone needs all of that on a path that must not
// allocate, so it is written here.
//
// # How it works
//
// Audio is kept by RTP timestamp in a preallocated ring of samples, so
// packets of any length (10, 20, 30 ... 120 ms) are re-framed into 20 ms
// frames, reordered packets land in place, and duplicates are recognised by
// sequence number. Playout is time-based: for every packet the buffer notes
// its transit time (arrival minus RTP timestamp); the smallest transit over
// the recent history (500 packets) is the fastest path, and a packet's
// delay variation is how much slower than that it was. The target delay is
// the 98th percentile of the recent delay variation, or the 90th of the
// last 50 packets if that is higher (so a rise is followed within half a
// second while a lone spike is not), plus a 4 ms margin, clamped to
// [MinDelay, MaxDelay]; it follows a rise at once and falls by at most
// 5 ms per second. Because whole 20 ms frames are played, a packet that
// starts in the middle of a frame has to be there when the frame starts;
// the buffer counts that as a grid penalty and avoids it by aligning the
// frame grid with the packets whenever it places playout afresh.
//
// The buffer moves its real delay towards the target where it is least
// audible. After silence (before the first packet, after a long gap, at a
// talkspurt that follows one) it simply starts the next audio at the right
// moment. In running audio it inserts or removes a piece of 1-30 ms chosen
// where the signal repeats itself (the lag with the best normalised
// correlation, WSOLA-style) or is quiet, cross-faded over 10 ms; pieces
// that keep the frame grid on the packets are preferred, and a cut is made
// only if the delay left still covers the target with the grid it leads
// to. Growing happens as soon as the target rises (at once in periodic or
// quiet audio, within three frames otherwise). Shrinking waits until the
// surplus has lasted 200 ms and the buffer has not run dry for a second,
// and then for quiet or periodic audio, for up to a second before it cuts
// into anything else. A packet whose playout has already begun is late: it
// is counted and dropped (its tail is kept if the rest is still to come).
// When the buffer runs dry, concealment plays on without advancing the
// playout point (up to MaxDelay), so a packet that is merely late is still
// played, and the time spent concealing is credited against a gap that
// turns out to be a real loss.
//
// Concealment follows ITU-T G.711 Appendix I: the pitch period (40-120
// samples) is found by normalised cross-correlation of the last 20 ms, the
// last period is repeated with a cross-faded loop splice, the loop widens
// to two and three periods after 10 and 20 ms so a long loss does not buzz,
// the level holds for 10 ms and then falls 20 % per 10 ms to silence at
// 60 ms, and the synthetic signal is overlap-added into the first good
// samples after the loss (a quarter period plus 4 ms per 10 ms lost, up to
// 10 ms). Unlike Appendix I it adds no 3.75 ms output delay: the splice
// from the last real sample into the repeated period is smoothed by a
// decaying offset instead.
//
// A new SSRC, or a marker bit on a packet whose timing is far off the
// stream's (a new talkspurt after the sender restarted its timestamps), or
// three such packets in a row without a marker, restart the stream: the old
// audio is faded out and discarded and playout is anchored afresh; the
// target delay is kept, since the network is the same. Sequence numbers
// and timestamps are unwrapped, so 65535→0 and 2^32-1→0 are just the next
// values.
//
// Push and Pop run on different goroutines and share one mutex, held for a
// few microseconds; neither is meant for a sound-card callback. Neither
// allocates.
package jitter
