package crmclient

import "reflect"

// contentSchemaTypes maps the schemas of openapi/content.json to their Go types.
var contentSchemaTypes = map[string]reflect.Type{}
