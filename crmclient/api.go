package crmclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Login exchanges a user name and password for a bearer token, which the client
// keeps for later calls. A wrong password is an *APIError matching ErrUnauthorized
// with code invalid_credentials.
func (c *Client) Login(ctx context.Context, user, password string) (LoginResponse, error) {
	var out LoginResponse
	err := c.do(ctx, http.MethodPost, "/v1/login", nil, LoginRequest{User: user, Password: password}, &out)
	if err != nil {
		return LoginResponse{}, err
	}
	c.setToken(out.Token)
	return out, nil
}

// Me returns the logged-in user: the cheap way to check a kept token is still good.
func (c *Client) Me(ctx context.Context) (User, error) {
	var out User
	err := c.do(ctx, http.MethodGet, "/v1/me", nil, nil, &out)
	return out, err
}

// PutAgentState sets the caller's own state (ready, not_ready with a reason,
// on_call, acw) and returns it as stored, with the server's timestamp.
func (c *Client) PutAgentState(ctx context.Context, st AgentStateRequest) (AgentState, error) {
	var out AgentState
	err := c.do(ctx, http.MethodPut, "/v1/me/state", nil, st, &out)
	return out, err
}

// Agents lists every agent's state. Supervisors only: an agent gets ErrForbidden.
func (c *Client) Agents(ctx context.Context) ([]AgentState, error) {
	var out AgentList
	err := c.do(ctx, http.MethodGet, "/v1/agents", nil, nil, &out)
	return out.Agents, err
}

// LookupByPhone finds the customers a caller's number belongs to: none (a new
// caller), one (the usual screen pop) or several (a shared landline; the operator
// asks who is speaking). The number is normalised here with the client's default
// region, so an invalid one fails fast with ErrInvalidPhone and no round trip.
func (c *Client) LookupByPhone(ctx context.Context, phone string) ([]Customer, error) {
	e164, err := NormalizePhone(phone, c.region)
	if err != nil {
		return nil, err
	}
	var out CustomerList
	err = c.do(ctx, http.MethodGet, "/v1/customers", url.Values{"phone": {e164}}, nil, &out)
	return out.Customers, err
}

// SearchCustomers finds customers whose name or kana reading contains query.
// Hiragana, katakana and half-width katakana match each other, and spaces are
// ignored, so "さとう" finds "佐藤　陽子" (サトウ　ヨウコ).
func (c *Client) SearchCustomers(ctx context.Context, query string) ([]Customer, error) {
	var out CustomerList
	err := c.do(ctx, http.MethodGet, "/v1/customers", url.Values{"q": {query}}, nil, &out)
	return out.Customers, err
}

// GetCustomer returns one customer; ErrNotFound when there is none with that id.
func (c *Client) GetCustomer(ctx context.Context, id string) (Customer, error) {
	var out Customer
	err := c.do(ctx, http.MethodGet, "/v1/customers/"+url.PathEscape(id), nil, nil, &out)
	return out, err
}

// CreateCustomer adds a customer. Phones are normalised with the client's default
// region first, so what the operator typed is stored as the E.164 a lookup uses.
func (c *Client) CreateCustomer(ctx context.Context, in CustomerInput) (Customer, error) {
	in, err := c.normalizeInput(in)
	if err != nil {
		return Customer{}, err
	}
	var out Customer
	err = c.do(ctx, http.MethodPost, "/v1/customers", nil, in, &out)
	return out, err
}

// UpdateCustomer replaces every editable field of a customer (see CustomerInput).
func (c *Client) UpdateCustomer(ctx context.Context, id string, in CustomerInput) (Customer, error) {
	in, err := c.normalizeInput(in)
	if err != nil {
		return Customer{}, err
	}
	var out Customer
	err = c.do(ctx, http.MethodPut, "/v1/customers/"+url.PathEscape(id), nil, in, &out)
	return out, err
}

// Orders returns a customer's orders, newest first.
func (c *Client) Orders(ctx context.Context, customerID string) ([]Order, error) {
	var out OrderList
	err := c.do(ctx, http.MethodGet, "/v1/customers/"+url.PathEscape(customerID)+"/orders", nil, nil, &out)
	return out.Orders, err
}

// CallHistory returns a customer's past calls, newest first.
func (c *Client) CallHistory(ctx context.Context, customerID string) ([]CallEntry, error) {
	var out CallList
	err := c.do(ctx, http.MethodGet, "/v1/customers/"+url.PathEscape(customerID)+"/calls", nil, nil, &out)
	return out.Calls, err
}

// normalizeInput copies in with its phones in E.164; the caller's slice is not touched.
func (c *Client) normalizeInput(in CustomerInput) (CustomerInput, error) {
	phones := make([]string, 0, len(in.Phones))
	for i, p := range in.Phones {
		if strings.TrimSpace(p) == "" {
			continue
		}
		e, err := NormalizePhone(p, c.region)
		if err != nil {
			return in, fmt.Errorf("phones[%d]: %w", i, err)
		}
		phones = append(phones, e)
	}
	in.Phones = phones
	return in, nil
}
