package jitter

import (
	"math"
	"time"

	"github.com/opdesk/opdesk/audio"
)

const (
	xfade     = 80 // cross-fade of an insert or cut, and its correlation window: 10 ms
	minAdjust = 80 // smallest piece inserted or cut: 10 ms
	// minQuietAdjust is the smallest in quiet audio, where a small step
	// that puts the frame grid back on the packets costs nothing: 1 ms.
	minQuietAdjust = 8
	maxAdjust      = 240 // largest: 30 ms
	// goodCorr is the normalised correlation above which audio repeats
	// itself well enough to insert or cut a piece unnoticed.
	goodCorr = 0.8
	// nearBest: lags within this much of the best correlation are as good.
	nearBest = 0.02
	// growWait is how many frames a needed insert waits for a good spot.
	growWait = 3
	// shrinkWait is how many frames a cut waits for quiet or periodic audio
	// before it is made anyway: one second.
	shrinkWait = 50
	// surplusWait: a surplus must last 200 ms before anything is cut, and
	// dryWait: nothing is cut within a second of the buffer running dry,
	// which is the first sign of rising jitter, before the target knows.
	surplusWait = 10
	dryWait     = 50
	// quietLevel is the mean square below which audio counts as quiet
	// (-50 dBFS), also when it is 20 dB under the recent speech level.
	quietLevel = 104 * 104
)

// Pop fills dst (normally audio.FrameSamples long) with the audio to play
// at now and says what it is: received audio, concealment of a lost or late
// packet, or silence before the first packet and after a long gap. It is
// meant for the call's 20 ms media clock; it never allocates and holds the
// lock for a few microseconds.
func (b *Buffer) Pop(dst []int16, now time.Time) FrameKind {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.counters.Frames++
	if !b.epochSet {
		b.epoch, b.epochSet = now, true
	}
	if !b.haveStream {
		clear(dst)
		for range dst {
			b.hist.put(0)
		}
		return Silence
	}
	nowNs := int64(now.Sub(b.epoch))
	b.estimate(nowNs)

	if b.fadeOut { // a restart: let what was playing die away in 10 ms
		b.fadeOut = false
		b.credit = 0
		if !b.quiet {
			if !b.syn.active {
				b.syn.start(&b.hist)
			}
			b.syn.fadeNow(holdLen)
		}
	}
	done := 0
	b.sinceDry++
	if b.quiet || !b.anchored {
		b.snap(nowNs)
	} else if b.cleanState() {
		done = b.adjust(dst, nowNs)
	}
	stretched := done > 0 || b.insLeft > 0
	b.current = nowNs - b.play*nsPerSample - b.base
	canExpand := b.anchored && b.current+int64(frameDur) <= b.maxNs
	kind := b.render(dst, done, canExpand)
	if stretched && kind == Audio {
		kind = Stretched
	}
	switch kind {
	case Concealed:
		b.counters.Concealed++
	case Stretched:
		b.counters.Stretched++
	}
	return kind
}

const frameDur = audio.FrameDuration

// estimate updates the fastest path, the delay percentile and the target.
func (b *Buffer) estimate(nowNs int64) {
	b.base = b.arr.min()
	b.req0 = b.arr.quantile(b.base, -1, quantile, len(b.arr.transit))
	// The last second alone, at a lower percentile, so that a rise is
	// followed within half a second rather than once 2 % of the whole
	// history has seen it; a lone spike does not move it.
	fast := b.arr.quantile(b.base, -1, fastQuantile, fastHistory)
	raw := min(max(max(b.req0, fast)+marginNs, b.minNs), b.maxNs)
	dt := int64(frameDur)
	if b.havePop {
		dt = min(max(nowNs-b.lastPop, 0), int64(100*time.Millisecond))
	}
	b.lastPop, b.havePop = nowNs, true
	if b.arr.n == 0 || raw >= b.target {
		b.target = max(raw, b.target) // grow at once
	} else {
		b.target = max(raw, b.target-dt*shrinkPerS/int64(time.Second))
	}
}

