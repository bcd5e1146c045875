package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmclient/outbox"
	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/tui"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestJournalCrashAndReport: the journal keeps the calls that are up; a
// process that dies leaves them in the file; the next start finds them
// lost, keeps them through its own writes until they are reported, and
// removes the file once nothing is left.
func TestJournalCrashAndReport(t *testing.T) {
	dir := t.TempDir()
	j, err := openJournal(dir, quietLog)
	if err != nil || len(j.Lost()) != 0 {
		t.Fatalf("fresh journal: %v, %d lost", err, len(j.Lost()))
	}
	now := time.Date(2026, 12, 5, 14, 2, 0, 0, time.Local)
	j.now = func() time.Time { return now }
	calls := []sip.CallInfo{
		{ID: "1", SIPCallID: "ringing-in", State: "incoming", Direction: "inbound", Remote: "sip:0312345678@pbx"},
		{ID: "2", SIPCallID: "abc@host", State: "active", Direction: "inbound", Remote: "sip:09012345678@pbx",
			RemoteName: "ヤマダ", Duration: 90 * time.Second, Recording: "/rec/a.wav"},
		{ID: "3", SIPCallID: "out@host", State: "dialing", Direction: "outbound", Remote: "sip:bob@pbx"},
		{ID: "4", SIPCallID: "abc@host", State: "active", Direction: "inbound", Remote: "sip:sv1@pbx",
			Monitor: &sip.MonitorInfo{IsSession: true}},
	}
	if err := j.sync(calls); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, journalName)
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("journal file: %v, mode %v; want 0600", err, info.Mode())
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".*")); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	// A later sync keeps a call's start.
	now = now.Add(5 * time.Second)
	if err := j.sync(calls); err != nil {
		t.Fatal(err)
	}

	// kill -9: nothing more is written. The next start:
	next, err := openJournal(dir, quietLog)
	if err != nil {
		t.Fatal(err)
	}
	lost := next.Lost()
	if len(lost) != 2 || lost[0].SIPCallID != "abc@host" || lost[1].SIPCallID != "out@host" {
		t.Fatalf("lost = %+v; want the answered call and the dialing one", lost)
	}
	if want := time.Date(2026, 12, 5, 14, 0, 30, 0, time.Local); !lost[0].Start.Equal(want) || !lost[0].Answered ||
		lost[0].Recording != "/rec/a.wav" || lost[0].RemoteName != "ヤマダ" {
		t.Errorf("lost[0] = %+v; want start %v, answered, its recording and name", lost[0], want)
	}
	if lost[0].LastSeen.IsZero() {
		t.Error("LastSeen not set from the file's mtime")
	}
	// The new run's own calls come and go; the lost ones stay until cleared.
	if err := next.sync(nil); err != nil {
		t.Fatal(err)
	}
	if again, _ := openJournal(dir, quietLog); len(again.Lost()) != 2 {
		t.Fatalf("a crash before the report must report again; got %d lost", len(again.Lost()))
	}
	if err := next.ClearLost(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal after the report and no calls: %v; want no file", err)
	}
}

// TestJournalRun: the goroutine follows the phone's events and leaves no
// file after a clean stop.
func TestJournalRun(t *testing.T) {
	dir := t.TempDir()
	j, _ := openJournal(dir, quietLog)
	ph := &fakeCalls{ev: make(chan sip.Event, 4)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { j.run(ctx, ph); close(done) }()
	ph.set([]sip.CallInfo{{ID: "1", SIPCallID: "x", State: "active", Direction: "outbound", Remote: "sip:bob@pbx"}})
	ph.ev <- sip.Event{Type: sip.EvAnswered}
	path := filepath.Join(dir, journalName)
	waitFor(t, func() bool { _, err := os.Stat(path); return err == nil })
	ph.set(nil)
	ph.ev <- sip.Event{Type: sip.EvEnded}
	waitFor(t, func() bool { _, err := os.Stat(path); return err != nil })
	cancel()
	<-done
}

type fakeCalls struct {
	ev    chan sip.Event
	mu    sync.Mutex
	calls []sip.CallInfo
}

func (f *fakeCalls) set(c []sip.CallInfo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = c
}

func (f *fakeCalls) Status() sip.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return sip.Status{Calls: append([]sip.CallInfo(nil), f.calls...)}
}

