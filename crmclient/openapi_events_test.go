package crmclient

import "reflect"

// eventSchemaTypes maps the schemas of openapi/events.json to their Go types.
var eventSchemaTypes = map[string]reflect.Type{
	"StreamReady":      reflect.TypeFor[StreamReady](),
	"CallEventRequest": reflect.TypeFor[CallEventRequest](),
	"CallEvent":        reflect.TypeFor[CallEvent](),
	"CallEventAck":     reflect.TypeFor[CallEventAck](),
	"MonitorKey":       reflect.TypeFor[MonitorKey](),
	"GrantRequest":     reflect.TypeFor[GrantRequest](),
	"Grant":            reflect.TypeFor[Grant](),
	"GrantClaims":      reflect.TypeFor[GrantClaims](),
	"MonitorGranted":   reflect.TypeFor[MonitorGranted](),
	"Recording":        reflect.TypeFor[Recording](),
	"RecordingList":    reflect.TypeFor[RecordingList](),
}
