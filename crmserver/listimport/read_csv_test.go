package listimport

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/opdesk/opdesk/crmserver"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
)

// listTmpl is one small call list, as people type it in Excel, with | for the
// separator; list is it as CSV.
const listTmpl = "氏名|フリガナ|電話番号|住所|備考\r\n" +
	"山田 太郎|ヤマダ タロウ|03-1234-5678|東京都新宿区西新宿2-8-1|\"午前中希望, 不在多い\"\r\n" +
	"鈴木 花子|スズキ ハナコ|090-2345-6789|大阪府大阪市北区梅田3-1-1|\r\n" +
	"高橋 一郎|ﾀｶﾊｼ ｲﾁﾛｳ|０６（６３４５）６７８９||\"二行の\r\nメモ\"\r\n"

var list = strings.ReplaceAll(listTmpl, "|", ",")

// wantLeads are the rows list must produce, whatever its encoding.
var wantLeads = []crmserver.LeadRow{
	{Line: 2, Phone: "+81312345678", Name: "山田 太郎", NameKana: "ヤマダ タロウ", Address: "東京都新宿区西新宿2-8-1", Notes: "午前中希望, 不在多い"},
	{Line: 3, Phone: "+819023456789", Name: "鈴木 花子", NameKana: "スズキ ハナコ", Address: "大阪府大阪市北区梅田3-1-1"},
	{Line: 4, Phone: "+81663456789", Name: "高橋 一郎", NameKana: "タカハシ イチロウ", Notes: "二行の\nメモ"},
}

