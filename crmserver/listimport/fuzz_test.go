package listimport

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCSV feeds arbitrary bytes through the whole CSV import (sniffing, decoding,
// header mapping, phone checks, batching, the report) with a fake store. Whatever
// the input: no panic; an error names the file; otherwise every row is accounted
// for, the report parses back with one row per rejection, and what reaches the
// store is valid UTF-8 without NUL (PostgreSQL refuses both) with an E.164 phone.
// Seeds: testdata/fuzz/FuzzCSV.
func FuzzCSV(f *testing.F) {
	f.Add([]byte(list))
	f.Add([]byte("電話番号\n03-1234-5678\n\n,\n090\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rr, err := newCSVReader(bytes.NewReader(data), "fuzz.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		sink := newFakeSink()
		im := &importer{name: "fuzz.csv", rr: rr, sink: sink, campaign: "c1", opt: Options{BatchSize: 3}}
		im.opt.defaults("fuzz.csv")
		if err := im.readHeader(); err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		var out bytes.Buffer
		if im.report, err = newReport(&out, im.layout.headers); err != nil {
			t.Fatal(err)
		}
		if err := im.run(context.Background()); err != nil {
			t.Fatalf("pass 2 accepted the file, pass 3 failed: %v", err)
		}
		if err := im.report.close(); err != nil {
			t.Fatal(err)
		}
		s := im.sum
		if s.Rows != s.Added+s.Rejected()+s.Blank || s.Unsent != 0 {
			t.Fatalf("counts do not add up: %+v", s)
		}
		cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(out.Bytes(), bomUTF8)))
		cr.FieldsPerRecord = -1
		recs, err := cr.ReadAll()
		if err != nil {
			t.Fatalf("report does not parse: %v", err)
		}
		if len(recs)-1 != s.Rejected() {
			t.Fatalf("report has %d rows, %d rejected", len(recs)-1, s.Rejected())
		}
		if len(sink.rows) != s.Added {
			t.Fatalf("store got %d rows, %d added", len(sink.rows), s.Added)
		}
		for _, r := range sink.rows {
			if !strings.HasPrefix(r.Phone, "+") {
				t.Fatalf("phone %q is not E.164", r.Phone)
			}
			vals := []string{r.Name, r.NameKana, r.Email, r.Address, r.Notes}
			for k, v := range r.Fields {
				vals = append(vals, k, v)
			}
			for _, v := range vals {
				if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
					t.Fatalf("line %d: %q reaches the store", r.Line, v)
				}
			}
		}
	})
}
