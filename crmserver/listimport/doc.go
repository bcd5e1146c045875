// Package listimport reads call lists that people make in Excel — CSV in any of
// the encodings Excel writes in Japan, or .xlsx — and adds them to a campaign as
// leads, reporting every row it did not add and why.
//
// The rule that shapes the package: nothing is dropped silently. Every data row of
// the file ends as exactly one of added, rejected (with a reason, in the report
// file) or blank (every cell empty, counted in the summary), and the tests assert
// rows = added + rejected + blank. A supervisor who imports 12,345 rows must be able
// to account for all of them.
//
// Reading streams: CSV through encoding/csv, .xlsx through excelize's row iterator,
// so a 100,000-row list does not sit in memory; rows go to the store in batches of
// a few thousand (Sink), each its own transaction. Three things run at once on
// their own goroutines — parsing the file (readahead.go), checking rows, and the
// store writing the previous batch (batch.go) — because on a two-core machine the
// store's transaction is most of the time and the rest can hide behind it. A CSV file is checked from end
// to end before the first batch is written, so a broken file (an unclosed quote,
// binary data) fails before half of it is in the campaign. An .xlsx is parsed by
// excelize when opened; what is left to fail later is a row, not the file.
//
// Encodings: Excel in Japan saves "CSV" as Shift_JIS (CP932), "CSV UTF-8" as UTF-8
// with a BOM and "Unicode text" as UTF-16 with a BOM and tabs. A BOM decides; a
// file without one that is valid UTF-8 is UTF-8, anything else is read as CP932
// (golang.org/x/text's ShiftJIS, which is CP932). A byte sequence that is not
// CP932 either rejects its row rather than importing mojibake.
//
// Phone numbers: Excel stores a column of numbers as numbers, so 090-1234-5678
// typed without hyphens becomes 9012345678 and the trunk 0 is gone. For region JP a
// value of 9–10 digits with no leading 0 and no country code is read with a 0 put
// back (every Japanese national number is 9–10 digits after the 0); other regions
// are not guessed at. Numbers are then normalised to E.164 with
// crmclient.NormalizePhone, and a number that appears twice in one file is added
// once: the later rows are rejected as "duplicate of line N".
//
// Columns are found from the header row, the first non-blank row: English and
// Japanese names (電話番号, 氏名, フリガナ …), compared after NFKC folding (full- and
// half-width alike), case folding and with spaces and punctuation removed. An
// explicit map (ParseMap, "phone=C,name=A") overrides them. Columns that map to no
// lead field are kept in LeadRow.Fields under their header, for the preview card.
package listimport
