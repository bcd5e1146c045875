package listimport

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

func TestAutoMap(t *testing.T) {
	for _, tc := range []struct {
		headers []string
		want    map[Field]int
		extra   []string
	}{
		{[]string{"氏名", "フリガナ", "電話番号", "メールアドレス", "住所", "備考"},
			map[Field]int{FieldName: 0, FieldKana: 1, FieldPhone: 2, FieldEmail: 3, FieldAddress: 4, FieldNotes: 5}, nil},
		{[]string{"お名前", "氏名（カナ）", "携帯", "メール", "ご住所", "メモ"},
			map[Field]int{FieldName: 0, FieldKana: 1, FieldPhone: 2, FieldEmail: 3, FieldAddress: 4, FieldNotes: 5}, nil},
		{[]string{"顧客名", "ﾌﾘｶﾞﾅ", "ＴＥＬ", "Ｅメール"}, // half-width kana, full-width Latin
			map[Field]int{FieldName: 0, FieldKana: 1, FieldPhone: 2, FieldEmail: 3}, nil},
		{[]string{" Name ", "Kana", "Phone Number", "E-mail", "Address", "Notes"},
			map[Field]int{FieldName: 0, FieldKana: 1, FieldPhone: 2, FieldEmail: 3, FieldAddress: 4, FieldNotes: 5}, nil},
		{[]string{"名前", "氏名 (フリガナ)", "TEL.", "会員ランク"},
			map[Field]int{FieldName: 0, FieldKana: 1, FieldPhone: 2}, []string{"会員ランク"}},
		// Two phone columns: the first is the phone, the second an extra field.
		{[]string{"電話番号1", "電話番号2", "氏名"},
			map[Field]int{FieldPhone: 0, FieldName: 2}, []string{"電話番号2"}},
		// Name in parts.
		{[]string{"姓", "名", "セイ", "メイ", "電話"},
			map[Field]int{fieldFamily: 0, fieldGiven: 1, fieldFamilyKana: 2, fieldGivenKana: 3, FieldPhone: 4}, nil},
		// Name in parts beside a whole name: the parts are extra fields.
		{[]string{"氏名", "姓", "名", "フリガナ", "セイ", "電話"},
			map[Field]int{FieldName: 0, FieldKana: 3, FieldPhone: 5}, []string{"姓", "名", "セイ"}},
		// Headers without names, and the same header twice, stay apart.
		{[]string{"電話", "", "区分", "区分"},
			map[Field]int{FieldPhone: 0}, []string{"(B)", "区分", "区分 (D)"}},
	} {
		l, err := newLayout("x.csv", 1, tc.headers, nil)
		if err != nil {
			t.Errorf("%q: %v", tc.headers, err)
			continue
		}
		if !maps.Equal(l.col, tc.want) {
			t.Errorf("%q: mapped %v, want %v", tc.headers, l.col, tc.want)
		}
		var extra []string
		for _, x := range l.extra {
			extra = append(extra, x.key)
		}
		if strings.Join(extra, "|") != strings.Join(tc.extra, "|") {
			t.Errorf("%q: extra %q, want %q", tc.headers, extra, tc.extra)
		}
	}
}

func TestNoPhoneColumn(t *testing.T) {
	_, err := newLayout("list.csv", 3, []string{"氏名", "住所", "番号"}, nil)
	if !errors.Is(err, ErrNoPhoneColumn) {
		t.Fatalf("err = %v", err)
	}
	for _, w := range []string{"list.csv line 3", `"氏名", "住所", "番号"`, "--map phone="} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

func TestParseMap(t *testing.T) {
	m, err := ParseMap("phone=C, name=A ,kana=フリガナ,")
	if err != nil {
		t.Fatal(err)
	}
	if want := (ColumnMap{FieldPhone: "C", FieldName: "A", FieldKana: "フリガナ"}); !maps.Equal(m, want) {
		t.Errorf("got %v, want %v", m, want)
	}
	for _, bad := range []string{"phone", "phone=", "mobile=C", "phone=C,phone=D", "=C"} {
		if _, err := ParseMap(bad); !errors.Is(err, ErrMapping) {
			t.Errorf("ParseMap(%q) = %v, want ErrMapping", bad, err)
		}
	}
}

func TestExplicitMap(t *testing.T) {
	headers := []string{"お客様", "よみ", "番号", "TEL", "連絡メモ"}
	for _, tc := range []struct {
		m    string
		want map[Field]int
		err  string
	}{
		// Letters and header names; unnamed fields are still found automatically,
		// but not in a column that --map took.
		{"phone=C,name=A,kana=B", map[Field]int{FieldPhone: 2, FieldName: 0, FieldKana: 1}, ""},
		{"phone=番号,name=お客様", map[Field]int{FieldPhone: 2, FieldName: 0}, ""},
		{"name=a", map[Field]int{FieldName: 0, FieldPhone: 3}, ""},
		// A header called TEL wins over column TEL.
		{"phone=tel,notes=E", map[Field]int{FieldPhone: 3, FieldNotes: 4}, ""},
		{"phone=Z", nil, "the header row has 5 columns (A to E)"},
		{"phone=電話", nil, `no such column; the headers are "お客様"`},
		{"phone=C,name=C", nil, "column C is mapped to both phone and name"},
	} {
		m, err := ParseMap(tc.m)
		if err != nil {
			t.Fatal(err)
		}
		l, err := newLayout("x.csv", 1, headers, m)
		if tc.err != "" {
			if !errors.Is(err, ErrMapping) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want %q", tc.m, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.m, err)
			continue
		}
		if !maps.Equal(l.col, tc.want) {
			t.Errorf("%s: mapped %v, want %v", tc.m, l.col, tc.want)
		}
	}
}

func TestHeaderNamesAreDistinct(t *testing.T) {
	// headerFields panics at init on a clash; this checks the table is reachable
	// and that every name folds to something.
	for f, names := range headerNames {
		for _, n := range names {
			if k := headerKey(n); k == "" || headerFields[k] != f {
				t.Errorf("%s: %q folds to %q → %q", f, n, k, headerFields[k])
			}
		}
	}
}

func TestColumnsString(t *testing.T) {
	l, err := newLayout("list.csv", 2, []string{"氏名", "ＴＥＬ", "会員ランク", "姓"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := l.describe("list.csv", "CSV, UTF-8, comma-separated", 2).String()
	want := "list.csv: CSV, UTF-8, comma-separated; header on line 2: phone=ＴＥＬ (B), name=氏名 (A); kept as fields: 会員ランク, 姓"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
