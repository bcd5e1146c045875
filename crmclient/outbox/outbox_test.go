package outbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func openTest(t *testing.T, path string, send Sender, opts ...Option) *Outbox {
	t.Helper()
	o, err := Open(path, send, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { closeOutbox(t, o) })
	return o
}

// neverSender fails every attempt; with a manual clock that is never
// advanced, items stay queued.
func neverSender(context.Context, Item) error { return errors.New("CRM unreachable") }

func TestOpenFileModePragmasAndLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "outbox.db")
	o := openTest(t, path, neverSender, WithClock(newManualClock()))
	if _, err := o.Put(context.Background(), KindNote, []byte(`{"text":"hi"}`)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + ".lock"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), m)
		}
	}
	var journal string
	var sync int
	if err := o.db.QueryRow(`PRAGMA journal_mode`).Scan(&journal); err != nil || journal != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", journal, err)
	}
	if err := o.db.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous = %d, %v; want 2 (FULL)", sync, err)
	}
	if _, err := Open(path, neverSender); !errors.Is(err, ErrLocked) {
		t.Errorf("second Open: %v, want ErrLocked", err)
	}
}

func TestOpenRejectsBadArguments(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		path string
		send Sender
		opts []Option
	}{
		"nil sender":    {filepath.Join(dir, "a.db"), nil, nil},
		"empty path":    {"", neverSender, nil},
		"query in path": {filepath.Join(dir, "b.db?x"), neverSender, nil},
		"min > max":     {filepath.Join(dir, "c.db"), neverSender, []Option{WithBackoff(time.Minute, time.Second)}},
		"zero min":      {filepath.Join(dir, "d.db"), neverSender, []Option{WithBackoff(0, time.Second)}},
	} {
		if _, err := Open(tc.path, tc.send, tc.opts...); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestPutKeysAndSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	clk := newManualClock()
	o, err := Open(path, neverSender, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	var put []Item
	for i := range 3 {
		it, err := o.Put(ctx, KindDisposition, fmt.Appendf(nil, `{"seq":%d}`, i))
		if err != nil {
			t.Fatal(err)
		}
		if !uuid.MatchString(it.Key) || it.ID == 0 || !it.Created.Equal(clk.Now()) {
			t.Errorf("Put returned %+v", it)
		}
		put = append(put, it)
	}
	// A caller's own key is kept, and a second Put with it adds nothing.
	own, err := o.PutItem(ctx, Item{Key: "form-42", Kind: KindNote, Body: []byte(`{}`)})
	if err != nil || own.Key != "form-42" {
		t.Fatalf("PutItem: %+v, %v", own, err)
	}
	again, err := o.PutItem(ctx, Item{Key: "form-42", Kind: KindNote, Body: []byte(`{"other":1}`)})
	if err != nil || again.ID != own.ID || string(again.Body) != `{}` {
		t.Errorf("PutItem with a queued key: %+v, %v; want item %d unchanged", again, err, own.ID)
	}
	put = append(put, own)
	if _, err := o.Put(ctx, "", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Put with empty kind: %v", err)
	}
	clk.nextWait(t) // the first attempt failed and the sender is backing off
	if st := o.Stats(); st.Pending != 4 || !st.OldestPending.Equal(clk.Now()) || st.LastError == "" {
		t.Errorf("Stats = %+v", st)
	}
	if err := o.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := o.Put(ctx, KindNote, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close: %v", err)
	}

	var got []Item
	o2 := openTest(t, path, func(_ context.Context, it Item) error { got = append(got, it); return nil })
	flush(t, o2)
	closeOutbox(t, o2) // got is written by the sender goroutine; read it after Close
	if len(got) != len(put) {
		t.Fatalf("after reopen sent %d items, want %d", len(got), len(put))
	}
	for i := range put {
		if got[i].Key != put[i].Key || got[i].ID != put[i].ID || string(got[i].Body) != string(put[i].Body) {
			t.Errorf("item %d: sent %+v, put %+v", i, got[i], put[i])
		}
	}
	if got[0].Attempts != 1 || got[0].LastError != "CRM unreachable" {
		t.Errorf("first item kept attempts=%d last_error=%q", got[0].Attempts, got[0].LastError)
	}
}

func TestBackoffDelay(t *testing.T) {
	lo := func(int64) int64 { return 0 }
	hi := func(n int64) int64 { return n - 1 }
	for _, tc := range []struct {
		fails  int
		lo, hi time.Duration
	}{
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{3, 2 * time.Second, 4 * time.Second},
		{7, 30 * time.Second, 60 * time.Second},
		{8, 30 * time.Second, 60 * time.Second},
		{1000, 30 * time.Second, 60 * time.Second},
	} {
		a := backoffDelay(DefaultMinBackoff, DefaultMaxBackoff, tc.fails, lo)
		b := backoffDelay(DefaultMinBackoff, DefaultMaxBackoff, tc.fails, hi)
		if a != tc.lo || b != tc.hi {
			t.Errorf("fails=%d: range %v..%v, want %v..%v", tc.fails, a, b, tc.lo, tc.hi)
		}
	}
}

// The sender retries the same item after each back-off (doubling up to the
// maximum) and not before; Kick retries at once.
func TestBackoffAndKick(t *testing.T) {
	r := newReceiver(t)
	r.setDecide(func(string) action { return actFailBefore })
	clk := newManualClock()
	o := openTest(t, filepath.Join(t.TempDir(), "outbox.db"), httpSender(r.url()),
		WithClock(clk), WithBackoff(time.Second, 8*time.Second))
	it, err := o.Put(context.Background(), KindCallLog, []byte(`{"seq":0}`))
	if err != nil {
		t.Fatal(err)
	}
	deliveries := func() int { _, _, d, _, _ := r.snapshot(); return d }
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second} {
		d := clk.nextWait(t)
		if d < want/2 || d > want {
			t.Errorf("back-off %d = %v, want in [%v, %v]", i+1, d, want/2, want)
		}
		if n := deliveries(); n != i+1 {
			t.Fatalf("after %d back-offs the receiver saw %d attempts", i, n)
		}
		clk.Advance(d)
	}
	clk.nextWait(t) // sixth failure, backing off
	r.setDecide(nil)
	o.Kick()
	flush(t, o)
	if n := deliveries(); n != 7 {
		t.Errorf("receiver saw %d attempts, want 7", n)
	}
	_, applied, _, _, _ := r.snapshot()
	if len(applied) != 1 || applied[it.Key] == "" {
		t.Errorf("applied %v", applied)
	}
	if st := o.Stats(); st.Sent != 1 || st.Pending != 0 || st.LastError != "" {
		t.Errorf("Stats = %+v", st)
	}
}

