package jitter

import "math"

// Packet loss concealment after ITU-T G.711 Appendix I; see the package
// documentation for what is kept and what differs.

const (
	pitchMin    = 40  // 200 Hz
	pitchMax    = 120 // 66.7 Hz
	pitchWindow = 160 // 20 ms correlated to find the period
	pbufLen     = 390 // three periods of pitchMax plus a quarter period
	holdLen     = 80  // 10 ms at full level
	fadeLen     = 400 // then 20 % per 10 ms: silent 60 ms into the loss
	maxOLA      = 80  // the overlap-add into good audio stops growing at 10 ms
)

// concealer synthesises audio for a gap from the last samples played.
type concealer struct {
	pbuf      [pbufLen]int16
	active    bool
	p, l      int // pitch period and loop splice length (p/4)
	periods   int // periods in the loop: 1, then 2 and 3
	loopStart int
	pos       int
	elapsed   int     // samples synthesised so far
	offset    float32 // splice correction at the start of the loss
	offsetLen int
	gStart    float32 // gain ramp: gStart until rampAt, then linearly to 0 over rampLen
	rampAt    int
	rampLen   int
}

// start begins concealment from the last pbufLen samples of h.
func (c *concealer) start(h *history) {
	h.last(c.pbuf[:])
	c.active = true
	c.p = pitch(c.pbuf[:])
	c.l = c.p / 4
	c.periods = 1
	c.loopStart = pbufLen - c.p
	c.pos = c.loopStart
	c.elapsed = 0
	// The repeated period starts at pbuf[len-p], which follows pbuf[len-p-1];
	// shift it so it continues from the last real sample instead, and let
	// the shift die away over a quarter period.
	c.offset = float32(c.pbuf[pbufLen-1]) - float32(c.pbuf[pbufLen-1-c.p])
	c.offsetLen = max(c.l, 8)
	c.gStart, c.rampAt, c.rampLen = 1, holdLen, fadeLen
}

// fadeNow makes the concealment die away over n samples from here.
func (c *concealer) fadeNow(n int) {
	c.gStart = c.gain()
	c.rampAt = c.elapsed
	c.rampLen = n
}

func (c *concealer) gain() float32 {
	e := c.elapsed
	switch {
	case e <= c.rampAt:
		return c.gStart
	case e >= c.rampAt+c.rampLen:
		return 0
	}
	return c.gStart * float32(c.rampAt+c.rampLen-e) / float32(c.rampLen)
}

func (c *concealer) exhausted() bool { return c.elapsed >= c.rampAt+c.rampLen }

// olaLength is how many samples the synthetic signal is overlap-added into
// the good audio that follows: a quarter period, plus 4 ms for each further
// 10 ms of loss, at most 10 ms.
func (c *concealer) olaLength() int {
	extra := max((c.elapsed+holdLen-1)/holdLen-1, 0) * 32
	return min(c.l+extra, maxOLA)
}

// next returns the next synthetic sample.
func (c *concealer) next() float32 {
	// Widen the loop to two, then three periods after 10 and 20 ms, so a
	// long loss does not turn into a buzz; not inside a splice.
	want := min(1+c.elapsed/holdLen, 3)
	if want > c.periods && c.pos < pbufLen-c.l && c.loopStart-c.p-c.l >= 0 {
		c.periods++
		c.loopStart -= c.p
	}
	var s float32
	if k := c.pos - (pbufLen - c.l); k >= 0 {
		// Loop splice: fade the end of the buffer into what precedes the loop start.
		w := (float32(k) + 0.5) / float32(c.l)
		s = (1-w)*float32(c.pbuf[c.pos]) + w*float32(c.pbuf[c.loopStart-c.l+k])
	} else {
		s = float32(c.pbuf[c.pos])
	}
	c.pos++
	if c.pos == pbufLen {
		c.pos = c.loopStart
	}
	if c.elapsed < c.offsetLen {
		s += c.offset * float32(c.offsetLen-c.elapsed) / float32(c.offsetLen)
	}
	s *= c.gain()
	c.elapsed++
	return s
}

// pitch returns the period (pitchMin..pitchMax samples) at which the end of
// x best matches itself, by normalised cross-correlation of the last
// pitchWindow samples. Silence gives pitchMin.
func pitch(x []int16) int {
	n := len(x)
	w := x[n-pitchWindow:]
	best, lag := -2.0, pitchMin
	for t := pitchMin; t <= pitchMax; t++ {
		if c := normCorr(w, x[n-pitchWindow-t:n-t]); c > best {
			best, lag = c, t
		}
	}
	return lag
}

// normCorr is the normalised cross-correlation of a and b (equal lengths);
// 0 when either is silent.
func normCorr(a, b []int16) float64 {
	var ab, aa, bb float64
	for i, x := range a {
		y := float64(b[i])
		ab += float64(x) * y
		aa += float64(x) * float64(x)
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

func clamp16(s float32) int16 {
	switch {
	case s >= 32767:
		return 32767
	case s <= -32768:
		return -32768
	}
	return int16(math.Round(float64(s)))
}
