package crmclient

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

//go:embed openapi.json
var openapiJSON []byte

// OpenAPI returns the contract as an OpenAPI 3.1 JSON document: the one the reference
// server serves at /openapi.json and that other CRMs implement to work with opdesk.
// The caller gets its own copy.
func OpenAPI() []byte { return append([]byte(nil), openapiJSON...) }

// httpMethods are the keys of an OpenAPI path item that name operations; the
// others ("parameters", "summary", …) are shared by them.
var httpMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true,
}

// Operations lists the documented operations as "METHOD /path" in the syntax of
// net/http.ServeMux patterns ("GET /v1/customers/{id}"), sorted. The server's tests
// compare it with the routes it registers, so the document cannot drift.
func Operations() ([]string, error) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	var ops []string
	for path, item := range doc.Paths {
		for key := range item {
			if httpMethods[key] {
				ops = append(ops, strings.ToUpper(key)+" "+path)
			}
		}
	}
	sort.Strings(ops)
	return ops, nil
}
