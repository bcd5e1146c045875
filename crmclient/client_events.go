package crmclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/opdesk/opdesk/crmclient/outbox"
)

// EventsFromNow, as the after argument of Events and FollowEvents, starts the
// stream at the newest stored event instead of replaying stored ones.
const EventsFromNow int64 = -1

// defaultEventIdle is how long the event stream may stay silent before the client
// gives the connection up as dead, until the server's EventReady says how often it
// sends heartbeats (then three of them). 45 s is three of the default 15 s.
const defaultEventIdle = 45 * time.Second

// Back-off between reconnects of FollowEvents: doubling from eventRetryMin to
// eventRetryMax, with jitter so that a floor of wallboards does not reconnect in
// step after a CRM restart.
const (
	eventRetryMin = 250 * time.Millisecond
	eventRetryMax = 30 * time.Second
)

// maxSSELine bounds one line of the stream; events are a few hundred bytes.
const maxSSELine = 1 << 20

// Causes of a stream closed by its watchdog.
var (
	errNoAnswer   = errors.New("no answer to the event stream request in time")
	errStreamIdle = errors.New("event stream silent for three heartbeats")
)

// callbackError carries the error of the caller's fn out of the stream, so that
// FollowEvents can tell it from a broken connection.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }
func (e callbackError) Unwrap() error { return e.err }

// Events reads the supervisors' event stream (GET /v1/events; supervisors only)
// and calls fn with each event in order, starting after the event with id after
// (EventsFromNow: with the next new one). The first call of every connection is an
// EventReady. It returns when ctx ends (ctx.Err()), when fn returns an error (that
// error), when the connection fails or the server ends the stream (an error
// matching ErrUnavailable) or is refused (an *APIError). FollowEvents is the
// version that reconnects.
//
// The client's http.Client must not have a Timeout: it would cut the stream.
// fn runs on the caller's goroutine and holds up the stream while it runs.
func (c *Client) Events(ctx context.Context, after int64, fn func(Event) error) error {
	_, _, err := c.streamEvents(ctx, after, fn)
	var ce callbackError
	if errors.As(err, &ce) {
		return ce.err
	}
	return err
}

// FollowEvents is Events that reconnects when the connection fails or the CRM
// restarts, with back-off, resuming after the last event it delivered (the SSE
// Last-Event-ID), so fn sees every event once and in order. fn sees an EventReady
// after every (re)connect. It returns only when ctx ends, when fn returns an
// error, or when the CRM refuses the stream for good (401, 403, 404, 400).
func (c *Client) FollowEvents(ctx context.Context, after int64, fn func(Event) error) error {
	wait := eventRetryMin
	for {
		pos, connected, err := c.streamEvents(ctx, after, fn)
		after = pos
		var ce callbackError
		var ae *APIError
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &ce):
			return ce.err
		case errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 &&
			ae.Status != http.StatusRequestTimeout && ae.Status != http.StatusTooManyRequests:
			return err
		}
		if connected {
			wait = eventRetryMin
		}
		d := wait/2 + rand.N(wait/2+1)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, eventRetryMax)
	}
}

