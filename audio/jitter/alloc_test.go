package jitter

import (
	"math/rand"
	"sync"
	"testing"
	"time"
)

// TestPushPopAllocateNothing: Push and Pop allocate nothing, in steady
// audio, across losses and concealment, duplicates, late packets,
// delay adjustments and a stream restart.
func TestPushPopAllocateNothing(t *testing.T) {
	signal := sine(8000, 440, 10000)
	b := New(Config{})
	out := make([]int16, 160)
	rng := rand.New(rand.NewSource(3))
	k := 0
	step := func() {
		now := at(time.Duration(k) * 20 * time.Millisecond)
		ssrc := uint32(1 + k/400) // a new SSRC every 8 s
		pos := (k * 160) % (len(signal) - 160)
		if rng.Intn(20) != 0 { // 5 % loss
			jit := time.Duration(rng.Intn(40)) * time.Millisecond
			b.Push(ssrc, uint16(k), uint32(k*160), k%400 == 0, signal[pos:pos+160], now.Add(jit))
			if rng.Intn(50) == 0 {
				b.Push(ssrc, uint16(k), uint32(k*160), false, signal[pos:pos+160], now.Add(jit)) // duplicate
			}
		}
		b.Pop(out, now.Add(45*time.Millisecond))
		_ = b.Stats()
		k++
	}
	for range 200 { // warm up
		step()
	}
	if n := testing.AllocsPerRun(2000, step); n != 0 {
		t.Fatalf("Push+Pop+Stats allocate %.2f times per frame, want 0", n)
	}
	st := b.Stats()
	if st.Concealed == 0 || st.Duplicates == 0 || st.Resets == 0 {
		t.Fatalf("the run did not exercise concealment, duplicates and restarts: %+v", st)
	}
	t.Logf("%+v", st)
}

// TestPushPopConcurrently runs Push and Pop on two goroutines, as the RTP
// receiver and the media clock do; run with -race.
func TestPushPopConcurrently(t *testing.T) {
	const n = 3000
	signal := sine(n*160, 440, 10000)
	b := New(Config{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewSource(4))
		for k := range n {
			arr := at(time.Duration(k)*20*time.Millisecond + time.Duration(rng.Intn(50))*time.Millisecond)
			b.Push(1, uint16(k), uint32(k*160), k == 0, signal[k*160:(k+1)*160], arr)
		}
	}()
	go func() {
		defer wg.Done()
		out := make([]int16, 160)
		for k := range n {
			b.Pop(out, at(time.Duration(k)*20*time.Millisecond+60*time.Millisecond))
			_ = b.Stats()
		}
	}()
	wg.Wait()
	if st := b.Stats(); st.Received != n || st.Frames != n {
		t.Fatalf("received %d frames %d, want %d each", st.Received, st.Frames, n)
	}
}

// BenchmarkPushPop is the cost of one 20 ms frame: a Push and a Pop on a
// jittery stream with 2 % loss.
func BenchmarkPushPop(b *testing.B) {
	signal := sine(8000, 440, 10000)
	jb := New(Config{})
	out := make([]int16, 160)
	rng := rand.New(rand.NewSource(5))
	b.ReportAllocs()
	for k := 0; b.Loop(); k++ {
		now := at(time.Duration(k) * 20 * time.Millisecond)
		pos := (k * 160) % (len(signal) - 160)
		if rng.Intn(50) != 0 {
			jb.Push(1, uint16(k), uint32(k*160), false, signal[pos:pos+160], now.Add(time.Duration(rng.Intn(60))*time.Millisecond))
		}
		jb.Pop(out, now.Add(70*time.Millisecond))
	}
}
