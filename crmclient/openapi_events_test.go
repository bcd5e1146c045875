package crmclient

import "reflect"

// eventSchemaTypes maps the schemas of openapi/events.json to their Go types.
var eventSchemaTypes = map[string]reflect.Type{}
