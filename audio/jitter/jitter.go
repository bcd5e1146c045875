package jitter

import (
	"math/bits"
	"sync"
	"time"

	"github.com/opdesk/opdesk/audio"
)

const (
	// MaxPacketSamples is the longest packet Push accepts: 120 ms at 8 kHz,
	// the longest G.711 ptime in use. Longer packets are discarded.
	MaxPacketSamples = 960

	frame       = audio.FrameSamples                    // 160 samples per Pop
	nsPerSample = int64(time.Second) / audio.SampleRate // 125 µs

	defaultMinDelay     = 20 * time.Millisecond
	defaultMaxDelay     = 200 * time.Millisecond
	defaultInitialDelay = 60 * time.Millisecond
	defaultHistory      = 500
	maxMaxDelay         = 2 * time.Second

	quantile     = 0.98 // share of packets the target delay should cover
	fastQuantile = 0.9  // ... and of the last fastHistory packets
	fastHistory  = 50
	marginNs     = int64(4 * time.Millisecond)   // added to that percentile
	shrinkPerS   = int64(5 * time.Millisecond)   // the target falls at most this much per second
	hysteresis   = int64(5 * time.Millisecond)   // surplus kept after a cut
	jumpExtraNs  = int64(100 * time.Millisecond) // beyond MaxDelay this, a packet's timing is "off"
	jumpPackets  = 3                             // this many off packets in a row restart the stream
	seenLen      = 1024                          // sequence numbers remembered for duplicates
	extBase      = int64(1) << 33                // keeps unwrapped values positive
)

// Config sets the delay bounds of a Buffer. The zero value is usable.
type Config struct {
	// MinDelay and MaxDelay bound the target delay: how long past the
	// fastest packet's arrival audio is played. Defaults 20 ms and 200 ms;
	// MaxDelay is capped at 2 s and raised to MinDelay if below it.
	MinDelay, MaxDelay time.Duration
	// InitialDelay is the target before anything is known about the
	// network. Default 60 ms, clamped to [MinDelay, MaxDelay].
	InitialDelay time.Duration
	// History is how many recent packets the delay estimate looks at.
	// Default 500 (10 s of 20 ms packets).
	History int
}

func (c Config) normalised() Config {
	if c.MinDelay <= 0 {
		c.MinDelay = defaultMinDelay
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = defaultMaxDelay
	}
	c.MaxDelay = min(c.MaxDelay, maxMaxDelay)
	c.MinDelay = min(c.MinDelay, c.MaxDelay)
	if c.InitialDelay <= 0 {
		c.InitialDelay = defaultInitialDelay
	}
	c.InitialDelay = min(max(c.InitialDelay, c.MinDelay), c.MaxDelay)
	if c.History <= 0 {
		c.History = defaultHistory
	}
	return c
}

// FrameKind says what Pop put in a frame.
type FrameKind uint8

const (
	// Silence: nothing to play (before the first packet, after a long gap).
	Silence FrameKind = iota
	// Audio: received audio, as it was sent.
	Audio
	// Concealed: some or all of the frame was synthesised for audio that
	// was lost or late.
	Concealed
	// Stretched: received audio in which a piece was repeated or cut to
	// move the delay towards its target.
	Stretched
)

func (k FrameKind) String() string {
	switch k {
	case Silence:
		return "silence"
	case Audio:
		return "audio"
	case Concealed:
		return "concealed"
	case Stretched:
		return "stretched"
	}
	return "unknown"
}

// Stats is a snapshot of a Buffer's counters since New or Reset.
type Stats struct {
	Received   uint64 // packets pushed
	Lost       uint64 // packets never received (sequence gaps), RFC 3550 style
	Late       uint64 // packets that arrived after their playout had begun
	Duplicates uint64 // packets received twice (the copy is dropped)
	Discarded  uint64 // packets of a replaced SSRC, oversized, or off the stream's timing

	Frames       uint64        // Pop calls
	Concealed    uint64        // frames with concealment in them
	Stretched    uint64        // frames in which the delay was adjusted
	Inserted     uint64        // pieces of audio repeated to grow the delay
	Cut          uint64        // pieces of audio removed to shrink the delay
	Resets       uint64        // stream restarts: new SSRC or timing jump
	Jitter       time.Duration // RFC 3550 interarrival jitter
	CurrentDelay time.Duration // delay of the last frame played, past the fastest path
	TargetDelay  time.Duration // what the buffer aims for
	MinDelay     time.Duration // the configured bounds, for display
	MaxDelay     time.Duration
}

