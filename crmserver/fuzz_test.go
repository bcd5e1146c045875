package crmserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/opdesk/opdesk/crmclient"
	"golang.org/x/crypto/bcrypt"
)

// fuzzHandler is a seeded handler and a valid token for in-process fuzzing.
func fuzzHandler(f *testing.F) (http.Handler, string) {
	ctx := context.Background()
	st, err := Open(ctx, testDSN(f), WithPasswordCost(bcrypt.MinCost))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	if err := Seed(ctx, st, SeedOptions{Customers: 50, Now: seedNow}); err != nil {
		f.Fatal(err)
	}
	res, err := st.Login(ctx, "agent1", "agent1-demo")
	if err != nil {
		f.Fatal(err)
	}
	return st.Handler(), "Bearer " + res.Token
}

// checkAnswer: whatever the input, the answer is a documented non-5xx status, and
// errors come in the {"error":{code,message}} shape.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, allowed ...int) {
	ok := false
	for _, s := range allowed {
		ok = ok || rec.Code == s
	}
	if !ok {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		var eb crmclient.ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" {
			t.Fatalf("error body %q", rec.Body)
		}
	}
}

// FuzzCreateCustomerBody feeds arbitrary bodies to the endpoint that writes.
func FuzzCreateCustomerBody(f *testing.F) {
	h, token := fuzzHandler(f)
	for _, s := range []string{`{"name":"佐藤　陽子","phones":["03-1234-5678"]}`, `{"name":1}`, `{`, `[]`, `null`,
		`{"name":"x","phones":[null]}`, `{"name":"x","email":"a@b"}`, `{"name":"x"} {}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/v1/customers", strings.NewReader(string(body)))
		req.Header.Set("Authorization", token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, rec, 201, 400)
	})
}

// FuzzSearchAndLookup feeds arbitrary query text to search and phone lookup.
func FuzzSearchAndLookup(f *testing.F) {
	h, token := fuzzHandler(f)
	for _, s := range []string{"さとう", "' OR 1=1 --", "%", "０３（１２３４）５６７８", "\x1f", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		for _, key := range []string{"q", "phone"} {
			req := httptest.NewRequest("GET", "/v1/customers?"+url.Values{key: {q}}.Encode(), nil)
			req.Header.Set("Authorization", token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			checkAnswer(t, rec, 200, 400)
		}
	})
}
