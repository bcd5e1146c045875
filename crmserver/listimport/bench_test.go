package listimport

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/opdesk/opdesk/crmserver/listimport/listgen"
)

// benchRows is the list size of the benchmarks; test/bench/import.sh runs the
// full 100,000 rows through the real store.
const benchRows = 20_000

func benchImport(b *testing.B, ext string) {
	dir := b.TempDir()
	path := filepath.Join(dir, "list."+ext)
	opt := listgen.Options{Rows: benchRows, Rand: rand.New(rand.NewPCG(1, 1))}
	var err error
	if ext == "xlsx" {
		_, err = listgen.WriteXLSX(path, opt)
	} else {
		var f *os.File
		if f, err = os.Create(path); err == nil {
			_, err = listgen.WriteCSV(f, opt)
			f.Close()
		}
	}
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		sum, err := Import(context.Background(), listgen.AcceptAll{}, "c1", path, Options{Report: filepath.Join(dir, "report.csv")})
		if err != nil || sum.Rows != benchRows {
			b.Fatalf("%+v, %v", sum, err)
		}
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkImportXLSX(b *testing.B) { benchImport(b, "xlsx") }
func BenchmarkImportCSV(b *testing.B)  { benchImport(b, "csv") }

// BenchmarkNormalizePhone is the per-row cost that dominates a CSV import.
func BenchmarkNormalizePhone(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := normalizePhone("090-1234-5678", "JP"); err != nil {
			b.Fatal(err)
		}
	}
}
