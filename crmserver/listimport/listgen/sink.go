package listgen

import (
	"context"

	"github.com/opdesk/opdesk/crmserver"
)

// AcceptAll is an import sink that adds every row and keeps nothing, for
// measuring the importer's reading and checking without a store.
type AcceptAll struct{}

// ImportLeads reports every row as added.
func (AcceptAll) ImportLeads(_ context.Context, _ string, rows []crmserver.LeadRow) ([]crmserver.LeadResult, error) {
	out := make([]crmserver.LeadResult, len(rows))
	for i, r := range rows {
		out[i] = crmserver.LeadResult{Line: r.Line, Status: crmserver.LeadAdded}
	}
	return out, nil
}
