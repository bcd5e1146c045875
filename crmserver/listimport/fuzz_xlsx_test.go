package listimport

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzXLSX feeds arbitrary bytes as a workbook through the whole import: no
// panic (excelize parses zip and XML it did not write), an error names the
// file, and otherwise every row is accounted for. Seeds: small workbooks as
// Excel and excelize write them, and testdata/fuzz/FuzzXLSX.
func FuzzXLSX(f *testing.F) {
	for _, sheets := range []map[string][][]any{
		{"Sheet1": {{"電話番号", "氏名"}, {"03-1234-5678", "山田 太郎"}, {"090-1234-5678", "佐藤 花子"}}},
		{"Sheet1": {{"phone"}, {int64(312345678)}, {""}, {"+81 3 1234 5678"}}},
		{"Sheet1": {{"電話番号", "メモ"}, {"0312345678", "\x1b]0;pwned\x07"}}},
	} {
		f.Add(readAll(f, writeXLSX(f, "seed.xlsx", []string{"Sheet1"}, sheets)))
	}
	// One file per fuzzing process, rewritten for each input (see FuzzLoadFile).
	path := filepath.Join(f.TempDir(), "fuzz.xlsx")
	report := filepath.Join(f.TempDir(), "report.csv")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		sum, err := Import(context.Background(), newFakeSink(), "c1", path, Options{Report: report, BatchSize: 3})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.xlsx") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		checkSum(t, sum)
	})
}
