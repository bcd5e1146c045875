// Command importbench measures the call-list importer on a big generated list:
// test/bench/import.sh drives it. Each step is its own process, so that the peak
// memory reported for "run" is the import's alone.
//
//	importbench gen  -rows 100000 -out list.xlsx     write a list (listgen)
//	importbench seed -db sqlite:PATH -customers 50   a fresh store with demo data
//	importbench run  -file list.xlsx -db sqlite:PATH [-sink auto|store|fake] [-campaign ID]
//
// run prints the summary, the wall time and the process's peak resident memory.
// With -sink auto it imports into the store, or into a sink that accepts every row
// when the store cannot import leads yet (the reading and checking alone).
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/opdesk/opdesk/crmserver"
	"github.com/opdesk/opdesk/crmserver/listimport"
	"github.com/opdesk/opdesk/crmserver/listimport/listgen"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: importbench gen|seed|run [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "seed":
		err = seed(os.Args[2:])
	case "run":
		err = run(os.Args[2:])
	default:
		err = fmt.Errorf("unknown step %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "importbench:", err)
		os.Exit(1)
	}
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	rows := fs.Int("rows", 100_000, "data rows")
	out := fs.String("out", "list.xlsx", "file to write (.xlsx or .csv)")
	seed := fs.Uint64("seed", 1, "random seed")
	fs.Parse(args)
	opt := listgen.Options{Rows: *rows, Rand: rand.New(rand.NewPCG(*seed, 1))}
	t0 := time.Now()
	var st listgen.Stats
	var err error
	if strings.HasSuffix(*out, ".csv") {
		f, ferr := os.Create(*out)
		if ferr != nil {
			return ferr
		}
		st, err = listgen.WriteCSV(f, opt)
		err = errors.Join(err, f.Close())
	} else {
		st, err = listgen.WriteXLSX(*out, opt)
	}
	if err != nil {
		return err
	}
	fi, _ := os.Stat(*out)
	fmt.Printf("wrote %s: %d rows (%d invalid numbers, %d duplicates), %.1f MB in %s\n",
		*out, st.Rows, st.Invalid, st.Duplicates, float64(fi.Size())/1e6, time.Since(t0).Round(time.Millisecond))
	return nil
}

func seed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	dsn := fs.String("db", "", "database: sqlite:PATH or postgres://…")
	customers := fs.Int("customers", 50, "customers to seed")
	fs.Parse(args)
	ctx := context.Background()
	st, err := crmserver.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	return crmserver.Seed(ctx, st, crmserver.SeedOptions{Customers: *customers, Rand: rand.New(rand.NewPCG(1, 1))})
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	file := fs.String("file", "list.xlsx", "list to import")
	dsn := fs.String("db", "", "database: sqlite:PATH or postgres://…")
	sinkName := fs.String("sink", "auto", "auto, store or fake")
	campaign := fs.String("campaign", "", "campaign id (default: the first the seed made)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the import to this file")
	fs.Parse(args)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()

	var sink listimport.Sink = listgen.AcceptAll{}
	if *sinkName != "fake" {
		st, err := crmserver.Open(ctx, *dsn)
		if err != nil {
			return err
		}
		defer st.Close()
		if *campaign == "" {
			if *campaign, err = firstCampaign(*dsn); err != nil && *sinkName == "store" {
				return err
			}
		}
		sink = st
		fmt.Printf("store: %s, campaign %s\n", crmserver.RedactDSN(*dsn), *campaign)
	} else {
		fmt.Println("sink: accepts every row (reading and checking only)")
	}

	t0 := time.Now()
	sum, err := listimport.Import(ctx, sink, *campaign, *file, listimport.Options{
		OnHeader: func(c listimport.Columns) { fmt.Println(c) },
	})
	wall := time.Since(t0)
	fmt.Println(sum)
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("wall %.2f s, %.0f rows/s, peak RSS %.0f MB, CPU user %.2f s sys %.2f s\n",
		wall.Seconds(), float64(sum.Rows)/wall.Seconds(), float64(ru.Maxrss)/1024,
		time.Duration(ru.Utime.Nano()).Seconds(), time.Duration(ru.Stime.Nano()).Seconds())
	return err
}

// firstCampaign reads the id of the first campaign straight from the database.
func firstCampaign(dsn string) (string, error) {
	driver, name := "pgx", dsn
	if p, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		driver, name = "sqlite", p
	}
	db, err := sql.Open(driver, name)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var id string
	if err := db.QueryRow(`SELECT CAST(id AS TEXT) FROM campaigns ORDER BY id LIMIT 1`).Scan(&id); err != nil {
		return "", fmt.Errorf("no campaign to import into: %w", err)
	}
	return id, nil
}
