package listimport

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// row is one row of the file as read, before any mapping.
type row struct {
	Line  int      // 1-based line (CSV) or row number (.xlsx), as a person finds it
	Cells []string // nil for a line with nothing on it
	// Problem, if set, rejects the row with this reason whatever its cells say
	// (bytes that are not valid in the file's encoding).
	Problem string
}

// rowReader yields the rows of one file or sheet in order.
type rowReader interface {
	// Next returns the next row, or io.EOF after the last one. Any other error
	// ends the import and names the file (and line, where there is one).
	Next() (row, error)
	// LastLine is the line or row number of the end of the file, for progress;
	// 0 when it is not known.
	LastLine() int
	// Describe says what was read, e.g. "CSV, Shift_JIS, comma-separated".
	Describe() string
	Close() error
}

// Magic numbers of the formats a call list arrives in by mistake or on purpose.
var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1} // .xls, or an encrypted .xlsx
)

// openRows opens path as .xlsx or CSV. The content decides, not the name: Excel
// users rename files, and a CSV called list.xlsx should fail clearly instead of
// deep inside a zip reader.
func openRows(path, sheet string) (rowReader, error) {
	name := filepath.Base(path)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	ext := strings.ToLower(filepath.Ext(path))
	switch {
	case bytes.HasPrefix(head, zipMagic):
		f.Close()
		return openXLSX(path, sheet)
	case bytes.HasPrefix(head, oleMagic):
		f.Close()
		return nil, fmt.Errorf("%s: %w: an old-format .xls or a password-protected workbook; save it from Excel as .xlsx (without a password) or as CSV", name, ErrMalformed)
	case ext == ".xlsx" || ext == ".xlsm":
		f.Close()
		return nil, fmt.Errorf("%s: %w: not an Excel workbook (an .xlsx file is a zip archive; this one is not)", name, ErrMalformed)
	case ext == ".xls":
		f.Close()
		return nil, fmt.Errorf("%s: %w: not an Excel workbook; save the list as .xlsx or CSV", name, ErrMalformed)
	}
	if sheet != "" {
		f.Close()
		return nil, fmt.Errorf("%s: %w: a sheet was named but a CSV file has no sheets", name, ErrMapping)
	}
	r, err := newCSVReader(f, name)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}