// Buffer is an adaptive jitter buffer for one call's received audio. Push
// and Pop may run on different goroutines; Stats and Reset on any.
type Buffer struct {
	mu  sync.Mutex
	cfg Config

	minNs, maxNs, initNs, jumpNs int64

	// audio by extended RTP timestamp
	samples []int16
	valid   []bool
	mask    int64

	// the stream being received
	haveStream     bool
	ssrc, prevSSRC uint32
	havePrev       bool
	highSeq        int64 // highest extended sequence number
	lowSeq         int64
	refTs          int64 // extended timestamp of the highest-sequence packet
	seen           [seenLen]int64
	jumpRun        int
	uniqueRecv     uint64
	lostBefore     uint64 // losses of streams replaced since Reset
	lastTransit    int64
	haveTransit    bool
	jitterNs       float64
	arr            arrivals

	epoch    time.Time
	epochSet bool

	// playout
	play     int64 // next sample to play
	floor    int64 // highest play reached: anything before it is late
	maxEnd   int64 // end of the furthest audio stored
	anchored bool  // play was placed for the current stream
	quiet    bool  // playing silence: the next talkspurt may be re-anchored
	fadeOut  bool  // a restart: fade what was playing
	credit   int   // samples concealed without advancing play
	base     int64 // fastest transit (ns) in the history
	req0     int64 // percentile of delay variation (ns), no grid penalty
	target   int64 // ns
	lastPop  int64
	havePop  bool
	current  int64
	deficit  int // consecutive frames below target
	surplus  int // consecutive frames well above target
	sinceDry int // frames since the buffer last ran dry
	energy   float64
	syn      concealer
	hist     history
	olaLeft  int
	olaLen   int
	insLeft  int
	insPos   int
	insTau   int
	insH0    uint64
	insX     int
	corr     [maxAdjust + 1]float64
	counters Stats
}

// New returns a Buffer with everything it needs allocated.
func New(cfg Config) *Buffer {
	cfg = cfg.normalised()
	b := &Buffer{cfg: cfg}
	b.minNs = int64(cfg.MinDelay)
	b.maxNs = int64(cfg.MaxDelay)
	b.initNs = int64(cfg.InitialDelay)
	b.jumpNs = b.maxNs + jumpExtraNs
	// Room for a packet that arrives as early as the jump limit allows
	// while the playout point lags MaxDelay behind, plus a second of slack.
	need := (2*b.maxNs+jumpExtraNs+int64(time.Second))/nsPerSample + 2*MaxPacketSamples
	size := int64(1) << bits.Len64(uint64(need-1))
	b.samples = make([]int16, size)
	b.valid = make([]bool, size)
	b.mask = size - 1
	b.arr.init(cfg.History, int((b.jumpNs+int64(audio.FrameDuration))/binNs)+2)
	b.resetLocked()
	return b
}

// Reset discards all audio, the delay estimate and the statistics, as after New.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.resetLocked()
}

func (b *Buffer) resetLocked() {
	clear(b.valid)
	b.haveStream, b.havePrev = false, false
	b.epochSet = false
	b.clearStream()
	b.anchored, b.quiet, b.fadeOut = false, true, false
	b.target = b.initNs
	b.havePop = false
	b.current = 0
	b.energy = 0
	b.syn = concealer{}
	b.hist.reset()
	b.olaLeft, b.insLeft = 0, 0
	b.deficit, b.surplus, b.sinceDry, b.credit = 0, 0, 0, 0
	b.counters = Stats{}
	b.lostBefore = 0
}

// clearStream forgets the received stream (not the playout state).
func (b *Buffer) clearStream() {
	clear(b.seen[:])
	b.jumpRun = 0
	b.uniqueRecv = 0
	b.haveTransit = false
	b.jitterNs = 0
	b.arr.clear()
}

// Stats returns the counters and the current delay figures.
func (b *Buffer) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.counters
	s.Lost = b.lostBefore + b.lostNow()
	s.Jitter = time.Duration(b.jitterNs)
	s.CurrentDelay = time.Duration(b.current)
	s.TargetDelay = time.Duration(b.target)
	s.MinDelay, s.MaxDelay = b.cfg.MinDelay, b.cfg.MaxDelay
	return s
}

func (b *Buffer) lostNow() uint64 {
	if !b.haveStream {
		return 0
	}
	expected := uint64(b.highSeq - b.lowSeq + 1)
	if expected <= b.uniqueRecv {
		return 0
	}
	return expected - b.uniqueRecv
}

