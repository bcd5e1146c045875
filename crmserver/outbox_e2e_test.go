package crmserver

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmclient/outbox"
)

// The promise for what operators type: dispositions submitted while the
// real CRM (this package's server over HTTP, on SQLite or PostgreSQL) goes down
// and up 100 times, and while the submitting process is killed with SIGKILL 10
// times, all arrive — none lost, none twice — counted in the server's own table.

// flappingCRM serves the store on one fixed address and can take the server down
// (closing every connection) and bring it back.
type flappingCRM struct {
	t    *testing.T
	h    http.Handler
	addr string

	mu  sync.Mutex
	srv *http.Server
}

func newFlappingCRM(t *testing.T, h http.Handler) *flappingCRM {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &flappingCRM{t: t, h: h, addr: ln.Addr().String()}
	f.serve(ln)
	t.Cleanup(f.down)
	return f
}

func (f *flappingCRM) url() string { return "http://" + f.addr }

func (f *flappingCRM) serve(ln net.Listener) {
	srv := NewHTTPServer(f.addr, f.h)
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
	go srv.Serve(ln)
}

// up starts the server again on the same address (the port may take a moment
// to be free again).
func (f *flappingCRM) up() {
	deadline := time.Now().Add(10 * time.Second)
	for {
		ln, err := net.Listen("tcp", f.addr)
		if err == nil {
			f.serve(ln)
			return
		}
		if time.Now().After(deadline) {
			f.t.Errorf("CRM cannot listen again on %s: %v", f.addr, err)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// down is an outage: the listener and every open connection close at once.
func (f *flappingCRM) down() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.srv != nil {
		f.srv.Close()
		f.srv = nil
	}
}

// e2eDisposition is the wrap-up the test submits; Notes identifies it.
func e2eDisposition(note string) []byte {
	b, _ := json.Marshal(crmclient.DispositionInput{CampaignID: "inbound", Phone: "+81312345678",
		StartedAt: seedNow, DurationSeconds: 60, Code: "other", Notes: note})
	return b
}

// appliedNotes counts the server's disposition rows per note.
func appliedNotes(t *testing.T, st *Store, prefix string) map[string]int {
	t.Helper()
	rows, err := st.db.QueryContext(context.Background(), `SELECT notes FROM dispositions WHERE notes LIKE ?`, prefix+"%")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := map[string]int{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		n[s]++
	}
	return n
}

func TestOutboxThroughCRMOutages(t *testing.T) {
	if testing.Short() {
		t.Skip("100 outages of a real server")
	}
	crm := newTestCRM(t, 0)
	f := newFlappingCRM(t, crm.st.Handler())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cl, err := crmclient.New(f.url(), crmclient.WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Login(ctx, "agent1", demoPassword(t, "agent1")); err != nil {
		t.Fatal(err)
	}
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "outbox.db"), cl.OutboxSender(),
		outbox.WithBackoff(2*time.Millisecond, 30*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close(ctx)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	flapped := make(chan struct{})
	go func() { // the CRM goes away and comes back 100 times
		defer close(flapped)
		for range 100 {
			time.Sleep(time.Duration(3+rng.IntN(20)) * time.Millisecond)
			f.down()
			time.Sleep(time.Duration(3+rng.IntN(30)) * time.Millisecond)
			f.up()
		}
	}()
	put := 0
	for done := false; !done; put++ {
		if _, err := ob.Put(ctx, outbox.KindDisposition, e2eDisposition(fmt.Sprintf("outage-%05d", put))); err != nil {
			t.Fatal(err)
		}
		select {
		case <-flapped:
			done = true
		case <-time.After(2 * time.Millisecond):
		}
	}
	if err := ob.Flush(ctx); err != nil {
		t.Fatalf("flush after the outages: %v (stats %+v)", err, ob.Stats())
	}
	if failed := ob.Failed(); len(failed) != 0 {
		t.Fatalf("%d items parked; first: %+v", len(failed), failed[0])
	}
	got := appliedNotes(t, crm.st, "outage-")
	lost, dup := 0, 0
	for i := range put {
		switch got[fmt.Sprintf("outage-%05d", i)] {
		case 0:
			lost++
		case 1:
		default:
			dup++
		}
	}
	t.Logf("100 outages: %d dispositions submitted, %d applied, %d lost, %d duplicated; outbox %+v", put, len(got), lost, dup, ob.Stats())
	if lost != 0 || dup != 0 || len(got) != put {
		t.Errorf("%d lost, %d duplicated, %d rows for %d submitted", lost, dup, len(got), put)
	}
}

// TestOutboxKillNineChild is the submitting desktop for TestOutboxKillNine, run as
// a child process of the test binary:
//
//	E2E_OUTBOX=put:   Put dispositions in a loop, printing "ACK <note>" after each
//	                  Put returned (the moment the UI says "saved"), until killed.
//	E2E_OUTBOX=drain: Flush the outbox, print "DRAINED <stats>", exit.
func TestOutboxKillNineChild(t *testing.T) {
	mode := os.Getenv("E2E_OUTBOX")
	if mode == "" {
		t.Skip("only run as TestOutboxKillNine's child process")
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	cl, err := crmclient.New(os.Getenv("E2E_URL"), crmclient.WithToken(os.Getenv("E2E_TOKEN")),
		crmclient.WithTimeout(2*time.Second))
	if err != nil {
		fail(err)
	}
	ob, err := outbox.Open(os.Getenv("E2E_PATH"), cl.OutboxSender(), outbox.WithBackoff(2*time.Millisecond, 30*time.Millisecond))
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	switch mode {
	case "put":
		gen := os.Getenv("E2E_GEN")
		deadline := time.Now().Add(2 * time.Minute) // in case the parent is gone
		for i := 0; time.Now().Before(deadline); i++ {
			note := fmt.Sprintf("kill-%s-%05d", gen, i)
			if _, err := ob.Put(ctx, outbox.KindDisposition, e2eDisposition(note)); err != nil {
				fail(err)
			}
			if _, err := fmt.Println("ACK", note); err != nil {
				fail(err)
			}
			time.Sleep(time.Millisecond)
		}
		fail(errors.New("never killed"))
	case "drain":
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := ob.Flush(ctx); err != nil {
			fail(err)
		}
		st := ob.Stats()
		if err := ob.Close(ctx); err != nil {
			fail(err)
		}
		fmt.Printf("DRAINED pending=%d failed=%d\n", st.Pending, st.Failed)
		os.Exit(0)
	}
	fail(fmt.Errorf("unknown mode %q", mode))
}

func TestOutboxKillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 11 processes")
	}
	crm := newTestCRM(t, 0)
	f := newFlappingCRM(t, crm.st.Handler())
	ctx := context.Background()
	cl, err := crmclient.New(f.url())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Login(ctx, "agent1", demoPassword(t, "agent1")); err != nil {
		t.Fatal(err)
	}
	env := []string{"E2E_URL=" + f.url(), "E2E_TOKEN=" + cl.Token(),
		"E2E_PATH=" + filepath.Join(t.TempDir(), "outbox.db")}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	start := func(extra ...string) (*exec.Cmd, <-chan string, *strings.Builder) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestOutboxKillNineChild$", "-test.count=1")
		cmd.Env = append(append(os.Environ(), env...), extra...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1<<16)
		go func() {
			defer close(lines)
			br := bufio.NewReader(out)
			for {
				line, err := br.ReadString('\n')
				if err != nil { // a line cut by the kill was not acknowledged
					io.Copy(io.Discard, br)
					return
				}
				lines <- strings.TrimSuffix(line, "\n")
			}
		}()
		return cmd, lines, &stderr
	}

	var acked []string
	for gen := range 10 {
		if gen%3 == 1 { // some kills land while the CRM is down, with items queued
			f.down()
		}
		cmd, lines, stderr := start("E2E_OUTBOX=put", fmt.Sprintf("E2E_GEN=%d", gen))
		delay := time.Duration(20+rng.IntN(150)) * time.Millisecond
		var kill <-chan time.Time
		n := 0
		for done := false; !done; {
			select {
			case line, ok := <-lines:
				if !ok {
					done = true
					continue
				}
				note, ok := strings.CutPrefix(line, "ACK ")
				if !ok {
					t.Fatalf("child %d printed %q", gen, line)
				}
				acked = append(acked, note)
				if n++; n == 1 {
					kill = time.After(delay)
				}
			case <-kill:
				kill = nil
				cmd.Process.Kill() // SIGKILL, mid-submit
			case <-time.After(2 * time.Minute):
				cmd.Process.Kill()
				t.Fatalf("child %d: no progress; stderr: %s", gen, stderr.String())
			}
		}
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
			t.Fatalf("child %d ended with %v, want killed; stderr: %s", gen, err, stderr.String())
		}
		if gen%3 == 1 {
			f.up()
		}
	}
	cmd, lines, stderr := start("E2E_OUTBOX=drain")
	var drained string
	for line := range lines {
		drained = line
	}
	if err := cmd.Wait(); err != nil || drained != "DRAINED pending=0 failed=0" {
		t.Fatalf("drain: %v, %q; stderr: %s", err, drained, stderr.String())
	}
	got := appliedNotes(t, crm.st, "kill-")
	lost, dup := 0, 0
	for _, note := range acked {
		if got[note] == 0 {
			lost++
		}
	}
	for _, n := range got {
		if n > 1 {
			dup++
		}
	}
	t.Logf("10 kill -9s: %d saved (acknowledged), %d applied (incl. Puts cut by the kill before the ACK line), %d lost, %d duplicated",
		len(acked), len(got), lost, dup)
	if lost != 0 || dup != 0 {
		t.Errorf("%d lost, %d duplicated", lost, dup)
	}
}
