package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/opdesk/opdesk/crmserver"
	"github.com/opdesk/opdesk/crmserver/listimport"
)

const crmImportUsage = `usage: opdesk crm import FILE.csv|FILE.xlsx --campaign ID [flags]

Adds a call list to a campaign. Columns are found from the header row (電話番号,
氏名, フリガナ, メール, 住所, 備考 and their English names) unless --map names them.
Every row that is not added goes to the report with its reason.

`

// runCRMImport runs "opdesk crm import FILE --campaign ID". Exit status: 0 when
// the file was read to the end (rejected rows are in the report, not a failure),
// 1 when the import could not be done or stopped early, 2 for a usage mistake.
func runCRMImport(args []string, stdout, stderr io.Writer) int {
	fs, dsn := crmFlags("import", stderr)
	campaign := fs.String("campaign", "", "campaign id to add the leads to (required)")
	mapping := fs.String("map", "", "columns by letter or header: phone=C,name=A,kana=B,email=…,address=…,notes=…")
	region := fs.String("region", "JP", "region for phone numbers written without a country code")
	sheet := fs.String("sheet", "", "workbook sheet to read (default: the first)")
	report := fs.String("report", "", "where to write the rejected rows (default: FILE.rejected.csv)")
	fs.Usage = func() {
		fmt.Fprint(stderr, crmImportUsage)
		fs.PrintDefaults()
	}
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	switch {
	case len(files) != 1:
		fmt.Fprintln(stderr, "opdesk crm import: give exactly one file to import")
		fs.Usage()
		return 2
	case strings.TrimSpace(*campaign) == "":
		fmt.Fprintln(stderr, "opdesk crm import: --campaign is required (the id of the campaign to add the leads to)")
		return 2
	}
	m, err := listimport.ParseMap(*mapping)
	if err != nil {
		fmt.Fprintf(stderr, "opdesk crm import: --map: %v\n", err)
		return 2
	}
	file := files[0]
	if _, err := os.Stat(file); err != nil {
		fmt.Fprintf(stderr, "opdesk crm import: cannot read %s: %v\n", file, errors.Unwrap(err))
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, ok := openCRMStore(ctx, *dsn, stderr)
	if !ok {
		return 1
	}
	defer st.Close()
	opt := listimport.Options{Region: *region, Map: m, Sheet: *sheet, Report: *report}
	return importList(ctx, st, file, *campaign, opt, stdout, stderr)
}

// importList imports file and prints what happened: the column map and progress
// on stderr, the summary on stdout.
func importList(ctx context.Context, sink listimport.Sink, file, campaign string, opt listimport.Options, stdout, stderr io.Writer) int {
	bar := newProgressBar(stderr)
	opt.Progress = bar.update
	opt.OnHeader = func(c listimport.Columns) { fmt.Fprintln(stderr, c) }
	t0 := time.Now()
	sum, err := listimport.Import(ctx, sink, campaign, file, opt)
	bar.finish()
	if err != nil {
		fmt.Fprintf(stderr, "opdesk crm import: %s\n", importErrorText(err, campaign))
		if sum.Rows > 0 {
			fmt.Fprintf(stderr, "opdesk crm import: before it stopped: %s\n", sum)
		}
		return 1
	}
	fmt.Fprintf(stderr, "opdesk crm import: done in %s\n", time.Since(t0).Round(100*time.Millisecond))
	fmt.Fprintln(stdout, sum)
	return 0
}

// importErrorText puts the store's answers in words; the importer's own errors
// already are.
func importErrorText(err error, campaign string) string {
	switch {
	case errors.Is(err, crmserver.ErrNotFound):
		return fmt.Sprintf("there is no campaign %q in this database; nothing was imported", campaign)
	case errors.Is(err, context.Canceled):
		return "interrupted"
	}
	return err.Error()
}

// progressBar draws the import's progress on a terminal as one line redrawn in
// place, at most ten times a second; anywhere else (a log, CI) it writes a plain
// line at each tenth of the way, or every 10,000 rows when the total is unknown.
type progressBar struct {
	w      io.Writer
	tty    bool
	drawn  bool
	last   time.Time
	step   int // last tenth (or 10,000 rows) reported on a non-terminal
	width  int
	now    func() time.Time
	lastLn int // length of the line drawn, to blank a shorter one
}

func newProgressBar(w io.Writer) *progressBar {
	p := &progressBar{w: w, width: 30, now: time.Now}
	if f, ok := w.(*os.File); ok {
		p.tty = isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
	}
	return p
}

func (p *progressBar) update(done, total int) {
	if !p.tty {
		step, line := done/10_000, fmt.Sprintf("import: %s rows", listimport.Commas(done))
		if total > 0 {
			step = done * 10 / total
			line = fmt.Sprintf("import: %s of %s rows (%d%%)", listimport.Commas(done), listimport.Commas(total), done*100/total)
		}
		if step > p.step {
			p.step = step
			fmt.Fprintln(p.w, line)
		}
		return
	}
	now := p.now()
	if p.drawn && now.Sub(p.last) < 100*time.Millisecond && (total == 0 || done < total) {
		return
	}
	p.last, p.drawn = now, true
	var line string
	if total > 0 {
		fill := min(p.width, done*p.width/total)
		line = fmt.Sprintf("[%s%s] %3d%%  %s / %s rows", strings.Repeat("#", fill), strings.Repeat("-", p.width-fill),
			min(100, done*100/total), listimport.Commas(done), listimport.Commas(total))
	} else {
		line = fmt.Sprintf("%s rows", listimport.Commas(done))
	}
	pad := max(0, p.lastLn-len(line))
	p.lastLn = len(line)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
}

// finish ends the redrawn line so that what is printed next starts clean.
func (p *progressBar) finish() {
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
	}
}
