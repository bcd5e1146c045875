package crmserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// Recordings are files on the server's disk, described by rows in recordings. A
// file is written under a temporary name, fsynced and renamed into place before
// its row is committed, so a row never names a partial file. A crash between the
// rename and the commit leaves a file without a row, which the desktop's retry
// (same idempotency key) replaces with a new one; such orphans are harmless and
// can be deleted by hand. With two servers on one PostgreSQL database the
// directory must be shared (or uploads and playback sent to one of them).

// uploadIdle is how long an upload or download may stall before it is dropped;
// the server's own Read/WriteTimeout (15 s/20 s for the whole request) would cut
// any recording longer than a few seconds of a home uplink, so these routes set
// their deadlines themselves.
const uploadIdle = 30 * time.Second

// uploadMaxTime bounds a whole upload: 200 MiB at 64 KiB/s.
const uploadMaxTime = 55 * time.Minute

// WithRecordingsDir sets the directory for uploaded call recordings. The default
// is "recordings" beside the SQLite file; on PostgreSQL it is
// $XDG_DATA_HOME/opdesk/recordings (~/.local/share/opdesk/recordings), which a
// server in production should replace with a directory it backs up.
func WithRecordingsDir(dir string) HandlerOption { return func(h *api) { h.ev.recDir = dir } }

// recordingsDir returns the directory, creating it (0700: recordings are personal
// data) on first use.
func (h *api) recordingsDir(ctx context.Context) (string, error) {
	h.ev.recMu.Lock()
	defer h.ev.recMu.Unlock()
	dir := h.ev.recDir
	if dir == "" {
		var err error
		if dir, err = h.st.defaultRecordingsDir(ctx); err != nil {
			return "", err
		}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("recordings directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("recordings directory: %w", err)
	}
	h.ev.recDir = dir
	return dir, nil
}

// defaultRecordingsDir is beside the SQLite file, or the user's data directory.
func (s *Store) defaultRecordingsDir(ctx context.Context) (string, error) {
	if s.db.d == sqliteDialect {
		var file string
		err := s.db.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file)
		if err == nil && file != "" {
			return filepath.Join(filepath.Dir(file), "recordings"), nil
		}
	}
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "opdesk", "recordings"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("recordings directory: no home directory; set one with WithRecordingsDir: %w", err)
	}
	return filepath.Join(home, ".local", "share", "opdesk", "recordings"), nil
}

// wavTypes are the media types WAV files travel under.
var wavTypes = map[string]bool{"audio/wav": true, "audio/x-wav": true, "audio/wave": true, "audio/vnd.wave": true}

// uploadRecording serves POST /v1/recordings.
func (h *api) uploadRecording(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	key := r.Header.Get("Idempotency-Key")
	if err := checkIdempotencyKey(key); err != nil {
		return err
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || !wavTypes[mt] {
		return &httpError{http.StatusUnsupportedMediaType, crmclient.CodeUnsupportedMedia,
			fmt.Sprintf("Content-Type must be audio/wav, not %q", r.Header.Get("Content-Type"))}
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return invalidf("malformed query string: %v", err)
	}
	callID, customerID := q.Get("call_id"), q.Get("customer_id")
	if err := checkSIPCallID(callID); err != nil {
		return err
	}
	if err := checkEventRef("customer_id", customerID); err != nil {
		return err
	}

	limit := h.ev.recMax
	if limit <= 0 {
		limit = crmclient.MaxRecordingBytes
	}
	// A repeat gets the first answer and stores nothing. The body is read and
	// thrown away first: a client whose transport sends the body without waiting
	// for 100 Continue (Go's with ExpectContinueTimeout 0, curl for small files)
	// would otherwise see the connection reset under its upload instead of the
	// answer. A client that does wait has sent nothing yet, and the server's
	// 100 Continue costs it one more round trip, not the file.
	if rec, found, err := h.recordingForKey(r.Context(), key); err != nil {
		return err
	} else if found {
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, limit))
		return h.replayRecording(w, rec, p.user.Name, callID)
	}
	if r.ContentLength > limit {
		return tooLargeRecording(limit)
	}
	dir, err := h.recordingsDir(r.Context())
	if err != nil {
		return err
	}
	// The server's WriteTimeout counts from the request's start; an answer
	// after a long upload (a 413 included) must still get out.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(uploadMaxTime + uploadIdle))
	path, size, sum, err := receiveWAV(w, r, dir, limit)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	rec, dup, err := h.st.insertRecording(ctx, key, callID, customerID, p.user.Name, size, sum, path)
	if err != nil || dup {
		_ = os.Remove(path) // no row names it (or another upload of the same key won)
	}
	if err != nil {
		return err
	}
	if dup {
		rec, found, err := h.recordingForKey(r.Context(), key)
		if err != nil {
			return err
		}
		if !found {
			return errors.New("recording vanished after a duplicate key") // deleted between the two reads
		}
		return h.replayRecording(w, rec, p.user.Name, callID)
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(uploadIdle))
	w.Header().Set("Location", "/v1/recordings/"+rec.ID+"/audio")
	writeJSON(w, http.StatusCreated, rec)
	return nil
}

