package listimport

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// report is the CSV of rejected rows: line, reason, then the row as it was in the
// file, under the file's own headers, so a person can fix the rows and import the
// report itself (its line and reason columns are not mapped to anything and end
// up as extra fields, harmlessly). UTF-8 with a BOM and CRLF, because that is what
// Excel needs to open Japanese text correctly with a double click.
type report struct {
	bw *bufio.Writer
	cw *csv.Writer
}

func newReport(w io.Writer, headers []string) (*report, error) {
	r := &report{bw: bufio.NewWriterSize(w, 64<<10)}
	if _, err := r.bw.Write(bomUTF8); err != nil {
		return nil, err
	}
	r.cw = csv.NewWriter(r.bw)
	r.cw.UseCRLF = true
	rec := append([]string{"line", "reason"}, headers...)
	if err := r.cw.Write(rec); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *report) reject(line int, reason string, cells []string) error {
	rec := make([]string, 0, 2+len(cells))
	rec = append(rec, strconv.Itoa(line), reason)
	rec = append(rec, cells...)
	if err := r.cw.Write(rec); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	return nil
}

func (r *report) close() error {
	if r == nil {
		return nil
	}
	r.cw.Flush()
	if err := r.cw.Error(); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	if err := r.bw.Flush(); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	return nil
}

// Summary counts what became of every data row (the rows after the header).
// Rows == Added + Rejected() + Blank + Unsent, always; Unsent is 0 unless the
// import stopped on an error.
type Summary struct {
	Rows          int // data rows read, blank ones included
	Added         int // new leads
	Duplicates    int // twice in the file, or already in the campaign
	DNC           int // on the do-not-call list
	InvalidPhones int // no phone number, or one that is not a valid number
	Invalid       int // refused for another reason (the CRM refused a field, undecodable bytes)
	Blank         int // every cell empty; not reported
	Unsent        int // read, but the import stopped before the CRM took their batch
	Report        string
}

// Rejected is the number of rows in the report.
func (s Summary) Rejected() int { return s.Duplicates + s.DNC + s.InvalidPhones + s.Invalid }

// String is the line the CLI prints at the end:
// "12,345 rows: 12,001 added, 300 duplicates, 40 on the DNC list, 4 invalid numbers; report: PATH".
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s added, %s, %s on the DNC list, %s",
		plural(s.Rows, "row", "rows"), Commas(s.Added), plural(s.Duplicates, "duplicate", "duplicates"),
		Commas(s.DNC), plural(s.InvalidPhones, "invalid number", "invalid numbers"))
	if s.Invalid > 0 {
		fmt.Fprintf(&b, ", %s", plural(s.Invalid, "other invalid row", "other invalid rows"))
	}
	if s.Blank > 0 {
		fmt.Fprintf(&b, ", %s", plural(s.Blank, "blank row", "blank rows"))
	}
	if s.Unsent > 0 {
		fmt.Fprintf(&b, ", %s not imported", Commas(s.Unsent))
	}
	if s.Report != "" {
		fmt.Fprintf(&b, "; report: %s", s.Report)
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return Commas(n) + " " + many
}

// Commas writes n with thousands separators: 12345 → "12,345".
func Commas(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// fileName is the name errors use for a file: its base name, which is what the
// person chose in a file dialog.
func fileName(path string) string { return filepath.Base(path) }
