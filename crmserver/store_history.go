package crmserver

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// maxHistory bounds orders and calls returned per customer; a card shows the recent
// ones, and paging is for a later version of the contract.
const maxHistory = 200

// Orders returns a customer's orders, newest first; ErrNotFound if there is no such
// customer (an empty list means a customer without orders).
func (s *Store) Orders(ctx context.Context, customerID string) ([]crmclient.Order, error) {
	id, err := s.customerExists(ctx, customerID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, items, amount_jpy, status, ordered_at, shipped_at,
		delivered_at, subscription FROM orders WHERE customer_id = ? ORDER BY ordered_at DESC, id DESC LIMIT ?`,
		id, maxHistory)
	if err != nil {
		return nil, fmt.Errorf("orders: %w", err)
	}
	defer rows.Close()
	out := []crmclient.Order{}
	for rows.Next() {
		var (
			o                  crmclient.Order
			oid, ordered       int64
			shipped, delivered sql.NullInt64
		)
		if err := rows.Scan(&oid, jsonColumn{&o.Items}, &o.AmountJPY, &o.Status, &ordered, &shipped,
			&delivered, &o.Subscription); err != nil {
			return nil, fmt.Errorf("orders: %w", err)
		}
		o.ID, o.CustomerID = strconv.FormatInt(oid, 10), customerID
		o.OrderedAt, o.ShippedAt, o.DeliveredAt = unixTime(ordered), nullTime(shipped), nullTime(delivered)
		if o.Items == nil {
			o.Items = []crmclient.OrderItem{}
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// AddOrder stores an order for a customer (seed data and tests; the shop's own
// system feeds orders in production). ID and CustomerID of o are ignored.
func (s *Store) AddOrder(ctx context.Context, customerID string, o crmclient.Order) (crmclient.Order, error) {
	id, err := s.customerExists(ctx, customerID)
	if err != nil {
		return crmclient.Order{}, err
	}
	if err := validateOrder(o); err != nil {
		return crmclient.Order{}, err
	}
	var oid int64
	if err := s.db.QueryRowContext(ctx, insertOrderSQL+` RETURNING id`, orderArgs(id, o)...).Scan(&oid); err != nil {
		return crmclient.Order{}, fmt.Errorf("add order: %w", err)
	}
	o.ID, o.CustomerID = strconv.FormatInt(oid, 10), customerID
	return o, nil
}

const insertOrderSQL = `INSERT INTO orders (customer_id, items, amount_jpy, status, ordered_at, shipped_at,
	delivered_at, subscription) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`

func orderArgs(customerID int64, o crmclient.Order) []any {
	items, _ := json.Marshal(o.Items)
	return []any{customerID, string(items), o.AmountJPY, o.Status, o.OrderedAt.Unix(),
		optUnix(o.ShippedAt), optUnix(o.DeliveredAt), boolInt(o.Subscription)}
}

// boolInt stores a flag as 0 or 1, the one boolean form both databases share.
func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// optUnix stores an optional time as Unix seconds or NULL.
func optUnix(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.Unix()
}

func validateOrder(o crmclient.Order) error {
	switch {
	case !o.Status.Valid():
		return invalidf("order status %q is not one of ordered, shipped, delivered, cancelled, returned", o.Status)
	case o.OrderedAt.IsZero():
		return invalidf("order needs ordered_at")
	case o.AmountJPY < 0:
		return invalidf("order amount must not be negative")
	}
	return nil
}

// CallHistory returns a customer's calls, newest first; ErrNotFound if there is no
// such customer.
func (s *Store) CallHistory(ctx context.Context, customerID string) ([]crmclient.CallEntry, error) {
	id, err := s.customerExists(ctx, customerID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, started_at, agent, direction, duration_s, disposition, notes
		FROM calls WHERE customer_id = ? ORDER BY started_at DESC, id DESC LIMIT ?`, id, maxHistory)
	if err != nil {
		return nil, fmt.Errorf("calls: %w", err)
	}
	defer rows.Close()
	out := []crmclient.CallEntry{}
	for rows.Next() {
		var c crmclient.CallEntry
		var cid, started int64
		if err := rows.Scan(&cid, &started, &c.Agent, &c.Direction, &c.DurationSeconds, &c.Disposition,
			&c.Notes); err != nil {
			return nil, fmt.Errorf("calls: %w", err)
		}
		c.ID, c.CustomerID, c.StartedAt = strconv.FormatInt(cid, 10), customerID, unixTime(started)
		out = append(out, c)
	}
	return out, rows.Err()
}

// AddCall stores a past call (seed data and tests; later slices add calls through
// the idempotent call-log endpoint). ID and CustomerID of c are ignored.
func (s *Store) AddCall(ctx context.Context, customerID string, c crmclient.CallEntry) (crmclient.CallEntry, error) {
	id, err := s.customerExists(ctx, customerID)
	if err != nil {
		return crmclient.CallEntry{}, err
	}
	if !c.Direction.Valid() || c.StartedAt.IsZero() || c.DurationSeconds < 0 {
		return crmclient.CallEntry{}, invalidf("call needs direction inbound|outbound, started_at and a duration ≥ 0")
	}
	var cid int64
	if err := s.db.QueryRowContext(ctx, insertCallSQL+` RETURNING id`, id, c.StartedAt.Unix(), c.Agent, c.Direction,
		c.DurationSeconds, c.Disposition, c.Notes).Scan(&cid); err != nil {
		return crmclient.CallEntry{}, fmt.Errorf("add call: %w", err)
	}
	c.ID, c.CustomerID = strconv.FormatInt(cid, 10), customerID
	return c, nil
}

const insertCallSQL = `INSERT INTO calls (customer_id, started_at, agent, direction, duration_s, disposition, notes)
	VALUES (?, ?, ?, ?, ?, ?, ?)`

// customerExists resolves an id, so that history of an unknown customer is a 404
// rather than an empty list that looks like a customer with no history.
func (s *Store) customerExists(ctx context.Context, customerID string) (int64, error) {
	id, ok := parseID(customerID)
	if ok {
		err := s.db.QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = ?`, id).Scan(new(int))
		if err == nil {
			return id, nil
		}
		if err != sql.ErrNoRows {
			return 0, fmt.Errorf("customer %q: %w", customerID, err)
		}
	}
	return 0, fmt.Errorf("customer %q: %w", customerID, ErrNotFound)
}
