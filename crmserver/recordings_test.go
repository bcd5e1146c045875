package crmserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmclient/outbox"
)

// writeWAV writes a WAV file of 8 kHz 16-bit mono with dataBytes of a ramp, and
// returns its path and contents.
func writeWAV(t testing.TB, dir string, dataBytes int) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(36+dataBytes))
	b.WriteString("WAVEfmt ")
	_ = binary.Write(&b, binary.LittleEndian, []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)})
	b.WriteString("data")
	_ = binary.Write(&b, binary.LittleEndian, uint32(dataBytes))
	for i := range dataBytes {
		b.WriteByte(byte(i))
	}
	f, err := os.CreateTemp(dir, "call-*.wav")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return f.Name(), b.Bytes()
}

// recordingFiles lists every file under dir (recordings and any leftovers).
func recordingFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestRecordingUpload: an upload is stored once per idempotency key, with its size
// and SHA-256, as a private file; supervisors list and play everybody's, agents
// only their own.
func TestRecordingUpload(t *testing.T) {
	dir := t.TempDir()
	crm := newTestCRMWith(t, 0, []HandlerOption{WithRecordingsDir(dir)})
	ctx := context.Background()
	agent := crm.client(t, "agent1")
	sv := crm.client(t, "sv1")
	path, data := writeWAV(t, t.TempDir(), 3<<20)
	const callID = "upload-1@pc33.example.jp"

	if err := agent.UploadRecording(ctx, "key-1", path, callID, "42"); err != nil {
		t.Fatal(err)
	}
	// The same key again (the outbox retrying after a lost answer): the first
	// answer, and nothing new stored.
	if err := agent.UploadRecording(ctx, "key-1", path, callID, "42"); err != nil {
		t.Fatalf("repeat: %v", err)
	}
	list, err := sv.Recordings(ctx, callID)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if len(list) != 1 || list[0].Bytes != int64(len(data)) || list[0].SHA256 != hex.EncodeToString(sum[:]) ||
		list[0].Agent != "agent1" || list[0].CustomerID != "42" || list[0].CallID != callID {
		t.Fatalf("recordings = %+v", list)
	}
	files := recordingFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("files in the recordings directory: %v", files)
	}
	if fi, err := os.Stat(files[0]); err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("recording file mode %v, %v; want 0600", fi.Mode(), err)
	}

	// The replayed answer is the first one.
	first, hdr := postWAV(t, crm, agent.Token(), "key-1", callID, data)
	if first != 201 || hdr.Get("Idempotent-Replayed") != "true" || hdr.Get("Location") != "/v1/recordings/"+list[0].ID+"/audio" {
		t.Errorf("raw repeat: %d %v", first, hdr)
	}

	var buf bytes.Buffer
	n, err := sv.DownloadRecording(ctx, list[0].ID, &buf)
	if err != nil || n != int64(len(data)) || !bytes.Equal(buf.Bytes(), data) {
		t.Errorf("supervisor download: %d bytes, %v", n, err)
	}
	req, _ := http.NewRequest("GET", crm.srv.URL+"/v1/recordings/"+list[0].ID+"/audio", nil)
	req.Header.Set("Authorization", "Bearer "+agent.Token())
	req.Header.Set("Range", "bytes=0-11")
	resp, err := crm.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 206 || string(part) != string(data[:12]) || resp.Header.Get("Content-Type") != "audio/wav" {
		t.Errorf("agent's own, ranged: %d %q %q", resp.StatusCode, part, resp.Header.Get("Content-Type"))
	}

	other := crm.client(t, "agent2")
	if l, err := other.Recordings(ctx, ""); err != nil || len(l) != 0 {
		t.Errorf("agent2 lists %+v, %v; want none", l, err)
	}
	if _, err := other.DownloadRecording(ctx, list[0].ID, io.Discard); !errors.Is(err, crmclient.ErrForbidden) {
		t.Errorf("agent2 downloads agent1's recording: %v, want ErrForbidden", err)
	}
	if l, err := agent.Recordings(ctx, ""); err != nil || len(l) != 1 {
		t.Errorf("agent1 lists %+v, %v", l, err)
	}
	if _, err := sv.DownloadRecording(ctx, "999", io.Discard); !errors.Is(err, crmclient.ErrNotFound) {
		t.Errorf("unknown recording: %v", err)
	}
}

