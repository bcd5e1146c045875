package listimport

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/unicode/norm"
)

// Field is a lead field that a column can be mapped to.
type Field string

// The fields of crmserver.LeadRow a column can fill, by the names --map uses.
const (
	FieldPhone   Field = "phone"
	FieldName    Field = "name"
	FieldKana    Field = "kana"
	FieldEmail   Field = "email"
	FieldAddress Field = "address"
	FieldNotes   Field = "notes"
)

// Name parts: Japanese lists often split 氏名 into 姓 and 名 (and the reading into
// セイ and メイ). They are found automatically and joined with a space when the
// list has no whole-name column; --map does not name them.
const (
	fieldFamily     Field = "family name"
	fieldGiven      Field = "given name"
	fieldFamilyKana Field = "family kana"
	fieldGivenKana  Field = "given kana"
)

// Fields lists the fields --map accepts, in the order help texts show them.
var Fields = []Field{FieldPhone, FieldName, FieldKana, FieldEmail, FieldAddress, FieldNotes}

// headerNames are the headers each field is recognised by, written as people write
// them; they are compared after headerKey, so "電話番号", "TEL", "Tel." and
// "ＴＥＬ" are all one entry.
var headerNames = map[Field][]string{
	FieldPhone: {"phone", "tel", "telephone", "phone number", "phone no", "tel no", "tel number",
		"mobile", "mobile phone", "cell", "cell phone", "電話番号", "電話", "携帯", "携帯電話",
		"携帯番号", "携帯電話番号", "連絡先", "連絡先電話番号", "TEL番号", "固定電話", "自宅電話", "自宅電話番号"},
	FieldName: {"name", "full name", "customer name", "customer", "contact name", "氏名", "名前",
		"お名前", "顧客名", "お客様名", "顧客氏名", "姓名", "契約者名"},
	FieldKana: {"kana", "furigana", "name kana", "kana name", "reading", "フリガナ", "ふりがな",
		"カナ", "かな", "氏名（カナ）", "氏名（フリガナ）", "氏名（ふりがな）", "名前（カナ）", "名前（フリガナ）",
		"お名前（カナ）", "お名前（フリガナ）", "顧客名（カナ）", "フリガナ氏名", "カナ氏名", "セイメイ",
		"よみがな", "ヨミガナ", "読み"},
	FieldEmail: {"email", "e-mail", "mail", "email address", "mail address", "メール",
		"メールアドレス", "Eメール", "Eメールアドレス", "電子メール"},
	FieldAddress: {"address", "住所", "ご住所", "所在地"},
	FieldNotes: {"notes", "note", "memo", "memos", "comment", "comments", "remarks", "備考",
		"メモ", "コメント", "特記事項", "備考欄"},
	fieldFamily:     {"family name", "last name", "surname", "姓", "苗字", "名字"},
	fieldGiven:      {"given name", "first name", "名"},
	fieldFamilyKana: {"family name kana", "last name kana", "セイ", "姓（カナ）", "姓（フリガナ）", "姓カナ"},
	fieldGivenKana:  {"given name kana", "first name kana", "メイ", "名（カナ）", "名（フリガナ）", "名カナ"},
}

// headerFields maps headerKey(name) to its field.
var headerFields = func() map[string]Field {
	m := map[string]Field{}
	for f, names := range headerNames {
		for _, n := range names {
			k := headerKey(n)
			if other, dup := m[k]; dup && other != f {
				panic(fmt.Sprintf("listimport: header %q is listed for %s and %s", n, other, f))
			}
			m[k] = f
		}
	}
	return m
}()

// headerKey folds a header for comparison: NFKC (full-width letters and digits to
// ASCII, half-width katakana to full-width), lower case, and nothing but letters
// and digits, so spaces, brackets, hyphens and "※" do not matter.
func headerKey(s string) string {
	s = strings.ToLower(norm.NFKC.String(s))
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}

// ColumnMap is an explicit mapping from fields to columns, as given with --map.
// A column is a header as written in the file or a column letter (A, B, … AA).
type ColumnMap map[Field]string

// ParseMap parses "phone=C,name=A,kana=フリガナ". It fails on unknown fields and on
// a field given twice.
func ParseMap(s string) (ColumnMap, error) {
	m := ColumnMap{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		f := Field(strings.ToLower(strings.TrimSpace(k)))
		v = strings.TrimSpace(v)
		switch {
		case !ok || v == "":
			return nil, fmt.Errorf("%w: %q is not FIELD=COLUMN", ErrMapping, part)
		case !slices.Contains(Fields, f):
			return nil, fmt.Errorf("%w: unknown field %q (the fields are %s)", ErrMapping, k, fieldList())
		}
		if _, dup := m[f]; dup {
			return nil, fmt.Errorf("%w: %s is mapped twice", ErrMapping, f)
		}
		m[f] = v
	}
	return m, nil
}

