package outbox

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// run is the single sender goroutine: it sends the oldest pending item,
// and only when that item is acknowledged (or parked) moves to the next,
// so no item ever overtakes an earlier one.
func (o *Outbox) run() {
	defer o.wg.Done()
	fails := 0 // consecutive failures, for the back-off
	for {
		select {
		case <-o.done:
			return
		default:
		}
		it, ok, err := head(o.sendCtx, o.db)
		if err != nil {
			o.log.Error("outbox: read queue", "err", err)
			fails++
			if !o.backoff(fails) {
				return
			}
			continue
		}
		if !ok {
			select {
			case <-o.done:
				return
			case <-o.wake:
			case <-o.kick:
			}
			continue
		}

		err = o.send(o.sendCtx, it)
		if err != nil && o.sendCtx.Err() != nil {
			return // abandoned by Close on its deadline; not the item's fault
		}
		if o.settle(it, err) {
			fails = 0
			continue
		}
		fails++
		if !o.backoff(fails) {
			return
		}
	}
}

// settle records the outcome of sending it. It reports whether the queue
// moved on (sent or parked); false means wait and try the same item again.
func (o *Outbox) settle(it Item, err error) bool {
	// A context of its own: an acknowledged item must be marked even while
	// Close is waiting.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	switch {
	case err == nil:
		if err := markSent(ctx, o.db, it.ID); err != nil {
			// It will be sent again and the server will dedupe it.
			o.log.Error("outbox: mark sent", "id", it.ID, "key", it.Key, "err", err)
			o.setLastErr("outbox: " + err.Error())
			return false
		}
		o.sent.Add(1)
		o.setLastErr("")
		return true
	case errors.Is(err, ErrPermanent):
		o.log.Warn("outbox: item refused, parked", "id", it.ID, "kind", it.Kind, "key", it.Key, "err", err)
		if err := markAttempt(ctx, o.db, it.ID, err.Error(), true); err != nil {
			o.log.Error("outbox: park", "id", it.ID, "err", err)
			o.setLastErr("outbox: " + err.Error())
			return false
		}
		o.setLastErr(err.Error())
		return true
	default:
		o.log.Debug("outbox: send failed", "id", it.ID, "kind", it.Kind, "key", it.Key,
			"attempts", it.Attempts+1, "err", err)
		if err := markAttempt(ctx, o.db, it.ID, err.Error(), false); err != nil {
			o.log.Error("outbox: record attempt", "id", it.ID, "err", err)
		}
		o.setLastErr(err.Error())
		return false
	}
}

// backoff waits after the fails-th consecutive failure; Kick cuts it short.
// It reports false when the outbox is closing.
func (o *Outbox) backoff(fails int) bool {
	d := backoffDelay(o.cfg.minBackoff, o.cfg.maxBackoff, fails, rand.Int64N)
	select {
	case <-o.done:
		return false
	case <-o.kick:
	case <-o.clock.After(d):
	}
	return true
}

// backoffDelay is d = min·2^(fails-1) capped at max, then a uniform random
// time in [d/2, d] ("equal jitter"). randN(n) returns a value in [0, n).
func backoffDelay(min, max time.Duration, fails int, randN func(int64) int64) time.Duration {
	d := min
	for i := 1; i < fails && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	return half + time.Duration(randN(int64(d-half)+1))
}
