// Package listgen writes realistic Japanese call lists (.xlsx and CSV) of any
// size, for the importer's tests and benchmark and for trying the import by hand.
// Lists are deterministic for a given seed and contain, on purpose, the defects
// real lists have: numbers that are not numbers, numbers Excel stored as numbers
// (and so lost their leading 0), and the same customer twice.
package listgen

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Header is the header row of a generated list: what a shop's customer export
// typically has, including a column the importer keeps as an extra field (会員ランク).
var Header = []string{"氏名", "フリガナ", "電話番号", "メールアドレス", "住所", "備考", "会員ランク"}

// Options shape a list.
type Options struct {
	Rows        int        // data rows after the header
	Rand        *rand.Rand // default: a fixed seed
	InvalidRate float64    // fraction of rows whose number is not valid (default 0.02)
	DupRate     float64    // fraction of rows repeating an earlier number (default 0.01)
	NumberRate  float64    // fraction of valid numbers written as a bare number, Excel-style (default 0.05)
}

// Stats says what a generated list contains, so a test can demand exact counts.
type Stats struct {
	Rows       int
	Invalid    int // rows whose number no importer may accept
	Duplicates int // rows repeating the number of an earlier row
}

// Valid is the number of distinct valid numbers: what an import into an empty
// campaign must add.
func (s Stats) Valid() int { return s.Rows - s.Invalid - s.Duplicates }

type person struct{ kanji, kana string }

var surnames = []person{{"佐藤", "サトウ"}, {"鈴木", "スズキ"}, {"高橋", "タカハシ"}, {"田中", "タナカ"},
	{"伊藤", "イトウ"}, {"渡辺", "ワタナベ"}, {"山本", "ヤマモト"}, {"中村", "ナカムラ"}, {"小林", "コバヤシ"},
	{"加藤", "カトウ"}, {"吉田", "ヨシダ"}, {"山田", "ヤマダ"}, {"佐々木", "ササキ"}, {"山口", "ヤマグチ"},
	{"松本", "マツモト"}, {"井上", "イノウエ"}, {"木村", "キムラ"}, {"林", "ハヤシ"}, {"斎藤", "サイトウ"}, {"清水", "シミズ"}}

var givenNames = []person{{"翔太", "ショウタ"}, {"陽菜", "ヒナ"}, {"大輔", "ダイスケ"}, {"美咲", "ミサキ"},
	{"健一", "ケンイチ"}, {"さくら", "サクラ"}, {"拓也", "タクヤ"}, {"由美", "ユミ"}, {"誠", "マコト"},
	{"恵子", "ケイコ"}, {"一郎", "イチロウ"}, {"花子", "ハナコ"}, {"蓮", "レン"}, {"結衣", "ユイ"}}

var places = []string{"東京都新宿区西新宿2-8-1", "東京都世田谷区三軒茶屋1-2-3", "大阪府大阪市北区梅田3-1-1",
	"大阪府堺市堺区南瓦町3-1", "神奈川県横浜市中区本町6-50", "愛知県名古屋市中区三の丸3-1-1", "福岡県福岡市博多区博多駅前2-1"}

var notes = []string{"", "", "", "午前中希望", "前回不在", "折り返し希望", "法人契約あり", "要確認"}

var ranks = []string{"一般", "シルバー", "ゴールド", "プラチナ"}

// Invalid numbers as they appear in real lists.
var invalidNumbers = []string{"03-1234-567", "090-1234-56789", "未確認", "0120-12", "なし", "000-0000-0000"}

