package listimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmserver"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// Sink takes batches of leads; *crmserver.Store is one. It returns one result per
// row, in row order; an error means the batch was not applied.
type Sink interface {
	ImportLeads(ctx context.Context, campaignID string, rows []crmserver.LeadRow) ([]crmserver.LeadResult, error)
}

// DefaultBatchSize is the rows per Sink call: big enough that the per-transaction
// cost vanishes, small enough that a transaction stays short while agents work.
const DefaultBatchSize = 2000

// progressEvery is how many rows pass between progress calls while reading.
const progressEvery = 500

// Options configure an import. The zero value imports Japanese numbers with the
// automatic column map and writes the report beside the file.
type Options struct {
	// Region is the ISO 3166 region of numbers written without a country code
	// (default "JP").
	Region string
	// Map overrides the automatic column map (see ParseMap).
	Map ColumnMap
	// Sheet is the workbook sheet to read (default: the first). CSV has none.
	Sheet string
	// Report is the path of the rejected-rows report (default FILE.rejected.csv).
	Report string
	// BatchSize is the rows per Sink call (default DefaultBatchSize).
	BatchSize int
	// Progress, if set, is called with the rows read after the header and the
	// rows the file has after it (0 when unknown; for .xlsx it comes from the
	// sheet's recorded size, which can be wrong, and turns to 0 when passed).
	// It is called from Import's goroutine and must return quickly.
	Progress func(done, total int)
	// OnHeader, if set, is told how the columns were mapped before the first
	// data row is read, so a person can stop a long import that took the wrong
	// column.
	OnHeader func(Columns)
}

func (o *Options) defaults(path string) {
	if o.Region == "" {
		o.Region = "JP"
	}
	if o.Report == "" {
		o.Report = path + ".rejected.csv"
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
}

// Import adds the call list in the file at path (CSV or .xlsx) to a campaign and
// writes every row it does not add to the report file. The summary counts every
// data row as added, rejected or blank; it is valid (partial) when an error ends
// the import early, and rows sent before the error stay added.
func Import(ctx context.Context, sink Sink, campaignID, path string, opt Options) (Summary, error) {
	opt.defaults(path)
	sum := Summary{Report: opt.Report}
	if !phonenumbers.GetSupportedRegions()[strings.ToUpper(strings.TrimSpace(opt.Region))] {
		return sum, fmt.Errorf("%w %q: want an ISO 3166 code such as JP", ErrRegion, opt.Region)
	}
	rr, err := openRows(path, opt.Sheet)
	if err != nil {
		return sum, err
	}
	defer rr.Close()
	im := &importer{name: fileName(path), rr: rr, sink: sink, campaign: campaignID, opt: opt}
	if err := im.readHeader(); err != nil {
		return sum, err
	}
	if opt.OnHeader != nil {
		opt.OnHeader(im.layout.describe(im.name, rr.Describe(), im.headerLine))
	}
	f, err := os.Create(opt.Report)
	if err != nil {
		return sum, fmt.Errorf("create the report: %w", err)
	}
	im.report, err = newReport(f, im.layout.headers)
	if err == nil {
		err = im.run(ctx)
	}
	im.sum.Report = opt.Report
	err = errors.Join(err, im.report.close())
	if cerr := f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("write the report %s: %w", opt.Report, cerr)
	}
	return im.sum, err
}

// importer is one run of Import.
type importer struct {
	name     string
	rr       rowReader
	sink     Sink
	campaign string
	opt      Options
	report   *report

	headerLine int
	layout     *layout
	seen       map[string]int // E.164 → line where the file first had it
	cur        *batch         // being filled
	flying     *batch         // at the sink, or nil
	sum        Summary
	lastLine   int // line of the last row read
}

// readHeader reads up to the first non-blank row and maps its columns.
func (im *importer) readHeader() error {
	for {
		r, err := im.rr.Next()
		if err == io.EOF {
			return fmt.Errorf("%s: %w: no header row", im.name, ErrEmpty)
		}
		if err != nil {
			return err
		}
		if r.Problem == "" && isBlank(r.Cells) {
			continue
		}
		if r.Problem != "" {
			// Headers become field names on every lead: no guessing here.
			return fmt.Errorf("%s line %d: %w: the header row %s", im.name, r.Line, ErrMalformed, r.Problem)
		}
		im.headerLine = r.Line
		im.layout, err = newLayout(im.name, r.Line, r.Cells, im.opt.Map)
		return err
	}
}

