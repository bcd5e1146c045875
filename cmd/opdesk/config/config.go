package config

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Config is opdesk's whole configuration. Each section is a TOML table;
// keys are snake_case.
type Config struct {
	SIP   SIP   `toml:"sip"`
	Audio Audio `toml:"audio"`
	Media Media `toml:"media"`
	Ctl   Ctl   `toml:"ctl"`
	Log   Log   `toml:"log"`
	CRM   CRM   `toml:"crm"`
	UI    UI    `toml:"ui"`
	// Outbound is how campaign leads are dialed.
	Outbound Outbound `toml:"outbound"`
	// Supervisor is the wallboard and monitoring.
	Supervisor Supervisor `toml:"supervisor"`
	// Keys are the [keys] section's rebindings, in the order they apply
	// (the file's, then the environment's, then the flags'; a later one
	// for the same action wins). The section's names are the desktop's
	// actions, not a fixed set, so it is not in the key table; package
	// keymap checks the action and key names.
	Keys []KeyOverride `toml:"-"`

	// Path is the config file that was read, "" if none was.
	Path string `toml:"-"`
	// Warnings are problems that do not stop opdesk but that the user
	// should fix, such as a password file other users can read. Log them.
	Warnings []string `toml:"-"`
}

// SIP is the [sip] section: the account and the SIP user agent.
type SIP struct {
	User         string `toml:"user"`
	Password     Secret `toml:"password"`
	PasswordFile string `toml:"password_file"` // read by Load into Password
	Domain       string `toml:"domain"`
	DisplayName  string `toml:"display_name"`
	// Registrar is a SIP URI such as "sip:pbx.example.com:5060". Empty
	// means no registration: opdesk only places direct calls.
	Registrar string `toml:"registrar"`
	Listen    string `toml:"listen"`    // host:port; default "0.0.0.0:5060"
	Transport string `toml:"transport"` // "udp" (default), "tcp" or "tls"
	Expires   int    `toml:"expires"`   // registration lifetime in seconds; default 300, at least 60
	UserAgent string `toml:"user_agent"`
	// PasswordKeyring names the password's entry in the desktop keyring
	// (the freedesktop Secret Service) as "service/account"; read by Load
	// into Password when no higher-precedence source gave one.
	PasswordKeyring string `toml:"password_keyring"`
	// TLSCAFile is a PEM file of CA certificates trusted for the TLS
	// transport besides the system's; TLSServerName is the name the
	// registrar's certificate must carry (and the SNI sent), default the
	// registrar's host. Certificates are always verified.
	TLSCAFile     string `toml:"tls_ca_file"`
	TLSServerName string `toml:"tls_server_name"`
	// KeepaliveS is how often the phone checks its path to the registrar:
	// a CRLF ping on TCP/TLS (RFC 5626 §3.5.1), an OPTIONS on UDP. 0 is off.
	KeepaliveS int `toml:"keepalive_s"`
	// Failover lists further registrars ("sip:pbx2.example.com, sip:…"),
	// tried in order when the one before does not answer.
	Failover string `toml:"failover"`
}

// Audio is the [audio] section. Input and Output are each "null",
// "tone:HZ", "file:PATH.wav", "default" (the sound card's default device)
// or a sound device's name or id as "opdesk audio list" prints them.
type Audio struct {
	Input   string `toml:"input"`
	Output  string `toml:"output"`
	Ring    string `toml:"ring"`    // the ringer's device; "" = the output device, "off" = no ringer
	Backend string `toml:"backend"` // auto, pulseaudio, alsa or null
	Tones   string `toml:"tones"`   // jp or us: ringback and ringer patterns
	Record  string `toml:"record"`  // always, ask or never
	// Recordings is the directory call recordings go to (default: the
	// state directory's "recordings"), one subdirectory per day.
	Recordings string `toml:"recordings"`
	// JitterMinMs and JitterMaxMs bound the receive jitter buffer's delay.
	JitterMinMs int `toml:"jitter_min_ms"`
	JitterMaxMs int `toml:"jitter_max_ms"`
}