func fieldList() string {
	s := make([]string, len(Fields))
	for i, f := range Fields {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

// layout is where each field is in the rows of one file.
type layout struct {
	headers []string      // as in the file, trimmed
	col     map[Field]int // 0-based column of each mapped field
	extra   []extraColumn // every other column, for LeadRow.Fields
}

type extraColumn struct {
	col int
	key string
}

// newLayout maps the header row to fields: explicit entries first, then the
// headers it recognises, left to right (the first phone column is the phone; a
// second one is kept as an extra field).
func newLayout(name string, line int, headers []string, explicit ColumnMap) (*layout, error) {
	l := &layout{col: map[Field]int{}}
	for _, h := range headers {
		l.headers = append(l.headers, strings.TrimSpace(h))
	}
	used := map[int]Field{}
	for _, f := range Fields { // fixed order, so errors do not depend on map order
		ref, ok := explicit[f]
		if !ok {
			continue
		}
		c, err := l.findColumn(ref)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w: %s=%s: %v", name, line, ErrMapping, f, ref, err)
		}
		if other, taken := used[c]; taken {
			return nil, fmt.Errorf("%s line %d: %w: column %s is mapped to both %s and %s", name, line, ErrMapping, columnName(c), other, f)
		}
		l.col[f], used[c] = c, f
	}
	for c, h := range l.headers {
		if _, taken := used[c]; taken {
			continue
		}
		k := headerKey(h)
		f, ok := headerFields[k]
		if !ok {
			// "電話番号2", "TEL1": a numbered column of a known kind.
			f, ok = headerFields[strings.TrimRightFunc(k, unicode.IsDigit)]
		}
		if _, done := l.col[f]; !ok || done {
			continue
		}
		if _, byHand := explicit[f]; byHand {
			continue
		}
		l.col[f], used[c] = c, f
	}
	// Name parts only stand in for a missing whole name; beside one they are
	// ordinary extra columns, not data to drop.
	for whole, parts := range map[Field][]Field{FieldName: {fieldFamily, fieldGiven}, FieldKana: {fieldFamilyKana, fieldGivenKana}} {
		if _, ok := l.col[whole]; ok {
			for _, p := range parts {
				if c, ok := l.col[p]; ok {
					delete(used, c)
					delete(l.col, p)
				}
			}
		}
	}
	if _, ok := l.col[FieldPhone]; !ok {
		return nil, fmt.Errorf("%s line %d: %w among the headers %s; name it with --map phone=COLUMN",
			name, line, ErrNoPhoneColumn, quoteList(l.headers))
	}
	keys := map[string]bool{}
	for c, h := range l.headers {
		if _, taken := used[c]; taken {
			continue
		}
		k := h
		if k == "" || keys[k] {
			k = strings.TrimSpace(h + " (" + columnName(c) + ")")
		}
		keys[k] = true
		l.extra = append(l.extra, extraColumn{col: c, key: k})
	}
	return l, nil
}

// findColumn resolves a --map column: a header of the file wins over a column
// letter, so a header called "TEL" is the header and not column TEL.
func (l *layout) findColumn(ref string) (int, error) {
	for c, h := range l.headers {
		if h == ref {
			return c, nil
		}
	}
	k := headerKey(ref)
	for c, h := range l.headers {
		if k != "" && headerKey(h) == k {
			return c, nil
		}
	}
	if isColumnLetters(ref) {
		n, err := excelize.ColumnNameToNumber(ref)
		if err == nil {
			if n > len(l.headers) {
				return 0, fmt.Errorf("the header row has %d columns (A to %s)", len(l.headers), columnName(len(l.headers)-1))
			}
			return n - 1, nil
		}
	}
	return 0, fmt.Errorf("no such column; the headers are %s", quoteList(l.headers))
}

func isColumnLetters(s string) bool {
	if len(s) == 0 || len(s) > 3 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}

// columnName is the spreadsheet letter of a 0-based column.
func columnName(c int) string {
	s, err := excelize.ColumnNumberToName(c + 1)
	if err != nil {
		return fmt.Sprintf("#%d", c+1)
	}
	return s
}

// cell is the trimmed text of a field's column in cells, "" if unmapped or absent.
func (l *layout) cell(cells []string, f Field) string {
	c, ok := l.col[f]
	if !ok || c >= len(cells) {
		return ""
	}
	return strings.TrimSpace(cells[c])
}

// Columns says what was read and how its columns were mapped.
type Columns struct {
	File       string   // base name
	Format     string   // "CSV, Shift_JIS, comma-separated", `Excel workbook, sheet "顧客"`
	HeaderLine int      // line or row of the header
	Mapped     []string // "phone=電話番号 (C)", in Fields order
	Extra      []string // headers kept as extra fields
}

// String is one line for a person: what the file is and where each field comes from.
func (c Columns) String() string {
	s := fmt.Sprintf("%s: %s; header on line %d: %s", c.File, c.Format, c.HeaderLine, strings.Join(c.Mapped, ", "))
	if len(c.Extra) > 0 {
		s += "; kept as fields: " + strings.Join(c.Extra, ", ")
	}
	return s
}

func (l *layout) describe(file, format string, line int) Columns {
	c := Columns{File: file, Format: format, HeaderLine: line}
	for _, f := range append(slices.Clone(Fields), fieldFamily, fieldGiven, fieldFamilyKana, fieldGivenKana) {
		if col, ok := l.col[f]; ok {
			c.Mapped = append(c.Mapped, fmt.Sprintf("%s=%s (%s)", f, l.headers[col], columnName(col)))
		}
	}
	for _, x := range l.extra {
		c.Extra = append(c.Extra, x.key)
	}
	return c
}
