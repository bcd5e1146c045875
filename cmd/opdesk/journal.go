package main

// The call journal: which calls are up, on disk, so that after a crash
// (kill -9, an OOM kill, a power cut) the next start can tell the operator
// which call was lost, where its recording is, and close the call in the
// CRM. One small JSON file in the state directory (beside the outbox),
// replaced atomically (temporary file, fsync, rename, fsync of the
// directory) whenever the set of calls changes, and removed when no call
// is up and nothing is left to report. While a call is up its mtime is
// touched every few seconds, so the next start knows roughly when the
// process died.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/opdesk/opdesk/sip"
)

// journalName is the journal's file name in the state directory.
const journalName = "calls.json"

// journalPoll is how often the journal checks the phone's calls besides
// its events (a recording started on request has no event of its own).
const journalPoll = time.Second

// journalTouch is how often the file's mtime is renewed while a call is up.
const journalTouch = 5 * time.Second

// journalCall is one call as the journal keeps it.
type journalCall struct {
	ID         string    `json:"id"`          // opdesk's call id
	SIPCallID  string    `json:"sip_call_id"` // what the CRM knows the call by
	Direction  string    `json:"direction"`   // inbound or outbound
	Remote     string    `json:"remote"`      // the other party's URI
	RemoteName string    `json:"remote_name,omitempty"`
	Start      time.Time `json:"start"`
	Answered   bool      `json:"answered,omitempty"`
	Recording  string    `json:"recording,omitempty"`
	// LastSeen is, for a lost call, the last sign of life of the opdesk
	// that had it: the journal's or the recording's mtime.
	LastSeen time.Time `json:"last_seen,omitzero"`
}

// journalDoc is the file's content.
type journalDoc struct {
	Live []journalCall `json:"live,omitempty"`
	// Lost are calls of an earlier run not yet reported: kept until they
	// are, so a crash during the next start loses no report.
	Lost []journalCall `json:"lost,omitempty"`
}

// callSource is what the journal watches: the phone.
type callSource interface {
	Status() sip.Status
	Subscribe(buf int) (<-chan sip.Event, func())
}

// callJournal keeps the journal file. Its methods are safe for concurrent
// use; run is its one goroutine, owned by core.
type callJournal struct {
	path string
	log  *slog.Logger
	now  func() time.Time

	mu      sync.Mutex
	doc     journalDoc
	written []byte // what the file holds; nil: no file
	touched time.Time
}

// openJournal reads dir's journal: the calls that were up when the last
// opdesk stopped without ending them are returned by Lost until ClearLost.
// A journal that cannot be read is reported and replaced.
func openJournal(dir string, log *slog.Logger) (*callJournal, error) {
	j := &callJournal{path: filepath.Join(dir, journalName), log: log, now: time.Now}
	data, err := os.ReadFile(j.path)
	if errors.Is(err, fs.ErrNotExist) {
		return j, nil
	}
	if err != nil {
		return j, fmt.Errorf("call journal: %w", err)
	}
	j.written = data
	var doc journalDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return j, fmt.Errorf("call journal %s: %w", j.path, err)
	}
	var mtime time.Time
	if info, err := os.Stat(j.path); err == nil {
		mtime = info.ModTime()
	}
	for _, c := range doc.Live {
		c.LastSeen = mtime
		if c.Recording != "" {
			if info, err := os.Stat(c.Recording); err == nil && info.ModTime().After(c.LastSeen) {
				c.LastSeen = info.ModTime()
			}
		}
		doc.Lost = append(doc.Lost, c)
	}
	j.doc = journalDoc{Lost: doc.Lost}
	return j, nil
}

// Lost returns the calls an earlier opdesk lost, oldest first.
func (j *callJournal) Lost() []journalCall {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.doc.Lost)
}

// ClearLost forgets the lost calls once they have been reported.
func (j *callJournal) ClearLost() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.doc.Lost = nil
	return j.save()
}

// sync makes the journal's live calls those of calls that are dialing or
// answered (a call still ringing in is not a call yet, and a supervisor's
// monitor session is not the operator's call), and saves on a change.
func (j *callJournal) sync(calls []sip.CallInfo) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	live := make([]journalCall, 0, len(calls))
	for _, ci := range calls {
		if ci.State == "incoming" || ci.State == "ended" || ci.Monitor != nil && ci.Monitor.IsSession {
			continue
		}
		c := journalCall{ID: ci.ID, SIPCallID: ci.SIPCallID, Direction: ci.Direction, Remote: ci.Remote,
			RemoteName: ci.RemoteName, Start: now, Answered: ci.State == "active" || ci.State == "held",
			Recording: ci.Recording}
		if i := slices.IndexFunc(j.doc.Live, func(o journalCall) bool { return o.ID == ci.ID }); i >= 0 {
			c.Start = j.doc.Live[i].Start
		} else if c.Answered {
			c.Start = now.Add(-ci.Duration)
		}
		live = append(live, c)
	}
	j.doc.Live = live
	if err := j.save(); err != nil {
		return err
	}
	if len(live) > 0 && now.Sub(j.touched) >= journalTouch {
		j.touched = now
		return os.Chtimes(j.path, now, now)
	}
	return nil
}

// save writes the document if it changed: atomically and durably, or by
// removing the file when there is nothing to keep. j.mu is held.
func (j *callJournal) save() error {
	var data []byte
	if len(j.doc.Live) > 0 || len(j.doc.Lost) > 0 {
		var err error
		if data, err = json.MarshalIndent(j.doc, "", "  "); err != nil {
			return err
		}
	}
	if bytes.Equal(data, j.written) {
		return nil
	}
	var err error
	if data == nil {
		err = os.Remove(j.path)
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		if err == nil {
			err = syncDir(filepath.Dir(j.path))
		}
	} else {
		err = writeFileSynced(j.path, data)
		j.touched = j.now()
	}
	if err != nil {
		return fmt.Errorf("call journal: %w", err)
	}
	j.written = data
	return nil
}

// run follows the phone until ctx ends, keeping the journal in step with
// its calls; a last sync records how the phone was left.
func (j *callJournal) run(ctx context.Context, src callSource) {
	events, cancel := src.Subscribe(64)
	defer cancel()
	tick := time.NewTicker(journalPoll)
	defer tick.Stop()
	var failed bool
	step := func() {
		err := j.sync(src.Status().Calls)
		if err != nil && !failed {
			j.log.Error("call journal: cannot write; a crash now would lose the call's report", "err", err)
		}
		failed = err != nil
	}
	step()
	for {
		select {
		case <-ctx.Done():
			step()
			return
		case _, ok := <-events:
			if !ok { // the phone closed
				events = nil
			}
			step()
		case <-tick.C:
			step()
		}
	}
}

// writeFileSynced replaces path with data (mode 0600: numbers and names
// are personal data) so that a crash at any moment leaves the old or the
// new content, never a mix: a synced temporary file renamed over it, then
// the directory synced so the rename itself survives a power cut.
func writeFileSynced(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// syncDir fsyncs a directory, making a rename or removal in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
