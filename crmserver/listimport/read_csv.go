package listimport

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// textEncoding is how a CSV file's bytes are to be read.
type textEncoding int

const (
	encUTF8 textEncoding = iota
	encUTF8BOM
	encUTF16LE
	encUTF16BE
	encShiftJIS
)

func (e textEncoding) String() string {
	switch e {
	case encUTF8:
		return "UTF-8"
	case encUTF8BOM:
		return "UTF-8 with BOM"
	case encUTF16LE:
		return "UTF-16LE"
	case encUTF16BE:
		return "UTF-16BE"
	case encShiftJIS:
		return "Shift_JIS"
	}
	return fmt.Sprintf("textEncoding(%d)", int(e))
}

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// csvReader reads a CSV (or tab-separated) file in three passes over the same
// bytes: the first decides the encoding, the second parses the whole file so that
// a broken one fails before anything is imported (and counts its lines for
// progress), the third yields rows.
type csvReader struct {
	name     string
	rs       io.ReadSeeker
	closer   io.Closer
	enc      textEncoding
	comma    rune
	lastLine int

	cr      *csv.Reader
	prevEnd int // last line of the previous record: the lines after it up to the next record are blank
	queue   []row
	eof     bool
}

// newCSVReader checks the whole of rs and returns a reader positioned at its first
// row. name is the file's name, for error messages.
func newCSVReader(rs io.ReadSeeker, name string) (*csvReader, error) {
	r := &csvReader{name: name, rs: rs}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	enc, nulLine, err := sniffEncoding(rs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if nulLine > 0 {
		return nil, fmt.Errorf("%s line %d: %w: binary data (a NUL byte); this is not a CSV text file", name, nulLine, ErrMalformed)
	}
	r.enc = enc

	// Pass 2: parse everything once.
	cr, lines, err := r.start()
	if err != nil {
		return nil, err
	}
	for {
		if _, err := cr.Read(); err == io.EOF {
			break
		} else if err != nil {
			return nil, r.parseError(err)
		}
	}
	r.lastLine = lines.lines()

	// Pass 3 reads for real.
	if r.cr, _, err = r.start(); err != nil {
		return nil, err
	}
	return r, nil
}

// start rewinds and returns a CSV reader over the decoded text, choosing the
// separator on the first pass.
func (r *csvReader) start() (*csv.Reader, *lineCounter, error) {
	if _, err := r.rs.Seek(0, io.SeekStart); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", r.name, err)
	}
	var text io.Reader = r.rs
	switch r.enc {
	case encUTF8BOM:
		if _, err := io.CopyN(io.Discard, r.rs, int64(len(bomUTF8))); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", r.name, err)
		}
	case encUTF16LE:
		text = transform.NewReader(r.rs, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
	case encUTF16BE:
		text = transform.NewReader(r.rs, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder())
	case encShiftJIS:
		text = transform.NewReader(r.rs, japanese.ShiftJIS.NewDecoder())
	}
	lc := &lineCounter{r: text}
	br := bufio.NewReaderSize(lc, 64<<10)
	if r.comma == 0 {
		head, _ := br.Peek(64 << 10)
		r.comma = detectComma(head)
	}
	cr := csv.NewReader(br)
	cr.Comma = r.comma
	cr.FieldsPerRecord = -1 // hand-made lists are ragged; a short row is not an error
	return cr, lc, nil
}

// Next implements rowReader. Lines that encoding/csv skips because they are empty
// come back as blank rows, so that they are counted like any other.
func (r *csvReader) Next() (row, error) {
	for len(r.queue) == 0 {
		if r.eof {
			return row{}, io.EOF
		}
		rec, err := r.cr.Read()
		if err == io.EOF {
			r.eof = true
			r.blanksUpTo(r.lastLine + 1)
			continue
		}
		if err != nil {
			// Pass 2 read the same bytes without error; this is an I/O failure.
			return row{}, r.parseError(err)
		}
		start, _ := r.cr.FieldPos(0)
		r.blanksUpTo(start)
		last, _ := r.cr.FieldPos(len(rec) - 1)
		r.prevEnd = max(start, last+strings.Count(rec[len(rec)-1], "\n"))
		r.queue = append(r.queue, row{Line: start, Cells: rec, Problem: r.problem(rec)})
	}
	next := r.queue[0]
	r.queue = r.queue[1:]
	return next, nil
}

// blanksUpTo queues a blank row for each line after the previous record and
// before line.
func (r *csvReader) blanksUpTo(line int) {
	for l := r.prevEnd + 1; l < line; l++ {
		r.queue = append(r.queue, row{Line: l})
	}
	r.prevEnd = max(r.prevEnd, line-1)
}

// problem is the reason to reject a record whose text did not decode: the
// decoders turn bytes that are invalid in the encoding into U+FFFD, and a row of
// mojibake must not become a customer.
func (r *csvReader) problem(rec []string) string {
	for _, c := range rec {
		switch {
		case !utf8.ValidString(c):
			return "has bytes that are not valid UTF-8 (is the file in another encoding?)"
		case r.enc != encUTF8 && r.enc != encUTF8BOM && strings.ContainsRune(c, utf8.RuneError):
			return fmt.Sprintf("has bytes that are not valid %s (is the file in another encoding?)", r.enc)
		case strings.IndexByte(c, 0) >= 0:
			return "contains a NUL character"
		}
	}
	return ""
}