// postWAV uploads body raw and returns the status and headers.
func postWAV(t *testing.T, crm *testCRM, token, key, callID string, body []byte) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("POST", crm.srv.URL+"/v1/recordings?call_id="+callID, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "audio/wav")
	req.Header.Set("Idempotency-Key", key)
	resp, err := crm.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header
}

// TestRecordingRefusals: a missing key, a wrong type, a body that is not WAV, a
// reused key and a file over the limit are refused, and leave no file behind.
func TestRecordingRefusals(t *testing.T) {
	dir := t.TempDir()
	limit := func(h *api) { h.ev.recMax = 64 << 10 }
	crm := newTestCRMWith(t, 0, []HandlerOption{WithRecordingsDir(dir), limit})
	agent := crm.client(t, "agent1")
	bearer := "Bearer " + agent.Token()
	_, wav := writeWAV(t, t.TempDir(), 1000)
	_, big := writeWAV(t, t.TempDir(), 100<<10)

	if err := agent.UploadRecording(context.Background(), "used", writeTemp(t, wav), "first@x", ""); err != nil {
		t.Fatal(err)
	}
	before := recordingFiles(t, dir)

	for _, tc := range []struct {
		name, query, key, ct string
		body                 []byte
		chunked              bool
		status               int
		code, msg            string
	}{
		{"no key", "?call_id=a@b", "", "audio/wav", wav, false, 400, "invalid_request", "Idempotency-Key header is required"},
		{"JSON", "?call_id=a@b", "k1", "application/json", wav, false, 415, "unsupported_media", "audio/wav"},
		{"no call", "", "k1", "audio/wav", wav, false, 400, "invalid_request", "call_id"},
		{"not WAV", "?call_id=a@b", "k1", "audio/wav", []byte("ID3\x03 this is an mp3, honestly"), false, 422, "invalid_request", "not a WAV file"},
		{"empty", "?call_id=a@b", "k1", "audio/x-wav", nil, false, 422, "invalid_request", "not a WAV file"},
		{"key reused", "?call_id=second@x", "used", "audio/wav", wav, false, 422, "invalid_request", "already used"},
		{"too large", "?call_id=a@b", "k2", "audio/wav", big, false, 413, "body_too_large", "65536 bytes"},
		{"too large, chunked", "?call_id=a@b", "k3", "audio/wav", big, true, 413, "body_too_large", "65536 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = bytes.NewReader(tc.body)
			if tc.chunked {
				body = struct{ io.Reader }{body} // unknown length: the limit is found while reading
			}
			req, _ := http.NewRequest("POST", crm.srv.URL+"/v1/recordings"+tc.query, body)
			req.Header.Set("Authorization", bearer)
			req.Header.Set("Content-Type", tc.ct)
			if tc.key != "" {
				req.Header.Set("Idempotency-Key", tc.key)
			}
			resp, err := crm.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(data), tc.code) || !strings.Contains(string(data), tc.msg) {
				t.Errorf("got %d %s; want %d %s %q", resp.StatusCode, data, tc.status, tc.code, tc.msg)
			}
			if after := recordingFiles(t, dir); len(after) != len(before) {
				t.Errorf("files after a refusal: %v", after)
			}
		})
	}
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "r.wav")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSendRecordingItem: the outbox sender uploads, and parks (ErrPermanent) what
// no retry can fix while leaving outages to be retried.
func TestSendRecordingItem(t *testing.T) {
	dir := t.TempDir()
	crm := newTestCRMWith(t, 0, []HandlerOption{WithRecordingsDir(dir)})
	ctx := context.Background()
	agent := crm.client(t, "agent1")
	good, _ := writeWAV(t, t.TempDir(), 2000)
	notWAV := writeTemp(t, []byte("plain text, not audio"))
	huge := filepath.Join(t.TempDir(), "huge.wav")
	if err := os.WriteFile(huge, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, crmclient.MaxRecordingBytes+1); err != nil { // sparse: takes no disk
		t.Fatal(err)
	}
	item := func(key, body string) outbox.Item {
		return outbox.Item{ID: 1, Key: key, Kind: outbox.KindRecording, Body: []byte(body)}
	}
	body := func(path string) string {
		return `{"path":` + strings.ReplaceAll(`"`+path+`"`, `\`, `\\`) + `,"call_id":"c1@x","customer_id":"7"}`
	}

	if err := agent.SendRecordingItem(ctx, item("k-good", body(good))); err != nil {
		t.Fatalf("good item: %v", err)
	}
	if err := agent.SendRecordingItem(ctx, item("k-good", body(good))); err != nil {
		t.Fatalf("good item again: %v", err)
	}
	if l, _ := agent.Recordings(ctx, "c1@x"); len(l) != 1 || l[0].CustomerID != "7" {
		t.Errorf("recordings = %+v", l)
	}
	for name, it := range map[string]outbox.Item{
		"missing file":  item("k-missing", body(filepath.Join(t.TempDir(), "gone.wav"))),
		"not WAV (422)": item("k-text", body(notWAV)),
		"over 200 MiB":  item("k-huge", body(huge)),
		"bad body":      item("k-bad", `{"file":"x"}`),
		"no call":       item("k-nocall", `{"path":"x"}`),
	} {
		if err := agent.SendRecordingItem(ctx, it); !errors.Is(err, outbox.ErrPermanent) {
			t.Errorf("%s: %v, want ErrPermanent", name, err)
		}
	}

	down, _ := crmclient.New("http://127.0.0.1:1", crmclient.WithToken(agent.Token()))
	if err := down.SendRecordingItem(ctx, item("k-down", body(good))); err == nil || errors.Is(err, outbox.ErrPermanent) ||
		!errors.Is(err, crmclient.ErrUnavailable) {
		t.Errorf("CRM down: %v, want a retryable ErrUnavailable", err)
	}
	anon, _ := crmclient.New(crm.srv.URL, crmclient.WithHTTPClient(crm.srv.Client()))
	if err := anon.SendRecordingItem(ctx, item("k-anon", body(good))); !errors.Is(err, crmclient.ErrUnauthorized) ||
		errors.Is(err, outbox.ErrPermanent) {
		t.Errorf("logged out: %v, want a retryable ErrUnauthorized", err)
	}
}

// TestUploadRecordingStreams: neither the client nor the server holds the file in
// memory: a 24 MiB upload allocates a small fraction of that in the whole process.
func TestUploadRecordingStreams(t *testing.T) {
	crm := newTestCRMWith(t, 0, []HandlerOption{WithRecordingsDir(t.TempDir())})
	agent := crm.client(t, "agent1")
	path, _ := writeWAV(t, t.TempDir(), 24<<20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := agent.UploadRecording(context.Background(), "big", path, "big@x", ""); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 6<<20 {
		t.Errorf("a 24 MiB upload allocated %d MiB", alloc>>20)
	}
}

// TestRecordingsDefaultDir: without WithRecordingsDir, recordings go beside the
// SQLite file.
func TestRecordingsDefaultDir(t *testing.T) {
	sqliteOnly(t)
	dbDir := t.TempDir()
	st := openSeeded(t, "sqlite:"+filepath.Join(dbDir, "crm.db"))
	_, url := serveReal(t, st.Handler())
	agent := loginAt(t, url, "agent1", "")
	path, _ := writeWAV(t, t.TempDir(), 100)
	if err := agent.UploadRecording(context.Background(), "k", path, "d@x", ""); err != nil {
		t.Fatal(err)
	}
	if files := recordingFiles(t, filepath.Join(dbDir, "recordings")); len(files) != 1 {
		t.Errorf("files beside the database: %v", files)
	}
}
