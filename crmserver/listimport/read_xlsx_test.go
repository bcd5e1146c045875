package listimport

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/opdesk/opdesk/crmserver"
	"github.com/xuri/excelize/v2"
)

func TestXLSX(t *testing.T) {
	path := writeXLSX(t, "list.xlsx", []string{"表紙", "顧客"}, map[string][][]any{
		"表紙": {{"この表は顧客リストです"}},
		"顧客": {
			{"お名前", "ﾌﾘｶﾞﾅ", "ＴＥＬ", "会員ランク"},
			{"山田 太郎", "ヤマダ タロウ", 9012345678, "ゴールド"}, // a number: Excel dropped the 0
			nil, // a row never typed in
			{"鈴木 花子", "スズキ ハナコ", "06-6345-6789", ""},
			{"", "", "", ""},
			{"高橋 一郎", "タカハシ イチロウ", 312345678, "一般"},
		},
	})
	sink := newFakeSink()
	sum, err := runImport(t, sink, path, Options{Sheet: "顧客"})
	if err != nil {
		t.Fatal(err)
	}
	want := []crmserver.LeadRow{
		{Line: 2, Phone: "+819012345678", Name: "山田 太郎", NameKana: "ヤマダ タロウ", Fields: map[string]string{"会員ランク": "ゴールド"}},
		{Line: 4, Phone: "+81663456789", Name: "鈴木 花子", NameKana: "スズキ ハナコ"},
		{Line: 6, Phone: "+81312345678", Name: "高橋 一郎", NameKana: "タカハシ イチロウ", Fields: map[string]string{"会員ランク": "一般"}},
	}
	if len(sink.rows) != len(want) {
		t.Fatalf("rows %+v", sink.rows)
	}
	for i := range want {
		if g, w := sink.rows[i], want[i]; g.Line != w.Line || g.Phone != w.Phone || g.Name != w.Name || g.NameKana != w.NameKana || g.Fields["会員ランク"] != w.Fields["会員ランク"] {
			t.Errorf("row %d = %+v, want %+v", i, g, w)
		}
	}
	if wantSum := (Summary{Rows: 5, Added: 3, Blank: 2, Report: sum.Report}); sum != wantSum {
		t.Errorf("summary %+v, want %+v", sum, wantSum)
	}

	// The first sheet is the default: it has no phone column.
	_, err = runImport(t, newFakeSink(), path, Options{})
	if !errors.Is(err, ErrNoPhoneColumn) || !strings.Contains(err.Error(), "この表は顧客リストです") {
		t.Errorf("first sheet: %v", err)
	}
	_, err = runImport(t, newFakeSink(), path, Options{Sheet: "Sheet9"})
	if !errors.Is(err, ErrMapping) || !strings.Contains(err.Error(), `"表紙", "顧客"`) {
		t.Errorf("unknown sheet: %v", err)
	}
}

// Cells are read as Excel shows them: a number format that pads to 11 digits
// keeps the 0 that the stored number lacks.
func TestXLSXDisplayedText(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetRow("Sheet1", "A1", &[]any{"電話番号", "氏名"})
	f.SetSheetRow("Sheet1", "A2", &[]any{9012345678, "山田"})
	style, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("00000000000")})
	if err != nil {
		t.Fatal(err)
	}
	f.SetCellStyle("Sheet1", "A2", "A2", style)
	path := writeFile(t, "fmt.xlsx", nil)
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	r, err := openXLSX(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Next()
	row, err := r.Next()
	if err != nil || row.Cells[0] != "09012345678" {
		t.Errorf("row = %+v, %v; want the displayed 09012345678", row, err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestXLSXMalformed(t *testing.T) {
	junk := make([]byte, 4096)
	rnd := rand.New(rand.NewPCG(1, 1))
	for i := range junk {
		junk[i] = byte(rnd.UintN(256))
	}
	truncated := func() []byte {
		p := writeXLSX(t, "ok.xlsx", []string{"Sheet1"}, map[string][][]any{"Sheet1": {{"電話番号"}, {"03-1234-5678"}}})
		b := readAll(t, p)
		return append([]byte{}, b[:len(b)/2]...)
	}()
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"random bytes", junk, "not an Excel workbook"},
		{"truncated zip", truncated, "damaged or not an .xlsx"},
		{"old xls", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, junk...), "old-format .xls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runImport(t, newFakeSink(), writeFile(t, "顧客.xlsx", tc.data), Options{})
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if !strings.HasPrefix(err.Error(), "顧客.xlsx: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q: want the file name and %q", err, tc.want)
			}
		})
	}
}

// The sheet's recorded size, when the program that saved it wrote one (Excel
// does; excelize writes "A1"), is the progress total.
func TestXLSXProgressTotal(t *testing.T) {
	data := [][]any{{"電話番号"}}
	for i := range 10 {
		data = append(data, []any{"03-5555-01" + string(rune('0'+i/10)) + string(rune('0'+i%10))})
	}
	f := excelize.NewFile()
	for r, row := range data {
		cell, _ := excelize.CoordinatesToCellName(1, r+1)
		f.SetSheetRow("Sheet1", cell, &row)
	}
	if err := f.SetSheetDimension("Sheet1", "A1:A11"); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "dim.xlsx", nil)
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var totals []int
	_, err := runImport(t, newFakeSink(), path, Options{BatchSize: 3, Progress: func(done, total int) { totals = append(totals, total) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(totals) < 3 || slices.ContainsFunc(totals, func(n int) bool { return n != 10 }) {
		t.Errorf("progress totals %v, want 10 throughout", totals)
	}
}
