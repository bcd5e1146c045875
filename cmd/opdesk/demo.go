package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/opdesk/opdesk/cmd/opdesk/config"
	"github.com/opdesk/opdesk/cmd/opdesk/demoline"
	"github.com/opdesk/opdesk/crmserver"
)

// Demo settings: small enough to seed in about a second, large enough that
// searches and pops look like a real shop's.
const (
	demoCustomers = 3000
	// The demo operator works the support line and the outbound campaign.
	demoAgent    = "agent2"
	demoPassword = "agent2-demo" // the seeded demo user's documented password
	demoCompany  = "オプデスク通販"
)

// demoEnv is what "opdesk demo" starts before the desktop: the reference
// CRM on a throwaway SQLite file and the customer line. Close stops both and
// removes the files.
type demoEnv struct {
	dir   string
	store *crmserver.Store
	srv   *http.Server
	crm   string // base URL
	line  *demoline.Line
}

// startDemo seeds the CRM and starts the customer line. log receives the
// CRM's and the line's messages (the desktop's log file: nothing is printed
// over the screen).
func startDemo(ctx context.Context, log *slog.Logger, interval time.Duration) (_ *demoEnv, err error) {
	d := &demoEnv{}
	defer func() {
		if err != nil {
			d.Close(context.Background())
		}
	}()
	if d.dir, err = os.MkdirTemp("", "opdesk-demo-"); err != nil {
		return nil, fmt.Errorf("demo files: %w", err)
	}
	if d.store, err = crmserver.Open(ctx, "sqlite:"+filepath.Join(d.dir, "crm.db")); err != nil {
		return nil, fmt.Errorf("demo CRM database: %w", err)
	}
	err = crmserver.Seed(ctx, d.store, crmserver.SeedOptions{Customers: demoCustomers, Rand: rand.New(rand.NewPCG(7, 1))})
	if err != nil {
		return nil, fmt.Errorf("demo CRM seed: %w", err)
	}
	if err := d.store.RecomputeCoPurchases(ctx); err != nil {
		log.Warn("demo cross-sell statistics", "err", err)
	}
	if err := demoAroundTheClock(ctx, d.store); err != nil {
		return nil, fmt.Errorf("demo campaign: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo CRM: %w", err)
	}
	d.crm = "http://" + ln.Addr().String()
	d.srv = crmserver.NewHTTPServer(ln.Addr().String(),
		d.store.Handler(crmserver.WithLogger(log.With("part", "demo-crm")), crmserver.WithDefaultRegion("JP")))
	go func() { _ = d.srv.Serve(ln) }()

	e164s, err := d.store.DemoCallers(ctx, 12)
	if err != nil || len(e164s) == 0 {
		return nil, fmt.Errorf("demo callers: %v (%d numbers)", err, len(e164s))
	}
	d.line, err = demoline.Start(demoline.Config{
		Listen:    "127.0.0.1:0",
		Callers:   nationalNumbers(e164s),
		Interval:  interval,
		FirstCall: 5 * time.Second,
		Log:       log.With("part", "demo-line"),
	})
	if err != nil {
		return nil, fmt.Errorf("demo customer line: %w", err)
	}
	return d, nil
}

// demoAroundTheClock opens the demo's outbound campaign at every hour, so the
// demo can dial at night too; a real campaign keeps the seeded 09:00–21:00
// Tokyo window (or the one its supervisor sets).
func demoAroundTheClock(ctx context.Context, st *crmserver.Store) error {
	c, err := st.Campaign(ctx, crmserver.SeedOutboundCampaign)
	if err != nil {
		return err
	}
	c.Window.Start, c.Window.End = "00:00", "24:00"
	_, err = st.UpdateCampaign(ctx, c.ID, c)
	return err
}

// nationalNumbers writes E.164 numbers as a Japanese caller ID shows them
// ("03-1234-5678"; the line's DialAs drops the separators): the form the
// screen pop normalises.
func nationalNumbers(e164s []string) []string {
	out := make([]string, 0, len(e164s))
	for _, e := range e164s {
		if num, err := phonenumbers.Parse(e, "JP"); err == nil {
			out = append(out, phonenumbers.Format(num, phonenumbers.NATIONAL))
		}
	}
	return out
}

