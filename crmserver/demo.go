package crmserver

import (
	"context"
	"fmt"
)

// DemoCallers returns up to n phone numbers (E.164), each held by exactly one
// customer who has orders and past calls, customers with the longest history
// first. "opdesk demo" rings the operator from these numbers, so the first
// screen pop a newcomer sees has a card, orders and history to show.
func (s *Store) DemoCallers(ctx context.Context, n int) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT p.e164 FROM customer_phones p
		WHERE (SELECT COUNT(*) FROM customer_phones q WHERE q.e164 = p.e164) = 1
		  AND EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = p.customer_id)
		  AND EXISTS (SELECT 1 FROM calls c WHERE c.customer_id = p.customer_id)
		ORDER BY (SELECT COUNT(*) FROM calls c WHERE c.customer_id = p.customer_id) DESC, p.customer_id
		LIMIT ?`, n)
	if err != nil {
		return nil, fmt.Errorf("demo callers: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, fmt.Errorf("demo callers: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
