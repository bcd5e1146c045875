package crmclient

import "reflect"

// wallboardSchemaTypes maps the schemas of openapi/wallboard.json to their Go types.
var wallboardSchemaTypes = map[string]reflect.Type{
	"Wallboard":     reflect.TypeFor[Wallboard](),
	"AgentFigures":  reflect.TypeFor[AgentFigures](),
	"TeamFigures":   reflect.TypeFor[TeamFigures](),
	"IntervalCount": reflect.TypeFor[IntervalCount](),
}
