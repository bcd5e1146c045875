package audio

import (
	"sync"
	"testing"
)

func TestRingWrapsAndBounds(t *testing.T) {
	r := NewRing(6)
	if r.Cap() != 8 {
		t.Fatalf("cap %d, want 8", r.Cap())
	}
	in := []int16{1, 2, 3, 4, 5}
	if n := r.Write(in); n != 5 {
		t.Fatalf("wrote %d", n)
	}
	out := make([]int16, 3)
	if n := r.Read(out); n != 3 || out[0] != 1 || out[2] != 3 {
		t.Fatalf("read %d %v", n, out)
	}
	// 2 left; 6 free: writing 7 wraps and stops at full.
	if n := r.Write([]int16{6, 7, 8, 9, 10, 11, 12}); n != 6 {
		t.Fatalf("wrote %d into 6 free slots", n)
	}
	if r.Len() != 8 {
		t.Fatalf("len %d, want 8", r.Len())
	}
	if n := r.Discard(1); n != 1 {
		t.Fatalf("discarded %d", n)
	}
	all := make([]int16, 10)
	n := r.Read(all)
	want := []int16{5, 6, 7, 8, 9, 10, 11}
	if n != len(want) {
		t.Fatalf("read %d, want %d", n, len(want))
	}
	for i, v := range want {
		if all[i] != v {
			t.Fatalf("got %v, want %v", all[:n], want)
		}
	}
	if r.Read(all) != 0 || r.Discard(3) != 0 {
		t.Fatal("empty ring gave data")
	}
}

// TestRingConcurrent streams a counting sequence through a small ring with
// one writer and one reader goroutine: every sample arrives once, in order
// (run with -race).
func TestRingConcurrent(t *testing.T) {
	r := NewRing(64)
	const total = 200000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]int16, 37)
		next := 0
		for next < total {
			k := 0
			for k < len(buf) && next+k < total {
				buf[k] = int16(next + k)
				k++
			}
			next += r.Write(buf[:k])
		}
	}()
	buf := make([]int16, 23)
	got := 0
	for got < total {
		n := r.Read(buf)
		for i := 0; i < n; i++ {
			if buf[i] != int16(got+i) {
				t.Fatalf("sample %d is %d", got+i, buf[i])
			}
		}
		got += n
	}
	wg.Wait()
}
