package crmserver

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/opdesk/opdesk/crmclient"
)

// eventRetention is how long events are kept. A wallboard away for longer than
// this resumes with a gap it cannot see; it has long since re-read GET /v1/agents.
const eventRetention = 7 * 24 * time.Hour

// pruneEvery: one event write in this many also deletes the expired ones, so
// pruning needs no goroutine and costs nothing measurable.
const pruneEvery = 256

// eventOrderLock is the PostgreSQL advisory lock key that orders event commits
// (migrate uses 7367).
const eventOrderLock = 7368

// eventBell wakes the streams of this process when an event is committed. It is
// one bell for the process, not one per Store: a store has nowhere to keep one,
// and a stream woken by another store's write costs one indexed query. Streams
// also poll, which is how events written by another process reach them.
var eventBell = newWakeBell()

// wakeBell is a broadcast wake-up: wait returns a channel that the next ring closes.
type wakeBell struct {
	mu sync.Mutex
	ch chan struct{}
}

func newWakeBell() *wakeBell { return &wakeBell{ch: make(chan struct{})} }

func (b *wakeBell) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

func (b *wakeBell) ring() {
	b.mu.Lock()
	close(b.ch)
	b.ch = make(chan struct{})
	b.mu.Unlock()
}

// storedEvent is one row of events.
type storedEvent struct {
	id      int64
	kind    crmclient.EventKind
	payload string
}

// appendEvent writes an event in tx, after the change it reports, and returns its
// id. A non-empty ref (a Call-ID) makes the event unique per kind and agent: a
// repeat writes nothing and returns the first event's id with dup set. The caller
// rings eventBell after the commit (not before: a woken stream must find the row).
//
// On PostgreSQL the advisory lock makes event transactions commit in id order; it
// is held from here to the commit, so callers append the event last.
func (s *Store) appendEvent(ctx context.Context, tx *tx, kind crmclient.EventKind, agent, ref string, payload any) (id int64, dup bool, err error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return 0, false, fmt.Errorf("event %s: %w", kind, err)
	}
	if s.db.d == postgresDialect {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(eventOrderLock)); err != nil {
			return 0, false, fmt.Errorf("event %s: %w", kind, err)
		}
	}
	now := s.now()
	err = tx.QueryRowContext(ctx, `INSERT INTO events (at, kind, agent, ref, payload) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING RETURNING id`, now.Unix(), string(kind), agent, ref, string(data)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) && ref != "" {
		err = tx.QueryRowContext(ctx, `SELECT id FROM events WHERE kind = ? AND agent = ? AND ref = ?`,
			string(kind), agent, ref).Scan(&id)
		return id, true, err
	}
	if err != nil {
		return 0, false, fmt.Errorf("event %s: %w", kind, err)
	}
	if id%pruneEvery == 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM events WHERE at < ?`, now.Add(-eventRetention).Unix()); err != nil {
			return 0, false, fmt.Errorf("prune events: %w", err)
		}
	}
	return id, false, nil
}

// eventsAfter returns up to limit events with ids above after, in id order.
func (s *Store) eventsAfter(ctx context.Context, after int64, limit int) ([]storedEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, payload FROM events WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []storedEvent
	for rows.Next() {
		var e storedEvent
		if err := rows.Scan(&e.id, &e.kind, &e.payload); err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// lastEventID is the newest event's id (0 when there is none).
func (s *Store) lastEventID(ctx context.Context) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("read events: %w", err)
	}
	return id, nil
}

// RecordCallEvent stores a call_started, call_ended or call_missed event announced
// by agent's desktop. The number is normalised to E.164 with region when it is a
// phone number, and kept as sent otherwise ("anonymous", an extension). The same
// phase of the same call twice stores one event (ack.Duplicate on the second).
// Abandoned is only accepted with the missed phase.
func (s *Store) RecordCallEvent(ctx context.Context, agent string, req crmclient.CallEventRequest, region string) (crmclient.CallEventAck, error) {
	var kind crmclient.EventKind
	switch req.Event {
	case crmclient.CallStarted:
		kind = crmclient.EventCallStarted
	case crmclient.CallEnded:
		kind = crmclient.EventCallEnded
	case crmclient.CallMissed:
		kind = crmclient.EventCallMissed
	default:
		return crmclient.CallEventAck{}, invalidf("event must be started, ended or missed, not %q", req.Event)
	}
	if req.Abandoned && req.Event != crmclient.CallMissed {
		return crmclient.CallEventAck{}, invalidf("abandoned is only for missed calls (the caller hung up while it rang), not %s ones", req.Event)
	}
	if err := checkSIPCallID(req.CallID); err != nil {
		return crmclient.CallEventAck{}, err
	}
	if !req.Direction.Valid() {
		return crmclient.CallEventAck{}, invalidf("direction must be inbound or outbound, not %q", req.Direction)
	}
	number := strings.TrimSpace(req.Number)
	if err := checkEventText("number", number, 64); err != nil {
		return crmclient.CallEventAck{}, err
	}
	if e164, err := crmclient.NormalizePhone(number, region); err == nil {
		number = e164
	}
	if err := checkEventRef("customer_id", req.CustomerID); err != nil {
		return crmclient.CallEventAck{}, err
	}
	if err := checkEventRef("campaign_id", req.CampaignID); err != nil {
		return crmclient.CallEventAck{}, err
	}
	at := req.At.UTC()
	if req.At.IsZero() {
		at = s.now().UTC().Truncate(time.Millisecond)
	}
	ev := crmclient.CallEvent{Agent: agent, CallID: req.CallID, Direction: req.Direction, Number: number,
		CustomerID: req.CustomerID, CampaignID: req.CampaignID, At: at, Abandoned: req.Abandoned}
	var ack crmclient.CallEventAck
	err := s.inTx(ctx, func(tx *tx) error {
		var err error
		ack.EventID, ack.Duplicate, err = s.appendEvent(ctx, tx, kind, agent, req.CallID, ev)
		return err
	})
	if err != nil {
		return crmclient.CallEventAck{}, fmt.Errorf("call event: %w", err)
	}
	if !ack.Duplicate {
		eventBell.ring()
	}
	return ack, nil
}

// checkSIPCallID accepts a SIP Call-ID (RFC 3261 §8.1.1.4: word ["@" word]): 1–255
// visible ASCII characters. It is only ever compared, never parsed.
func checkSIPCallID(id string) error {
	if id == "" || len(id) > 255 {
		return invalidf("call_id must be the SIP Call-ID, 1–255 characters")
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return invalidf("call_id must be visible ASCII (a SIP Call-ID)")
		}
	}
	return nil
}

// checkEventRef accepts an optional id of another resource: up to 64 visible ASCII
// characters. Existence is not checked: a desktop may name a customer it created
// offline, whose card is still in its outbox.
func checkEventRef(field, v string) error {
	if len(v) > 64 {
		return invalidf("%s must be at most 64 characters", field)
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return invalidf("%s must be visible ASCII", field)
		}
	}
	return nil
}

// checkEventText accepts free text of at most max characters without control
// characters (which would reach supervisors' terminals) or NUL (which PostgreSQL
// refuses).
func checkEventText(field, v string, max int) error {
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max {
		return invalidf("%s must be UTF-8 of at most %d characters", field, max)
	}
	for _, r := range v {
		if r < ' ' || r == 0x7f {
			return invalidf("%s must not contain control characters", field)
		}
	}
	return nil
}
