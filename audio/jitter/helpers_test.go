package jitter

import (
	"math"
	"math/rand"
	"slices"
	"time"
)

// t0 is the virtual clock's origin; tests drive arrival and now themselves.
var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// sine returns n samples of a sine of freq Hz and the given peak.
func sine(n int, freq, peak float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(peak * math.Sin(2*math.Pi*freq*float64(i)/8000)))
	}
	return s
}

// speechLike returns n samples of a voiced, speech-like signal: harmonics
// of a 140 Hz fundamental with a gently wandering pitch, shaped into
// syllables of 120-400 ms separated by pauses of 60-300 ms that hold only
// faint noise.
func speechLike(n int, rng *rand.Rand) []int16 {
	s := make([]int16, n)
	phase := 0.0
	i := 0
	for i < n {
		syl := 960 + rng.Intn(2240)
		pause := 480 + rng.Intn(1920)
		f0 := 110 + 60*rng.Float64()
		for k := 0; k < syl && i < n; k++ {
			env := math.Sin(math.Pi * float64(k) / float64(syl))
			f := f0 * (1 + 0.05*math.Sin(2*math.Pi*float64(k)/float64(syl)))
			phase += 2 * math.Pi * f / 8000
			v := 0.0
			for h := 1; h <= 8; h++ {
				v += math.Sin(float64(h)*phase) / float64(h)
			}
			s[i] = int16(6000 * env * v)
			i++
		}
		for k := 0; k < pause && i < n; k++ {
			s[i] = int16(rng.Intn(21) - 10)
			i++
		}
	}
	return s
}

// packet is one RTP packet of a simulated stream.
type packet struct {
	ssrc    uint32
	seq     uint16
	ts      uint32
	marker  bool
	pcm     []int16
	arrival time.Time
	idx     int // position in the source signal (samples)
}

// packetize cuts signal into packets of the given sizes (cycled), sent in
// real time from t0+start: packet k leaves when its last sample has been
// captured and arrives delay(k) later.
func packetize(signal []int16, sizes []int, ssrc uint32, seq0 uint16, ts0 uint32, start time.Duration, delay func(k int) time.Duration) []packet {
	var out []packet
	for pos, k := 0, 0; pos < len(signal); k++ {
		n := min(sizes[k%len(sizes)], len(signal)-pos)
		sent := start + time.Duration(pos+n)*time.Second/8000
		out = append(out, packet{
			ssrc:    ssrc,
			seq:     seq0 + uint16(k),
			ts:      ts0 + uint32(pos),
			marker:  k == 0,
			pcm:     signal[pos : pos+n],
			arrival: at(sent + delay(k)),
			idx:     pos,
		})
		pos += n
	}
	return out
}

// frameLog is what one Pop produced.
type frameLog struct {
	now        time.Time
	kind       FrameKind
	out        []int16
	playBefore int64 // playout point before the Pop (extended timestamp)
	playAfter  int64
	stats      Stats
}

// drive pushes pkts in arrival order and pops frames every 20 ms from
// t0+popStart, returning every frame. A packet arriving at the same
// instant as a Pop is pushed first.
func drive(b *Buffer, pkts []packet, popStart time.Duration, frames int) []frameLog {
	pkts = slices.Clone(pkts)
	slices.SortStableFunc(pkts, func(a, b packet) int { return a.arrival.Compare(b.arrival) })
	logs := make([]frameLog, 0, frames)
	next := 0
	for f := range frames {
		now := at(popStart + time.Duration(f)*20*time.Millisecond)
		for next < len(pkts) && !pkts[next].arrival.After(now) {
			p := pkts[next]
			b.Push(p.ssrc, p.seq, p.ts, p.marker, p.pcm, p.arrival)
			next++
		}
		out := make([]int16, 160)
		before := b.play
		kind := b.Pop(out, now)
		logs = append(logs, frameLog{now: now, kind: kind, out: out, playBefore: before, playAfter: b.play, stats: b.Stats()})
	}
	return logs
}

// maxStep is the largest sample-to-sample difference in s.
func maxStep(s []int16) int {
	m := 0
	for i := 1; i < len(s); i++ {
		d := int(s[i]) - int(s[i-1])
		if d < 0 {
			d = -d
		}
		m = max(m, d)
	}
	return m
}

// concat joins the output of frames.
func concat(logs []frameLog) []int16 {
	var out []int16
	for _, l := range logs {
		out = append(out, l.out...)
	}
	return out
}

// extTS converts a packet timestamp of the stream started at ts0 into the
// buffer's extended timestamp, as startStream does.
func extTS(ts0 uint32, idx int) int64 { return 2*extBase + int64(ts0) + int64(idx) }
