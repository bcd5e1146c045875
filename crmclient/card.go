package crmclient

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Card is what a screen pop shows for one calling number: the customers holding it
// (0: a new caller, 1: the card, more: a pick list), and for a single match their
// orders and call history.
type Card struct {
	Phone     string      `json:"phone"` // E.164
	Customers []Customer  `json:"customers"`
	Orders    []Order     `json:"orders,omitempty"`
	Calls     []CallEntry `json:"calls,omitempty"`
	FetchedAt time.Time   `json:"fetched_at"`
	// Stale is set when the CRM could not be reached and the card comes from the
	// local cache; FetchedAt says how old it is, StaleReason why the fresh one failed.
	Stale       bool   `json:"-"`
	StaleReason string `json:"-"`
}

// ScreenPop looks a calling number up and, when exactly one customer holds it,
// fetches their orders and calls. phone is normalised first (ErrInvalidPhone for
// garbage; "anonymous" and friends are not numbers either).
//
// With a card cache (WithCardCache) every fresh card is remembered, and when the
// CRM is unreachable or failing the last known card is returned
// with Stale set and a nil error, so the operator still sees who is calling. A
// number never seen before returns the error.
func (c *Client) ScreenPop(ctx context.Context, phone string) (Card, error) {
	e164, err := NormalizePhone(phone, c.region)
	if err != nil {
		return Card{}, err
	}
	card, err := c.fetchCard(ctx, e164)
	if err == nil {
		if c.cards != nil {
			c.cards.Put(ctx, card) // best effort: a full disk must not hide the card
		}
		return card, nil
	}
	// Any failure falls back, not only ErrUnavailable: a CRM answering 500 or
	// garbage, or a token that expired mid-shift, must not blank the card either.
	if c.cards != nil && !errors.Is(err, ErrInvalidPhone) {
		// The lookup may have failed because ctx ran out (a CRM that hangs);
		// the local cache still gets a moment of its own.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 200*time.Millisecond)
		defer cancel()
		if old, ok := c.cards.Get(cctx, e164); ok {
			old.Stale, old.StaleReason = true, err.Error()
			return old, nil
		}
	}
	return Card{}, err
}

func (c *Client) fetchCard(ctx context.Context, e164 string) (Card, error) {
	card := Card{Phone: e164, FetchedAt: time.Now().UTC()}
	cs, err := c.LookupByPhone(ctx, e164)
	if err != nil {
		return Card{}, err
	}
	card.Customers = cs
	if len(cs) != 1 {
		return card, nil
	}
	if card.Orders, err = c.Orders(ctx, cs[0].ID); err != nil {
		return Card{}, fmt.Errorf("screen pop orders: %w", err)
	}
	if card.Calls, err = c.CallHistory(ctx, cs[0].ID); err != nil {
		return Card{}, fmt.Errorf("screen pop calls: %w", err)
	}
	return card, nil
}
