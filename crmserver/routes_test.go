package crmserver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/opdesk/opdesk/crmclient"
)

// TestRoutesMatchOpenAPI: every route the server registers is documented, and every
// documented operation is served, with the same access rule (public ↔ security: []).
func TestRoutesMatchOpenAPI(t *testing.T) {
	documented, err := crmclient.Operations()
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	for _, rt := range routes {
		served = append(served, rt.pattern)
	}
	sort.Strings(served)
	for _, op := range served {
		if !slices.Contains(documented, op) {
			t.Errorf("route %q is served but not in openapi.json", op)
		}
	}
	for _, op := range documented {
		if !slices.Contains(served, op) {
			t.Errorf("operation %q is in openapi.json but not served", op)
		}
	}

	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(crmclient.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt.pattern, " ")
		var op struct {
			Security  *[]any                     `json:"security"`
			Responses map[string]json.RawMessage `json:"responses"`
		}
		if err := json.Unmarshal(doc.Paths[path][strings.ToLower(method)], &op); err != nil {
			t.Fatalf("%s: %v", rt.pattern, err)
		}
		isPublic := op.Security != nil && len(*op.Security) == 0
		if isPublic != (rt.access == public) {
			t.Errorf("%s: documented public=%v, served public=%v", rt.pattern, isPublic, rt.access == public)
		}
		if rt.access != public && op.Responses["401"] == nil {
			t.Errorf("%s needs a token but does not document 401", rt.pattern)
		}
		if rt.access == supervisor && op.Responses["403"] == nil {
			t.Errorf("%s is for supervisors but does not document 403", rt.pattern)
		}
	}
}

// TestServesOpenAPI: GET /openapi.json without a token returns the embedded document.
func TestServesOpenAPI(t *testing.T) {
	crm := newTestCRM(t, 0)
	resp, err := http.Get(crm.srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
		string(body) != string(crmclient.OpenAPI()) {
		t.Errorf("GET /openapi.json: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
}

// TestPanicIsJSON500: a panicking handler answers 500 in the error shape and the
// process survives.
func TestPanicIsJSON500(t *testing.T) {
	h := (&api{log: discardLogger()}).recoverer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/me", nil))
	var eb crmclient.ErrorBody
	if rec.Code != 500 || json.Unmarshal(rec.Body.Bytes(), &eb) != nil || eb.Error.Code != crmclient.CodeInternal ||
		strings.Contains(eb.Error.Message, "boom") {
		t.Errorf("got %d %s", rec.Code, rec.Body)
	}
}

// TestLogsNoSecrets: the request log never contains passwords, tokens or phone numbers.
func TestLogsNoSecrets(t *testing.T) {
	var buf syncBuffer
	crm := newTestCRMWith(t, 0, []HandlerOption{WithLogger(debugLogger(&buf))})
	cl := crm.client(t, "agent1")
	ctx := context.Background()
	if _, err := cl.LookupByPhone(ctx, "03-1234-5678"); err != nil {
		t.Fatal(err)
	}
	_, _ = cl.Login(ctx, "agent2", "wrong-password-xyz")
	log := buf.String()
	if !strings.Contains(log, "GET /v1/customers") {
		t.Fatalf("no access log: %q", log)
	}
	for _, secret := range []string{cl.Token(), "agent1-demo", "wrong-password-xyz", "81312345678", "1234-5678"} {
		if strings.Contains(log, secret) {
			t.Errorf("log contains %q:\n%s", secret, log)
		}
	}
}