// rows produces the list one row at a time.
func rows(opt Options, emit func([]any) error) (Stats, error) {
	r := opt.Rand
	if r == nil {
		r = rand.New(rand.NewPCG(1, 2))
	}
	if opt.InvalidRate == 0 {
		opt.InvalidRate = 0.02
	}
	if opt.DupRate == 0 {
		opt.DupRate = 0.01
	}
	if opt.NumberRate == 0 {
		opt.NumberRate = 0.05
	}
	st := Stats{Rows: opt.Rows}
	used := make(map[string]bool, opt.Rows)
	var valid []string // national numbers written so far, for duplicates
	for i := 0; i < opt.Rows; i++ {
		s, g := surnames[r.IntN(len(surnames))], givenNames[r.IntN(len(givenNames))]
		var phone any
		switch p := r.Float64(); {
		case p < opt.InvalidRate:
			phone = invalidNumbers[r.IntN(len(invalidNumbers))]
			st.Invalid++
		case p < opt.InvalidRate+opt.DupRate && len(valid) > 0:
			phone = valid[r.IntN(len(valid))] // as written before: the same digits
			st.Duplicates++
		default:
			var digits string
			for {
				digits = nationalNumber(r)
				if !used[digits] {
					break
				}
			}
			used[digits] = true
			valid = append(valid, dashed(digits))
			if r.Float64() < opt.NumberRate {
				var n int64
				fmt.Sscan(digits[1:], &n) // what Excel keeps of 09012345678
				phone = n
			} else {
				phone = dashed(digits)
			}
		}
		rank := ranks[r.IntN(len(ranks))]
		mail := ""
		if r.IntN(3) == 0 {
			mail = fmt.Sprintf("customer%d@example.jp", i+1)
		}
		row := []any{s.kanji + " " + g.kanji, s.kana + " " + g.kana, phone, mail,
			places[r.IntN(len(places))], notes[r.IntN(len(notes))], rank}
		if err := emit(row); err != nil {
			return st, err
		}
	}
	return st, nil
}

// nationalNumber is a valid Tokyo (03), Osaka (06) or mobile (090/080) number
// with its 0, without separators.
func nationalNumber(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0:
		return fmt.Sprintf("03%d%07d", 2+r.IntN(8), r.IntN(10_000_000))
	case 1:
		return fmt.Sprintf("06%d%07d", 2+r.IntN(8), r.IntN(10_000_000))
	case 2:
		return fmt.Sprintf("090%d%07d", 1+r.IntN(9), r.IntN(10_000_000))
	}
	return fmt.Sprintf("080%d%07d", 1+r.IntN(9), r.IntN(10_000_000))
}

// dashed writes a national number the way people do: 03-1234-5678, 090-1234-5678.
func dashed(d string) string {
	if len(d) == 10 {
		return d[:2] + "-" + d[2:6] + "-" + d[6:]
	}
	return d[:3] + "-" + d[3:7] + "-" + d[7:]
}

// WriteXLSX writes a list as an .xlsx workbook with excelize's StreamWriter,
// which writes rows as they come instead of building the sheet in memory.
func WriteXLSX(path string, opt Options) (Stats, error) {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "顧客リスト"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return Stats{}, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return Stats{}, err
	}
	head := make([]any, len(Header))
	for i, h := range Header {
		head[i] = h
	}
	if err := sw.SetRow("A1", head); err != nil {
		return Stats{}, err
	}
	line := 1
	st, err := rows(opt, func(row []any) error {
		line++
		cell, _ := excelize.CoordinatesToCellName(1, line)
		return sw.SetRow(cell, row)
	})
	if err != nil {
		return st, err
	}
	if err := sw.Flush(); err != nil {
		return st, err
	}
	return st, f.SaveAs(path)
}

// WriteCSV writes a list as UTF-8 CSV (no BOM) to w.
func WriteCSV(w io.Writer, opt Options) (Stats, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(Header); err != nil {
		return Stats{}, err
	}
	rec := make([]string, len(Header))
	st, err := rows(opt, func(row []any) error {
		for i, v := range row {
			rec[i] = strings.TrimSpace(fmt.Sprint(v))
		}
		return cw.Write(rec)
	})
	if err != nil {
		return st, err
	}
	cw.Flush()
	return st, cw.Error()
}
