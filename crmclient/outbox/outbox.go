package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kinds of item the desktop produces. Any non-empty kind is accepted; the
// Sender decides where each goes.
const (
	KindDisposition = "disposition"
	KindCallLog     = "call_log"
	KindNote        = "note"
	KindRecording   = "recording"
	KindAttempt     = "attempt"
)

// Item is one queued piece of operator work.
type Item struct {
	ID int64 // grows with every Put, across restarts; sending order
	// Key is the idempotency key the server dedupes on. Put makes a random
	// UUID (version 4); it stays the same on every attempt and restart.
	Key  string
	Kind string // KindDisposition, KindCallLog, KindNote, KindRecording, KindAttempt
	// Body is JSON; for a recording it names the file to upload (see
	// crmclient.RecordingItem), which must stay where it is until the item is sent.
	Body      []byte
	Created   time.Time
	Attempts  int    // failed attempts so far
	LastError string // the last failed attempt's error
}

// Sender delivers one item to the CRM. It returns nil only once the server
// has acknowledged the item; an error wrapping ErrPermanent parks the item;
// any other error means "try again later" (the same item, with the same Key).
//
// It is called from the outbox's single sender goroutine, one item at a time.
// It must honour ctx (cancelled when Close gives up waiting) and should
// bound its own request time: a Sender that hangs holds up the whole queue.
type Sender func(ctx context.Context, it Item) error

// Stats is a snapshot for the status bar ("outbox backlog").
type Stats struct {
	Pending       int       // waiting to be sent
	Failed        int       // parked after a permanent error
	Sent          uint64    // acknowledged, over the life of the file
	LastError     string    // last send error; "" after a success
	OldestPending time.Time // Created of the oldest pending item; zero if none
}

// Outbox is a durable FIFO queue of operator work with one sender goroutine.
// Its methods are safe for concurrent use.
type Outbox struct {
	db    *sql.DB
	lock  *os.File
	send  Sender
	cfg   config
	log   *slog.Logger
	clock Clock

	sendCtx    context.Context // for Sender calls; cancelled by Close on timeout
	cancelSend context.CancelFunc

	wake chan struct{} // a new item; heeded only when idle
	kick chan struct{} // Kick: also cuts a back-off short
	done chan struct{} // closed by Close
	wg   sync.WaitGroup

	sent atomic.Uint64

	mu      sync.RWMutex // guards closed (Put holds it shared while writing)
	closed  bool
	stateMu sync.Mutex // guards lastErr and changed
	lastErr string
	changed chan struct{} // closed and replaced whenever an item leaves the queue or fails
}

// Open opens (creating if needed, mode 0600) the outbox at path, normally a
// file in the state directory, takes an exclusive lock on it (path+".lock")
// and starts the sender goroutine, which delivers anything left from an
// earlier run first. Close must be called to stop it.
func Open(path string, send Sender, opts ...Option) (*Outbox, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	switch {
	case send == nil:
		return nil, fmt.Errorf("outbox: nil Sender: %w", ErrInvalid)
	case path == "" || strings.ContainsRune(path, '?'):
		return nil, fmt.Errorf("outbox: path %q: %w", path, ErrInvalid)
	case cfg.minBackoff <= 0 || cfg.maxBackoff < cfg.minBackoff:
		return nil, fmt.Errorf("outbox: back-off %v..%v: %w", cfg.minBackoff, cfg.maxBackoff, ErrInvalid)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("outbox: open %s: %w", path, err)
	}
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	db, err := openDB(path)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("outbox: open %s: %w", path, err)
	}
	c, err := count(context.Background(), db)
	if err != nil {
		db.Close()
		lock.Close()
		return nil, fmt.Errorf("outbox: open %s: %w", path, err)
	}
	o := &Outbox{
		db:      db,
		lock:    lock,
		send:    send,
		cfg:     cfg,
		log:     cfg.log,
		clock:   cfg.clock,
		wake:    make(chan struct{}, 1),
		kick:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		changed: make(chan struct{}),
	}
	o.sent.Store(c.sent)
	o.sendCtx, o.cancelSend = context.WithCancel(context.Background())
	o.wg.Add(1)
	go o.run()
	return o, nil
}

// Put queues an item of the given kind with a fresh idempotency key. When it
// returns nil the item is committed and fsynced: only then may the UI say
// "saved". It does not wait for the CRM.
func (o *Outbox) Put(ctx context.Context, kind string, body []byte) (Item, error) {
	return o.PutItem(ctx, Item{Kind: kind, Body: body})
}

