package jitter

import (
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
)

func constDelay(d time.Duration) func(int) time.Duration {
	return func(int) time.Duration { return d }
}

// checkExact asserts that from frame `from` on every frame is received
// audio equal, sample for sample, to the signal at the playout position;
// ts0 is the stream's first RTP timestamp.
func checkExact(t *testing.T, logs []frameLog, from int, signal []int16, ts0 uint32) {
	t.Helper()
	for k := from; k < len(logs); k++ {
		l := logs[k]
		if l.kind != Audio {
			t.Fatalf("frame %d at %v is %v, want audio", k, l.now.Sub(t0), l.kind)
		}
		if l.playAfter-l.playBefore != 160 {
			t.Fatalf("frame %d at %v advanced playout by %d samples", k, l.now.Sub(t0), l.playAfter-l.playBefore)
		}
		base := int(l.playBefore - extTS(ts0, 0))
		for i, v := range l.out {
			if base+i >= len(signal) {
				return
			}
			if want := signal[base+i]; v != want {
				t.Fatalf("frame %d at %v sample %d = %d, want %d", k, l.now.Sub(t0), i, v, want)
			}
		}
	}
}

// TestConstantDelayShrinksToMinimum: with no jitter at all, the delay comes
// down from the initial 60 ms to MinDelay (the target) within one frame
// (the frame grid's granularity), only in the pauses, and once there the
// output is the input, sample for sample.
func TestConstantDelayShrinksToMinimum(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	signal := speechLike(40*8000, rng)
	pkts := packetize(signal, []int{160}, 7, 100, 1000, 0, constDelay(35*time.Millisecond))
	b := New(Config{})
	logs := drive(b, pkts, 3*time.Millisecond, 40*50)
	st := b.Stats()
	if st.TargetDelay != b.cfg.MinDelay {
		t.Errorf("target delay %v, want MinDelay %v", st.TargetDelay, b.cfg.MinDelay)
	}
	if st.CurrentDelay < b.cfg.MinDelay || st.CurrentDelay >= b.cfg.MinDelay+20*time.Millisecond {
		t.Errorf("current delay %v, want within a frame above MinDelay %v", st.CurrentDelay, b.cfg.MinDelay)
	}
	if st.Cut == 0 {
		t.Errorf("no cut: the delay never came down from %v", b.cfg.InitialDelay)
	}
	if st.Concealed != 0 || st.Late != 0 || st.Inserted != 0 {
		t.Errorf("concealed %d, late %d, inserted %d; want none", st.Concealed, st.Late, st.Inserted)
	}
	last := 0
	for k, l := range logs {
		if l.kind == Stretched {
			last = k
		}
	}
	if last > 20*50 {
		t.Fatalf("still adjusting at %v", logs[last].now.Sub(t0))
	}
	checkExact(t, logs, last+1, signal, 1000)
	first := 0
	for logs[first].kind == Silence {
		first++
	}
	t.Logf("first audio at %v, last adjustment at %v, %d cuts; final delay %v (target %v)",
		logs[first].now.Sub(t0), logs[last].now.Sub(t0), st.Cut, st.CurrentDelay, st.TargetDelay)
}

// TestFixedDelayIsTransparent: with the delay pinned (MinDelay = MaxDelay)
// and no jitter the output is the input, sample for sample, from the
// first frame that has audio on.
func TestFixedDelayIsTransparent(t *testing.T) {
	signal := sine(10*8000, 440, 12000)
	pkts := packetize(signal, []int{160}, 7, 100, 1000, 0, constDelay(30*time.Millisecond))
	b := New(Config{MinDelay: 60 * time.Millisecond, MaxDelay: 60 * time.Millisecond})
	// Packet k is complete at (k+1)*20 ms and arrives 30 ms later; its
	// audio is due 60 ms after that. Pops at 12 ms past each 20 ms come
	// 2 ms after that moment.
	logs := drive(b, pkts, 12*time.Millisecond, 10*50)
	first := 0
	for logs[first].kind == Silence {
		first++
	}
	if got := logs[first].now.Sub(t0); got != 112*time.Millisecond {
		t.Errorf("first audio at %v, want 112 ms (20 ms packetisation + 30 ms path + 60 ms delay + 2 ms phase)", got)
	}
	checkExact(t, logs, first, signal, 1000)
	if st := b.Stats(); st.Cut+st.Inserted+st.Concealed+st.Late != 0 {
		t.Errorf("stats %+v: want no adjustment, concealment or late packet", st)
	}
}