func shiftJIS(t testing.TB, s string) []byte {
	t.Helper()
	b, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCSVEncodings(t *testing.T) {
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(strings.ReplaceAll(listTmpl, "|", "\t")))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, describe string
		data           []byte
	}{
		{"utf8", "CSV, UTF-8, comma-separated", []byte(list)},
		{"utf8-bom", "CSV, UTF-8 with BOM, comma-separated", append(append([]byte{}, bomUTF8...), list...)},
		{"shift-jis", "CSV, Shift_JIS, comma-separated", shiftJIS(t, list)},
		{"utf16-tabs", "CSV, UTF-16LE, tab-separated", utf16},
		{"utf8-tabs", "CSV, UTF-8, tab-separated", []byte(strings.ReplaceAll(listTmpl, "|", "\t"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := newCSVReader(bytes.NewReader(tc.data), "list.csv")
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Describe(); got != tc.describe {
				t.Errorf("Describe = %q, want %q", got, tc.describe)
			}
			sink := newFakeSink()
			sum, err := runImport(t, sink, writeFile(t, "list.csv", tc.data), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(sink.rows, wantLeads) {
				t.Errorf("rows:\n got %+v\nwant %+v", sink.rows, wantLeads)
			}
			if sum.Rows != 3 || sum.Added != 3 {
				t.Errorf("summary %+v", sum)
			}
		})
	}
}

// A file that is ASCII for longer than any prefix a sniffer would look at, and
// Shift_JIS after that, is Shift_JIS.
func TestCSVShiftJISLate(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("phone,name\n")
	for range 20000 {
		b.WriteString("03-1234-5678,Taro\n")
	}
	b.Write(shiftJIS(t, "06-6345-6789,山田 太郎\n"))
	r, err := newCSVReader(bytes.NewReader(b.Bytes()), "late.csv")
	if err != nil {
		t.Fatal(err)
	}
	if r.enc != encShiftJIS {
		t.Fatalf("encoding %v, want Shift_JIS", r.enc)
	}
	var last row
	for {
		rw, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		last = rw
	}
	if last.Line != 20002 || last.Cells[1] != "山田 太郎" || last.Problem != "" {
		t.Errorf("last row = %+v", last)
	}
}

func TestUTF8Validator(t *testing.T) {
	text := []byte("氏名,電話番号\n山田 太郎,03-1234-5678 😀\n")
	for split := range len(text) + 1 {
		var v utf8Validator
		if !v.write(text[:split]) || !v.write(text[split:]) || !v.end() {
			t.Fatalf("valid text split at %d judged invalid", split)
		}
	}
	sj := shiftJIS(t, "山田,03")
	for split := range len(sj) + 1 {
		var v utf8Validator
		if v.write(sj[:split]) && v.write(sj[split:]) && v.end() {
			t.Fatalf("Shift_JIS split at %d judged valid UTF-8", split)
		}
	}
	var v utf8Validator
	if !v.write([]byte("ab\xe5\xb1")) || v.end() {
		t.Error("a stream cut inside a character must not end valid")
	}
}

func TestCSVBlankLines(t *testing.T) {
	data := "\n\n電話番号,氏名\n03-1234-5678,山田\n\n,\n \t, \n090-2345-6789,鈴木\n\n"
	sink := newFakeSink()
	sum, err := runImport(t, sink, writeFile(t, "blank.csv", []byte(data)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Lines 5 (empty), 6 (","), 7 (spaces and tab) and 9 (empty) are blank; the
	// header is on line 3 after two blank lines that come before the data.
	want := Summary{Rows: 6, Added: 2, Blank: 4, Report: sum.Report}
	if sum != want {
		t.Errorf("summary %+v, want %+v", sum, want)
	}
	if len(sink.rows) != 2 || sink.rows[0].Line != 4 || sink.rows[1].Line != 8 {
		t.Errorf("rows %+v", sink.rows)
	}
}

func TestCSVMalformed(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		want []string // in the error message
	}{
		{"unclosed quote at the end", "電話番号,氏名\n03-1234-5678,山田\n090-2345-6789,\"鈴木", []string{"cut.csv line 3", "never closed"}},
		{"unclosed quote mid-file", "電話番号,氏名\n03-1234-5678,\"山田\n090-2345-6789,鈴木\n06-6345-6789,高橋\n", []string{"cut.csv line 2", "never closed"}},
		{"stray quote", "電話番号,氏名\n03-1234-5678,山\"田\n", []string{"cut.csv line 2", `a " inside a field`}},
		{"binary", "電話番号,氏名\n03-1234-5678,\x00\x01\x02\n", []string{"cut.csv line 2", "NUL", "not a CSV text file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := newFakeSink()
			_, err := runImport(t, sink, writeFile(t, "cut.csv", []byte(tc.data)), Options{})
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if sink.calls != 0 {
				t.Errorf("a broken file sent %d batches; it must fail before the first", sink.calls)
			}
		})
	}
}

// Bytes that are neither UTF-8 nor Shift_JIS reject their row, not the file.
func TestCSVUndecodableRow(t *testing.T) {
	data := append(shiftJIS(t, "電話番号,氏名\n03-1234-5678,山田\n"), []byte("090-2345-6789,\x82\xff\n")...)
	sink := newFakeSink()
	report := writeFile(t, "r.csv", nil)
	sum, err := runImport(t, sink, writeFile(t, "bad.csv", data), Options{Report: report})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Added != 1 || sum.Invalid != 1 {
		t.Fatalf("summary %+v", sum)
	}
	recs := readReport(t, report)
	if len(recs) != 2 || recs[1][0] != "3" || !strings.Contains(recs[1][1], "not valid Shift_JIS") {
		t.Errorf("report %q", recs)
	}
}

func TestDetectComma(t *testing.T) {
	for in, want := range map[string]rune{
		"a,b,c\n":               ',',
		"a\tb\tc\n":             '\t',
		"a;b;c\n":               ';',
		"\"a\tb\",c\n":          ',',
		"\n\n  \na\tb\n":        '\t',
		"single":                ',',
		"\"x,y,z\"\t\"q\"\tr\n": '\t',
	} {
		if got := detectComma([]byte(in)); got != want {
			t.Errorf("detectComma(%q) = %q, want %q", in, got, want)
		}
	}
}