// Media is the [media] section: where RTP is sent and received.
type Media struct {
	// RTPIP is the address put in SDP; "" means derive it at run time.
	RTPIP      string `toml:"rtp_ip"`
	RTPPortMin int    `toml:"rtp_port_min"`
	RTPPortMax int    `toml:"rtp_port_max"`
	// Encryption is SRTP (SDES keys in the SDP, RFC 4568): "required"
	// (only SRTP; a call that cannot have it fails), "optional" (offer
	// SRTP, accept plain RTP; the default) or "off".
	Encryption string `toml:"encryption"`
}

// Ctl is the [ctl] section: the control socket.
type Ctl struct {
	Socket string `toml:"socket"`
}

// CRM is the [crm] section: the CRM the desktop reads cards, scripts and
// the FAQ from, and files wrap-ups to.
type CRM struct {
	// URL is the CRM's base URL ("http://crm.example.com:8080"); empty means
	// no CRM: the desktop shows numbers only and has no wrap-up form.
	URL          string `toml:"url"`
	User         string `toml:"user"`
	Password     Secret `toml:"password"`
	PasswordFile string `toml:"password_file"` // read by Load into Password
	// PasswordKeyring: as sip.password_keyring.
	PasswordKeyring string `toml:"password_keyring"`
	// Region is the country assumed for numbers without a country code.
	Region string `toml:"region"`
	// Company is the shop's name, for {{company.name}} in scripts.
	Company string `toml:"company"`
	// PopTimeoutMs bounds the screen-pop lookup; after it the last known
	// card (or "CRM unreachable") is shown.
	PopTimeoutMs int `toml:"pop_timeout_ms"`
}

// UI is the [ui] section: the desktop.
type UI struct {
	// Lang is ja or en; empty means from the locale (LANG).
	Lang string `toml:"lang"`
	// AutoReadyS, when above 0, makes the operator ready that many seconds
	// after saving a wrap-up (for inbound teams); 0 means press ready.
	AutoReadyS int `toml:"auto_ready_s"`
	// MonitorIndicator is the team's policy on a supervisor listening in:
	// "show" (default) puts it on the operator's status bar, "hide" only
	// logs it.
	MonitorIndicator string `toml:"monitor_indicator"`
}

// Supervisor is the [supervisor] section: the wallboard and monitoring.
// A dial template names the PBX's own feature for a mode, {ext} standing for
// the agent's extension (Asterisk ChanSpy: "*222{ext}"); a mode without a
// template uses peer monitoring (a grant from the CRM, an INVITE to the
// agent's opdesk).
type Supervisor struct {
	Listen   string `toml:"listen"`
	Whisper  string `toml:"whisper"`
	Barge    string `toml:"barge"`
	LongACWS int    `toml:"long_acw_s"` // after-call work longer than this is highlighted (default 120)
}

// Outbound is the [outbound] section: how campaign leads are dialed.
type Outbound struct {
	Mode           string `toml:"mode"`             // "progressive" (default) or "preview"
	CountdownS     int    `toml:"countdown_s"`      // progressive: seconds shown before the next lead is dialed (default 5, 0–120)
	RingTimeoutS   int    `toml:"ring_timeout_s"`   // a lead's call rings this long before it counts as no answer (default 30, 5–300)
	CallerIDHeader string `toml:"caller_id_header"` // pai (default), from, both
	DialFormat     string `toml:"dial_format"`      // national (default): 0312345678, and 010… for abroad; e164: +81312345678
	PollS          int    `toml:"poll_s"`           // when no lead is due, ask again after this many seconds at most (default 30, 1–600)
}

// KeyOverride is one line of the [keys] section: `answer = ["f2", "a"]`
// (every context the action works in), `[keys.call]` then `hangup = "f4"`
// (that context only), OPDESK_KEYS_ANSWER=f2,a or --keys.answer=f2,a.
type KeyOverride struct {
	Action  string // as written: "answer"; keymap.Apply says if it is unknown
	Context string // "" = every context the action is bound in
	// Keys are the key names as written; empty removes the action's keys.
	Keys []string
	// Source is where it was set, for error messages: "path:line",
	// "environment OPDESK_KEYS_ANSWER" or "flag --keys.answer".
	Source string
}

// Log is the [log] section.
type Log struct {
	File  string `toml:"file"`
	Level string `toml:"level"` // debug, info, warn or error
}