// TestReorderAndDuplicates: a swapped pair plays in order, a duplicate is
// counted and played once, nothing is concealed.
func TestReorderAndDuplicates(t *testing.T) {
	signal := sine(4*8000, 440, 12000)
	pkts := packetize(signal, []int{160}, 9, 65000, 77, 0, constDelay(30*time.Millisecond))
	// Packet 50 is held up 25 ms, so 51 overtakes it.
	pkts[50].arrival = pkts[51].arrival.Add(5 * time.Millisecond)
	// Packet 60 arrives twice, the copy 25 ms later; packet 80 again a second later.
	dup := pkts[60]
	dup.arrival = dup.arrival.Add(25 * time.Millisecond)
	late := pkts[80]
	late.arrival = late.arrival.Add(time.Second)
	pkts = append(pkts, dup, late)

	b := New(Config{MinDelay: 60 * time.Millisecond, MaxDelay: 60 * time.Millisecond})
	logs := drive(b, pkts, 2*time.Millisecond, 4*50)
	first := 0
	for logs[first].kind == Silence {
		first++
	}
	checkExact(t, logs, first, signal, 77)
	st := b.Stats()
	if st.Duplicates != 2 || st.Lost != 0 || st.Late != 0 || st.Concealed != 0 {
		t.Errorf("duplicates %d lost %d late %d concealed %d, want 2 0 0 0", st.Duplicates, st.Lost, st.Late, st.Concealed)
	}
}

// TestLatePacketIsDroppedAndCounted: a packet arriving after its playout
// began is concealed, counted late, and not played afterwards.
func TestLatePacketIsDroppedAndCounted(t *testing.T) {
	signal := sine(3*8000, 440, 12000)
	pkts := packetize(signal, []int{160}, 9, 1, 77, 0, constDelay(30*time.Millisecond))
	pkts[40].arrival = pkts[40].arrival.Add(150 * time.Millisecond)
	b := New(Config{MinDelay: 40 * time.Millisecond, MaxDelay: 40 * time.Millisecond})
	logs := drive(b, pkts, 2*time.Millisecond, 3*50)
	st := b.Stats()
	if st.Late != 1 || st.Lost != 0 {
		t.Errorf("late %d lost %d, want 1 0", st.Late, st.Lost)
	}
	if st.Concealed == 0 || st.Concealed > 2 {
		t.Errorf("concealed %d frames, want 1 or 2", st.Concealed)
	}
	// Once past the gap, audio is exact again: the late packet did not sneak in.
	for k, l := range logs {
		if l.playBefore > extTS(77, 42*160) {
			checkExact(t, logs, k+1, signal, 77)
			break
		}
	}
}