func (f *fakeCalls) Subscribe(int) (<-chan sip.Event, func()) { return f.ev, func() {} }

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRecoverLostCalls: the lost call's recording is repaired (its header
// still says 0 bytes, as after kill -9 before the first header update) and
// the sentence says how long it is and where.
func TestRecoverLostCalls(t *testing.T) {
	rec := filepath.Join(t.TempDir(), "a.wav")
	w, err := audio.CreateWAV(rec, audio.SampleRate, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(make([]int16, 2*audio.SampleRate*5/2)); err != nil { // 2.5 s
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(rec, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var zero [4]byte
	if _, err := f.WriteAt(zero[:], 40); err != nil { // data size 0, as a killed writer may leave it
		t.Fatal(err)
	}
	f.Close()

	start := time.Date(2026, 12, 5, 14, 0, 30, 0, time.Local)
	lost := recoverLostCalls([]journalCall{{ID: "2", SIPCallID: "abc@host", Direction: "inbound",
		Remote: "sip:09012345678@pbx", RemoteName: "ヤマダ", Start: start, LastSeen: start.Add(92 * time.Second), Recording: rec}}, "JP")
	if len(lost) != 1 || lost[0].recErr != nil || lost[0].recDur != 2500*time.Millisecond || lost[0].e164 != "+819012345678" {
		t.Fatalf("lost = %+v", lost)
	}
	b, _ := os.ReadFile(rec)
	if got := binary.LittleEndian.Uint32(b[40:]); got != 2*2*audio.SampleRate*5/2 {
		t.Errorf("data size after repair = %d", got)
	}
	now := start.Add(time.Hour)
	want := "opdesk stopped during a call with ヤマダ (+81 90-1234-5678) at 14:02 — the call was lost; the recording (2.5 s) is kept at " + rec
	if got := lost[0].text(tui.LangEN, now); got != want {
		t.Errorf("text:\n got %s\nwant %s", got, want)
	}
	if got := lost[0].text(tui.LangJA, now); !strings.Contains(got, "14:02、ヤマダ (+81 90-1234-5678) との通話中に opdesk が停止しました") {
		t.Errorf("ja text: %s", got)
	}
	if got := lost[0].text(tui.LangEN, now.AddDate(0, 0, 1)); !strings.Contains(got, " at 2026-12-05 14:02 ") {
		t.Errorf("a day later the date is said: %s", got)
	}
	ev := lost[0].endedEvent()
	if ev.Event != crmclient.CallEnded || ev.CallID != "abc@host" || ev.Number != "+819012345678" ||
		ev.Direction != crmclient.Inbound || !ev.At.Equal(start.Add(92*time.Second)) {
		t.Errorf("ended event = %+v", ev)
	}
}

func TestRemoteUser(t *testing.T) {
	for in, want := range map[string]string{
		"sip:0312345678@pbx.example.com:5060;transport=udp": "0312345678",
		`"Bob" <sips:bob@example.com>`:                      "bob",
		"tel:+81312345678":                                  "+81312345678",
		"SIP:alice@host":                                    "alice",
		"":                                                  "",
	} {
		if got := remoteUser(in); got != want {
			t.Errorf("remoteUser(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWithCallEvents: call events go to POST /v1/me/calls; a refusal parks
// the item, an outage retries it, other kinds go to the next sender.
func TestWithCallEvents(t *testing.T) {
	status := http.StatusOK
	var got crmclient.CallEventRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/me/calls" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		_ = json.NewDecoder(r.Body).Decode(&got)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status == http.StatusOK {
			_, _ = io.WriteString(w, `{"event_id":1,"duplicate":false}`)
			return
		}
		_, _ = io.WriteString(w, `{"error":{"code":"invalid_request","message":"no"}}`)
	}))
	defer srv.Close()
	client, err := crmclient.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var passed string
	send := withCallEvents(func(_ context.Context, it outbox.Item) error { passed = it.Kind; return nil }, client)
	ctx := context.Background()
	body, _ := json.Marshal(crmclient.CallEventRequest{Event: crmclient.CallEnded, CallID: "abc@host", Direction: crmclient.Inbound, Number: "+819012345678"})
	if err := send(ctx, outbox.Item{Kind: kindCallEvent, Body: body}); err != nil || got.CallID != "abc@host" {
		t.Fatalf("send = %v, server got %+v", err, got)
	}
	status = http.StatusBadRequest
	if err := send(ctx, outbox.Item{Kind: kindCallEvent, Body: body}); !errors.Is(err, outbox.ErrPermanent) {
		t.Errorf("a 400 = %v; want it parked", err)
	}
	status = http.StatusServiceUnavailable
	if err := send(ctx, outbox.Item{Kind: kindCallEvent, Body: body}); err == nil || errors.Is(err, outbox.ErrPermanent) {
		t.Errorf("a 503 = %v; want a retry", err)
	}
	if err := send(ctx, outbox.Item{Kind: kindCallEvent, Body: []byte(`{"surprise":1}`)}); !errors.Is(err, outbox.ErrPermanent) {
		t.Errorf("an unknown body = %v; want it parked", err)
	}
	if err := send(ctx, outbox.Item{Kind: outbox.KindNote, Body: []byte(`{}`)}); err != nil || passed != outbox.KindNote {
		t.Errorf("a note went %q (%v); want it passed on", passed, err)
	}
}