// SlogLevel returns Level as a slog.Level. Load has validated it.
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// Defaults for the settings that have one. ctl.socket and log.file
// depend on the environment; see [Load].
const (
	DefaultListen     = "0.0.0.0:5060"
	DefaultTransport  = "udp"
	DefaultKeepalive  = 30
	DefaultEncryption = "optional"
	DefaultExpires    = 300
	MinExpires        = 60
	DefaultUserAgent  = "opdesk"
	DefaultAudio      = "default"
	DefaultBackend    = "auto"
	DefaultTones      = "jp"
	DefaultRecord     = "never"
	DefaultJitterMin  = 20
	DefaultJitterMax  = 200
	DefaultRTPPortMin = 16384
	DefaultRTPPortMax = 32766
	DefaultLogLevel   = "info"
	DefaultRegion     = "JP"
	DefaultPopTimeout = 800

	DefaultOutboundMode   = "progressive"
	DefaultCountdown      = 5
	DefaultRingTimeout    = 30
	DefaultCallerIDHeader = "pai"
	DefaultDialFormat     = "national"
	DefaultPoll           = 30

	DefaultMonitorIndicator = "show"
	DefaultLongACW          = 120
)

// defaults returns the configuration before any file, variable or flag.
func defaults() Config {
	return Config{
		SIP: SIP{
			Listen:     DefaultListen,
			Transport:  DefaultTransport,
			Expires:    DefaultExpires,
			UserAgent:  DefaultUserAgent,
			KeepaliveS: DefaultKeepalive,
		},
		Audio: Audio{Input: DefaultAudio, Output: DefaultAudio, Backend: DefaultBackend, Tones: DefaultTones,
			Record: DefaultRecord, JitterMinMs: DefaultJitterMin, JitterMaxMs: DefaultJitterMax},
		Media:      Media{RTPPortMin: DefaultRTPPortMin, RTPPortMax: DefaultRTPPortMax, Encryption: DefaultEncryption},
		Log:        Log{Level: DefaultLogLevel},
		CRM:        CRM{Region: DefaultRegion, PopTimeoutMs: DefaultPopTimeout},
		UI:         UI{MonitorIndicator: DefaultMonitorIndicator},
		Supervisor: Supervisor{LongACWS: DefaultLongACW},
		Outbound: Outbound{Mode: DefaultOutboundMode, CountdownS: DefaultCountdown, RingTimeoutS: DefaultRingTimeout,
			CallerIDHeader: DefaultCallerIDHeader, DialFormat: DefaultDialFormat, PollS: DefaultPoll},
	}
}

// Secret is a string that never prints: fmt, log/slog and encoders see
// "***" (or "" when it is empty, so "not set" stays visible).
type Secret string

const masked = "***"

// Reveal returns the secret itself. Call it only where the secret is used.
func (s Secret) Reveal() string { return string(s) }

// String returns "***", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return masked
}

// Format prints String for every verb, %#v and %x included.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue keeps the secret out of slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps the secret out of JSON, TOML and other encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Redacted returns a copy of c with the password, if set, replaced by
// "***", safe to log or show.
func (c *Config) Redacted() Config {
	r := *c
	r.SIP.Password = Secret(r.SIP.Password.String())
	r.CRM.Password = Secret(r.CRM.Password.String())
	r.Warnings = append([]string(nil), c.Warnings...)
	r.Keys = make([]KeyOverride, len(c.Keys))
	for i, k := range c.Keys {
		k.Keys = append([]string{}, k.Keys...)
		r.Keys[i] = k
	}
	return r
}

// String renders c as TOML, every key in order, password masked. It is
// what "opdesk config" style output and debug logs should show.
func (c Config) String() string {
	var b strings.Builder
	section := ""
	for i := range fields {
		f := &fields[i]
		if s := f.section(); s != section {
			if section != "" {
				b.WriteByte('\n')
			}
			section = s
			fmt.Fprintf(&b, "[%s]\n", s)
		}
		fmt.Fprintf(&b, "%s = %s\n", f.name(), f.literal(&c))
	}
	b.WriteString(keysTOML(c.Keys))
	return b.String()
}

// Format prints [Config.String] for every verb, so no fmt verb can print
// the password.
func (c Config) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }
