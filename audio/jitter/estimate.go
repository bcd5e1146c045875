package jitter

import "math"

// binNs is the resolution of the delay histogram: 1 ms.
const binNs = int64(1e6)

// arrivals is the recent history of packet transit times (arrival minus
// RTP timestamp), from which the buffer takes the fastest path (the
// minimum) and the percentile of delay variation that sets its target.
// Everything is recomputed from the history once per frame: a few hundred
// additions, cheaper to get right than incremental order statistics.
type arrivals struct {
	transit []int64 // ns
	phase   []int16 // RTP timestamp modulo the frame length
	n, next int
	bins    []int32
}

func (a *arrivals) init(size, bins int) {
	a.transit = make([]int64, size)
	a.phase = make([]int16, size)
	a.bins = make([]int32, bins)
}

func (a *arrivals) clear() { a.n, a.next = 0, 0 }

func (a *arrivals) add(transit int64, phase int16) {
	a.transit[a.next] = transit
	a.phase[a.next] = phase
	a.next++
	if a.next == len(a.transit) {
		a.next = 0
	}
	a.n = min(a.n+1, len(a.transit))
}

// min returns the smallest transit in the history (0 if empty).
func (a *arrivals) min() int64 {
	if a.n == 0 {
		return 0
	}
	m := a.transit[0]
	for _, t := range a.transit[1:a.n] {
		m = min(m, t)
	}
	return m
}

// quantile returns, rounded up to the histogram resolution, the delay D
// (ns) such that the share q of the last `recent` packets (all, if fewer)
// would have been on time with a playout delay of D past the fastest path.
// With phi >= 0 it counts that a packet must be there when the 20 ms frame
// holding its first sample starts, frames starting at timestamps ≡ phi
// (mod 160); with phi < 0 it gives the delay variation alone.
func (a *arrivals) quantile(base, phi int64, q float64, recent int) int64 {
	n := min(a.n, recent)
	if n == 0 {
		return 0
	}
	clear(a.bins)
	last := len(a.bins) - 1
	for j := 1; j <= n; j++ {
		i := a.next - j
		if i < 0 {
			i += len(a.transit)
		}
		v := a.transit[i] - base
		if phi >= 0 {
			off := (int64(a.phase[i]) - phi) % frame
			if off < 0 {
				off += frame
			}
			v += off * nsPerSample
		}
		k := max(min(v/binNs, int64(last)), 0)
		a.bins[k]++
	}
	rank := int32(math.Ceil(q * float64(n)))
	var sum int32
	for k, c := range a.bins {
		sum += c
		if sum >= rank {
			return int64(k+1) * binNs
		}
	}
	return int64(len(a.bins)) * binNs
}

// histLen is the length of the output history: enough for the concealer's
// 390-sample pitch buffer and for repeating up to 30 ms.
const histLen = 512

// history holds the last samples Pop produced.
type history struct {
	buf [histLen]int16
	n   uint64 // samples written; starts at histLen so that reads never underflow
}

func (h *history) reset() {
	clear(h.buf[:])
	h.n = histLen
}

func (h *history) put(s int16) {
	h.buf[h.n%histLen] = s
	h.n++
}

// at returns sample number i (absolute; valid for h.n-histLen <= i < h.n).
func (h *history) at(i uint64) int16 { return h.buf[i%histLen] }

// last copies the most recent len(dst) samples into dst, oldest first.
func (h *history) last(dst []int16) {
	start := h.n - uint64(len(dst))
	for i := range dst {
		dst[i] = h.at(start + uint64(i))
	}
}