// Push stores one received packet's decoded audio: pcm holds 8 kHz samples
// (80..960 of them; packets need not be 20 ms), ts is the RTP timestamp of
// the first one, arrival when the packet came off the socket. Push copies
// pcm and keeps nothing of it. It never allocates and never blocks for
// longer than Pop holds the lock.
func (b *Buffer) Push(ssrc uint32, seq uint16, ts uint32, marker bool, pcm []int16, arrival time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.counters.Received++
	n := len(pcm)
	if n == 0 || n > MaxPacketSamples {
		b.counters.Discarded++
		return
	}
	if !b.epochSet {
		b.epoch, b.epochSet = arrival, true
	}
	arrNs := int64(arrival.Sub(b.epoch))

	switch {
	case !b.haveStream:
		b.startStream(ssrc, seq, ts)
	case ssrc != b.ssrc:
		if b.havePrev && ssrc == b.prevSSRC {
			b.counters.Discarded++ // a straggler of the stream we left
			return
		}
		b.prevSSRC, b.havePrev = b.ssrc, true
		b.restartStream(ssrc, seq, ts)
	}

	xseq := b.highSeq + int64(int16(seq-uint16(b.highSeq)))
	xts := b.refTs + int64(int32(ts-uint32(b.refTs)))
	if b.seen[xseq&(seenLen-1)] == xseq {
		b.counters.Duplicates++
		return
	}
	transit := arrNs - xts*nsPerSample
	if b.arr.n > 0 {
		if d := transit - b.base; d > b.jumpNs || d < -b.jumpNs {
			newer := xseq > b.highSeq
			if newer {
				b.jumpRun++
			}
			if !newer || (!marker && b.jumpRun < jumpPackets) {
				// Received, so not lost, but not for playing.
				b.seen[xseq&(seenLen-1)] = xseq
				b.lowSeq = min(b.lowSeq, xseq)
				b.uniqueRecv++
				if xts < b.floor {
					b.counters.Late++
				} else {
					b.counters.Discarded++
				}
				return
			}
			b.restartStream(ssrc, seq, ts)
			xseq, xts = b.highSeq, b.refTs
			transit = arrNs - xts*nsPerSample
		} else {
			b.jumpRun = 0
		}
	}

	b.seen[xseq&(seenLen-1)] = xseq
	if xseq > b.highSeq {
		b.highSeq, b.refTs = xseq, xts
	}
	b.lowSeq = min(b.lowSeq, xseq)
	b.uniqueRecv++
	if b.haveTransit { // RFC 3550 section 6.4.1
		d := transit - b.lastTransit
		if d < 0 {
			d = -d
		}
		b.jitterNs += (float64(d) - b.jitterNs) / 16
	}
	b.lastTransit, b.haveTransit = transit, true
	b.arr.add(transit, int16(xts%frame))
	if b.arr.n == 1 || transit < b.base {
		b.base = transit
	}

	end := xts + int64(n)
	lo := max(xts, b.floor)
	if lo >= end {
		b.counters.Late++
		return
	}
	if lo > xts {
		b.counters.Late++ // its start is gone; the rest is still to come
	}
	if end-b.play > int64(len(b.samples)) {
		b.counters.Discarded++ // cannot happen within the jump limits; be safe
		return
	}
	for t := lo; t < end; t++ {
		i := t & b.mask
		b.samples[i] = pcm[t-xts]
		b.valid[i] = true
	}
	b.maxEnd = max(b.maxEnd, end)
}

// startStream takes the packet as the first of a new stream.
func (b *Buffer) startStream(ssrc uint32, seq uint16, ts uint32) {
	b.haveStream = true
	b.ssrc = ssrc
	b.highSeq = extBase + int64(seq)
	b.lowSeq = b.highSeq
	b.refTs = 2*extBase + int64(ts)
	// Leave room before the first packet for packets reordered ahead of it.
	b.play = b.refTs - MaxPacketSamples
	b.floor, b.maxEnd = b.play, b.play
	b.anchored = false
	b.credit = 0
}

// restartStream drops the current stream's audio and takes the packet as
// the first of a new one; Pop fades out what was playing and re-anchors.
func (b *Buffer) restartStream(ssrc uint32, seq uint16, ts uint32) {
	b.counters.Resets++
	b.lostBefore += b.lostNow()
	clear(b.valid)
	b.clearStream()
	b.startStream(ssrc, seq, ts)
	b.fadeOut = true
	b.insLeft, b.olaLeft = 0, 0
	b.deficit, b.surplus = 0, 0
}