// PutItem is Put for a caller that brings its own idempotency key (a form
// that keeps its key across double submits) or creation time. If an item
// with it.Key is still queued, that item is returned and nothing is added.
// ID, Attempts and LastError are ignored.
func (o *Outbox) PutItem(ctx context.Context, it Item) (Item, error) {
	if it.Kind == "" {
		return Item{}, fmt.Errorf("outbox: put: empty kind: %w", ErrInvalid)
	}
	if it.Key == "" {
		k, err := newKey()
		if err != nil {
			return Item{}, err
		}
		it.Key = k
	}
	if it.Created.IsZero() {
		it.Created = o.clock.Now()
	}
	it.ID, it.Attempts, it.LastError = 0, 0, ""

	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.closed {
		return Item{}, fmt.Errorf("outbox: put %s: %w", it.Kind, ErrClosed)
	}
	it, err := insert(ctx, o.db, it)
	if err != nil {
		return Item{}, fmt.Errorf("outbox: put %s: %w", it.Kind, err)
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return it, nil
}

// Kick makes the sender try the head of the queue now, cutting short any
// back-off wait: call it when the CRM is seen to be reachable again.
// It never blocks.
func (o *Outbox) Kick() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// Stats returns counts for the status bar. If the file cannot be read, the
// counts are zero and LastError says why.
func (o *Outbox) Stats() Stats {
	o.stateMu.Lock()
	st := Stats{LastError: o.lastErr, Sent: o.sent.Load()}
	o.stateMu.Unlock()
	c, err := count(context.Background(), o.db)
	if err != nil {
		st.LastError = fmt.Sprintf("outbox: stats: %v", err)
		return st
	}
	st.Pending, st.Failed, st.OldestPending = c.pending, c.failed, c.oldest
	return st
}

// Failed lists the parked items, oldest first. They stay in the file until
// Retry re-queues them; nothing is ever dropped silently.
func (o *Outbox) Failed() []Item {
	items, err := failedItems(context.Background(), o.db)
	if err != nil {
		o.log.Error("outbox: list failed items", "err", err)
		return nil
	}
	return items
}

// Retry re-queues a parked item. It keeps its id, so it is the next item
// sent (ahead of items queued after it, behind older ones).
func (o *Outbox) Retry(id int64) error {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.closed {
		return fmt.Errorf("outbox: retry %d: %w", id, ErrClosed)
	}
	if err := requeue(context.Background(), o.db, id); err != nil {
		return fmt.Errorf("outbox: retry %d: %w", id, err)
	}
	o.Kick()
	return nil
}

// Flush waits until no item is pending (parked items do not count) or ctx
// ends. It kicks the sender once, so a back-off in progress does not delay
// a shutdown; it returns context.Cause(ctx) when ctx ends first.
func (o *Outbox) Flush(ctx context.Context) error {
	o.Kick()
	for {
		select {
		case <-o.done:
			return fmt.Errorf("outbox: flush: %w", ErrClosed)
		default:
		}
		o.stateMu.Lock()
		ch := o.changed
		o.stateMu.Unlock()
		c, err := count(ctx, o.db)
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return fmt.Errorf("outbox: flush: %w", err)
		}
		if c.pending == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-o.done:
			return fmt.Errorf("outbox: flush: %w", ErrClosed)
		}
	}
}

// Close stops the sender and closes the file. An in-flight send is given
// until ctx ends to finish; then its context is cancelled and Close returns
// without it (the item stays queued and is sent again, with the same key,
// after the next Open). Queued items are not sent: call Flush first to
// drain. Close returns nil when called again.
func (o *Outbox) Close(ctx context.Context) error {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return nil
	}
	o.closed = true
	close(o.done)
	o.mu.Unlock()

	stopped := make(chan struct{})
	go func() { o.wg.Wait(); close(stopped) }()
	var err error
	select {
	case <-stopped:
	case <-ctx.Done():
		err = fmt.Errorf("outbox: close: in-flight send abandoned: %w", context.Cause(ctx))
	}
	o.cancelSend()
	// Safe even if an abandoned send is still running: database/sql refuses
	// new statements once closed, and the item is simply sent again later.
	return errors.Join(err, o.db.Close(), o.lock.Close())
}

// setLastErr records the outcome of a send for Stats and wakes Flush.
func (o *Outbox) setLastErr(msg string) {
	o.stateMu.Lock()
	o.lastErr = msg
	close(o.changed)
	o.changed = make(chan struct{})
	o.stateMu.Unlock()
}
