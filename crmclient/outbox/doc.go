// Package outbox is the desktop's durable queue for everything an operator
// produces — dispositions, notes, call logs, recordings — so that nothing
// typed by an operator is ever lost, whether the CRM is down, the network is
// gone or opdesk is killed.
//
// Put writes an item to a local SQLite file and commits it before it
// returns; only then does the UI say "saved". One goroutine owned by the
// Outbox hands items, oldest first, to a Sender (the CRM client) and deletes
// each one once the server has acknowledged it.
//
// # Why SQLite
//
// A committed SQLite transaction in WAL mode with synchronous=FULL has been
// fsynced, so it survives kill -9 and power loss; a torn write is rolled back
// on the next open instead of corrupting the queue. It is one file under the
// state directory (mode 0600: it holds customer data), needs no daemon, and
// modernc.org/sqlite is pure Go and already the CRM server's database. An
// append-only log of our own would have to reinvent checksums, compaction and
// crash recovery.
//
// # Guarantees
//
// Order: items are sent strictly in Put order (FIFO by ID, which keeps
// growing across restarts), one at a time. A failed send is retried — the same
// item, with the same idempotency key — with exponential back-off and jitter
// (WithBackoff) until acknowledged, so a later item never overtakes an earlier
// one. Kick cuts a back-off short when the CRM is seen to be back.
//
// Exactly once: delivery is at least once — an item acknowledged by the server
// whose deletion did not reach the disk (a crash in between) is sent again
// after the next Open. Every item carries an idempotency key (a UUIDv4 made
// by Put) that never changes, and the server applies a key once and answers
// a repeat with success; together that is exactly once at the server.
//
// Permanent refusals: a Sender error wrapping ErrPermanent (a 4xx that will
// never succeed) parks the item. It is kept and listed by Failed, later items
// go on, and Retry puts it back at the head of the queue.
//
// # Limits
//
//   - Exactly once holds only if the server stores the key in the same
//     transaction as the effect, and keeps keys longer than an item can sit
//     in an outbox (days, not minutes).
//   - A parked item is overtaken by the items after it; that is the price of
//     not blocking an operator's whole queue on one bad record.
//   - Order is as seen by the server only if a request the Sender gave up on
//     (its own timeout) can no longer be applied when the next one arrives;
//     a server that keeps working on abandoned requests can apply item n+1
//     before item n.
//   - A recording's Body names a file: the file must stay until the item
//     is sent. The outbox guards the path, not the file.
//   - One process per file: Open takes an exclusive lock (path+".lock") and
//     fails with ErrLocked otherwise. Durability is that of the disk: one that
//     acknowledges fsync without writing can still lose the last items.
//   - Close does not drain the queue; call Flush (with a deadline) first.
package outbox