// Test 4: a permanent error parks the item, later items still go, and Retry
// re-queues it.
func TestPermanentErrorParksItem(t *testing.T) {
	r := newReceiver(t)
	r.setDecide(func(body string) action {
		if strings.Contains(body, "bad") {
			return actReject
		}
		return actOK
	})
	o := openTest(t, filepath.Join(t.TempDir(), "outbox.db"), httpSender(r.url()), WithClock(instantClock{}))
	ctx := context.Background()
	var bad Item
	for _, b := range []string{`{"n":"a"}`, `{"n":"bad"}`, `{"n":"c"}`, `{"n":"d"}`} {
		it, err := o.Put(ctx, KindDisposition, []byte(b))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b, "bad") {
			bad = it
		}
	}
	flush(t, o)
	order, _, _, _, _ := r.snapshot()
	if want := []string{`{"n":"a"}`, `{"n":"c"}`, `{"n":"d"}`}; !slices.Equal(order, want) {
		t.Errorf("applied %v, want %v", order, want)
	}
	failed := o.Failed()
	if len(failed) != 1 || failed[0].ID != bad.ID || failed[0].Key != bad.Key ||
		failed[0].Attempts != 1 || !strings.Contains(failed[0].LastError, "422") {
		t.Fatalf("Failed() = %+v", failed)
	}
	if st := o.Stats(); st.Failed != 1 || st.Pending != 0 || st.Sent != 3 {
		t.Errorf("Stats = %+v", st)
	}

	r.setDecide(nil) // the CRM's data was fixed
	if err := o.Retry(bad.ID); err != nil {
		t.Fatal(err)
	}
	flush(t, o)
	order, applied, _, _, _ := r.snapshot()
	if len(order) != 4 || order[3] != `{"n":"bad"}` || applied[bad.Key] != `{"n":"bad"}` {
		t.Errorf("after Retry applied %v", order)
	}
	if st := o.Stats(); st.Failed != 0 || st.Sent != 4 || len(o.Failed()) != 0 {
		t.Errorf("after Retry Stats = %+v", st)
	}
	if err := o.Retry(bad.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Retry of a sent item: %v, want ErrNotFound", err)
	}
}

// Test 5: Close during an in-flight send returns by its deadline, and the
// item is sent (once, thanks to its key) after reopening.
func TestCloseDuringInFlightSend(t *testing.T) {
	r := newReceiver(t)
	r.arrived = make(chan string, 10)
	r.setDecide(func(string) action { return actApplyHang }) // applied, never acknowledged
	path := filepath.Join(t.TempDir(), "outbox.db")
	o, err := Open(path, httpSender(r.url()), WithClock(instantClock{}))
	if err != nil {
		t.Fatal(err)
	}
	it, err := o.Put(context.Background(), KindDisposition, []byte(`{"result":"sale"}`))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.arrived:
	case <-time.After(60 * time.Second):
		t.Fatal("the send never reached the receiver")
	}

	const grace = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	start := time.Now()
	err = o.Close(ctx)
	if took := time.Since(start); took > grace+10*time.Second {
		t.Errorf("Close took %v with a %v deadline", took, grace)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want the deadline error", err)
	}

	r.setDecide(nil)
	o2 := openTest(t, path, httpSender(r.url()), WithClock(instantClock{}))
	flush(t, o2)
	order, applied, deliveries, dups, _ := r.snapshot()
	if len(order) != 1 || applied[it.Key] != `{"result":"sale"}` {
		t.Errorf("applied %v", order)
	}
	if deliveries != 2 || dups != 1 {
		t.Errorf("deliveries=%d dups=%d, want 2 and 1 (the resend deduped by key)", deliveries, dups)
	}
	if st := o2.Stats(); st.Sent != 1 || st.Pending != 0 {
		t.Errorf("Stats = %+v", st)
	}
}
