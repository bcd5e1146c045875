package crmclient

import "time"

// Role says what a user may see. Agents see customers and their own state;
// supervisors also see every agent's state (and, in later slices, the team's calls).
type Role string

// Roles.
const (
	RoleAgent      Role = "agent"
	RoleSupervisor Role = "supervisor"
)

// Valid reports whether r is one of the documented roles.
func (r Role) Valid() bool { return r == RoleAgent || r == RoleSupervisor }

// User is a logged-in person as the CRM knows them. Name is the login name and the
// stable identifier; DisplayName is what colleagues and supervisors see.
type User struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name"`
	Role        Role     `json:"role"`
	Campaigns   []string `json:"campaigns"`
}

// LoginRequest is the body of POST /v1/login.
type LoginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// LoginResponse carries the bearer token for every later request. The token is shown
// once; the server keeps only its SHA-256, so a leaked database does not leak sessions.
type LoginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      User      `json:"user"`
}

// Status is an agent's availability, as the ACD and the supervisor wallboard see it.
type Status string

// Agent statuses. NotReady needs a reason (break, training, …) because supervisors
// ask "why" before anything else.
const (
	StatusReady    Status = "ready"
	StatusNotReady Status = "not_ready"
	StatusOnCall   Status = "on_call"
	StatusACW      Status = "acw" // after-call work: wrap-up until the disposition is saved
)

// Valid reports whether s is one of the documented statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusReady, StatusNotReady, StatusOnCall, StatusACW:
		return true
	}
	return false
}

// MaxSIPURI is the longest SIP URI the CRM stores for an agent (bytes).
const MaxSIPURI = 256

// AgentStateRequest is the body of PUT /v1/me/state. Reason is required with
// not_ready and refused with any other status.
//
// SIPURI is where the desktop can be reached: its address of record
// ("sip:op1@pbx.example.com"), to which a supervisor's desktop sends monitor
// INVITEs and whose user part fills PBX dial templates. It must be a sip: or
// sips: URI of at most MaxSIPURI bytes of visible ASCII (no spaces or control
// characters). Empty keeps the one stored before, so state changes need not
// repeat it.
type AgentStateRequest struct {
	State  Status `json:"state"`
	Reason string `json:"reason,omitempty"`
	SIPURI string `json:"sip_uri,omitempty"`
}

// AgentState is one agent's current status, since when, and the SIP URI their
// desktop last published ("" when it never did).
type AgentState struct {
	User        string    `json:"user"`
	DisplayName string    `json:"display_name"`
	State       Status    `json:"state"`
	Reason      string    `json:"reason,omitempty"`
	Since       time.Time `json:"since"`
	SIPURI      string    `json:"sip_uri,omitempty"`
}

// Customer is the card shown on a screen pop. Phones are E.164 ("+81312345678");
// a customer may have several (home, mobile) and a number may belong to several
// customers (a family landline), which is why lookup returns a list.
type Customer struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	NameKana  string    `json:"name_kana"`
	Phones    []string  `json:"phones"`
	Email     string    `json:"email"`
	Address   string    `json:"address"`
	Notes     string    `json:"notes"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CustomerInput is the body of POST /v1/customers and PUT /v1/customers/{id}.
// PUT replaces every field: an operator's form always sends the whole card, and a
// replace is easier to reason about than a merge when two people edit.
type CustomerInput struct {
	Name     string   `json:"name"`
	NameKana string   `json:"name_kana"`
	Phones   []string `json:"phones"`
	Email    string   `json:"email"`
	Address  string   `json:"address"`
	Notes    string   `json:"notes"`
}

// OrderStatus is where an order is in the shop's fulfilment.
type OrderStatus string

// Order statuses.
const (
	OrderOrdered   OrderStatus = "ordered"
	OrderShipped   OrderStatus = "shipped"
	OrderDelivered OrderStatus = "delivered"
	OrderCancelled OrderStatus = "cancelled"
	OrderReturned  OrderStatus = "returned"
)

// Valid reports whether s is one of the documented order statuses.
func (s OrderStatus) Valid() bool {
	switch s {
	case OrderOrdered, OrderShipped, OrderDelivered, OrderCancelled, OrderReturned:
		return true
	}
	return false
}

// OrderItem is one line of an order. Prices are whole yen: JPY has no minor unit.
type OrderItem struct {
	SKU          string `json:"sku"`
	Name         string `json:"name"`
	Quantity     int    `json:"quantity"`
	UnitPriceJPY int64  `json:"unit_price_jpy"`
}

// Order is one purchase. ShippedAt and DeliveredAt are nil until they happen; the
// intent hint ("shipped within 3 days → probably about delivery") reads them.
type Order struct {
	ID           string      `json:"id"`
	CustomerID   string      `json:"customer_id"`
	Items        []OrderItem `json:"items"`
	AmountJPY    int64       `json:"amount_jpy"`
	Status       OrderStatus `json:"status"`
	OrderedAt    time.Time   `json:"ordered_at"`
	ShippedAt    *time.Time  `json:"shipped_at,omitempty"`
	DeliveredAt  *time.Time  `json:"delivered_at,omitempty"`
	Subscription bool        `json:"subscription"`
}

// Direction of a call, seen from the center.
type Direction string

// Call directions.
const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// Valid reports whether d is one of the documented directions.
func (d Direction) Valid() bool { return d == Inbound || d == Outbound }

// CallEntry is one past call in a customer's history: what the next operator reads
// to continue where a colleague left off.
type CallEntry struct {
	ID              string    `json:"id"`
	CustomerID      string    `json:"customer_id"`
	StartedAt       time.Time `json:"started_at"`
	Agent           string    `json:"agent"`
	Direction       Direction `json:"direction"`
	DurationSeconds int       `json:"duration_seconds"`
	Disposition     string    `json:"disposition"`
	Notes           string    `json:"notes"`
}

// List envelopes. Lists are wrapped in an object so that paging fields can be added
// later without breaking clients that decode into these types.
type (
	// CustomerList is the answer of GET /v1/customers.
	CustomerList struct {
		Customers []Customer `json:"customers"`
	}
	// OrderList is the answer of GET /v1/customers/{id}/orders.
	OrderList struct {
		Orders []Order `json:"orders"`
	}
	// CallList is the answer of GET /v1/customers/{id}/calls.
	CallList struct {
		Calls []CallEntry `json:"calls"`
	}
	// AgentList is the answer of GET /v1/agents.
	AgentList struct {
		Agents []AgentState `json:"agents"`
	}
)
