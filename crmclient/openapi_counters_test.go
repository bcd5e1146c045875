package crmclient

import "reflect"

// counterSchemaTypes maps the schemas of openapi/counters.json to their Go types.
var counterSchemaTypes = map[string]reflect.Type{
	"AgentCounters": reflect.TypeFor[AgentCounters](),
	"CountersList":  reflect.TypeFor[CountersList](),
}
