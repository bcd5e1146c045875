package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/opdesk/opdesk/cmd/opdesk/config"
	"github.com/opdesk/opdesk/crmserver"
)

const crmUsage = `opdesk crm — the reference CRM server

  opdesk crm serve [--db DSN] [--listen ADDR] [--region JP]
        serve the CRM API (see /openapi.json) until interrupted
  opdesk crm seed [--db DSN] [--customers N] [--seed N]
        fill an empty database with generated Japanese shop data and the demo
        users agent1 / agent2 / sv1 (passwords agent1-demo, agent2-demo, sv1-demo)
  opdesk crm import FILE.csv|FILE.xlsx --campaign ID [--db DSN] [--map …]
        import a call list into a campaign; rejected rows go to a report file
  opdesk crm user add NAME [--role agent|supervisor] [--campaigns ID,ID] [--display-name N] [--db DSN]
        create a user; the password comes from OPDESK_NEW_PASSWORD or standard input

DSN is sqlite:PATH (default: sqlite:<state dir>/crm.db) or postgres://user@host/db.
`

// runCRM runs the "opdesk crm" subcommands. Unlike the desktop, the server logs
// to stderr: it has no screen to protect and runs under a service manager.
func runCRM(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, crmUsage)
		return 2
	}
	switch args[0] {
	case "serve":
		return runCRMServe(args[1:], stdout, stderr)
	case "seed":
		return runCRMSeed(args[1:], stdout, stderr)
	case "import":
		return runCRMImport(args[1:], stdout, stderr)
	case "user":
		return runCRMUser(args[1:], os.Stdin, stdout, stderr)
	case "help", "--help", "-h":
		fmt.Fprint(stdout, crmUsage)
		return 0
	}
	fmt.Fprintf(stderr, "opdesk crm: unknown command %q\n\n%s", args[0], crmUsage)
	return 2
}

// defaultCRMDSN is the SQLite file in the state dir.
func defaultCRMDSN() string {
	dir, err := config.StateDir()
	if err != nil {
		return ""
	}
	return "sqlite:" + filepath.Join(dir, "crm.db")
}

// crmFlags is a FlagSet with --db, reporting errors and usage to stderr.
func crmFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("opdesk crm "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", defaultCRMDSN(), "database: sqlite:PATH or postgres://user@host/db")
	return fs, db
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments ("import FILE --campaign ID", "user add --role agent
// NAME"): the flag package stops at the first argument that is not a flag,
// so it parses again after each one. It returns the positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
}

// openCRMStore opens the store, printing one sentence on failure.
func openCRMStore(ctx context.Context, dsn string, stderr io.Writer) (*crmserver.Store, bool) {
	if dsn == "" {
		fmt.Fprintln(stderr, "opdesk crm: no database: set --db (HOME and XDG_STATE_HOME are both unset)")
		return nil, false
	}
	st, err := crmserver.Open(ctx, dsn)
	if err != nil {
		fmt.Fprintf(stderr, "opdesk crm: cannot open the database: %v\n", err)
		return nil, false
	}
	return st, true
}

func runCRMServe(args []string, stdout, stderr io.Writer) int {
	fs, dsn := crmFlags("serve", stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on (HOST:PORT)")
	region := fs.String("region", "JP", "region for phone numbers written without a country code")
	recDir := fs.String("recordings", "", "directory for uploaded call recordings (default: beside the SQLite file; see crmserver.WithRecordingsDir)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	st, ok := openCRMStore(ctx, *dsn, stderr)
	if !ok {
		return 1
	}
	defer st.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "opdesk crm: cannot listen on %s: %v\n", *listen, err)
		return 1
	}
	hopts := []crmserver.HandlerOption{crmserver.WithLogger(log), crmserver.WithDefaultRegion(*region)}
	if *recDir != "" {
		hopts = append(hopts, crmserver.WithRecordingsDir(*recDir))
	}
	srv := crmserver.NewHTTPServer(*listen, st.Handler(hopts...))
	fmt.Fprintf(stdout, "opdesk CRM listening on http://%s (database %s)\n", ln.Addr(), crmserver.RedactDSN(*dsn))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go refreshCoPurchases(ctx, st, log)
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "opdesk crm: server stopped: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "opdesk crm: shutdown: %v\n", err)
	}
	return 0
}

// refreshCoPurchases rebuilds the cross-sell statistics behind the hints at start
// and then daily (orders arrive all day; the "often bought together" figures move
// slowly).
func refreshCoPurchases(ctx context.Context, st *crmserver.Store, log *slog.Logger) {
	for {
		t0 := time.Now()
		if err := st.RecomputeCoPurchases(ctx); err != nil && ctx.Err() == nil {
			log.Error("cross-sell statistics not refreshed; hints keep the previous ones", "err", err)
		} else if err == nil {
			log.Info("cross-sell statistics refreshed", "took", time.Since(t0).Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(24 * time.Hour):
		}
	}
}

func runCRMSeed(args []string, stdout, stderr io.Writer) int {
	fs, dsn := crmFlags("seed", stderr)
	n := fs.Int("customers", 2000, "number of customers to generate")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same data")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return 2
	}
	if *n < 0 {
		fmt.Fprintln(stderr, "opdesk crm seed: --customers must not be negative")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, ok := openCRMStore(ctx, *dsn, stderr)
	if !ok {
		return 1
	}
	defer st.Close()
	t0 := time.Now()
	err := crmserver.Seed(ctx, st, crmserver.SeedOptions{Customers: *n, Rand: rand.New(rand.NewPCG(*seed, 1))})
	if err != nil {
		fmt.Fprintf(stderr, "opdesk crm seed: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "seeded %d customers into %s in %s\n", *n, crmserver.RedactDSN(*dsn), time.Since(t0).Round(time.Millisecond))
	return 0
}