// recordingForKey finds the upload already stored under an idempotency key.
func (h *api) recordingForKey(ctx context.Context, key string) (crmclient.Recording, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	rec, err := h.st.recordingByKey(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return crmclient.Recording{}, false, nil
	}
	return rec, err == nil, err
}

// replayRecording answers a repeated key with the first upload's answer.
func (h *api) replayRecording(w http.ResponseWriter, rec crmclient.Recording, agent, callID string) error {
	if rec.Agent != agent || rec.CallID != callID {
		return &httpError{http.StatusUnprocessableEntity, crmclient.CodeInvalidRequest,
			"this Idempotency-Key was already used for another upload; make a new key per recording"}
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(uploadIdle))
	w.Header().Set("Location", "/v1/recordings/"+rec.ID+"/audio")
	w.Header().Set("Idempotent-Replayed", "true")
	writeJSON(w, http.StatusCreated, rec)
	return nil
}

func tooLargeRecording(limit int64) error {
	return &httpError{http.StatusRequestEntityTooLarge, crmclient.CodeBodyTooLarge,
		fmt.Sprintf("recording is larger than %d bytes (%d MiB)", limit, limit>>20)}
}

// checkIdempotencyKey accepts 1–128 visible ASCII characters (the outbox sends a
// UUID).
func checkIdempotencyKey(key string) error {
	if key == "" {
		return invalidf("the Idempotency-Key header is required, so that a retried upload is stored once")
	}
	if len(key) > 128 {
		return invalidf("Idempotency-Key must be at most 128 characters")
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] > '~' {
			return invalidf("Idempotency-Key must be visible ASCII")
		}
	}
	return nil
}