// TestSSRCChangeAndMarkerRestart: a new SSRC, and then a marker bit with a
// timestamp jump, each re-anchor playout: the new audio starts within the
// target delay plus a frame, and nothing of the old stream plays after it.
func TestSSRCChangeAndMarkerRestart(t *testing.T) {
	const path = 30 * time.Millisecond
	a := packetize(sine(2*8000, 440, 10000), []int{160}, 1, 500, 9000, 0, constDelay(path))
	bp := packetize(sine(2*8000, 880, 10000), []int{160}, 2, 40000, 3_000_000_000, 2*time.Second, constDelay(path))
	cp := packetize(sine(2*8000, 660, 10000), []int{160}, 2, 40100, 1_000_000, 4*time.Second, constDelay(path))
	// c continues b's sequence numbers but jumps its timestamps; its first packet has the marker bit.
	// Two stragglers of the first stream arrive after the switch.
	s1, s2 := a[90], a[95]
	s1.arrival, s2.arrival = at(2060*time.Millisecond), at(2100*time.Millisecond)
	pkts := append(append(append(a, bp...), cp...), s1, s2)

	b := New(Config{MinDelay: 40 * time.Millisecond, MaxDelay: 40 * time.Millisecond})
	logs := drive(b, pkts, 5*time.Millisecond, 6*50+20)
	st := b.Stats()
	if st.Resets != 2 {
		t.Errorf("resets %d, want 2", st.Resets)
	}
	if st.Discarded != 2 {
		t.Errorf("discarded %d, want the 2 stragglers of the old SSRC", st.Discarded)
	}
	for _, sw := range []struct {
		at   time.Duration
		freq float64
	}{{2 * time.Second, 880}, {4 * time.Second, 660}} {
		// The first packet of the new stream arrives at sw.at + 20 ms + path;
		// its audio is due 40 ms later, on the next pop.
		arrive := sw.at + 20*time.Millisecond + path
		due := arrive + 40*time.Millisecond + 20*time.Millisecond
		var firstNew time.Duration
		for _, l := range logs {
			d := l.now.Sub(t0)
			if d < arrive || d > sw.at+time.Second {
				continue
			}
			if l.kind != Audio {
				if firstNew != 0 {
					t.Fatalf("%v at %v after the new stream started", l.kind, d)
				}
				continue
			}
			if firstNew == 0 {
				firstNew = d
				continue // the onset frame is part silence
			}
			if f := audio.DominantFrequency(l.out, 8000); math.Abs(f-sw.freq) > 15 {
				t.Fatalf("frame at %v has %.0f Hz, want only the new stream's %.0f Hz", d, f, sw.freq)
			}
		}
		if firstNew == 0 || firstNew > due {
			t.Errorf("new stream at %v started playing at %v, want by %v", sw.at, firstNew, due)
		}
		t.Logf("switch at %v: new audio from %v", sw.at, firstNew)
	}
}

// TestWraparound: sequence numbers wrap 65535→0 and timestamps 2^32-1→0
// mid-stream, with reordering across both wraps: the output stays exact.
func TestWraparound(t *testing.T) {
	signal := sine(4*8000, 440, 12000)
	ts0 := uint32(math.MaxUint32 - 100*160) // packet 100 starts at 2^32-1, packet 101 at 159
	pkts := packetize(signal, []int{160}, 3, 65535-60, ts0, 0, constDelay(30*time.Millisecond))
	if pkts[60].seq != 65535 || pkts[61].seq != 0 || pkts[100].ts != math.MaxUint32 || pkts[101].ts != 159 {
		t.Fatalf("set-up: seq %d %d, ts %d %d", pkts[60].seq, pkts[61].seq, pkts[100].ts, pkts[101].ts)
	}
	for _, k := range []int{60, 100} { // reorder across each wrap
		pkts[k].arrival = pkts[k+1].arrival.Add(time.Millisecond)
	}
	b := New(Config{MinDelay: 60 * time.Millisecond, MaxDelay: 60 * time.Millisecond})
	logs := drive(b, pkts, 2*time.Millisecond, 4*50)
	first := 0
	for logs[first].kind == Silence {
		first++
	}
	checkExact(t, logs, first, signal, ts0)
	if st := b.Stats(); st.Lost != 0 || st.Late != 0 || st.Resets != 0 || st.Concealed != 0 {
		t.Errorf("stats %+v, want no loss, lateness, reset or concealment", st)
	}
}

// TestReframing: packets of 10, 30, 60 and 120 ms, and a mix of 10 and
// 30 ms, come out as exact 20 ms frames.
func TestReframing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sizes []int
	}{
		{"10ms", []int{80}},
		{"30ms", []int{240}},
		{"60ms", []int{480}},
		{"120ms", []int{960}},
		{"10+30ms", []int{80, 240}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			signal := sine(5*8000, 440, 12000)
			pkts := packetize(signal, tc.sizes, 4, 10, 123456, 0, constDelay(30*time.Millisecond))
			b := New(Config{MinDelay: 60 * time.Millisecond, MaxDelay: 60 * time.Millisecond})
			logs := drive(b, pkts, 2*time.Millisecond, 5*50)
			first := 0
			for logs[first].kind == Silence {
				first++
			}
			if logs[first].kind != Audio {
				t.Fatalf("first non-silent frame is %v", logs[first].kind)
			}
			// The onset frame may start with silence; from the next on, exact.
			checkExact(t, logs, first+1, signal, 123456)
			if st := b.Stats(); st.Late != 0 || st.Concealed != 0 {
				t.Errorf("late %d concealed %d, want 0 0", st.Late, st.Concealed)
			}
		})
	}
}

