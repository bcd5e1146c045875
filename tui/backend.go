package tui

import (
	"context"
	"log/slog"
	"time"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmclient/outbox"
	"github.com/opdesk/opdesk/keymap"
	"github.com/opdesk/opdesk/sip"
)

// Phone is what the desktop needs of the SIP phone (*sip.Phone has it all).
// Calls into it are made from tea.Cmds, never from Update or View.
type Phone interface {
	Subscribe(buf int) (<-chan sip.Event, func())
	Status() sip.Status
	Dial(ctx context.Context, target string) (string, error)
	// DialWith places a campaign call (caller ID, ring timeout).
	DialWith(ctx context.Context, target string, o sip.DialOptions) (string, error)
	// SendGrant switches a monitor session's mode with a new grant.
	SendGrant(ctx context.Context, id, grant string) error
	Answer(id string) (string, error)
	Hangup(id string) (string, error)
	Hold(id string) (string, error)
	Resume(id string) (string, error)
	SendDTMF(id, digits string) (string, error)
	SetMuted(muted bool)
	Record(id string, on bool) (string, error)
	Transfer(id, target string) (string, error)
}

// CRM is what the desktop reads from the CRM (*crmclient.Client has it all).
// Everything the operator types that must not be lost goes through Outbox.
type CRM interface {
	ScreenPop(ctx context.Context, phone string) (crmclient.Card, error)
	Hints(ctx context.Context, customerID string) ([]crmclient.Hint, error)
	Campaigns(ctx context.Context) ([]crmclient.Campaign, error)
	GetScript(ctx context.Context, id string) (crmclient.Script, error)
	SearchFAQ(ctx context.Context, query string, limit int) ([]crmclient.FAQEntry, error)
	CreateCustomer(ctx context.Context, in crmclient.CustomerInput) (crmclient.Customer, error)
	PutAgentState(ctx context.Context, st crmclient.AgentStateRequest) (crmclient.AgentState, error)

	// Outbound campaigns.
	NextLead(ctx context.Context, campaignID string) (crmclient.Lead, error)
	ReleaseLead(ctx context.Context, leadID, reason string) (crmclient.Lead, error)
	CheckDNC(ctx context.Context, phone string) (crmclient.DNCEntry, error)
	Callbacks(ctx context.Context, missedOnly bool) ([]crmclient.Callback, error)
	MyCounters(ctx context.Context, campaignID, day string) (crmclient.AgentCounters, error)
	PutCounters(ctx context.Context, in crmclient.AgentCounters) (crmclient.AgentCounters, error)

	// Supervisors, and what they see of agents.
	PostCallEvent(ctx context.Context, ev crmclient.CallEventRequest) (crmclient.CallEventAck, error)
	Wallboard(ctx context.Context, day string, interval time.Duration) (crmclient.Wallboard, error)
	CreateMonitorGrant(ctx context.Context, req crmclient.GrantRequest) (crmclient.Grant, error)
}

// SupervisorOptions are the wallboard's and monitoring's settings (the
// config's [supervisor]).
type SupervisorOptions struct {
	// Listen, Whisper and Barge are the PBX's dial templates for each mode,
	// {ext} standing for the agent's extension ("*222{ext}"); "" uses peer
	// monitoring (a grant from the CRM, a call to the agent's desktop).
	Listen, Whisper, Barge string
	// LongACW highlights after-call work longer than this (default 2 min).
	LongACW time.Duration
}

func (s SupervisorOptions) template(mode crmclient.MonitorMode) string {
	switch mode {
	case crmclient.MonitorListen:
		return s.Listen
	case crmclient.MonitorWhisper:
		return s.Whisper
	case crmclient.MonitorBarge:
		return s.Barge
	}
	return ""
}

// Outbox is the durable queue dispositions, call logs and notes go through
// (*outbox.Outbox has it all).
type Outbox interface {
	Put(ctx context.Context, kind string, body []byte) (outbox.Item, error)
	Stats() outbox.Stats
}

// AudioSwitcher lists the sound cards and switches the call's card; nil when
// the desktop runs without one (the device key then says so).
type AudioSwitcher interface {
	Devices() ([]string, error)
	SwitchAudio(input, output string) error
}

// Outbound says how campaign leads are dialed (the config's [outbound]).
type Outbound struct {
	// Progressive dials the next lead Countdown after the last call is
	// settled, unless the operator pauses; otherwise (preview) enter dials.
	Progressive bool
	Countdown   time.Duration // 0 dials at once (the config's default is 5 s)
	// RingTimeout is how long a lead rings before it counts as no answer
	// (default 30 s).
	RingTimeout time.Duration
	// CallerIDHeader says where the campaign's caller ID goes: pai, from or
	// both (sip.DialOptions).
	CallerIDHeader string
	// DialFormat is how numbers are sent to the PBX: national or e164
	// (crmclient.DialString).
	DialFormat string
	// Poll bounds the wait before asking again when no lead is due
	// (default 30 s; sooner when the CRM says when the next one is due).
	Poll time.Duration
}

// Options configure the desktop. Phone is required; CRM and Outbox may be nil
// (no CRM configured: numbers only, no forms).
type Options struct {
	Phone  Phone
	CRM    CRM
	Outbox Outbox
	Audio  AudioSwitcher
	Keys   *keymap.Map // nil: keymap.Default()
	Lang   Lang        // LangJA or LangEN
	// Agent is the logged-in operator (display name for scripts, name for the bar).
	Agent crmclient.User
	// Company fills {{company.name}} in scripts.
	Company string
	// Region is the default region for numbers without a country code ("JP").
	Region string
	// AutoReady, when > 0, makes the operator ready that long after the
	// wrap-up form is saved (inbound teams); 0 means the operator presses ready.
	AutoReady time.Duration
	// PopTimeout bounds the screen-pop lookup (default 800 ms), so a slow CRM
	// turns into "CRM unreachable — last known data" within a second.
	PopTimeout time.Duration
	// Notice is a line shown on the status bar from the start, e.g. the demo's
	// "DEMO — no sound card: calls are silent (null device)".
	Notice string
	// Now is the clock (tests pin it); nil means time.Now.
	Now func() time.Time
	// Log receives what the desktop does; nil discards. Never the terminal.
	Log *slog.Logger
	// Outbound configures campaign dialing.
	Outbound Outbound
	// Supervisor configures the wallboard and monitoring; BoardEvents is
	// the supervisors' event stream (nil for agents: no wallboard), fed by
	// a goroutine the program owns (crmclient.FollowEvents).
	Supervisor  SupervisorOptions
	BoardEvents <-chan crmclient.Event
	// HideMonitor keeps a supervisor's listening in off the operator's bar
	// (the team's policy; it is logged either way).
	HideMonitor bool
	// NoTick disables the 10 Hz status tick (golden tests drive time by hand).
	NoTick bool
}
