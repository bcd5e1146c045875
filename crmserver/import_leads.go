package crmserver

import (
	"context"
	"errors"
)

// LeadRow is one call-list row ready to become a lead: the importer has mapped the
// columns, trimmed the text and normalised the phone to E.164. Line is the row's
// line (CSV) or row number (XLSX) in the file, for the report.
type LeadRow struct {
	Line     int
	Phone    string            // E.164
	Name     string            // may be empty: the lead is then just a number
	NameKana string            // reading, katakana or hiragana
	Email    string            //
	Address  string            //
	Notes    string            //
	Fields   map[string]string // unmapped columns, kept on the lead for the preview card
}

// Lead import outcomes, one per row.
const (
	LeadAdded     = "added"     // a new lead (and, if no customer had the number, a new customer)
	LeadDuplicate = "duplicate" // the campaign already has a lead with this number
	LeadDNC       = "dnc"       // the number is on the do-not-call list
	LeadInvalid   = "invalid"   // a field the store refuses (validateCustomer's message in Reason)
)

// LeadResult is what became of one LeadRow.
type LeadResult struct {
	Line   int
	Status string // one of the Lead* outcomes
	Reason string // for people, for every status but LeadAdded
	LeadID string // for LeadAdded
}

// ErrNotImplemented is returned by store features that a later change fills in.
var ErrNotImplemented = errors.New("not implemented yet")

// ImportLeads adds rows to a campaign in one transaction per call: a number the
// campaign already has or that is on the DNC list is reported, not added; a row
// whose number matches an existing customer links to that customer (the first by
// id), otherwise a customer is created from the row. Results are in row order.
// The caller batches (a few thousand rows per call keeps transactions short).
func (s *Store) ImportLeads(ctx context.Context, campaignID string, rows []LeadRow) ([]LeadResult, error) {
	return nil, ErrNotImplemented
}
