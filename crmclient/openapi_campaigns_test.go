package crmclient

import "reflect"

// campaignSchemaTypes maps the schemas of openapi/campaigns.json to their Go types.
var campaignSchemaTypes = map[string]reflect.Type{
	"Campaign":          reflect.TypeFor[Campaign](),
	"CallingWindow":     reflect.TypeFor[CallingWindow](),
	"RetryPolicy":       reflect.TypeFor[RetryPolicy](),
	"DispositionSchema": reflect.TypeFor[DispositionSchema](),
	"ResultCode":        reflect.TypeFor[ResultCode](),
	"FormField":         reflect.TypeFor[FormField](),
	"CampaignList":      reflect.TypeFor[CampaignList](),
	"Lead":              reflect.TypeFor[Lead](),
	"ReleaseRequest":    reflect.TypeFor[ReleaseRequest](),
	"AttemptRequest":    reflect.TypeFor[AttemptRequest](),
	"DNCEntry":          reflect.TypeFor[DNCEntry](),
	"DNCRequest":        reflect.TypeFor[DNCRequest](),
	"DispositionInput":  reflect.TypeFor[DispositionInput](),
	"Disposition":       reflect.TypeFor[Disposition](),
	"Callback":          reflect.TypeFor[Callback](),
	"CallbackList":      reflect.TypeFor[CallbackList](),
}
