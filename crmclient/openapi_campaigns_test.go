package crmclient

import "reflect"

// campaignSchemaTypes maps the schemas of openapi/campaigns.json to their Go types.
var campaignSchemaTypes = map[string]reflect.Type{}
