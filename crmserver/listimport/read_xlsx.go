package listimport

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"
)

// xlsxReader streams one sheet of a workbook with excelize's row iterator, which
// decodes the sheet's XML as it goes instead of building the whole sheet in memory
// (GetRows would). Cells come back as Excel displays them, number formats applied:
// that is what the person who made the list saw and checked.
type xlsxReader struct {
	name     string // file name, for errors
	sheet    string
	f        *excelize.File
	rows     *excelize.Rows
	line     int
	lastLine int
}

// xlsxStreamLimit is the size above which excelize unzips a sheet or the shared
// strings to a temporary file and streams from it instead of holding it in memory.
// Its default is 16 MB per part; a call list's sheet passes that at about 100,000
// rows, so a lower limit keeps memory flat for big lists at the price of a temp file.
const xlsxStreamLimit = 4 << 20

func openXLSX(path, sheet string) (*xlsxReader, error) {
	name := filepath.Base(path)
	f, err := excelize.OpenFile(path, excelize.Options{UnzipXMLSizeLimit: xlsxStreamLimit})
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, xlsxOpenError(name, err)
	}
	r := &xlsxReader{name: name, f: f}
	sheets := f.GetSheetList()
	switch {
	case len(sheets) == 0:
		f.Close()
		return nil, fmt.Errorf("%s: %w: the workbook has no sheets", name, ErrMalformed)
	case sheet == "":
		sheet = sheets[0]
	case !slices.Contains(sheets, sheet):
		f.Close()
		return nil, fmt.Errorf("%s: %w: no sheet named %q; the sheets are %s", name, ErrMapping, sheet, quoteList(sheets))
	}
	r.sheet = sheet
	if dim, err := f.GetSheetDimension(sheet); err == nil && dim != "" {
		// "A1:F100001": the used range, as the program that saved the file
		// recorded it. Only a hint for progress; it can be stale or "A1".
		_, end, _ := strings.Cut(dim, ":")
		if end == "" {
			end = dim
		}
		if _, last, err := excelize.CellNameToCoordinates(end); err == nil {
			r.lastLine = last
		}
	}
	if r.rows, err = f.Rows(sheet); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s sheet %q: %w: %v", name, sheet, ErrMalformed, err)
	}
	return r, nil
}

// xlsxOpenError says in words why a workbook does not open.
func xlsxOpenError(name string, err error) error {
	switch {
	case errors.Is(err, zip.ErrFormat), errors.Is(err, zip.ErrAlgorithm), errors.Is(err, zip.ErrChecksum),
		errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: %w: the workbook is damaged or not an .xlsx file (%v)", name, ErrMalformed, err)
	case errors.Is(err, excelize.ErrWorkbookFileFormat), errors.Is(err, excelize.ErrWorkbookPassword):
		return fmt.Errorf("%s: %w: the workbook is password-protected or not an .xlsx file; save it without a password", name, ErrMalformed)
	}
	return fmt.Errorf("%s: %w: the workbook cannot be read (%v)", name, ErrMalformed, err)
}

// Next implements rowReader. Rows the sheet does not have (nothing was ever typed
// there) come back as blank rows, numbered like Excel numbers them.
func (r *xlsxReader) Next() (row, error) {
	if !r.rows.Next() {
		if err := r.rows.Error(); err != nil {
			return row{}, fmt.Errorf("%s sheet %q after row %d: %w: %v", r.name, r.sheet, r.line, ErrMalformed, err)
		}
		return row{}, io.EOF
	}
	r.line++
	cells, err := r.rows.Columns()
	if err != nil {
		return row{}, fmt.Errorf("%s sheet %q row %d: %w: %v", r.name, r.sheet, r.line, ErrMalformed, err)
	}
	return row{Line: r.line, Cells: cells}, nil
}

// LastLine implements rowReader.
func (r *xlsxReader) LastLine() int { return r.lastLine }

// Describe implements rowReader.
func (r *xlsxReader) Describe() string { return fmt.Sprintf("Excel workbook, sheet %q", r.sheet) }

// Close implements rowReader; it removes excelize's temporary files.
func (r *xlsxReader) Close() error {
	var err error
	if r.rows != nil {
		err = r.rows.Close()
	}
	return errors.Join(err, r.f.Close())
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