// streamEvents runs one connection. pos is where a reconnect resumes: the id of
// the last event delivered, or the stream's starting point from EventReady.
// connected reports whether the server accepted the stream.
func (c *Client) streamEvents(ctx context.Context, after int64, fn func(Event) error) (pos int64, connected bool, err error) {
	pos = after
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	u := *c.base
	u.Path += "/v1/events"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return pos, false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-store")
	if after >= 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(after, 10))
	}
	if tok := c.Token(); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}

	// The answer's headers must come within the client's usual time budget;
	// after that only silence longer than the idle timeout ends the stream.
	idle := defaultEventIdle
	var streaming atomic.Bool
	watchdog := time.AfterFunc(c.timeout, func() {
		if streaming.Load() {
			cancel(errStreamIdle)
		} else {
			cancel(errNoAnswer)
		}
	})
	defer watchdog.Stop()

	resp, err := c.hc.Do(req)
	if err != nil {
		if parent.Err() != nil {
			return pos, false, parent.Err()
		}
		return pos, false, fmt.Errorf("crm GET /v1/events: %w: %w", ErrUnavailable, streamCause(ctx, err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		apiErr := decodeAPIError(resp.StatusCode, io.LimitReader(resp.Body, maxResponse))
		return pos, false, fmt.Errorf("crm GET /v1/events: %w", apiErr)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return pos, false, fmt.Errorf("crm GET /v1/events: %w: Content-Type %q", ErrBadResponse, resp.Header.Get("Content-Type"))
	}
	streaming.Store(true)
	watchdog.Reset(idle)

	sr := newSSEReader(resp.Body)
	for {
		m, err := sr.next(func() { watchdog.Reset(idle) })
		if err != nil {
			if parent.Err() != nil {
				return pos, connected, parent.Err()
			}
			if errors.Is(err, io.EOF) {
				err = errors.New("the server ended the stream")
			}
			return pos, connected, fmt.Errorf("crm GET /v1/events: %w: %w", ErrUnavailable, streamCause(ctx, err))
		}
		ev := Event{Kind: EventKind(m.event), Data: m.data}
		if ev.Kind == "" {
			ev.Kind = "message" // the SSE default; not one of ours, but passed on
		}
		if m.id != "" {
			if ev.ID, err = strconv.ParseInt(m.id, 10, 64); err != nil {
				return pos, connected, fmt.Errorf("crm GET /v1/events: %w: event id %q", ErrBadResponse, m.id)
			}
		}
		if ev.Kind == EventReady {
			connected = true
			r, err := ev.Ready()
			if err != nil {
				return pos, connected, fmt.Errorf("crm GET /v1/events: %w", err)
			}
			if pos < 0 || r.After < pos { // from now, or the server never had pos (restored from a backup)
				pos = r.After
			}
			if r.HeartbeatMS > 0 {
				idle = 3 * time.Duration(r.HeartbeatMS) * time.Millisecond
				watchdog.Reset(idle)
			}
		}
		if err := fn(ev); err != nil {
			return pos, connected, callbackError{err}
		}
		if ev.ID > 0 {
			pos = ev.ID
		}
	}
}

// streamCause prefers the watchdog's reason over the bare "context canceled".
func streamCause(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause == errStreamIdle || cause == errNoAnswer {
		return cause
	}
	return err
}

// sseMessage is one dispatched server-sent event.
type sseMessage struct {
	id, event string
	data      []byte
}

// sseReader parses text/event-stream (the WHATWG HTML "server-sent events"
// format): lines end in LF, CRLF or CR; "field: value" lines build a message; an
// empty line dispatches it; lines starting with ':' are comments (heartbeats).
type sseReader struct {
	r    *bufio.Reader
	line []byte
}

func newSSEReader(r io.Reader) *sseReader { return &sseReader{r: bufio.NewReaderSize(r, 4096)} }

// next returns the next message with data. activity is called for every line, a
// heartbeat comment included.
func (s *sseReader) next(activity func()) (sseMessage, error) {
	var (
		m       sseMessage
		data    bytes.Buffer
		hasData bool
	)
	for {
		line, err := s.readLine()
		if err != nil {
			return sseMessage{}, err
		}
		activity()
		if len(line) == 0 {
			if hasData {
				m.data = bytes.Clone(bytes.TrimSuffix(data.Bytes(), []byte("\n")))
				return m, nil
			}
			m.event, data, hasData = "", bytes.Buffer{}, false
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, found := bytes.Cut(line, []byte(":"))
		if found {
			value = bytes.TrimPrefix(value, []byte(" "))
		}
		switch string(field) {
		case "event":
			m.event = string(value)
		case "data":
			data.Write(value)
			data.WriteByte('\n')
			hasData = true
		case "id":
			if !bytes.ContainsRune(value, 0) {
				m.id = string(value)
			}
		}
	}
}

// readLine returns one line without its ending; the slice is valid until the next
// call. A line longer than maxSSELine is an error: no event of ours is that long.
func (s *sseReader) readLine() ([]byte, error) {
	s.line = s.line[:0]
	for {
		b, err := s.r.ReadByte()
		if err != nil {
			if err == io.EOF && len(s.line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		switch b {
		case '\n':
			return s.line, nil
		case '\r':
			if next, err := s.r.Peek(1); err == nil && next[0] == '\n' {
				_, _ = s.r.ReadByte()
			}
			return s.line, nil
		}
		if len(s.line) >= maxSSELine {
			return nil, fmt.Errorf("%w: event stream line over %d bytes", ErrBadResponse, maxSSELine)
		}
		s.line = append(s.line, b)
	}
}

// PostCallEvent announces that one of the caller's own calls started, ended or was
// missed (rang unanswered; Abandoned when the caller hung up while it rang), for
// the supervisors' stream and wallboard. Announcing the same phase of the same
// call again is harmless (CallEventAck.Duplicate).
func (c *Client) PostCallEvent(ctx context.Context, ev CallEventRequest) (CallEventAck, error) {
	var out CallEventAck
	err := c.do(ctx, http.MethodPost, "/v1/me/calls", nil, ev, &out)
	return out, err
}

// MonitorKey returns the public key the CRM signs monitor grants with. An agent's
// desktop fetches it after login and again when VerifyGrant reports
// ErrGrantUnknownKey.
func (c *Client) MonitorKey(ctx context.Context) (MonitorKey, error) {
	var out MonitorKey
	err := c.do(ctx, http.MethodGet, "/v1/monitor/key", nil, nil, &out)
	return out, err
}

// CreateMonitorGrant asks for a grant to monitor an agent's call. Supervisors only:
// an agent gets ErrForbidden; an unknown agent ErrNotFound.
func (c *Client) CreateMonitorGrant(ctx context.Context, req GrantRequest) (Grant, error) {
	var out Grant
	err := c.do(ctx, http.MethodPost, "/v1/monitor/grants", nil, req, &out)
	return out, err
}

// ErrRecordingTooLarge is returned by UploadRecording for a file over
// MaxRecordingBytes, before anything is sent.
var ErrRecordingTooLarge = fmt.Errorf("recording is larger than %d MiB", MaxRecordingBytes>>20)

// minUploadRate is the slowest upload UploadRecording waits for (32 KiB/s, a
// quarter of a poor home uplink), on top of the client's usual time budget.
const minUploadRate = 32 << 10

// UploadRecording sends the WAV file at path as the recording of call callID
// (customerID may be empty), with idempotency key key: sending the same key again,
// after a timeout or a crash, stores the recording once. The file is streamed,
// never read into memory whole. The upload may take size/32 KiB/s plus the
// client's timeout before it is given up; ctx can end it sooner.
func (c *Client) UploadRecording(ctx context.Context, key, path string, callID, customerID string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("upload recording: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("upload recording: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("upload recording: %s is not a regular file", path)
	}
	size := fi.Size()
	if size > MaxRecordingBytes {
		return fmt.Errorf("upload recording %s: %w", path, ErrRecordingTooLarge)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout+30*time.Second+time.Duration(size/minUploadRate)*time.Second)
	defer cancel()

	u := *c.base
	u.Path += "/v1/recordings"
	q := url.Values{"call_id": {callID}}
	if customerID != "" {
		q.Set("customer_id", customerID)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), io.NopCloser(f))
	if err != nil {
		return fmt.Errorf("upload recording: %w", err)
	}
	req.ContentLength = size
	req.GetBody = func() (io.ReadCloser, error) { return os.Open(path) } // for a redirect or a retried connection
	req.Header.Set("Content-Type", "audio/wav")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Idempotency-Key", key)
	// A server that already has this key (or refuses the token) answers before
	// the body is sent, when the transport waits for 100 Continue.
	req.Header.Set("Expect", "100-continue")
	if tok := c.Token(); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("crm POST /v1/recordings: %w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	lr := io.LimitReader(resp.Body, maxResponse)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("crm POST /v1/recordings: %w", decodeAPIError(resp.StatusCode, lr))
	}
	var rec Recording
	if err := json.NewDecoder(lr).Decode(&rec); err != nil {
		return fmt.Errorf("crm POST /v1/recordings: %w: %v", ErrBadResponse, err)
	}
	return nil
}

// SendRecordingItem is the outbox Sender for items of kind outbox.KindRecording,
// whose Body is a RecordingItem. Refusals that no retry can fix are wrapped in
// outbox.ErrPermanent, so the item is parked instead of blocking the queue: a
// malformed body, a missing or oversized file, and 4xx answers other than 401 (the
// desktop logs in again and the queue goes on), 408 and 429.
func (c *Client) SendRecordingItem(ctx context.Context, it outbox.Item) error {
	var ri RecordingItem
	dec := json.NewDecoder(bytes.NewReader(it.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ri); err != nil || ri.Path == "" || ri.CallID == "" {
		return fmt.Errorf("%w: recording item %d: body is not {path, call_id, customer_id}", outbox.ErrPermanent, it.ID)
	}
	err := c.UploadRecording(ctx, it.Key, ri.Path, ri.CallID, ri.CustomerID)
	var ae *APIError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrNotExist), errors.Is(err, ErrRecordingTooLarge):
		return fmt.Errorf("%w: %w", outbox.ErrPermanent, err)
	case errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 &&
		ae.Status != http.StatusUnauthorized && ae.Status != http.StatusRequestTimeout &&
		ae.Status != http.StatusTooManyRequests:
		return fmt.Errorf("%w: %w", outbox.ErrPermanent, err)
	}
	return err
}

// Recordings lists the recordings of call callID ("" for the latest 100), newest
// first. Supervisors see everybody's; agents only their own.
func (c *Client) Recordings(ctx context.Context, callID string) ([]Recording, error) {
	var q url.Values
	if callID != "" {
		q = url.Values{"call_id": {callID}}
	}
	var out RecordingList
	err := c.do(ctx, http.MethodGet, "/v1/recordings", q, nil, &out)
	return out.Recordings, err
}

// DownloadRecording copies the audio of recording id (a WAV file) to w and returns
// the number of bytes written. Only ctx bounds the transfer.
func (c *Client) DownloadRecording(ctx context.Context, id string, w io.Writer) (int64, error) {
	u := *c.base
	u.Path += "/v1/recordings/" + url.PathEscape(id) + "/audio"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "audio/wav")
	if tok := c.Token(); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("crm GET recording audio: %w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("crm GET recording audio: %w", decodeAPIError(resp.StatusCode, io.LimitReader(resp.Body, maxResponse)))
	}
	n, err := io.Copy(w, io.LimitReader(resp.Body, MaxRecordingBytes+1))
	if err != nil {
		return n, fmt.Errorf("crm GET recording audio: %w: %w", ErrUnavailable, err)
	}
	return n, nil
}
