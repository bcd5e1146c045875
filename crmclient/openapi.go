package crmclient

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// The document is kept in parts, one per area of the contract (openapi/core.json
// holds the header and the first resources; the others add paths and schemas), and
// merged into one document when the package loads. A path or schema defined twice
// is a programming error and panics at start-up (and in every test).
//
//go:embed openapi/*.json
var openapiParts embed.FS

var openapiJSON = mustMergeOpenAPI(openapiParts)

// mustMergeOpenAPI merges core.json with the other parts' "paths" and
// "components.schemas".
func mustMergeOpenAPI(parts embed.FS) []byte {
	read := func(name string) map[string]any {
		b, err := parts.ReadFile("openapi/" + name)
		if err != nil {
			panic(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			panic(fmt.Sprintf("openapi/%s: %v", name, err))
		}
		return m
	}
	doc := read("core.json")
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	paths := doc["paths"].(map[string]any)
	entries, _ := parts.ReadDir("openapi")
	for _, e := range entries {
		if e.Name() == "core.json" {
			continue
		}
		part := read(e.Name())
		if p, ok := part["paths"].(map[string]any); ok {
			for k, v := range p {
				if _, dup := paths[k]; dup {
					panic(fmt.Sprintf("openapi/%s: path %s is already defined", e.Name(), k))
				}
				paths[k] = v
			}
		}
		if c, ok := part["components"].(map[string]any); ok {
			if s, ok := c["schemas"].(map[string]any); ok {
				for k, v := range s {
					if _, dup := schemas[k]; dup {
						panic(fmt.Sprintf("openapi/%s: schema %s is already defined", e.Name(), k))
					}
					schemas[k] = v
				}
			}
		}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

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
