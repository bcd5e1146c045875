package listimport

import "errors"

// Errors of the importer. Each is wrapped with the file name (and line, where there
// is one), so the message alone tells a person what to fix.
var (
	// ErrMalformed: the file cannot be read as CSV or .xlsx (unclosed quote,
	// binary data, a damaged or password-protected workbook).
	ErrMalformed = errors.New("malformed file")
	// ErrNoPhoneColumn: no column of the header row could be taken for the phone
	// number; the message lists the headers found.
	ErrNoPhoneColumn = errors.New("no phone number column")
	// ErrMapping: an explicit column map (--map) that does not fit the file or
	// names an unknown field.
	ErrMapping = errors.New("bad column map")
	// ErrEmpty: the file has no header row (nothing but blank lines).
	ErrEmpty = errors.New("the file is empty")
	// ErrRegion: Options.Region is not a region phone numbers are known for.
	ErrRegion = errors.New("unknown phone region")
)
