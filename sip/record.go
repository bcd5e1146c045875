package sip

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/opdesk/opdesk/audio"
)

// recording is one call's recorder, fed by the media stream's Tap once per
// 20 ms with what the operator sent (left) and what was played to them
// (right). The mutex is taken once per frame on the media clock and, rarely,
// by stop; it never waits on I/O longer than a write of 640 bytes.
type recording struct {
	mu     sync.Mutex
	r      *audio.Recorder
	path   string
	log    *slog.Logger
	failed bool
}

// Frame writes one stereo frame; after a write error (disk full) it stops
// writing and logs once, the call goes on.
func (rec *recording) Frame(sent, played []int16) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.r == nil || rec.failed {
		return
	}
	if err := rec.r.WriteFrames(sent, played); err != nil {
		rec.failed = true
		rec.log.Error("recording stopped: write failed", "path", rec.r.Path(), "err", err)
	}
}

// close finishes the file and logs its length.
func (rec *recording) close() error {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.r == nil {
		return nil
	}
	dur := rec.r.Duration()
	err := rec.r.Close()
	rec.r = nil
	rec.log.Info("recording saved", "path", rec.path, "seconds", dur.Seconds())
	return err
}

// startRecording begins recording c if it is not already; it is called when
// a call is answered under audio.record = always, and by Record.
func (c *call) startRecording() error {
	p := c.p
	if p.cfg.RecordDir == "" {
		return fmt.Errorf("%w: no recordings directory configured", ErrNotSupported)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rec != nil {
		return nil
	}
	user := c.remote.User
	path := audio.RecordingPath(p.cfg.RecordDir, c.created, c.callID, user)
	r, err := audio.CreateRecording(path)
	if err != nil {
		p.log.Error("recording could not start", "call", c.id, "err", err)
		return fmt.Errorf("cannot record: %w", err)
	}
	c.rec = &recording{r: r, path: path, log: p.log.With("call", c.id)}
	c.stream.SetTap(c.rec)
	p.log.Info("recording", "call", c.id, "path", path)
	return nil
}

// stopRecording ends c's recording, if any. Safe after the stream closed.
func (c *call) stopRecording() error {
	c.mu.Lock()
	rec := c.rec
	c.rec = nil
	c.mu.Unlock()
	if rec == nil {
		return nil
	}
	c.stream.SetTap(nil)
	return rec.close()
}

// Record starts (on) or stops recording call id ("" = the only established
// call) and returns the call's id; the file is in the call's status
// (CallInfo.Recording). Under audio.record = always calls are recorded from
// the answer on; under ask this is how a recording starts.
func (p *Phone) Record(id string, on bool) (string, error) {
	c, err := p.find(id, func(s CallState) bool { return s.established() })
	if err != nil {
		return "", err
	}
	if !c.getState().established() {
		return "", ErrBadState
	}
	if c.mon != nil {
		return "", fmt.Errorf("%w: a supervisor's monitor session is not recorded", ErrNotSupported)
	}
	if !on {
		return c.id, c.stopRecording()
	}
	if p.cfg.Record == audio.RecordNever {
		return "", fmt.Errorf("%w: recording is switched off (audio.record = never)", ErrNotSupported)
	}
	return c.id, c.startRecording()
}
