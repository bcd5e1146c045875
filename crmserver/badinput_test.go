package crmserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/opdesk/opdesk/crmclient"
)

// rawCall sends a request as a hostile or buggy client would, bypassing crmclient.
func rawCall(t *testing.T, crm *testCRM, method, path, token, contentType string, body []byte) (int, http.Header, crmclient.ErrorBody) {
	t.Helper()
	req, err := http.NewRequest(method, crm.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := crm.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var eb crmclient.ErrorBody
	if resp.StatusCode >= 400 {
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s %s: error with Content-Type %q", method, path, ct)
		}
		if err := json.Unmarshal(data, &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
			t.Errorf("%s %s: error body %q is not {\"error\":{code,message}}", method, path, data)
		}
	}
	return resp.StatusCode, resp.Header, eb
}

// TestBadInput: every kind of bad request gets the right 4xx with a message that
// says what is wrong, and the server answers normally right after each one.
func TestBadInput(t *testing.T) {
	crm := newTestCRM(t, 200)
	ctx := context.Background()
	agent := crm.client(t, "agent1")
	fx := addFixtures(t, agent)
	bearer := "Bearer " + agent.Token()

	other := newTestCRM(t, 0) // a second CRM: its tokens mean nothing here
	foreign := "Bearer " + other.client(t, "agent1").Token()

	big := append([]byte(`{"name":"x","notes":"`), bytes.Repeat([]byte("あ"), 700_000)...) // ≈2 MB
	big = append(big, `"}`...)
	huge := append([]byte(`{"campaign_id":"inbound","code":"other","notes":"`), bytes.Repeat([]byte("x"), 10<<20)...) // 10 MB
	huge = append(huge, `"}`...)

	tests := []struct {
		name, method, path, token, ct, body string
		raw                                 []byte
		status                              int
		code, msg                           string
	}{
		{"truncated JSON", "POST", "/v1/customers", bearer, "application/json", `{"name":`, nil, 400, "invalid_json", "ends in the middle"},
		{"syntax error", "POST", "/v1/customers", bearer, "", `{"name": "x",}`, nil, 400, "invalid_json", "malformed JSON at byte"},
		{"not JSON", "POST", "/v1/customers", bearer, "", `name=x`, nil, 400, "invalid_json", "malformed JSON"},
		{"number for string", "POST", "/v1/customers", bearer, "", `{"name": 123}`, nil, 400, "invalid_json", `field "name" must be a string, not number`},
		{"string for array", "POST", "/v1/customers", bearer, "", `{"name":"x","phones":"03-1234-5678"}`, nil, 400, "invalid_json", `field "phones" must be an array, not string`},
		{"unknown field", "POST", "/v1/customers", bearer, "", `{"name":"x","age":3}`, nil, 400, "invalid_json", `unknown field "age"`},
		{"array body", "POST", "/v1/customers", bearer, "", `[]`, nil, 400, "invalid_json", "must be a JSON object, not array"},
		{"empty body", "POST", "/v1/customers", bearer, "", ``, nil, 400, "invalid_json", "body is empty"},
		{"two objects", "POST", "/v1/customers", bearer, "", `{"name":"x"}{"name":"y"}`, nil, 400, "invalid_json", "exactly one JSON object"},
		{"2 MB body", "POST", "/v1/customers", bearer, "", "", big, 413, "body_too_large", "larger than 1048576 bytes"},
		{"2 MB login", "POST", "/v1/login", "", "", "", big, 413, "body_too_large", "1 MiB"},
		{"10 MB agent state", "PUT", "/v1/me/state", bearer, "", "", huge, 413, "body_too_large", "larger than"},
		{"10 MB customer", "POST", "/v1/customers", bearer, "", "", huge, 413, "body_too_large", "larger than"},
		{"text/plain", "POST", "/v1/customers", bearer, "text/plain", `{"name":"x"}`, nil, 415, "unsupported_media", "application/json"},
		{"invalid phone in card", "POST", "/v1/customers", bearer, "", `{"name":"x","phones":["12"]}`, nil, 400, "invalid_phone", "phones[0]"},
		{"empty name", "POST", "/v1/customers", bearer, "", `{"name":"  "}`, nil, 400, "invalid_request", "name is required"},
		{"bad email", "PUT", "/v1/customers/" + fx.solo.ID, bearer, "", `{"name":"x","email":"nope"}`, nil, 400, "invalid_request", "email"},
		{"too many phones", "POST", "/v1/customers", bearer, "", `{"name":"x","phones":["1","2","3","4","5","6","7","8","9","10","11"]}`, nil, 400, "invalid_request", "at most 10"},
		{"invalid phone lookup", "GET", "/v1/customers?phone=abc", bearer, "", "", nil, 400, "invalid_phone", `"abc"`},
		{"short phone lookup", "GET", "/v1/customers?phone=03-1234", bearer, "", "", nil, 400, "invalid_phone", "not a valid number"},
		{"phone and q", "GET", "/v1/customers?phone=0312345678&q=x", bearer, "", "", nil, 400, "invalid_request", "exactly one"},
		{"neither phone nor q", "GET", "/v1/customers", bearer, "", "", nil, 400, "invalid_request", "exactly one"},
		{"blank q", "GET", "/v1/customers?q=%E3%80%80", bearer, "", "", nil, 400, "invalid_request", "empty"},
		{"bad limit", "GET", "/v1/customers?q=a&limit=0", bearer, "", "", nil, 400, "invalid_request", "limit"},
		{"semicolon in query", "GET", "/v1/customers?q=a&limit=1;DROP", bearer, "", "", nil, 400, "invalid_request", "malformed query"},
		{"limit not a number", "GET", "/v1/customers?q=a&limit=ten", bearer, "", "", nil, 400, "invalid_request", "limit"},
		{"unknown customer", "GET", "/v1/customers/999999999", bearer, "", "", nil, 404, "not_found", "999999999"},
		{"SQL in id", "GET", "/v1/customers/1%20OR%201=1", bearer, "", "", nil, 404, "not_found", "not found"},
		{"missing token", "GET", "/v1/me", "", "", "", nil, 401, "unauthorized", "missing bearer token"},
		{"foreign token", "GET", "/v1/customers/1", foreign, "", "", nil, 401, "unauthorized", "unknown or expired"},
		{"garbage token", "GET", "/v1/me", "Bearer ' OR 1=1 --", "", "", nil, 401, "unauthorized", "unknown or expired"},
		{"basic auth", "GET", "/v1/me", "Basic YWdlbnQxOmFnZW50MS1kZW1v", "", "", nil, 401, "unauthorized", "Bearer <token>"},
		{"agent reads agents", "GET", "/v1/agents", bearer, "", "", nil, 403, "forbidden", "supervisor"},
		{"bad state", "PUT", "/v1/me/state", bearer, "", `{"state":"sleeping"}`, nil, 400, "invalid_request", "ready, not_ready"},
		{"not_ready without reason", "PUT", "/v1/me/state", bearer, "", `{"state":"not_ready"}`, nil, 400, "invalid_request", "reason is required"},
		{"reason with ready", "PUT", "/v1/me/state", bearer, "", `{"state":"ready","reason":"x"}`, nil, 400, "invalid_request", "only allowed"},
		{"wrong password", "POST", "/v1/login", "", "", `{"user":"agent1","password":"nope"}`, nil, 401, "invalid_credentials", "wrong user name or password"},
		{"unknown user", "POST", "/v1/login", "", "", `{"user":"' OR 1=1 --","password":"x"}`, nil, 401, "invalid_credentials", "wrong user name or password"},
		{"login wrong type", "POST", "/v1/login", "", "", `{"user":1,"password":"x"}`, nil, 400, "invalid_json", `field "user" must be a string`},
		{"login empty", "POST", "/v1/login", "", "", `{}`, nil, 400, "invalid_request", "required"},
		{"method not allowed", "DELETE", "/v1/customers/1", bearer, "", "", nil, 405, "method_not_allowed", "GET, PUT"},
		{"unknown route", "GET", "/v2/customers", bearer, "", "", nil, 404, "not_found", "/openapi.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.raw
			if body == nil {
				body = []byte(tt.body)
			}
			status, hdr, eb := rawCall(t, crm, tt.method, tt.path, tt.token, tt.ct, body)
			if status != tt.status || eb.Error.Code != tt.code || !strings.Contains(eb.Error.Message, tt.msg) {
				t.Errorf("got %d %s %q; want %d %s containing %q", status, eb.Error.Code, eb.Error.Message, tt.status, tt.code, tt.msg)
			}
			if status == 401 && hdr.Get("WWW-Authenticate") == "" && tt.code == "unauthorized" {
				t.Error("401 without WWW-Authenticate")
			}
			if status == 405 && hdr.Get("Allow") != "GET, PUT" {
				t.Errorf("Allow = %q", hdr.Get("Allow"))
			}
			if _, err := agent.Me(ctx); err != nil {
				t.Fatalf("server stopped serving after %s: %v", tt.name, err)
			}
		})
	}
}

// TestSQLishSearch: search text is data, never SQL or a LIKE pattern.
func TestSQLishSearch(t *testing.T) {
	crm := newTestCRM(t, 500)
	ctx := context.Background()
	agent := crm.client(t, "agent1")
	before, err := crm.st.SearchCustomers(ctx, "サ", maxSearchLimit)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"' OR 1=1 --", `" OR ""="`, "%", "_", "%' OR '1'='1", "'; DROP TABLE customers; --",
		"\\", "\x00", "佐藤' UNION SELECT name, password_hash FROM users --"} {
		got, err := agent.SearchCustomers(ctx, q)
		if err != nil || len(got) != 0 {
			t.Errorf("SearchCustomers(%q) = %d rows, %v; want 0 rows, no error", q, len(got), err)
		}
	}
	after, err := crm.st.SearchCustomers(ctx, "サ", maxSearchLimit)
	if err != nil || len(after) != len(before) {
		t.Errorf("customers changed: %d before, %d after (%v)", len(before), len(after), err)
	}
}
