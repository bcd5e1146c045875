package crmclient

import (
	"slices"
	"strings"
	"time"
)

// Talk content: the FAQ, talk scripts and the hints shown on a customer card.

// FAQEntry is one question and its answer as operators see it (operator-facing: it
// may say "check the refund in the admin screen", which a customer page would not).
// Answer is Markdown.
type FAQEntry struct {
	ID        string    `json:"id"`
	Question  string    `json:"question"`
	Answer    string    `json:"answer"`
	Tags      []string  `json:"tags"`
	Category  string    `json:"category"`
	UpdatedAt time.Time `json:"updated_at"`
}

// FAQInput is the body of POST /v1/faq and PUT /v1/faq/{id} (supervisors only).
// PUT replaces every field.
type FAQInput struct {
	Question string   `json:"question"`
	Answer   string   `json:"answer"`
	Tags     []string `json:"tags"`
	Category string   `json:"category"`
}

// FAQList is the answer of GET /v1/faq.
type FAQList struct {
	Entries []FAQEntry `json:"entries"`
}

// Script is a talk script: a graph of nodes the operator walks through during a
// call, starting at Start. A node's Body is Markdown in spoken language and may hold
// fields such as {{customer.name}} (see RenderScript and ScriptFields); its Choices
// are the numbered branches ("1. 本人確認できた") leading to other nodes.
// Checklist is what the operator must tick during the call, e.g. the disclosures
// Japan's Specified Commercial Transactions Act requires at the start of a sales call.
type Script struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Start     string          `json:"start"`
	Nodes     []ScriptNode    `json:"nodes"`
	Checklist []ChecklistItem `json:"checklist"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// Node returns the node with the given id, or false.
func (s *Script) Node(id string) (ScriptNode, bool) {
	i := slices.IndexFunc(s.Nodes, func(n ScriptNode) bool { return n.ID == id })
	if i < 0 {
		return ScriptNode{}, false
	}
	return s.Nodes[i], true
}

// ScriptInput is the body of POST /v1/scripts and PUT /v1/scripts/{id}
// (supervisors only). On PUT, ID may be left empty; if given it must match the path.
type ScriptInput struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Start     string          `json:"start"`
	Nodes     []ScriptNode    `json:"nodes"`
	Checklist []ChecklistItem `json:"checklist"`
}

// ScriptNode is one step of a script.
type ScriptNode struct {
	ID      string         `json:"id"`
	Title   string         `json:"title"`
	Body    string         `json:"body"`
	Choices []ScriptChoice `json:"choices"`
}

// ScriptChoice is a numbered branch: the operator presses its number (1–9) to go to
// node Next.
type ScriptChoice struct {
	Label string `json:"label"`
	Next  string `json:"next"`
}

// ChecklistItem is one thing the operator confirms during the call. Required items
// must be ticked before the call can be wrapped up.
type ChecklistItem struct {
	ID       string `json:"id"`
	Label    string `json:"label"`
	LabelJA  string `json:"label_ja"`
	Required bool   `json:"required"`
}

// ScriptList is the answer of GET /v1/scripts: every script, whole, by id.
type ScriptList struct {
	Scripts []Script `json:"scripts"`
}

// HintKind says what a hint is for.
type HintKind string

// Hint kinds.
const (
	HintIntent    HintKind = "intent"     // the probable reason for the call
	HintCrossSell HintKind = "cross_sell" // a product the customer may want next
)

// Valid reports whether k is one of the documented kinds.
func (k HintKind) Valid() bool { return k == HintIntent || k == HintCrossSell }

// Hint is one banner line on a customer card, computed by the CRM from the
// customer's orders and the hint rules. OrderID names the order an intent hint is
// about; SKU and Share (0–1: the share of customers who bought the customer's product
// and then this one) come with cross-sell hints.
type Hint struct {
	Kind    HintKind `json:"kind"`
	Rule    string   `json:"rule"`
	Text    string   `json:"text"`
	TextJA  string   `json:"text_ja"`
	OrderID string   `json:"order_id,omitempty"`
	SKU     string   `json:"sku,omitempty"`
	Share   float64  `json:"share,omitempty"`
}

// HintList is the answer of GET /v1/customers/{id}/hints, most important first.
type HintList struct {
	Hints []Hint `json:"hints"`
}

// Hint rule conditions: the facts about a customer's orders the CRM knows how to
// test. Days is each rule's window.
const (
	CondOrderedNotShipped   = "ordered_not_shipped"   // an order placed within Days, not shipped yet
	CondShippedNotDelivered = "shipped_not_delivered" // shipped within Days, not delivered
	CondDelivered           = "delivered"             // delivered within Days
	CondSubscriptionActive  = "subscription_active"   // a subscription order within Days, not cancelled
	CondCancelledOrReturned = "cancelled_or_returned" // an order cancelled or returned within Days
	CondCoPurchase          = "co_purchase"           // cross-sell: bought A, not B; MinPercent of A's buyers bought B within Days
)

// HintRule is one rule, as data a team tunes (GET/PUT /v1/hint-rules). Text and
// TextJA are shown as they are, except in co_purchase rules, where {a} and {b} are
// replaced by product names and {share} by a percentage ("34%").
type HintRule struct {
	ID         string   `json:"id"`
	Kind       HintKind `json:"kind"`
	Condition  string   `json:"condition"`
	Days       int      `json:"days"`
	MinPercent int      `json:"min_percent"`
	Text       string   `json:"text"`
	TextJA     string   `json:"text_ja"`
}

// HintRuleList is the answer of GET /v1/hint-rules and the body of PUT, which
// replaces every rule; order is evaluation and display order.
type HintRuleList struct {
	Rules []HintRule `json:"rules"`
}

// Script field names, for ScriptFields and script authors.
const (
	FieldCustomerName     = "customer.name"
	FieldCustomerNameKana = "customer.name_kana"
	FieldAgentDisplayName = "agent.display_name"
	FieldCompanyName      = "company.name"
)

// ScriptFields returns the values of the standard script fields for a call: the
// customer (nil for an unknown caller, whose fields then stay visible as
// {{customer.name}} for the operator to ask), the operator and the shop.
func ScriptFields(customer *Customer, agent User, company string) map[string]string {
	v := map[string]string{FieldAgentDisplayName: agent.DisplayName, FieldCompanyName: company}
	if customer != nil {
		v[FieldCustomerName] = customer.Name
		v[FieldCustomerNameKana] = customer.NameKana
	}
	return v
}

// RenderScript fills {{field}} placeholders in a script text (spaces inside the
// braces are allowed: {{ customer.name }}). A field that vars does not hold stays
// in the text exactly as written, so the operator sees that something is missing
// rather than an empty gap, and is listed once in unknown, in order of first use.
// Values are inserted as they are and never expanded again, so a customer called
// "{{agent.display_name}}" cannot pull other fields in. An unclosed "{{" is text.
func RenderScript(text string, vars map[string]string) (string, []string) {
	var b strings.Builder
	var unknown []string
	for {
		open := strings.Index(text, "{{")
		if open < 0 {
			break
		}
		end := strings.Index(text[open+2:], "}}")
		if end < 0 {
			break
		}
		end += open + 2
		inner := text[open+2 : end]
		if i := strings.LastIndex(inner, "{{"); i >= 0 { // "{{ {{x}}": the last opening counts
			open += 2 + i
			inner = inner[i+2:]
		}
		b.WriteString(text[:open])
		name := strings.TrimSpace(inner)
		if v, ok := vars[name]; ok && name != "" {
			b.WriteString(v)
		} else {
			b.WriteString(text[open : end+2])
			if name != "" && !slices.Contains(unknown, name) {
				unknown = append(unknown, name)
			}
		}
		text = text[end+2:]
	}
	b.WriteString(text)
	return b.String(), unknown
}
