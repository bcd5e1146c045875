package crmserver

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// Defaults of the event stream.
const (
	// defaultHeartbeat keeps proxies and NATs from closing a quiet stream (most
	// cut idle connections after 30–60 s) and lets the client notice a dead one.
	defaultHeartbeat = 15 * time.Second
	// defaultEventPoll is how often a stream reads the table even without a
	// wake-up: events written by another server process on the same database
	// arrive within this.
	defaultEventPoll = time.Second
	// streamWriteTimeout bounds one write to a stream: a client that stops
	// reading (a frozen laptop) is dropped instead of holding a goroutine.
	streamWriteTimeout = 30 * time.Second
	// eventBatch is how many events one query reads.
	eventBatch = 500
)

// eventConfig is the handler's state for this area: options, the shutdown
// signals of the http.Servers it runs under, the cached monitor key and the
// resolved recordings directory. Its zero value means the defaults.
type eventConfig struct {
	heartbeat time.Duration
	poll      time.Duration

	shutdowns sync.Map // *http.Server → chan struct{}, closed when it shuts down

	keyMu sync.Mutex
	key   *monitorKey

	recMu  sync.Mutex
	recDir string // set by WithRecordingsDir, or resolved on first use
	recMax int64  // upload limit; 0 means crmclient.MaxRecordingBytes (tests lower it)
}

// WithEventHeartbeat sets how often an idle event stream sends a comment line
// (default 15 s). Lower it when a proxy in front of the CRM closes connections
// that are quiet for less than about 30 s.
func WithEventHeartbeat(d time.Duration) HandlerOption {
	return func(h *api) { h.ev.heartbeat = d }
}

// shutdownSignal returns a channel closed when the http.Server serving r begins
// Shutdown. Shutdown waits for active requests and does not cancel their
// contexts, so without this a stream would hold it until its deadline. One hook
// is registered per server, on the first stream it serves. Nil (never closed)
// when r was not served by an http.Server.
func (c *eventConfig) shutdownSignal(r *http.Request) <-chan struct{} {
	srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	if !ok {
		return nil
	}
	ch := make(chan struct{})
	if v, loaded := c.shutdowns.LoadOrStore(srv, ch); loaded {
		return v.(chan struct{})
	}
	srv.RegisterOnShutdown(sync.OnceFunc(func() { close(ch) })) // Shutdown may be called again
	return ch
}

// streamEvents serves GET /v1/events as text/event-stream. The first message is an
// "ready" event without id, saying where the stream starts and how often it
// beats; then every stored event with a larger id, as "id: N", "event: KIND",
// "data: JSON". It starts after Last-Event-ID (what a reconnecting EventSource
// sends), else after ?after=, else after the newest event. There is no snapshot:
// the client reads GET /v1/agents once it has seen "ready" and applies the events
// over it.
//
// It returns when the client goes (r.Context()), the server shuts down, a write
// stalls for streamWriteTimeout, or the database fails; errors after the first
// byte can only be logged.
func (h *api) streamEvents(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	after, err := h.streamStart(r)
	if err != nil {
		return err
	}
	heartbeat, poll := h.ev.heartbeat, h.ev.poll
	if heartbeat <= 0 {
		heartbeat = defaultHeartbeat
	}
	if poll <= 0 {
		poll = defaultEventPoll
	}
	shutdown := h.ev.shutdownSignal(r)

	// The server's WriteTimeout counts from the request's start and would cut
	// the stream after 20 s: each write sets its own deadline instead (send).
	// Its ReadTimeout does not matter: net/http clears the read deadline once
	// a request without a body has been read.
	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)

	var buf bytes.Buffer
	send := func() bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := w.Write(buf.Bytes()); err != nil {
			return false
		}
		buf.Reset()
		return rc.Flush() == nil
	}
	ready, _ := json.Marshal(crmclient.StreamReady{After: after, HeartbeatMS: heartbeat.Milliseconds()})
	writeSSE(&buf, 0, crmclient.EventReady, ready)
	if !send() {
		return nil
	}

	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		wake := eventBell.wait() // before the read, so a ring during it is not lost
		qctx, cancel := context.WithTimeout(ctx, h.timeout)
		evs, err := h.st.eventsAfter(qctx, after, eventBatch)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				h.log.Error("event stream: read failed", slog.String("err", err.Error()))
			}
			return nil
		}
		for _, e := range evs {
			writeSSE(&buf, e.id, e.kind, []byte(e.payload))
			after = e.id
		}
		if len(evs) > 0 {
			if !send() {
				return nil
			}
			beat.Reset(heartbeat)
			if len(evs) == eventBatch {
				continue
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-shutdown:
			return nil
		case <-wake:
		case <-tick.C:
		case <-beat.C:
			buf.WriteString(": heartbeat\n\n")
			if !send() {
				return nil
			}
		}
	}
}

// streamStart reads where a stream begins: Last-Event-ID, ?after=, or the newest
// event.
func (h *api) streamStart(r *http.Request) (int64, error) {
	v, field := r.Header.Get("Last-Event-ID"), "Last-Event-ID"
	if v == "" {
		v, field = r.URL.Query().Get("after"), "after"
	}
	var n int64
	if v != "" {
		var err error
		if n, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil || n < 0 {
			return 0, invalidf("%s must be an event id (a non-negative integer)", field)
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	head, err := h.st.lastEventID(ctx)
	if err != nil {
		return 0, err
	}
	// Without a position, or with one this database never reached (it was
	// restored from an older backup), start at the newest event; "ready" tells
	// the client where that is.
	if v == "" || n > head {
		return head, nil
	}
	return n, nil
}

// writeSSE appends one message. Data is JSON from json.Marshal and has no line
// breaks, but each line gets its own "data:" anyway, as the format requires.
func writeSSE(b *bytes.Buffer, id int64, kind crmclient.EventKind, data []byte) {
	if id > 0 {
		b.WriteString("id: ")
		b.WriteString(strconv.FormatInt(id, 10))
		b.WriteByte('\n')
	}
	b.WriteString("event: ")
	b.WriteString(string(kind))
	b.WriteByte('\n')
	for line := range bytes.Lines(data) {
		b.WriteString("data: ")
		b.Write(bytes.TrimRight(line, "\r\n"))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
}

// postCallEvent serves POST /v1/me/calls: the caller's desktop announces one of
// its own calls.
func (h *api) postCallEvent(w http.ResponseWriter, r *http.Request) error {
	var req crmclient.CallEventRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	ack, err := h.st.RecordCallEvent(r.Context(), principalFrom(r.Context()).user.Name, req, h.region)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if ack.Duplicate {
		status = http.StatusOK
	}
	writeJSON(w, status, ack)
	return nil
}
