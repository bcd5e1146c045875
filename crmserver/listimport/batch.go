package listimport

import (
	"context"
	"fmt"

	"github.com/opdesk/opdesk/crmserver"
)

// Batches are double-buffered: while the store writes one (its own goroutine),
// the importer reads and checks the next. On two cores this hides the reading
// and the phone checks behind the store's transaction, which is the bulk of the
// time. At most one batch is at the store at a time, so the store sees batches in
// file order and a number's first row always reaches it first.

// outcome is what becomes of a row, before or after the store's answer.
type outcome int

const (
	outSend         outcome = iota // goes to the store, which decides
	outInvalidPhone                // no number, or not a valid one
	outDuplicate                   // an earlier row of the file has the number
	outInvalid                     // undecodable bytes
)

// batchRow is a row of a batch with what the report needs.
type batchRow struct {
	line   int
	cells  []string
	out    outcome
	reason string // for rows rejected here
}

// batch is a run of rows in file order: those for the store, and those rejected
// here, kept in place so that the report lists rows in the file's order.
type batch struct {
	rows  []batchRow
	leads []crmserver.LeadRow // the outSend rows, in order

	// Set by the goroutine that sends the batch, read after done is closed.
	res  []crmserver.LeadResult
	err  error
	done chan struct{}
}

func (b *batch) add(lead crmserver.LeadRow, cells []string) {
	b.rows = append(b.rows, batchRow{line: lead.Line, cells: cells, out: outSend})
	b.leads = append(b.leads, lead)
}

func (b *batch) reject(r row, out outcome, reason string) {
	b.rows = append(b.rows, batchRow{line: r.Line, cells: r.Cells, out: out, reason: reason})
}

// full: enough rows for the store, or so many rejected here that they should be
// written out rather than held (a list that is all invalid numbers).
func (b *batch) full(size int) bool {
	return len(b.leads) >= size || len(b.rows) >= 4*size
}

// send lands the batch at the store (waiting for it) and sends the current one
// on a goroutine of its own.
func (im *importer) send(ctx context.Context) error {
	if err := im.land(); err != nil {
		return err
	}
	b := im.cur
	im.cur = &batch{rows: make([]batchRow, 0, len(b.rows)), leads: make([]crmserver.LeadRow, 0, len(b.leads))}
	if len(b.rows) == 0 {
		return nil
	}
	b.done = make(chan struct{})
	im.flying = b
	if len(b.leads) == 0 {
		close(b.done) // nothing for the store
		return nil
	}
	go func() {
		defer close(b.done)
		b.res, b.err = im.sink.ImportLeads(ctx, im.campaign, b.leads)
	}()
	return nil
}

// land waits for the batch at the store, if any, and books every row of it. A
// batch the store failed on is counted as unsent and its error returned.
func (im *importer) land() error {
	b := im.flying
	if b == nil {
		return nil
	}
	<-b.done
	im.flying = nil
	err := b.err
	if err == nil && len(b.res) != len(b.leads) {
		err = fmt.Errorf("the CRM answered %d results for %d rows", len(b.res), len(b.leads))
	}
	for i := 0; err == nil && i < len(b.res); i++ {
		if b.res[i].Line != 0 && b.res[i].Line != b.leads[i].Line {
			err = fmt.Errorf("the CRM answered for line %d where line %d was expected", b.res[i].Line, b.leads[i].Line)
		}
	}
	if err != nil {
		im.sum.Unsent += len(b.rows)
		first, last := b.rows[0].line, b.rows[len(b.rows)-1].line
		if len(b.leads) > 0 {
			first, last = b.leads[0].Line, b.leads[len(b.leads)-1].Line
		}
		return fmt.Errorf("%s lines %d–%d: %w", im.name, first, last, err)
	}
	next := 0 // index into b.res
	for _, r := range b.rows {
		reason := r.reason
		switch r.out {
		case outInvalidPhone:
			im.sum.InvalidPhones++
		case outDuplicate:
			im.sum.Duplicates++
		case outInvalid:
			im.sum.Invalid++
		case outSend:
			res := b.res[next]
			next++
			switch res.Status {
			case crmserver.LeadAdded:
				im.sum.Added++
				continue
			case crmserver.LeadDuplicate:
				im.sum.Duplicates++
				reason = orDefault(res.Reason, "the campaign already has this number")
			case crmserver.LeadDNC:
				im.sum.DNC++
				reason = orDefault(res.Reason, "the number is on the do-not-call list")
			case crmserver.LeadInvalid:
				im.sum.Invalid++
				reason = orDefault(res.Reason, "the CRM refused the row")
			default:
				im.sum.Invalid++
				reason = fmt.Sprintf("the CRM answered %q", res.Status)
			}
		}
		if err := im.report.reject(r.line, reason, r.cells); err != nil {
			return err
		}
	}
	return nil
}
