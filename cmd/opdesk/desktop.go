package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/cmd/opdesk/config"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmclient/outbox"
	"github.com/opdesk/opdesk/keymap"
	"github.com/opdesk/opdesk/tui"
)

// crmParts is the desktop's side of the CRM: the client (with its card cache
// for screen pops while the CRM is down), the logged-in user and the outbox
// wrap-ups go through.
type crmParts struct {
	client *crmclient.Client
	cards  *crmclient.CardCache
	box    *outbox.Outbox
	user   crmclient.User
}

// openCRM logs in to the configured CRM. The desktop runs without it (nil,
// with a notice saying why) rather than not at all: the phone still rings.
// What was typed and not yet sent waits in the outbox file across restarts.
// dir is the state directory.
func openCRM(ctx context.Context, cfg *config.Config, dir string, log *slog.Logger) (*crmParts, string) {
	if cfg.CRM.URL == "" {
		return nil, ""
	}
	p := &crmParts{}
	var opts []crmclient.Option
	cards, err := crmclient.OpenCardCache(filepath.Join(dir, "cards.db"), crmclient.CardCacheOptions{})
	if err != nil {
		log.Warn("card cache", "err", err)
	} else {
		p.cards = cards
		opts = append(opts, crmclient.WithCardCache(cards))
	}
	opts = append(opts, crmclient.WithDefaultRegion(cfg.CRM.Region), crmclient.WithTimeout(5*time.Second))
	client, err := crmclient.New(cfg.CRM.URL, opts...)
	if err != nil {
		p.close(ctx)
		return nil, fmt.Sprintf("CRM %s: %v", cfg.CRM.URL, err)
	}
	p.client = client
	box, err := outbox.Open(filepath.Join(dir, "outbox.db"), withCallEvents(client.OutboxSender(), client), outbox.WithLogger(log))
	if err != nil {
		p.close(ctx)
		return nil, fmt.Sprintf("the outbox file cannot be opened (%v); wrap-ups would be lost, so the CRM is off", err)
	}
	p.box = box
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := client.Login(lctx, cfg.CRM.User, cfg.CRM.Password.Reveal())
	if err != nil {
		log.Warn("crm login", "user", cfg.CRM.User, "err", err)
		p.user = crmclient.User{Name: cfg.CRM.User, DisplayName: cfg.CRM.User}
		// Keep the client: cached cards still pop, and the outbox sends
		// once the operator logs in again.
		return p, crmLoginProblem(err)
	}
	p.user = res.User
	log.Info("crm login", "user", res.User.Name, "role", res.User.Role)
	return p, ""
}

// crmLoginProblem says in words why the CRM login failed.
func crmLoginProblem(err error) string {
	switch {
	case errors.Is(err, crmclient.ErrUnauthorized):
		return "CRM login refused: wrong crm.user or password (set OPDESK_CRM_PASSWORD)"
	case errors.Is(err, crmclient.ErrUnavailable):
		return "CRM unreachable — cards come from the last known data"
	}
	return "CRM login failed: " + err.Error()
}

func (p *crmParts) close(ctx context.Context) {
	if p == nil {
		return
	}
	if p.box != nil {
		fctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		_ = p.box.Flush(fctx) // a last try; what is left waits in the file
		cancel()
		_ = p.box.Close(ctx)
	}
	if p.cards != nil {
		_ = p.cards.Close()
	}
}

// desktopSetup is what runDesktop and runDemo need on top of the config.
type desktopSetup struct {
	notice string // first status bar line: demo banner, sound card, CRM problems
	keys   *keymap.Map
	// sayDevice puts the sound card's name on the status bar (the demo
	// says which device it uses; a configured desktop knows).
	sayDevice bool
	// dataDir holds the card cache and the outbox; "" means the state
	// directory (beside the log file).
	dataDir string
}