func (r *csvReader) parseError(err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	what := pe.Err.Error()
	switch {
	case errors.Is(pe.Err, csv.ErrQuote):
		what = `a quoted field has a stray " or is never closed (is the file cut short?)`
	case errors.Is(pe.Err, csv.ErrBareQuote):
		what = `a " inside a field that does not start with "; quote the field and double the " ("")`
	}
	if pe.StartLine != 0 && pe.StartLine != pe.Line {
		return fmt.Errorf("%s line %d: %w: %s (noticed on line %d)", r.name, pe.StartLine, ErrMalformed, what, pe.Line)
	}
	return fmt.Errorf("%s line %d: %w: %s", r.name, pe.Line, ErrMalformed, what)
}

// LastLine implements rowReader.
func (r *csvReader) LastLine() int { return r.lastLine }

// Describe implements rowReader.
func (r *csvReader) Describe() string {
	sep := "comma"
	switch r.comma {
	case '\t':
		sep = "tab"
	case ';':
		sep = "semicolon"
	}
	return fmt.Sprintf("CSV, %s, %s-separated", r.enc, sep)
}

// Close implements rowReader.
func (r *csvReader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// sniffEncoding reads all of r once. A BOM decides the encoding; otherwise the
// file is UTF-8 if all of it is valid UTF-8 (a prefix is not enough: a list can be
// ASCII for thousands of rows before the first name in Shift_JIS), else Shift_JIS.
// nulLine is the line of the first NUL byte in a byte-oriented encoding (a binary
// file), or 0.
func sniffEncoding(r io.Reader) (enc textEncoding, nulLine int, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		enc = encUTF8BOM
	case bytes.HasPrefix(head, bomUTF16LE):
		return encUTF16LE, 0, nil
	case bytes.HasPrefix(head, bomUTF16BE):
		return encUTF16BE, 0, nil
	}
	valid, line := true, 1
	var v utf8Validator
	buf := make([]byte, 64<<10)
	for {
		n, rerr := br.Read(buf)
		chunk := buf[:n]
		if i := bytes.IndexByte(chunk, 0); i >= 0 {
			return enc, line + bytes.Count(chunk[:i], []byte{'\n'}), nil
		}
		line += bytes.Count(chunk, []byte{'\n'})
		if valid {
			valid = v.write(chunk)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return enc, 0, rerr
		}
	}
	if enc == encUTF8BOM {
		return enc, 0, nil
	}
	if valid && v.end() {
		return encUTF8, 0, nil
	}
	return encShiftJIS, 0, nil
}

// utf8Validator checks a stream in chunks whose boundaries may split a character.
type utf8Validator struct{ carry []byte }

func (v *utf8Validator) write(p []byte) bool {
	if len(v.carry) > 0 {
		// Complete the split character with at most 3 bytes of p.
		k := min(len(p), utf8.UTFMax-len(v.carry))
		joined := append(v.carry, p[:k]...)
		if !utf8.FullRune(joined) {
			v.carry = joined
			return true
		}
		r, size := utf8.DecodeRune(joined)
		if r == utf8.RuneError && size <= 1 {
			return false
		}
		p = p[size-len(v.carry):]
		v.carry = v.carry[:0]
	}
	// Hold back a character cut off at the end of p.
	cut := len(p)
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				cut = i
			}
			break
		}
	}
	v.carry = append(v.carry, p[cut:]...)
	return utf8.Valid(p[:cut])
}

// end reports whether the stream did not end inside a character.
func (v *utf8Validator) end() bool { return len(v.carry) == 0 }

// detectComma picks the separator from the first non-blank line: Excel's "Unicode
// text" is tab-separated, European Excel writes semicolons, everyone else commas.
// Separators inside quotes do not count.
func detectComma(head []byte) rune {
	var line []byte
	for len(head) > 0 {
		i := bytes.IndexByte(head, '\n')
		if i < 0 {
			line, head = head, nil
		} else {
			line, head = head[:i], head[i+1:]
		}
		if len(bytes.TrimSpace(line)) > 0 {
			break
		}
	}
	counts := map[byte]int{}
	quoted := false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ',' || c == '\t' || c == ';'):
			counts[c]++
		}
	}
	switch {
	case counts['\t'] > counts[','] && counts['\t'] >= counts[';']:
		return '\t'
	case counts[';'] > counts[','] && counts[';'] > counts['\t']:
		return ';'
	}
	return ','
}

// lineCounter counts the lines of the text read through it, the way encoding/csv
// numbers them.
type lineCounter struct {
	r        io.Reader
	newlines int
	n        int64
	last     byte
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.newlines += bytes.Count(p[:n], []byte{'\n'})
		c.n += int64(n)
		c.last = p[n-1]
	}
	return n, err
}

// lines is the number of the last line: a final line without a newline counts.
func (c *lineCounter) lines() int {
	if c.n > 0 && c.last != '\n' {
		return c.newlines + 1
	}
	return c.newlines
}