// run reads the data rows, checks them and sends them in batches.
func (im *importer) run(ctx context.Context) (err error) {
	im.seen = make(map[string]int)
	im.cur = &batch{}
	rows := startReadAhead(im.rr)
	defer rows.stop()
	defer func() {
		if err != nil {
			// Book a batch the store took before the error; whatever is not
			// booked then was read but never accepted.
			_ = im.land()
			im.sum.Unsent += len(im.cur.rows)
		}
	}()
	for {
		r, err := rows.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		im.lastLine = r.Line
		im.sum.Rows++
		im.row(r)
		if im.cur.full(im.opt.BatchSize) {
			if err := im.send(ctx); err != nil {
				return err
			}
			im.progress()
		} else if im.sum.Rows%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			im.progress()
		}
	}
	if err := im.send(ctx); err != nil {
		return err
	}
	if err := im.land(); err != nil {
		return err
	}
	if im.opt.Progress != nil {
		done := max(im.lastLine, im.rr.LastLine()) - im.headerLine
		im.opt.Progress(done, done)
	}
	return nil
}

func (im *importer) progress() {
	if im.opt.Progress == nil {
		return
	}
	done, total := im.lastLine-im.headerLine, im.rr.LastLine()-im.headerLine
	if total < done {
		total = 0
	}
	im.opt.Progress(done, total)
}

// row checks one data row: blank, rejected here, or queued for the sink. Rows
// rejected here wait in the batch too, so that the report stays in line order.
func (im *importer) row(r row) {
	if r.Problem == "" && isBlank(r.Cells) {
		im.sum.Blank++
		return
	}
	if r.Problem != "" {
		im.cur.reject(r, outInvalid, r.Problem)
		return
	}
	l := im.layout
	raw := l.cell(r.Cells, FieldPhone)
	if raw == "" {
		im.cur.reject(r, outInvalidPhone, "no phone number")
		return
	}
	phone, err := normalizePhone(raw, im.opt.Region)
	if err != nil {
		im.cur.reject(r, outInvalidPhone, err.Error())
		return
	}
	if first, dup := im.seen[phone]; dup {
		im.cur.reject(r, outDuplicate, fmt.Sprintf("duplicate of line %d", first))
		return
	}
	im.seen[phone] = r.Line
	lead := crmserver.LeadRow{
		Line:     r.Line,
		Phone:    phone,
		Name:     personName(l.cell(r.Cells, FieldName), l.cell(r.Cells, fieldFamily), l.cell(r.Cells, fieldGiven)),
		NameKana: personName(l.cell(r.Cells, FieldKana), l.cell(r.Cells, fieldFamilyKana), l.cell(r.Cells, fieldGivenKana)),
		Email:    l.cell(r.Cells, FieldEmail),
		Address:  l.cell(r.Cells, FieldAddress),
		Notes:    l.cell(r.Cells, FieldNotes),
	}
	for _, x := range l.extra {
		if x.col < len(r.Cells) {
			if v := strings.TrimSpace(r.Cells[x.col]); v != "" {
				if lead.Fields == nil {
					lead.Fields = make(map[string]string, len(l.extra))
				}
				lead.Fields[x.key] = v
			}
		}
	}
	im.cur.add(lead, r.Cells)
}

// normalizePhone is crmclient.NormalizePhone with the trunk 0 that Excel drops
// from numbers stored as numbers put back for Japan: 9012345678 → 09012345678.
// A Japanese national number is 9–10 digits after its 0, so a bare 9–10 digit
// string not starting with 0 can only be one that lost it.
func normalizePhone(raw, region string) (string, error) {
	if strings.EqualFold(strings.TrimSpace(region), "JP") {
		d := width.Fold.String(raw)
		if (len(d) == 9 || len(d) == 10) && d[0] != '0' && allDigits(d) {
			if e164, err := crmclient.NormalizePhone("0"+d, region); err == nil {
				return e164, nil
			}
		}
	}
	return crmclient.NormalizePhone(raw, region)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// personName is the whole name, or the family and given names joined with a
// space the way the CRM writes names ("山田 太郎"). Half-width katakana
// ("ﾔﾏﾀﾞ ﾀﾛｳ", common in lists that passed through banking systems) becomes
// full-width so that search finds it.
func personName(whole, family, given string) string {
	s := whole
	if s == "" {
		s = strings.TrimSpace(family + " " + given)
	}
	for _, r := range s {
		if r >= 0xFF61 && r <= 0xFF9F {
			return norm.NFKC.String(s)
		}
	}
	return s
}

func isBlank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
