package crmclient

import "reflect"

// contentSchemaTypes maps the schemas of openapi/content.json to their Go types.
var contentSchemaTypes = map[string]reflect.Type{
	"FAQEntry":      reflect.TypeFor[FAQEntry](),
	"FAQInput":      reflect.TypeFor[FAQInput](),
	"FAQList":       reflect.TypeFor[FAQList](),
	"Script":        reflect.TypeFor[Script](),
	"ScriptInput":   reflect.TypeFor[ScriptInput](),
	"ScriptNode":    reflect.TypeFor[ScriptNode](),
	"ScriptChoice":  reflect.TypeFor[ScriptChoice](),
	"ChecklistItem": reflect.TypeFor[ChecklistItem](),
	"ScriptList":    reflect.TypeFor[ScriptList](),
	"Hint":          reflect.TypeFor[Hint](),
	"HintList":      reflect.TypeFor[HintList](),
	"HintRule":      reflect.TypeFor[HintRule](),
	"HintRuleList":  reflect.TypeFor[HintRuleList](),
}