// Close stops the line and the CRM and removes the demo's files.
func (d *demoEnv) Close(ctx context.Context) {
	if d.line != nil {
		_ = d.line.Close(ctx)
	}
	if d.srv != nil {
		_ = d.srv.Shutdown(ctx)
	}
	if d.store != nil {
		_ = d.store.Close()
	}
	if d.dir != "" {
		_ = os.RemoveAll(d.dir)
	}
}

// demoArgs are the settings the demo runs on: the line as registrar, the
// embedded CRM, everything else on its defaults (a config file is not read;
// flags given to "opdesk demo" still win, so --ui.lang=en works).
func (d *demoEnv) demoArgs(user []string) []string {
	args := []string{
		"--config=" + os.DevNull,
		"--sip.user=operator",
		"--sip.registrar=" + d.line.URI(),
		"--sip.domain=" + d.line.Domain(),
		"--sip.listen=" + freeLoopbackUDP(),
		"--sip.expires=300",
		"--crm.url=" + d.crm,
		"--crm.user=" + demoAgent,
		"--crm.company=" + demoCompany,
		"--ctl.socket=" + filepath.Join(d.dir, "ctl.sock"),
		"--audio.recordings=" + filepath.Join(d.dir, "recordings"),
	}
	return append(args, user...)
}

// freeLoopbackUDP returns a 127.0.0.1 address whose UDP port was free a
// moment ago (sip.listen wants a port number, not 0).
func freeLoopbackUDP() string {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:5062"
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// runDemo is "opdesk demo": the whole desktop on one machine with nothing
// installed and nothing configured.
func runDemo(cfgArgs, rest []string, stderr io.Writer) int {
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "opdesk demo: takes no arguments besides --section.key=value settings, got %q\n", rest)
		return 2
	}
	stateDir, err := config.StateDir()
	if err != nil {
		stateDir = os.TempDir()
	}
	logPath := filepath.Join(stateDir, "opdesk-demo.log")
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		fmt.Fprintf(stderr, "opdesk demo: %v\n", err)
		return 1
	}
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintf(stderr, "opdesk demo: cannot open the log file %s: %v\n", logPath, err)
		return 1
	}
	defer lf.Close()
	log := slog.New(slog.NewTextHandler(lf, &slog.HandlerOptions{Level: slog.LevelInfo}))

	fmt.Fprintln(stderr, "opdesk demo: seeding the demo CRM and starting the customer line…")
	ctx := context.Background()
	d, err := startDemo(ctx, log, 30*time.Second)
	if err != nil {
		fmt.Fprintf(stderr, "opdesk demo: %v\n", err)
		return 1
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d.Close(cctx)
	}()
	cfg, err := config.Load(config.LoadOptions{Args: d.demoArgs(cfgArgs), Environ: os.Environ()})
	if err != nil {
		fmt.Fprintf(stderr, "opdesk demo: configuration problem:\n%v\n", err)
		return 2
	}
	cfg.Log.File = logPath
	cfg.CRM.Password = config.Secret(demoPassword)
	for _, u := range crmserver.DemoUsers {
		if u.Name == cfg.CRM.User {
			// --crm.user=sv1 runs the demo as the supervisor (the wallboard).
			cfg.CRM.Password = config.Secret(u.Password)
		}
	}
	keys, err := keyMap(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "opdesk demo: %v\n", err)
		return 2
	}
	log.Info("demo", "crm", d.crm, "line", d.line.URI(), "log", logPath)
	banner := "DEMO"
	setup := desktopSetup{notice: banner, keys: keys, sayDevice: true, dataDir: d.dir}
	code := runTUI(cfg, log, setup, stderr)
	if code == 0 {
		fmt.Fprintf(stderr, "opdesk demo: bye. The log is %s\n", logPath)
	}
	return code
}
