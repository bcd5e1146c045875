package outbox

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// checkExactlyOnceInOrder checks that the receiver applied exactly the
// bodies want, each once, in this order, under the keys put.
func checkExactlyOnceInOrder(t *testing.T, r *receiver, put []Item) {
	t.Helper()
	order, applied, deliveries, dups, faults := r.snapshot()
	t.Logf("put %d, applied %d, deliveries %d, duplicates deduped %d, injected faults %d",
		len(put), len(order), deliveries, dups, faults)
	if len(order) != len(put) || len(applied) != len(put) {
		t.Fatalf("applied %d items under %d keys, want %d", len(order), len(applied), len(put))
	}
	for i, it := range put {
		if order[i] != string(it.Body) {
			t.Fatalf("position %d: applied %s, want %s (out of order or lost)", i, order[i], it.Body)
		}
		if applied[it.Key] != string(it.Body) {
			t.Fatalf("key %s: applied %q, want %s", it.Key, applied[it.Key], it.Body)
		}
	}
}

// Test 1: 50 items, the receiver fails 30 % of deliveries (half of those
// after applying, so the acknowledgement is lost) → all 50 applied once
// each, in order.
func TestOrderAndRetry(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	r := newReceiver(t)
	r.setDecide(func(string) action { // called under the receiver's lock
		switch x := rng.IntN(100); {
		case x < 15:
			return actFailBefore
		case x < 30:
			return actFailAfter
		}
		return actOK
	})
	o := openTest(t, filepath.Join(t.TempDir(), "outbox.db"), httpSender(r.url()), WithClock(instantClock{}))
	var put []Item
	for i := range 50 {
		it, err := o.Put(context.Background(), KindDisposition, fmt.Appendf(nil, `{"seq":%d}`, i))
		if err != nil {
			t.Fatal(err)
		}
		put = append(put, it)
	}
	flush(t, o)
	checkExactlyOnceInOrder(t, r, put)
	if st := o.Stats(); st.Pending != 0 || st.Failed != 0 || st.Sent != 50 {
		t.Errorf("Stats = %+v", st)
	}
}

// Test 2: the receiver goes down and up 100 times while 200 items are Put →
// 0 lost, 0 duplicated, in order.
func TestHundredOutages(t *testing.T) {
	if testing.Short() {
		t.Skip("takes several seconds")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	phases := make([]time.Duration, 200) // down, up, down, up, ...
	for i := range phases {
		phases[i] = time.Duration(20+rng.IntN(31)) * time.Millisecond
	}

	r := newReceiver(t)
	// A short pause between applying and answering, so that some outages
	// cut a connection after the item was applied: the resend must be deduped.
	r.setDecide(func(string) action { return actApplyPause })
	send := httpSender(r.url())
	var failedSends atomic.Int64
	o := openTest(t, filepath.Join(t.TempDir(), "outbox.db"),
		func(ctx context.Context, it Item) error {
			err := send(ctx, it)
			if err != nil {
				failedSends.Add(1)
			}
			return err
		},
		WithBackoff(2*time.Millisecond, 40*time.Millisecond))

	var put []Item
	putOne := func() {
		it, err := o.Put(context.Background(), KindDisposition, fmt.Appendf(nil, `{"seq":%d}`, len(put)))
		if err != nil {
			t.Fatal(err)
		}
		put = append(put, it)
	}
	outages := 0
	for i := 0; i < len(phases); i += 2 {
		r.stop()
		outages++
		putOne() // while the CRM is down
		time.Sleep(phases[i])
		r.start()
		o.Kick() // the CRM is seen to be back
		putOne()
		time.Sleep(phases[i+1])
	}
	flush(t, o)
	t.Logf("%d outages, %d failed send attempts", outages, failedSends.Load())
	checkExactlyOnceInOrder(t, r, put)
	if failedSends.Load() == 0 {
		t.Error("no send ever failed: the outages were not exercised")
	}
	if st := o.Stats(); st.Pending != 0 || st.Failed != 0 || st.Sent != 200 {
		t.Errorf("Stats = %+v", st)
	}
}
