package listimport

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/opdesk/opdesk/crmserver"
	"github.com/xuri/excelize/v2"
)

// fakeSink behaves like the store's ImportLeads over a campaign held in memory.
type fakeSink struct {
	campaign map[string]bool   // E.164 numbers the campaign has
	dnc      map[string]bool   // E.164 numbers on the DNC list
	refuse   map[string]string // E.164 → reason the store refuses the row
	failCall int               // 1-based call that fails, 0 never
	calls    int
	batches  []int               // rows per call
	rows     []crmserver.LeadRow // every row received
}

var errSinkDown = errors.New("database is locked")

func newFakeSink() *fakeSink {
	return &fakeSink{campaign: map[string]bool{}, dnc: map[string]bool{}, refuse: map[string]string{}}
}

func (f *fakeSink) ImportLeads(ctx context.Context, campaignID string, rows []crmserver.LeadRow) ([]crmserver.LeadResult, error) {
	f.calls++
	if f.calls == f.failCall {
		return nil, errSinkDown
	}
	f.batches = append(f.batches, len(rows))
	out := make([]crmserver.LeadResult, len(rows))
	for i, r := range rows {
		f.rows = append(f.rows, r)
		res := crmserver.LeadResult{Line: r.Line}
		switch {
		case f.dnc[r.Phone]:
			res.Status, res.Reason = crmserver.LeadDNC, "on the do-not-call list"
		case f.campaign[r.Phone]:
			res.Status, res.Reason = crmserver.LeadDuplicate, "already in the campaign"
		case f.refuse[r.Phone] != "":
			res.Status, res.Reason = crmserver.LeadInvalid, f.refuse[r.Phone]
		default:
			res.Status, res.LeadID = crmserver.LeadAdded, "L1"
			f.campaign[r.Phone] = true
		}
		out[i] = res
	}
	return out, nil
}

// writeFile writes b to a file called name in a fresh temp dir.
func writeFile(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeXLSX writes a workbook with one sheet per entry of sheets, in order.
func writeXLSX(t testing.TB, name string, sheets []string, data map[string][][]any) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(s); err != nil {
			t.Fatal(err)
		}
		for r, row := range data[s] {
			if row == nil {
				continue // a row never typed in
			}
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(s, cell, &row); err != nil {
				t.Fatal(err)
			}
		}
	}
	p := filepath.Join(t.TempDir(), name)
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// runImport imports path into a fake campaign and checks that the counts add up.
func runImport(t testing.TB, sink *fakeSink, path string, opt Options) (Summary, error) {
	t.Helper()
	if opt.Report == "" {
		opt.Report = filepath.Join(t.TempDir(), "report.csv")
	}
	sum, err := Import(context.Background(), sink, "c1", path, opt)
	checkSum(t, sum)
	return sum, err
}

// checkSum asserts that nothing went missing.
func checkSum(t testing.TB, s Summary) {
	t.Helper()
	if s.Rows != s.Added+s.Rejected()+s.Blank+s.Unsent {
		t.Errorf("rows %d != added %d + rejected %d + blank %d + unsent %d (%+v)", s.Rows, s.Added, s.Rejected(), s.Blank, s.Unsent, s)
	}
}

// readReport parses a report file back: it must start with a UTF-8 BOM and be
// CSV with a line and a reason first.
func readReport(t testing.TB, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, bomUTF8) {
		t.Fatalf("report %s does not start with a UTF-8 BOM: % x", path, b[:min(3, len(b))])
	}
	cr := csv.NewReader(bytes.NewReader(b[3:]))
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("report %s: %v", path, err)
	}
	if len(recs) == 0 || recs[0][0] != "line" || recs[0][1] != "reason" {
		t.Fatalf("report header = %q", recs)
	}
	return recs
}

func readAll(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