// receiveWAV streams the body into a new file under dir and returns its final
// path, size and SHA-256 (hex). The body must start like a RIFF/WAVE file. On any
// failure the partial file is removed.
func receiveWAV(w http.ResponseWriter, r *http.Request, dir string, limit int64) (path string, size int64, sum string, err error) {
	rc := http.NewResponseController(w)
	start := time.Now()
	body := &uploadReader{r: http.MaxBytesReader(w, r.Body, limit), rc: rc, end: start.Add(uploadMaxTime)}

	tmp, err := os.CreateTemp(dir, ".upload-*.part")
	if err != nil {
		return "", 0, "", fmt.Errorf("recording: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	var head [12]byte
	n, rerr := io.ReadFull(body, head[:])
	if rerr != nil && !errors.Is(rerr, io.ErrUnexpectedEOF) && !errors.Is(rerr, io.EOF) {
		return "", 0, "", uploadCutError(rerr, limit)
	}
	if n < len(head) || !bytes.Equal(head[0:4], []byte("RIFF")) || !bytes.Equal(head[8:12], []byte("WAVE")) {
		return "", 0, "", &httpError{http.StatusUnprocessableEntity, crmclient.CodeInvalidRequest,
			"the body is not a WAV file (it must start with RIFF....WAVE)"}
	}
	h.Write(head[:])
	if _, err := tmp.Write(head[:]); err != nil {
		return "", 0, "", fmt.Errorf("recording: %w", err)
	}
	buf := make([]byte, 64<<10)
	copied, err := io.CopyBuffer(io.MultiWriter(tmp, h), struct{ io.Reader }{body}, buf)
	if err != nil {
		var werr *os.PathError
		if errors.As(err, &werr) {
			return "", 0, "", fmt.Errorf("recording: %w", err) // the disk, not the client
		}
		return "", 0, "", uploadCutError(err, limit)
	}
	if err := tmp.Sync(); err != nil {
		return "", 0, "", fmt.Errorf("recording: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", 0, "", fmt.Errorf("recording: %w", err)
	}
	month := filepath.Join(dir, start.UTC().Format("2006-01"))
	if err := os.MkdirAll(month, 0o700); err != nil {
		return "", 0, "", fmt.Errorf("recording: %w", err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	final := filepath.Join(month, start.UTC().Format("20060102T150405Z")+"-"+hex.EncodeToString(rnd[:])+".wav")
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", 0, "", fmt.Errorf("recording: %w", err)
	}
	syncRecordingDir(month)
	return final, int64(len(head)) + copied, hex.EncodeToString(h.Sum(nil)), nil
}

// syncRecordingDir makes a rename durable. Not every system can fsync a directory
// (Windows cannot), and the rename is already done, so failure is ignored.
func syncRecordingDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// uploadCutError turns a failed body read into an answer: 413 over the limit,
// otherwise the upload was cut off (the client is usually gone by then).
func uploadCutError(err error, limit int64) error {
	if isTooLarge(err) {
		return tooLargeRecording(limit)
	}
	return &httpError{http.StatusBadRequest, crmclient.CodeInvalidRequest, "the upload was cut off before the end of the file"}
}

// uploadReader pushes the connection's read deadline forward before each read, so
// an upload may take as long as it needs while it keeps moving, up to end.
type uploadReader struct {
	r   io.Reader
	rc  *http.ResponseController
	end time.Time
}

func (ir *uploadReader) Read(p []byte) (int, error) {
	d := time.Now().Add(uploadIdle)
	if d.After(ir.end) {
		d = ir.end
	}
	_ = ir.rc.SetReadDeadline(d)
	return ir.r.Read(p)
}

// downloadWriter is uploadReader for downloads.
type downloadWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func (iw downloadWriter) Write(p []byte) (int, error) {
	_ = iw.rc.SetWriteDeadline(time.Now().Add(uploadIdle))
	return iw.ResponseWriter.Write(p)
}

func (iw downloadWriter) Unwrap() http.ResponseWriter { return iw.ResponseWriter }

// insertRecording stores the row. dup reports that another upload with the same
// key committed first; the caller then answers with that one.
func (s *Store) insertRecording(ctx context.Context, key, callID, customerID, agent string, size int64, sum, path string) (crmclient.Recording, bool, error) {
	now := s.now()
	var id int64
	err := s.inTx(ctx, func(tx *tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO recordings (idem_key, call_id, customer_id, agent, bytes, sha256, path, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idem_key) DO NOTHING RETURNING id`,
			key, callID, customerID, agent, size, sum, path, now.Unix()).Scan(&id)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return crmclient.Recording{}, true, nil
	}
	if err != nil {
		return crmclient.Recording{}, false, fmt.Errorf("recording: %w", err)
	}
	return crmclient.Recording{ID: strconv.FormatInt(id, 10), CallID: callID, CustomerID: customerID, Agent: agent,
		Bytes: size, SHA256: sum, CreatedAt: unixTime(now.Unix())}, false, nil
}

const recordingColumns = `id, call_id, customer_id, agent, bytes, sha256, created_at, path`

func scanRecording(sc interface{ Scan(...any) error }) (crmclient.Recording, string, error) {
	var (
		rec      crmclient.Recording
		id, at   int64
		filePath string
	)
	if err := sc.Scan(&id, &rec.CallID, &rec.CustomerID, &rec.Agent, &rec.Bytes, &rec.SHA256, &at, &filePath); err != nil {
		return rec, "", err
	}
	rec.ID = strconv.FormatInt(id, 10)
	rec.CreatedAt = unixTime(at)
	return rec, filePath, nil
}

// recordingByKey finds the upload made with an idempotency key.
func (s *Store) recordingByKey(ctx context.Context, key string) (crmclient.Recording, error) {
	rec, _, err := scanRecording(s.db.QueryRowContext(ctx, `SELECT `+recordingColumns+` FROM recordings WHERE idem_key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return rec, ErrNotFound
	}
	return rec, err
}

// Recordings lists recordings newest first, at most 100: of one call when callID
// is set, and only agent's own when agent is set.
func (s *Store) Recordings(ctx context.Context, callID, agent string) ([]crmclient.Recording, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+recordingColumns+` FROM recordings
		WHERE (? = '' OR call_id = ?) AND (? = '' OR agent = ?) ORDER BY id DESC LIMIT 100`,
		callID, callID, agent, agent)
	if err != nil {
		return nil, fmt.Errorf("recordings: %w", err)
	}
	defer rows.Close()
	out := []crmclient.Recording{}
	for rows.Next() {
		rec, _, err := scanRecording(rows)
		if err != nil {
			return nil, fmt.Errorf("recordings: %w", err)
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

// listRecordings serves GET /v1/recordings.
func (h *api) listRecordings(w http.ResponseWriter, r *http.Request) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return invalidf("malformed query string: %v", err)
	}
	callID := q.Get("call_id")
	if callID != "" {
		if err := checkSIPCallID(callID); err != nil {
			return err
		}
	}
	p := principalFrom(r.Context())
	agent := ""
	if p.user.Role != crmclient.RoleSupervisor {
		agent = p.user.Name
	}
	list, err := h.st.Recordings(r.Context(), callID, agent)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, crmclient.RecordingList{Recordings: list})
	return nil
}

// recordingAudio serves GET /v1/recordings/{id}/audio, with Range support for
// seeking in a player. Agents may fetch only their own recordings.
func (h *api) recordingAudio(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return fmt.Errorf("recording %q: %w", r.PathValue("id"), ErrNotFound)
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	rec, path, err := scanRecording(h.st.db.QueryRowContext(ctx, `SELECT `+recordingColumns+` FROM recordings WHERE id = ?`, id))
	cancel()
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("recording %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("recording %d: %w", id, err)
	}
	p := principalFrom(r.Context())
	if p.user.Role != crmclient.RoleSupervisor && rec.Agent != p.user.Name {
		return &httpError{http.StatusForbidden, crmclient.CodeForbidden, "agents may play only their own recordings"}
	}
	f, err := os.Open(path)
	if err != nil {
		h.log.Error("recording file missing", slog.Int64("id", id), slog.String("err", err.Error()))
		return fmt.Errorf("the audio of recording %d is missing on the server: %w", id, ErrNotFound)
	}
	defer f.Close()
	// As in streamEvents, the server's WriteTimeout would cut a long download;
	// downloadWriter extends the deadline while the client keeps reading.
	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "audio/wav")
	hd.Set("Cache-Control", "private, no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("ETag", `"`+rec.SHA256+`"`)
	hd.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="recording-%d.wav"`, id))
	http.ServeContent(downloadWriter{w, rc}, r, "", rec.CreatedAt, f)
	return nil
}
