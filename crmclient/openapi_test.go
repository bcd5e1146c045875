package crmclient

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
)

type openapiDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Required   []string                   `json:"required"`
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

func loadDoc(t *testing.T) openapiDoc {
	t.Helper()
	var doc openapiDoc
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	return doc
}

// schemaTypes maps each documented object schema to the Go type that carries it;
// each part of the contract lists its own (coreSchemaTypes here, the others beside
// their types' tests).
var schemaTypes = mergeSchemaTypes(coreSchemaTypes, contentSchemaTypes, campaignSchemaTypes, eventSchemaTypes,
	counterSchemaTypes, wallboardSchemaTypes)

func mergeSchemaTypes(parts ...map[string]reflect.Type) map[string]reflect.Type {
	all := map[string]reflect.Type{}
	for _, p := range parts {
		for k, v := range p {
			if _, dup := all[k]; dup {
				panic("schema " + k + " is listed twice")
			}
			all[k] = v
		}
	}
	return all
}

var coreSchemaTypes = map[string]reflect.Type{
	"Error":             reflect.TypeFor[ErrorBody](),
	"ErrorDetail":       reflect.TypeFor[ErrorDetail](),
	"LoginRequest":      reflect.TypeFor[LoginRequest](),
	"LoginResponse":     reflect.TypeFor[LoginResponse](),
	"User":              reflect.TypeFor[User](),
	"AgentStateRequest": reflect.TypeFor[AgentStateRequest](),
	"AgentState":        reflect.TypeFor[AgentState](),
	"AgentList":         reflect.TypeFor[AgentList](),
	"Customer":          reflect.TypeFor[Customer](),
	"CustomerInput":     reflect.TypeFor[CustomerInput](),
	"CustomerList":      reflect.TypeFor[CustomerList](),
	"OrderItem":         reflect.TypeFor[OrderItem](),
	"Order":             reflect.TypeFor[Order](),
	"OrderList":         reflect.TypeFor[OrderList](),
	"CallEntry":         reflect.TypeFor[CallEntry](),
	"CallList":          reflect.TypeFor[CallList](),
}

// TestOpenAPISchemasMatchTypes: a schema documents exactly the JSON fields of its Go
// type, and every field a reply always carries (no omitempty) is marked required.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := loadDoc(t)
	for name, s := range doc.Components.Schemas {
		if s.Properties == nil {
			continue // scalar schemas such as E164
		}
		if _, ok := schemaTypes[name]; !ok {
			t.Errorf("schema %s has no Go type in schemaTypes", name)
		}
	}
	for name, typ := range schemaTypes {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("Go type %v has no schema %s", typ, name)
			continue
		}
		var fields, always []string
		for f := range typ.Fields() {
			tag, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			fields = append(fields, tag)
			if !strings.Contains(opts, "omitempty") {
				always = append(always, tag)
			}
		}
		var props []string
		for p := range s.Properties {
			props = append(props, p)
		}
		sort.Strings(fields)
		sort.Strings(props)
		if !reflect.DeepEqual(fields, props) {
			t.Errorf("schema %s properties %v, Go %v fields %v", name, props, typ, fields)
		}
		req := map[string]bool{}
		for _, r := range s.Required {
			req[r] = true
			if _, ok := s.Properties[r]; !ok {
				t.Errorf("schema %s requires undocumented %q", name, r)
			}
		}
		if strings.HasSuffix(name, "Input") || strings.HasSuffix(name, "Request") {
			continue // inputs may leave fields out; the server fills defaults
		}
		for _, f := range always {
			if !req[f] {
				t.Errorf("schema %s: %q is always sent but not required", name, f)
			}
		}
	}
}

// TestOpenAPIRefsResolve: every $ref points at something the document defines.
func TestOpenAPIRefsResolve(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(OpenAPI(), &root); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if ref, ok := x.(string); ok && k == "$ref" {
					if !resolves(root, ref) {
						t.Errorf("dangling $ref %q", ref)
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(root)
}

func resolves(root map[string]any, ref string) bool {
	path, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	var cur any = root
	for _, part := range strings.Split(path, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

// TestOpenAPIErrorCodes: the documented error codes are exactly the Code constants.
func TestOpenAPIErrorCodes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				ErrorDetail struct {
					Properties struct {
						Code struct {
							Enum []string `json:"enum"`
						} `json:"code"`
					} `json:"properties"`
				} `json:"ErrorDetail"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	got := doc.Components.Schemas.ErrorDetail.Properties.Code.Enum
	want := []string{CodeInvalidJSON, CodeInvalidRequest, CodeInvalidPhone, CodeBodyTooLarge,
		CodeUnsupportedMedia, CodeUnauthorized, CodeInvalidCredentials, CodeForbidden,
		CodeNotFound, CodeMethodNotAllowed, CodeInternal, CodeUnavailable,
		CodeNoLeads, CodeOutsideCallingHours, CodeLeaseNotHeld, CodeIdempotencyMismatch, CodeNeverCall}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("documented codes %v, constants %v", got, want)
	}
}

func TestOperations(t *testing.T) {
	ops, err := Operations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) == 0 || !sort.StringsAreSorted(ops) {
		t.Fatalf("Operations() = %v", ops)
	}
	for _, op := range ops {
		if !strings.Contains(op, " /") {
			t.Errorf("operation %q is not METHOD /path", op)
		}
	}
}