// TestTalkspurtAfterSilenceSuppression: the sender stops for a second
// (silence suppression) and resumes with the marker bit and a timestamp
// that kept counting. That is no restart: the old talkspurt fades out, the
// new one starts at the target delay after its first packet, exact.
func TestTalkspurtAfterSilenceSuppression(t *testing.T) {
	signal := sine(3*8000, 440, 12000)
	pkts := packetize(signal, []int{160}, 6, 10, 0, 0, constDelay(30*time.Millisecond))
	var kept []packet
	for k, p := range pkts {
		if k >= 50 && k < 100 {
			continue // no packets between 1 s and 2 s
		}
		p.marker = k == 0 || k == 100
		kept = append(kept, p)
	}
	b := New(Config{MinDelay: 40 * time.Millisecond, MaxDelay: 40 * time.Millisecond})
	logs := drive(b, kept, 12*time.Millisecond, 3*50)
	st := b.Stats()
	if st.Resets != 0 || st.Late != 0 {
		t.Errorf("resets %d late %d, want 0 0", st.Resets, st.Late)
	}
	// Packet 100 arrives at 2.05 s; its audio is due 40 ms later: the pop at 2.092 s.
	var resumed int
	for k, l := range logs {
		if l.now.Sub(t0) > 2*time.Second && l.kind == Audio {
			resumed = k
			break
		}
	}
	if got := logs[resumed].now.Sub(t0); got != 2092*time.Millisecond {
		t.Errorf("talkspurt resumed at %v, want 2.092 s", got)
	}
	for _, l := range logs[resumed-20 : resumed] {
		if l.kind != Silence {
			t.Fatalf("%v at %v during the pause", l.kind, l.now.Sub(t0))
		}
	}
	// The onset fades in over 10 ms; after that, exact.
	checkExact(t, logs, resumed+1, signal, 0)
}

// TestSilenceBeforeFirstPacketAndReset: Pop gives silence until audio
// arrives, and after Reset the buffer starts over as new.
func TestSilenceBeforeFirstPacketAndReset(t *testing.T) {
	b := New(Config{})
	out := make([]int16, 160)
	for k := range out {
		out[k] = 1
	}
	if kind := b.Pop(out, at(0)); kind != Silence || maxStep(out) != 0 || out[0] != 0 {
		t.Fatalf("Pop before any packet: %v %v", kind, out[:4])
	}
	signal := sine(8000, 440, 12000)
	logs := drive(b, packetize(signal, []int{160}, 1, 0, 0, 0, constDelay(10*time.Millisecond)), 0, 50)
	if logs[len(logs)-1].kind != Audio || b.Stats().Received == 0 {
		t.Fatal("no audio before Reset")
	}
	b.Reset()
	if st := b.Stats(); st.Received != 0 || st.Frames != 0 || st.TargetDelay != b.cfg.InitialDelay {
		t.Fatalf("after Reset: %+v", st)
	}
	if kind := b.Pop(out, at(5*time.Second)); kind != Silence {
		t.Fatalf("Pop after Reset: %v", kind)
	}
	logs = drive(b, packetize(signal, []int{160}, 2, 500, 12345, 10*time.Second, constDelay(10*time.Millisecond)), 10*time.Second, 50)
	if logs[len(logs)-1].kind != Audio || b.Stats().Resets != 0 {
		t.Fatalf("after Reset the new stream did not play as a first stream: %v, %+v", logs[len(logs)-1].kind, b.Stats())
	}
}
