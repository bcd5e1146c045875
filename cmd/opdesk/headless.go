package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/audio/jitter"
	"github.com/opdesk/opdesk/cmd/opdesk/config"
	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/tui"
)

// splitArgs separates configuration flags from the subcommand and its words.
func splitArgs(args []string) (cfgArgs, rest []string) {
	return config.SplitArgs(args)
}

// loadConfig loads the configuration for a command that sends no password
// (opdesk ctl, opdesk audio list): the keyring is not asked. The phone and
// the desktop use loadConfigWithSecrets.
func loadConfig(cfgArgs []string, stderr io.Writer) (*config.Config, bool) {
	return loadConfigOpts(config.LoadOptions{Args: cfgArgs, Environ: os.Environ(), SkipKeyring: true}, stderr)
}

// loadConfigWithSecrets loads the configuration with every password,
// including those kept in the desktop keyring.
func loadConfigWithSecrets(cfgArgs []string, stderr io.Writer) (*config.Config, bool) {
	return loadConfigOpts(config.LoadOptions{Args: cfgArgs, Environ: os.Environ()}, stderr)
}

func loadConfigOpts(opts config.LoadOptions, stderr io.Writer) (*config.Config, bool) {
	cfg, err := config.Load(opts)
	if err != nil {
		fmt.Fprintf(stderr, "opdesk: configuration problem:\n%v\n", err)
		return nil, false
	}
	return cfg, true
}

// openLog opens the log file (never the terminal: the TUI owns it). The
// error is a sentence for stderr.
func openLog(cfg *config.Config) (*slog.Logger, io.Closer, error) {
	if err := os.MkdirAll(filepath.Dir(cfg.Log.File), 0o700); err != nil {
		return nil, nil, fmt.Errorf("cannot open the log file %s: %w", cfg.Log.File, err)
	}
	f, err := os.OpenFile(cfg.Log.File, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot open the log file %s: %w", cfg.Log.File, err)
	}
	h := slog.NewTextHandler(f, &slog.HandlerOptions{Level: cfg.Log.SlogLevel()})
	return slog.New(h), f, nil
}

func phoneConfig(cfg *config.Config) sip.Config {
	tones, _ := audio.ParseToneSet(cfg.Audio.Tones) // validated by Load
	return sip.Config{
		User:          cfg.SIP.User,
		Password:      cfg.SIP.Password.Reveal(),
		Domain:        cfg.SIP.Domain,
		DisplayName:   cfg.SIP.DisplayName,
		Registrar:     cfg.SIP.Registrar,
		Listen:        cfg.SIP.Listen,
		Transport:     cfg.SIP.Transport,
		Failover:      config.SplitList(cfg.SIP.Failover),
		TLSCAFile:     cfg.SIP.TLSCAFile,
		TLSServerName: cfg.SIP.TLSServerName,
		Keepalive:     time.Duration(cfg.SIP.KeepaliveS) * time.Second,
		Encryption:    sip.Encryption(cfg.Media.Encryption),
		Expires:       time.Duration(cfg.SIP.Expires) * time.Second,
		UserAgent:     cfg.SIP.UserAgent,
		RTPIP:         cfg.Media.RTPIP,
		RTPPortMin:    cfg.Media.RTPPortMin,
		RTPPortMax:    cfg.Media.RTPPortMax,
		Input:         cfg.Audio.Input,
		Output:        cfg.Audio.Output,
		Jitter: jitter.Config{
			MinDelay: time.Duration(cfg.Audio.JitterMinMs) * time.Millisecond,
			MaxDelay: time.Duration(cfg.Audio.JitterMaxMs) * time.Millisecond,
		},
		Record:    mustRecordMode(cfg.Audio.Record),
		RecordDir: cfg.Audio.Recordings,
		Tones:     tones,
		// The 1400 Hz recording beep is the North American convention;
		// Japanese callers expect a spoken notice instead.
		RecordBeep: tones == audio.TonesUS,
	}
}

// mustRecordMode parses audio.record, which Load has validated.
func mustRecordMode(s string) audio.RecordMode {
	m, _ := audio.ParseRecordMode(s)
	return m
}

// runHeadless runs the phone with its control socket until SIGINT/SIGTERM.
func runHeadless(cfgArgs, rest []string, stderr io.Writer) int {
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "opdesk: --headless takes no arguments, got %q\n", rest)
		return 2
	}
	cfg, ok := loadConfigWithSecrets(cfgArgs, stderr)
	if !ok {
		return 2
	}
	log, logFile, err := openLog(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "opdesk: %v\n", err)
		return 1
	}
	defer logFile.Close()
	for _, w := range cfg.Warnings {
		log.Warn("config", "warning", w)
		fmt.Fprintln(stderr, "opdesk: warning:", w)
	}
	log.Info("starting", "version", version, "config", cfg.Redacted().String())

	c, err := startCore(cfg, log, stderr, stateDirFor(cfg, ""))
	if err != nil {
		fmt.Fprintf(stderr, "opdesk: %v\n", err)
		return 1
	}
	reportLostHeadless(c, stderr)
	if c.device != "" {
		fmt.Fprintf(stderr, "opdesk: audio %s\n", c.device)
	}
	fmt.Fprintf(stderr, "opdesk: phone %s on %s, control socket %s, log %s\n",
		c.phone.AOR(), c.phone.Addr(), c.srv.Path(), cfg.Log.File)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	s := <-sigs
	log.Info("stopping", "signal", s.String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		fmt.Fprintf(stderr, "opdesk: %v\n", err)
	}
	log.Info("stopped")
	return 0
}

// reportLostHeadless tells about the calls an earlier opdesk lost: a log
// line with the details and a sentence on stderr each. No CRM is told: the
// headless phone has none.
func reportLostHeadless(c *core, stderr io.Writer) {
	if len(c.lost) == 0 {
		return
	}
	for _, l := range c.lost {
		logLost(c.log, l)
		fmt.Fprintln(stderr, "opdesk:", l.text(tui.LangEN, time.Now()))
	}
	if err := c.journal.ClearLost(); err != nil {
		c.log.Warn("call journal", "err", err)
	}
}