// runTUI runs the agent desktop on the terminal until the operator quits,
// then ends calls and flushes the outbox.
func runTUI(cfg *config.Config, log *slog.Logger, setup desktopSetup, stderr io.Writer) int {
	// startCore logs its warnings; the desktop's terminal is the TUI's, so
	// they are not printed.
	dir := stateDirFor(cfg, setup.dataDir)
	c, err := startCore(cfg, log, io.Discard, dir)
	if err != nil {
		fmt.Fprintf(stderr, "opdesk: %v\n", err)
		return 1
	}
	ctx := context.Background()
	crm, crmNotice := openCRM(ctx, cfg, dir, log)

	lang, err := tui.ParseLang(cfg.UI.Lang)
	if err != nil {
		lang = tui.LangEN // Load validated it; only an impossible value gets here
	}
	// Calls a crash cut come first on the bar: the operator was in one.
	notices := reportLostDesktop(ctx, c.lost, crm, lang, log)
	if err := c.journal.ClearLost(); err != nil {
		log.Warn("call journal", "err", err)
	}
	notices = append(notices, setup.notice)
	switch {
	case c.device == (audio.NullDevice{}).Name():
		notices = append(notices, noSoundNotice(lang))
	case c.device != "" && setup.sayDevice:
		notices = append(notices, "🎧 "+c.device)
	}
	notices = append(notices, crmNotice)
	var phone tui.Phone = c.phone
	opts := tui.Options{
		Keys:       setup.keys,
		Lang:       lang,
		Company:    cfg.CRM.Company,
		Region:     cfg.CRM.Region,
		AutoReady:  time.Duration(cfg.UI.AutoReadyS) * time.Second,
		PopTimeout: time.Duration(cfg.CRM.PopTimeoutMs) * time.Millisecond,
		Notice:     joinNotices(notices),
		Log:        log,
		Outbound:   outboundOptions(cfg.Outbound),
	}
	if c.sw != nil {
		sp := &switchingPhone{Phone: c.phone, dev: c.sw, cfg: cfg, log: log}
		phone, opts.Audio = sp, sp
	}
	opts.Phone = phone
	if crm != nil {
		opts.CRM, opts.Outbox, opts.Agent = crm.client, crm.box, crm.user
		c.grants.Store(crmclient.NewGrantVerifier(crm.client, crm.user.Name))
	}
	opts.Supervisor = tui.SupervisorOptions{Listen: cfg.Supervisor.Listen, Whisper: cfg.Supervisor.Whisper,
		Barge: cfg.Supervisor.Barge, LongACW: time.Duration(cfg.Supervisor.LongACWS) * time.Second}
	opts.HideMonitor = cfg.UI.MonitorIndicator == "hide"
	feedCtx, stopFeed := context.WithCancel(ctx)
	var feed sync.WaitGroup
	if crm != nil && crm.user.Role == crmclient.RoleSupervisor {
		opts.BoardEvents = followEvents(feedCtx, &feed, crm.client, log)
	}
	prog := tea.NewProgram(tui.New(opts), tea.WithContext(ctx))
	_, runErr := prog.Run()
	stopFeed()
	feed.Wait()

	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Close(cctx); err != nil {
		fmt.Fprintf(stderr, "opdesk: %v\n", err)
	}
	crm.close(cctx)
	if runErr != nil && !errors.Is(runErr, tea.ErrProgramKilled) {
		log.Error("desktop", "err", runErr)
		fmt.Fprintf(stderr, "opdesk: the desktop stopped: %v\n", runErr)
		return 1
	}
	log.Info("stopped")
	return 0
}

// followEvents runs the supervisors' event stream for the wallboard until ctx
// ends: it reconnects by itself (crmclient.FollowEvents resumes after the
// last event, so a CRM restart loses none) and hands each event to the
// desktop in order. wg says when it has stopped; the channel is closed then.
func followEvents(ctx context.Context, wg *sync.WaitGroup, client *crmclient.Client, log *slog.Logger) <-chan crmclient.Event {
	ch := make(chan crmclient.Event, 64)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ch)
		err := client.FollowEvents(ctx, crmclient.EventsFromNow, func(ev crmclient.Event) error {
			select {
			case ch <- ev:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err != nil && ctx.Err() == nil {
			log.Warn("event stream stopped", "err", err)
		}
	}()
	return ch
}

// outboundOptions is the config's [outbound] as the desktop takes it.
func outboundOptions(o config.Outbound) tui.Outbound {
	return tui.Outbound{
		Progressive:    o.Mode != "preview",
		Countdown:      time.Duration(o.CountdownS) * time.Second,
		RingTimeout:    time.Duration(o.RingTimeoutS) * time.Second,
		CallerIDHeader: o.CallerIDHeader,
		DialFormat:     o.DialFormat,
		Poll:           time.Duration(o.PollS) * time.Second,
	}
}

func noSoundNotice(lang tui.Lang) string {
	if lang == tui.LangJA {
		return "サウンドカードなし: 通話は無音です (null device)"
	}
	return "no sound card: calls are silent (null device)"
}

func joinNotices(ns []string) string {
	var keep []string
	for _, n := range ns {
		if n = strings.TrimSpace(n); n != "" {
			keep = append(keep, n)
		}
	}
	return strings.Join(keep, " · ")
}

// runDesktop is plain "opdesk": the agent desktop with the config file.
func runDesktop(cfgArgs, rest []string, stderr io.Writer) int {
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "opdesk: unknown command %q (try opdesk help)\n", strings.Join(rest, " "))
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
	keys, err := keyMap(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "opdesk: configuration problem:\n%v\n", err)
		return 2
	}
	for _, w := range cfg.Warnings {
		log.Warn("config", "warning", w)
	}
	log.Info("starting desktop", "version", version, "config", cfg.Redacted().String())
	return runTUI(cfg, log, desktopSetup{notice: strings.Join(cfg.Warnings, " · "), keys: keys}, stderr)
}