// need is the delay a frame grid starting at timestamps ≡ phi (mod 160)
// needs: the target plus what the grid costs packets that start mid-frame.
func (b *Buffer) need(phi int64) int64 {
	return min(b.target+b.arr.quantile(b.base, phi, quantile, len(b.arr.transit))-b.req0, b.maxNs)
}

func mod(a, m int64) int64 {
	r := a % m
	if r < 0 {
		r += m
	}
	return r
}

// nextValid returns the first stored sample at or after from.
func (b *Buffer) nextValid(from int64) (int64, bool) {
	for t := max(from, b.floor); t < b.maxEnd; t++ {
		if b.valid[t&b.mask] {
			return t, true
		}
	}
	return 0, false
}

// snap places the playout point while nothing is playing, so that the next
// audio starts exactly at the delay it needs, on a frame grid aligned with
// its packet. This is where target changes cost nothing.
func (b *Buffer) snap(nowNs int64) {
	y, ok := b.nextValid(b.play)
	phi := mod(b.play, frame)
	if ok {
		phi = mod(y, frame)
	}
	ideal := floorDiv(nowNs-b.base-b.need(phi), nsPerSample) // play <= ideal keeps the delay >= need
	switch {
	case !ok:
		b.play = ideal
	case ideal >= y:
		b.play = y
	default:
		b.play = y - frame*((y-ideal+frame-1)/frame)
	}
	b.anchored = true
	b.credit = 0
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// cleanState: plain received audio is playing, nothing half done.
func (b *Buffer) cleanState() bool {
	return !b.syn.active && b.insLeft == 0 && b.olaLeft == 0
}

// contiguous returns how many stored samples follow play without a gap, up to n.
func (b *Buffer) contiguous(n int) int {
	for i := range n {
		if !b.valid[(b.play+int64(i))&b.mask] {
			return i
		}
	}
	return n
}

// quietAt says whether the audio around the playout point is quiet enough
// to insert or cut anything in it.
func (b *Buffer) quietAt(ahead int) bool {
	lim := max(float64(quietLevel), b.energy/100)
	var s float64
	for i := range ahead {
		v := float64(b.samples[(b.play+int64(i))&b.mask])
		s += v * v
	}
	if ahead > 0 && s/float64(ahead) >= lim {
		return false
	}
	s = 0
	for i := uint64(1); i <= xfade; i++ {
		v := float64(b.hist.at(b.hist.n - i))
		s += v * v
	}
	return s/xfade < lim
}

// adjust moves the delay towards what the grid needs, by repeating or
// cutting a piece of the audio ahead. It returns how many samples of dst it
// wrote (a cut writes its cross-fade).
func (b *Buffer) adjust(dst []int16, nowNs int64) int {
	cur := nowNs - b.play*nsPerSample - b.base
	phi := mod(b.play, frame)
	need := b.need(phi)
	switch {
	case cur < need:
		b.surplus = 0
		b.deficit++
		b.grow(cur, need)
		return 0
	case cur-need >= minAdjust*nsPerSample+hysteresis:
		b.deficit = 0
		b.surplus++
		return b.shrink(dst, cur)
	}
	b.deficit, b.surplus = 0, 0
	return 0
}

// packetPhase is where the packets start on the frame grid: the RTP
// timestamp of the newest one modulo the frame length.
func (b *Buffer) packetPhase() int64 {
	i := b.arr.next - 1
	if i < 0 {
		i = len(b.arr.phase) - 1
	}
	return int64(b.arr.phase[i])
}

// similarity fills b.corr[lo..hi] with how well the 10 ms ahead of the
// playout point matches the 10 ms tau samples earlier (grow: in what was
// played) or later (shrink: in what is stored), and returns the best value.
// In quiet audio every lag is as good as any other.
func (b *Buffer) similarity(lo, hi int, quiet, shrink bool) float64 {
	best := -2.0
	for tau := lo; tau <= hi; tau++ {
		c := 1.0
		if !quiet {
			var ab, aa, bb float64
			for i := range xfade {
				x := float64(b.samples[(b.play+int64(i))&b.mask])
				var y float64
				if shrink {
					y = float64(b.samples[(b.play+int64(tau+i))&b.mask])
				} else {
					y = float64(b.hist.at(b.hist.n - uint64(tau) + uint64(i)))
				}
				ab += x * y
				aa += x * x
				bb += y * y
			}
			c = 0
			if aa > 0 && bb > 0 {
				c = ab / math.Sqrt(aa*bb)
			}
		}
		b.corr[tau] = c
		best = max(best, c)
	}
	return best
}

// grow starts repeating a piece of the audio just played (WSOLA): the
// piece x[n-tau:n] is played again before x[n:], cross-faded from x[n:]
// over its first 10 ms. tau is a lag at which the audio ahead matches the
// audio played tau samples earlier; preferably the one that puts the frame
// grid back on the packets, else the smallest that does the job.
func (b *Buffer) grow(cur, need int64) {
	if b.contiguous(xfade) < xfade {
		return // running dry: concealment without advancing does the growing
	}
	quiet := b.quietAt(xfade)
	lo := minAdjust
	if quiet {
		lo = minQuietAdjust
	}
	want := int(min(max((need-cur+nsPerSample-1)/nsPerSample, int64(lo)), maxAdjust))
	best := b.similarity(lo, maxAdjust, quiet, false)
	urgent := b.deficit >= growWait || need-cur >= int64(frameDur)
	if !quiet && best < goodCorr && !urgent {
		return
	}
	good := func(tau int) bool { return tau >= lo && tau <= maxAdjust && b.corr[tau] >= best-nearBest }
	fits := func(tau int) bool {
		return cur+int64(tau)*nsPerSample >= b.need(mod(b.play-int64(tau), frame))
	}
	pick := 0
	al := int(mod(mod(b.play, frame)-b.packetPhase(), frame))
	for _, tau := range [2]int{al, al + frame} {
		if good(tau) && fits(tau) {
			pick = tau
			break
		}
	}
	for tau, tries := want, 0; pick == 0 && tau <= maxAdjust && tries < 6; tau++ {
		if good(tau) {
			tries++
			if fits(tau) || tries == 6 {
				pick = tau
			}
		}
	}
	for tau := maxAdjust; pick == 0 && tau >= lo; tau-- {
		if good(tau) {
			pick = tau // nothing fits: the largest good one, the rest next frame
		}
	}
	if pick == 0 {
		return
	}
	b.insLeft, b.insPos, b.insTau, b.insH0 = pick, 0, pick, b.hist.n
	b.insX = min(xfade, pick)
	b.counters.Inserted++
	b.deficit = 0
}

// shrink cuts a piece of the audio ahead (WSOLA): x[play:play+tau] is
// dropped, x[play:] cross-faded into x[play+tau:] over 10 ms. It cuts only
// where the result still meets the grid's need plus a margin, and only in
// quiet or self-similar audio unless the surplus has lasted a second.
func (b *Buffer) shrink(dst []int16, cur int64) int {
	// Cheap checks first; and while a surplus lasts, look for a place to
	// cut only every fifth frame: the correlation search is the costliest
	// thing Pop does.
	if len(dst) < xfade || b.surplus < surplusWait || b.sinceDry < dryWait || b.surplus%5 != 0 {
		return 0
	}
	quiet := b.quietAt(xfade)
	lo := minAdjust
	if quiet {
		lo = minQuietAdjust
	}
	room := int((cur - hysteresis) / nsPerSample)
	maxTau := min(maxAdjust, room, b.contiguous(maxAdjust+xfade)-xfade)
	if maxTau < lo {
		return 0
	}
	best := b.similarity(lo, maxTau, quiet, true)
	if !quiet && best < goodCorr && b.surplus < shrinkWait {
		return 0
	}
	good := func(tau int) bool { return tau >= lo && tau <= maxTau && b.corr[tau] >= best-nearBest }
	fits := func(tau int) bool {
		return cur-int64(tau)*nsPerSample >= b.need(mod(b.play+int64(tau), frame))+hysteresis
	}
	pick := 0
	al := int(mod(b.packetPhase()-mod(b.play, frame), frame))
	for _, tau := range [2]int{al + frame, al} {
		if good(tau) && fits(tau) {
			pick = tau
			break
		}
	}
	for tau, tries := maxTau, 0; pick == 0 && tau >= lo && tries < 6; tau-- {
		if good(tau) {
			tries++
			if fits(tau) {
				pick = tau
			}
		}
	}
	if pick == 0 {
		return 0
	}
	for i := range xfade {
		w := (float32(i) + 0.5) / xfade
		x := float32(b.samples[(b.play+int64(i))&b.mask])
		y := float32(b.samples[(b.play+int64(pick+i))&b.mask])
		dst[i] = clamp16((1-w)*x + w*y)
		b.hist.put(dst[i])
	}
	for t := b.play; t < b.play+int64(pick+xfade); t++ {
		b.valid[t&b.mask] = false
	}
	b.play += int64(pick + xfade)
	b.floor = max(b.floor, b.play)
	b.counters.Cut++
	b.surplus = 0
	return xfade
}

// render produces dst[from:] sample by sample: a piece being inserted,
// received audio (overlap-added with the concealment it ends), concealment
// of a gap, or silence.
func (b *Buffer) render(dst []int16, from int, canExpand bool) FrameKind {
	var nReal, nSynth int
	ahead, aheadOK, aheadKnown := int64(0), false, false
	for i := from; i < len(dst); {
		var s float32
		idx := b.play & b.mask
		switch {
		case b.insLeft > 0:
			k := b.insPos
			x := float32(b.hist.at(b.insH0 - uint64(b.insTau) + uint64(k)))
			if k < b.insX {
				w := (float32(k) + 0.5) / float32(b.insX)
				s = (1-w)*float32(b.samples[(b.play+int64(k))&b.mask]) + w*x
			} else {
				s = x
			}
			b.insPos++
			b.insLeft--
			nReal++
		case b.valid[idx]:
			r := float32(b.samples[idx])
			if b.syn.active {
				if b.olaLeft == 0 {
					b.olaLen = b.syn.olaLength()
					b.olaLeft = b.olaLen
				}
				w := float32(b.olaLen-b.olaLeft+1) / float32(b.olaLen+1)
				s = w*r + (1-w)*b.syn.next()
				b.olaLeft--
				if b.olaLeft == 0 {
					b.syn.active = false
				}
			} else {
				s = r
			}
			b.valid[idx] = false
			b.play++
			b.quiet = false
			b.credit = 0
			nReal++
		case b.quiet:
			b.play++
		default: // a gap while audio is playing
			if !b.syn.active {
				b.syn.start(&b.hist)
			}
			b.olaLeft = 0
			if !aheadKnown {
				ahead, aheadOK = b.nextValid(b.play)
				aheadKnown = true
			}
			if aheadOK && b.credit > 0 {
				// Time already spent concealing without advancing covers
				// this much of a gap that turned out to be a loss.
				skip := min(int64(b.credit), ahead-b.play)
				b.play += skip
				b.credit -= int(skip)
				continue
			}
			if b.syn.gain() > 0 {
				nSynth++
			}
			s = b.syn.next()
			if !aheadOK && canExpand {
				b.credit++ // maybe only late: wait for it
				b.sinceDry = 0
			} else {
				b.play++
			}
			if b.syn.exhausted() {
				b.quiet = true
				b.credit = 0
			}
		}
		dst[i] = clamp16(s)
		b.hist.put(dst[i])
		i++
	}
	b.floor = max(b.floor, b.play)
	if nReal > 0 && nSynth == 0 {
		var e float64
		for _, v := range dst {
			e += float64(v) * float64(v)
		}
		if e /= float64(len(dst)); e > quietLevel {
			b.energy += (e - b.energy) / 16
		}
	}
	switch {
	case nSynth > 0:
		return Concealed
	case nReal > 0 || from > 0:
		return Audio
	}
	return Silence
}
