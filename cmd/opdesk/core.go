package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/cmd/opdesk/config"
	"github.com/opdesk/opdesk/cmd/opdesk/ctl"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/sip"
)

// core is the phone with its sound cards and control socket: what the
// headless phone and the desktop share.
type core struct {
	cfg   *config.Config
	log   *slog.Logger
	phone *sip.Phone
	sw    *audio.Switchable // nil when no sound card is configured
	ring  audio.Device
	srv   *ctl.Server
	// device names what carries the call's sound ("PulseAudio: …",
	// "null device"), for the desktop's status bar.
	device string
	// grants checks supervisors' monitor INVITEs once the desktop has
	// logged in to the CRM; until then (and headless) they are refused.
	grants atomic.Pointer[crmclient.GrantVerifier]

	// journal keeps the calls that are up on disk; lost are the calls an
	// earlier opdesk had up when it died, for the caller to report (then
	// journal.ClearLost).
	journal     *callJournal
	lost        []lostCall
	stopJournal context.CancelFunc
	journalDone sync.WaitGroup
}

// monitorCheck is how long the check of a monitor grant may take (one
// request for the CRM's public key at most): the INVITE waits for it.
const monitorCheck = 2 * time.Second

// authorizeMonitor is the phone's hook for monitor INVITEs: the grant must
// be the CRM's, for this agent and one of the calls up, unexpired and unused.
func (c *core) authorizeMonitor(r sip.MonitorRequest) (sip.MonitorGrant, error) {
	v := c.grants.Load()
	if v == nil {
		return sip.MonitorGrant{}, errors.New("no CRM to check monitor grants with")
	}
	ctx, cancel := context.WithTimeout(context.Background(), monitorCheck)
	defer cancel()
	g, err := v.Verify(ctx, r.Grant, r.Calls)
	if err != nil {
		return sip.MonitorGrant{}, err
	}
	return sip.MonitorGrant{CallID: g.CallID, Mode: string(g.Mode), Supervisor: g.Supervisor}, nil
}

// startCore opens the sound cards, starts the phone and its control socket.
// Warnings (a missing sound card, a repaired recording) go to the log and to
// warn, which prints them (headless) or collects them for the status bar.
// stateDir holds the call journal (beside the outbox); the calls it says an
// earlier opdesk lost are in c.lost, their recordings repaired.
func startCore(cfg *config.Config, log *slog.Logger, warn io.Writer, stateDir string) (*core, error) {
	c := &core{cfg: cfg, log: log}
	j, err := openJournal(stateDir, log)
	if err != nil {
		log.Warn("call journal", "err", err)
		fmt.Fprintf(warn, "opdesk: %v; calls cut by a crash before this start cannot be reported\n", err)
	}
	c.journal = j
	// Recordings cut by a crash get their WAV header fixed before any new
	// recording starts: the lost calls' first, wherever they are, then
	// anything else in the recordings folder.
	c.lost = recoverLostCalls(j.Lost(), cfg.CRM.Region)
	if dir := cfg.Audio.Recordings; dir != "" {
		fixed, err := audio.RecoverRecordings(dir)
		for _, f := range fixed {
			log.Warn("recording repaired after a crash", "path", f)
			fmt.Fprintf(warn, "opdesk: recording %s was cut by a crash; repaired, it plays up to the crash\n", f)
		}
		if err != nil {
			log.Warn("recordings check", "err", err)
		}
	}
	pcfg := phoneConfig(cfg)
	pcfg.AuthorizeMonitor = c.authorizeMonitor
	if dev := openAudio(cfg, log, warn); dev != nil {
		c.sw = audio.NewSwitchable(dev)
		pcfg.Device = c.sw
		c.device = dev.Name()
	}
	if ring := openRinger(cfg, log, warn); ring != nil {
		c.ring = ring
		pcfg.Ringer = ring
	}
	phone, err := sip.New(pcfg, sip.WithLogger(log))
	if err != nil {
		c.closeAudio()
		log.Error("phone", "err", err)
		return nil, fmt.Errorf("cannot start the phone: %w", err)
	}
	c.phone = phone
	srv, err := ctl.Listen(cfg.Ctl.Socket, c.ctlPhone(), log)
	if err != nil {
		_ = phone.Close(context.Background())
		c.closeAudio()
		return nil, err
	}
	c.srv = srv
	ctx, stop := context.WithCancel(context.Background())
	c.stopJournal = stop
	c.journalDone.Add(1)
	go func() {
		defer c.journalDone.Done()
		j.run(ctx, phone)
	}()
	return c, nil
}

// stateDirFor is where the outbox, the card cache and the call journal
// live: dataDir when set (the demo's own), else the log file's directory.
func stateDirFor(cfg *config.Config, dataDir string) string {
	if dataDir != "" {
		return dataDir
	}
	return filepath.Dir(cfg.Log.File)
}

// ctlPhone is the phone as the control socket (and the desktop) drive it:
// with device switching when a sound card is in use.
func (c *core) ctlPhone() ctl.Phone {
	if c.sw != nil {
		return &switchingPhone{Phone: c.phone, dev: c.sw, cfg: c.cfg, log: c.log}
	}
	return c.phone
}

func (c *core) closeAudio() {
	if c.sw != nil {
		c.sw.Close()
	}
	if c.ring != nil {
		c.ring.Close()
	}
}

// Close ends live calls (BYE), unregisters, and closes the socket and the
// sound cards, within ctx's deadline.
func (c *core) Close(ctx context.Context) error {
	_ = c.srv.Close()
	err := c.phone.Close(ctx)
	if err != nil {
		c.log.Warn("close", "err", err)
	}
	// After the phone: its last calls' ends reach the journal first.
	c.stopJournal()
	c.journalDone.Wait()
	c.closeAudio()
	return err
}
