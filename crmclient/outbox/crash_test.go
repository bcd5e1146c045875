package outbox

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The child process for TestKillNine, started from the test binary itself.
//
//	OUTBOX_HELPER=put:   Put items in a loop, printing "ACK <gen> <i> <key>"
//	                     after each acknowledged Put, until killed.
//	OUTBOX_HELPER=drain: Flush the outbox, print "DRAINED", exit.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv("OUTBOX_HELPER")
	if mode == "" {
		t.Skip("only run as TestKillNine's child process")
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(3)
	}
	o, err := Open(os.Getenv("OUTBOX_PATH"), httpSender(os.Getenv("OUTBOX_URL")),
		WithBackoff(2*time.Millisecond, 40*time.Millisecond))
	if err != nil {
		fail(err)
	}
	switch mode {
	case "put":
		gen := os.Getenv("OUTBOX_GEN")
		deadline := time.Now().Add(2 * time.Minute) // in case the parent is gone
		for i := 0; time.Now().Before(deadline); i++ {
			it, err := o.Put(context.Background(), KindDisposition, fmt.Appendf(nil, `{"gen":%s,"i":%d}`, gen, i))
			if err != nil {
				fail(err)
			}
			if _, err := fmt.Printf("ACK %s %d %s\n", gen, i, it.Key); err != nil {
				fail(err)
			}
			time.Sleep(time.Millisecond)
		}
		fail(fmt.Errorf("never killed"))
	case "drain":
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := o.Flush(ctx); err != nil {
			fail(err)
		}
		st := o.Stats()
		if err := o.Close(ctx); err != nil {
			fail(err)
		}
		fmt.Printf("DRAINED pending=%d failed=%d sent=%d\n", st.Pending, st.Failed, st.Sent)
		os.Exit(0)
	}
	fail(fmt.Errorf("unknown mode %q", mode))
}

type child struct {
	cmd    *exec.Cmd
	lines  chan string // complete stdout lines; closed at EOF
	stderr strings.Builder
}

func startChild(t *testing.T, env ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	c := &child{cmd: cmd, lines: make(chan string, 1<<16)}
	cmd.Stderr = &c.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.lines)
		br := bufio.NewReader(out)
		for {
			line, err := br.ReadString('\n')
			if err != nil { // a line cut by the kill has no newline: not acknowledged
				io.Copy(io.Discard, br)
				return
			}
			c.lines <- strings.TrimSuffix(line, "\n")
		}
	}()
	return c
}

// Test 3: the submitting process is SIGKILLed at random moments 10 times,
// restarted each time on the same file; a final child drains the outbox.
// Every item whose Put was acknowledged arrives exactly once.
func TestKillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 11 processes")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	r := newReceiver(t)
	var mu sync.Mutex
	r.setDecide(func(string) action { // under the receiver's lock
		mu.Lock()
		defer mu.Unlock()
		switch x := rng.IntN(100); {
		case x < 5:
			return actFailBefore
		case x < 10:
			return actFailAfter
		}
		return actApplyPause // widens the applied-but-not-yet-deleted window
	})
	path := filepath.Join(t.TempDir(), "outbox.db")
	env := []string{"OUTBOX_PATH=" + path, "OUTBOX_URL=" + r.url()}

	acked := map[string]string{} // key → body of every acknowledged Put
	var ackOrder []string        // bodies in acknowledgement order
	for gen := range 10 {
		c := startChild(t, append(env, "OUTBOX_HELPER=put", fmt.Sprintf("OUTBOX_GEN=%d", gen))...)
		mu.Lock()
		delay := time.Duration(rng.IntN(150)) * time.Millisecond
		mu.Unlock()
		var kill <-chan time.Time
		n := 0
		for done := false; !done; {
			select {
			case line, ok := <-c.lines:
				if !ok {
					done = true
					continue
				}
				var g, i int
				var key string
				if _, err := fmt.Sscanf(line, "ACK %d %d %s", &g, &i, &key); err != nil {
					t.Fatalf("child %d printed %q", gen, line)
				}
				body := fmt.Sprintf(`{"gen":%d,"i":%d}`, g, i)
				acked[key] = body
				ackOrder = append(ackOrder, body)
				if n++; n == 1 {
					kill = time.After(delay) // a random moment once it is submitting
				}
			case <-kill:
				kill = nil
				if err := c.cmd.Process.Kill(); err != nil { // SIGKILL
					t.Fatal(err)
				}
			case <-time.After(2 * time.Minute):
				c.cmd.Process.Kill()
				t.Fatalf("child %d: no progress; stderr: %s", gen, c.stderr.String())
			}
		}
		err := c.cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
			t.Fatalf("child %d ended with %v, want killed; stderr: %s", gen, err, c.stderr.String())
		}
		t.Logf("child %d: killed after %d acknowledged Puts (%v after the first)", gen, n, delay)
	}

	c := startChild(t, append(env, "OUTBOX_HELPER=drain")...)
	var drained string
	for line := range c.lines {
		drained = line
	}
	if err := c.cmd.Wait(); err != nil || !strings.HasPrefix(drained, "DRAINED pending=0 failed=0") {
		t.Fatalf("drain: %v, %q; stderr: %s", err, drained, c.stderr.String())
	}

	order, applied, deliveries, dups, faults := r.snapshot()
	t.Logf("acknowledged %d, applied %d (%d Put but killed before acknowledging), deliveries %d, duplicates deduped %d, injected faults %d; %s",
		len(acked), len(order), len(order)-len(acked), deliveries, dups, faults, drained)
	for key, body := range acked {
		if applied[key] != body {
			t.Errorf("acknowledged %s (key %s) was lost", body, key)
		}
	}
	seen := map[string]bool{}
	for _, body := range order {
		if seen[body] {
			t.Errorf("%s applied twice", body)
		}
		seen[body] = true
	}
	// Acknowledged items arrive in acknowledgement order, across restarts.
	pos := map[string]int{}
	for i, body := range order {
		pos[body] = i
	}
	for i := 1; i < len(ackOrder); i++ {
		if pos[ackOrder[i-1]] > pos[ackOrder[i]] {
			t.Errorf("%s was applied before %s", ackOrder[i], ackOrder[i-1])
			break
		}
	}
}
