package crmclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func readAllSSE(t *testing.T, in string) ([]sseMessage, error) {
	t.Helper()
	sr := newSSEReader(strings.NewReader(in))
	var out []sseMessage
	for {
		m, err := sr.next(func() {})
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}

// TestSSEReader: the parts of the server-sent events format a proxy or another
// CRM may use, beyond what our server writes.
func TestSSEReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []sseMessage
		err  error
	}{
		{"ours", "event: ready\ndata: {\"after\":3}\n\nid: 4\nevent: agent_state\ndata: {}\n\n: heartbeat\n\n",
			[]sseMessage{{event: "ready", data: []byte(`{"after":3}`)}, {id: "4", event: "agent_state", data: []byte(`{}`)}}, io.EOF},
		{"CRLF", "id: 1\r\nevent: x\r\ndata: a\r\n\r\n", []sseMessage{{id: "1", event: "x", data: []byte("a")}}, io.EOF},
		{"CR", "id: 1\revent: x\rdata: a\r\r", []sseMessage{{id: "1", event: "x", data: []byte("a")}}, io.EOF},
		{"multi-line data", "data: a\ndata:b\ndata\n\n", []sseMessage{{data: []byte("a\nb\n")}}, io.EOF},
		{"no data, no message", "event: x\nid: 9\n\ndata: y\n\n", []sseMessage{{id: "9", data: []byte("y")}}, io.EOF},
		{"id with NUL ignored", "id: 5\x00\ndata: y\n\n", []sseMessage{{data: []byte("y")}}, io.EOF},
		{"unknown fields and retry", "retry: 10\nfoo: bar\ndata: z\n\n", []sseMessage{{data: []byte("z")}}, io.EOF},
		{"cut mid-message", "id: 1\ndata: a\n", nil, io.EOF},
		{"cut mid-line", "id: 1\ndata: a", nil, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAllSSE(t, tt.in)
			if !errors.Is(err, tt.err) || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
				t.Errorf("got %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
	long := "data: " + strings.Repeat("x", maxSSELine) + "\n\n"
	if _, err := readAllSSE(t, long); !errors.Is(err, ErrBadResponse) {
		t.Errorf("overlong line: %v", err)
	}
}

func FuzzSSEReader(f *testing.F) {
	f.Add("id: 1\nevent: a\ndata: {}\n\n")
	f.Add("data: a\r\ndata: b\r\r\n: c\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		sr := newSSEReader(strings.NewReader(in))
		for range len(in) + 1 {
			m, err := sr.next(func() {})
			if err != nil {
				return
			}
			if len(m.data) > len(in) {
				t.Fatalf("message larger than the input")
			}
		}
		t.Fatal("more messages than bytes")
	})
}

// fakeStream is an event server under the test's control: each connection runs
// serve, and the Last-Event-ID headers it was sent are recorded.
type fakeStream struct {
	mu     sync.Mutex
	lastID []string
	conns  int
	serve  func(conn int, w http.ResponseWriter, r *http.Request)
}

func (f *fakeStream) start(t *testing.T) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.lastID = append(f.lastID, r.Header.Get("Last-Event-ID"))
		f.conns++
		n := f.conns
		f.mu.Unlock()
		f.serve(n, w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, WithHTTPClient(srv.Client()), WithToken("t"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sse(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "text/event-stream")
	_, _ = io.WriteString(w, s)
	w.(http.Flusher).Flush()
}

// TestFollowEventsResumes: after a dropped connection FollowEvents resumes after
// the last event it delivered — or, before any event, after where the first
// connection started — and passes fn's error back unchanged.
func TestFollowEventsResumes(t *testing.T) {
	f := &fakeStream{serve: func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 1: // starts "from now" at 7, then drops before any event
			sse(w, "event: ready\ndata: {\"after\":7,\"heartbeat_ms\":1000}\n\n")
		case 2:
			sse(w, "event: ready\ndata: {\"after\":7,\"heartbeat_ms\":1000}\n\nid: 8\nevent: agent_state\ndata: {}\n\nid: 9\nevent: agent_state\ndata: {}\n\n")
		case 3:
			http.Error(w, "proxy hiccup", http.StatusBadGateway)
		default:
			sse(w, "event: ready\ndata: {\"after\":9,\"heartbeat_ms\":1000}\n\nid: 10\nevent: call_ended\ndata: {}\n\n")
		}
	}}
	c := f.start(t)
	stop := errors.New("enough")
	var ids []int64
	err := c.FollowEvents(context.Background(), EventsFromNow, func(e Event) error {
		if e.Kind != EventReady {
			ids = append(ids, e.ID)
		}
		if e.ID == 10 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Errorf("FollowEvents = %v, want fn's error itself", err)
	}
	if fmt.Sprint(ids) != "[8 9 10]" || fmt.Sprint(f.lastID) != "[ 7 9 9]" {
		t.Errorf("events %v, Last-Event-ID sent %q", ids, f.lastID)
	}
}

// TestEventsWatchdog: a stream that goes silent for three heartbeats is given up,
// and one that never answers is given up after the client's timeout.
func TestEventsWatchdog(t *testing.T) {
	f := &fakeStream{serve: func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			sse(w, "event: ready\ndata: {\"after\":0,\"heartbeat_ms\":20}\n\n")
		}
		<-r.Context().Done() // then silence (n == 2: not even headers)
	}}
	c := f.start(t)
	c.timeout = 300 * time.Millisecond
	start := time.Now()
	err := c.Events(context.Background(), 0, func(Event) error { return nil })
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, errStreamIdle) || time.Since(start) > 250*time.Millisecond {
		t.Errorf("silent stream: %v after %v", err, time.Since(start))
	}
	start = time.Now()
	err = c.Events(context.Background(), 0, func(Event) error { return nil })
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, errNoAnswer) || time.Since(start) > 2*time.Second {
		t.Errorf("no answer: %v after %v", err, time.Since(start))
	}
}

// TestEventsBadServer: answers that are not our stream are errors, not hangs.
func TestEventsBadServer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		serve func(w http.ResponseWriter)
		want  error
	}{
		{"JSON instead of a stream", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, "{}")
		}, ErrBadResponse},
		{"bad id", func(w http.ResponseWriter) { sse(w, "event: ready\ndata: {}\n\nid: abc\nevent: x\ndata: {}\n\n") }, ErrBadResponse},
		{"bad ready", func(w http.ResponseWriter) { sse(w, "event: ready\ndata: nope\n\n") }, ErrBadResponse},
		{"403", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(403)
			_, _ = io.WriteString(w, `{"error":{"code":"forbidden","message":"this needs the supervisor role"}}`)
		}, ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeStream{serve: func(_ int, w http.ResponseWriter, _ *http.Request) { tc.serve(w) }}
			c := f.start(t)
			if err := c.Events(context.Background(), 0, func(Event) error { return nil }); !errors.Is(err, tc.want) {
				t.Errorf("Events = %v, want %v", err, tc.want)
			}
		})
	}
}
