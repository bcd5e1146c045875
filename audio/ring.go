package audio

import "sync/atomic"

// Ring is a single-producer/single-consumer queue of samples: one goroutine
// (or sound-card callback) writes, one other reads, with no lock and no
// allocation. It is what the sound-card callback copies to and from, so
// that the callback never waits for the call's media clock, nor the media
// clock for the callback.
//
// The indices only grow; the capacity is a power of two so that an index
// maps to a slot with a mask. head is written only by the producer, tail
// only by the consumer; each side reads the other's index atomically.
type Ring struct {
	buf  []int16
	mask uint64
	_    [56]byte // keep head and tail on separate cache lines
	head atomic.Uint64
	_    [56]byte
	tail atomic.Uint64
}

// NewRing returns a Ring holding at least n samples (rounded up to a power
// of two).
func NewRing(n int) *Ring {
	size := 1
	for size < n {
		size <<= 1
	}
	return &Ring{buf: make([]int16, size), mask: uint64(size - 1)}
}

// Cap is the number of samples the ring holds when full.
func (r *Ring) Cap() int { return len(r.buf) }

// Len is the number of samples waiting to be read. From the producer it is
// a lower bound of the free space's complement, from the consumer an exact
// lower bound of what can be read.
func (r *Ring) Len() int { return int(r.head.Load() - r.tail.Load()) }

// Write appends as much of p as fits and returns how many samples it wrote.
// Producer side only.
func (r *Ring) Write(p []int16) int {
	h, t := r.head.Load(), r.tail.Load()
	n := min(len(p), len(r.buf)-int(h-t))
	for i := 0; i < n; {
		at := int((h + uint64(i)) & r.mask)
		i += copy(r.buf[at:], p[i:n])
	}
	r.head.Store(h + uint64(n))
	return n
}

// Read fills as much of p as there is data for and returns how many samples
// it read. Consumer side only.
func (r *Ring) Read(p []int16) int {
	h, t := r.head.Load(), r.tail.Load()
	n := min(len(p), int(h-t))
	for i := 0; i < n; {
		at := int((t + uint64(i)) & r.mask)
		i += copy(p[i:n], r.buf[at:])
	}
	r.tail.Store(t + uint64(n))
	return n
}

// Discard drops up to n of the oldest samples and returns how many it
// dropped. Consumer side only.
func (r *Ring) Discard(n int) int {
	h, t := r.head.Load(), r.tail.Load()
	n = min(n, int(h-t))
	r.tail.Store(t + uint64(n))
	return n
}
