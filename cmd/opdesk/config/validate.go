package config

import (
	"fmt"
	"github.com/opdesk/opdesk/audio"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// validate checks the final value of every key, naming the source that
// set it.
func (l *loader) validate() {
	c := &l.cfg
	for _, k := range []struct {
		key string
		v   string
	}{
		{"sip.user", c.SIP.User},
		{"sip.domain", c.SIP.Domain},
		{"sip.display_name", c.SIP.DisplayName},
		{"sip.user_agent", c.SIP.UserAgent},
	} {
		// These end up in SIP headers; a line break would inject headers.
		if strings.IndexFunc(k.v, unicode.IsControl) >= 0 {
			l.invalid(k.key, fmt.Sprintf("%q contains a control character such as a line break", k.v))
		}
	}
	if strings.HasPrefix(strings.ToLower(c.SIP.Domain), "sip:") {
		l.invalid("sip.domain", fmt.Sprintf("%q is a URI; write only the host, %s", c.SIP.Domain, c.SIP.Domain[4:]))
	}
	if msg := checkRegistrar(c.SIP.Registrar); msg != "" {
		l.invalid("sip.registrar", msg)
	} else if c.SIP.Registrar != "" && c.SIP.User == "" {
		l.invalid("sip.registrar", "is set, so sip.user must be set too (the user to register)")
	}
	if msg := checkHostPort(c.SIP.Listen); msg != "" {
		l.invalid("sip.listen", msg)
	}
	if t := strings.ToLower(c.SIP.Transport); t == "udp" || t == "tcp" || t == "tls" {
		c.SIP.Transport = t
	} else {
		l.invalid("sip.transport", fmt.Sprintf("must be udp, tcp or tls, got %q", c.SIP.Transport))
	}
	if strings.HasPrefix(strings.ToLower(c.SIP.Registrar), "sips:") && c.SIP.Transport != "tls" {
		l.invalid("sip.transport", fmt.Sprintf("the registrar %q is a sips: URI, which needs transport = \"tls\", got %q", c.SIP.Registrar, c.SIP.Transport))
	}
	for _, u := range SplitList(c.SIP.Failover) {
		if msg := checkRegistrar(u); msg != "" {
			l.invalid("sip.failover", msg)
		}
	}
	if strings.TrimSpace(c.SIP.Failover) != "" && c.SIP.Registrar == "" {
		l.invalid("sip.failover", "is set, so sip.registrar must be set too (the first registrar to try)")
	}
	if c.SIP.KeepaliveS < 0 || c.SIP.KeepaliveS > 3600 {
		l.invalid("sip.keepalive_s", fmt.Sprintf("must be from 0 (off) to 3600 seconds, got %d", c.SIP.KeepaliveS))
	}
	if strings.IndexFunc(c.SIP.TLSServerName, unicode.IsSpace) >= 0 || strings.Contains(c.SIP.TLSServerName, ":") {
		l.invalid("sip.tls_server_name", fmt.Sprintf("%q is not a host name", c.SIP.TLSServerName))
	}
	for _, k := range []struct{ key, v string }{{"sip.password_keyring", c.SIP.PasswordKeyring}, {"crm.password_keyring", c.CRM.PasswordKeyring}} {
		if k.v == "" {
			continue
		}
		if svc, acct, ok := strings.Cut(k.v, "/"); !ok || svc == "" || acct == "" {
			l.invalid(k.key, fmt.Sprintf("%q is not \"service/account\" (for example \"opdesk/alice\")", k.v))
		}
	}
	switch e := strings.ToLower(c.Media.Encryption); e {
	case "required", "optional", "off":
		c.Media.Encryption = e
	default:
		l.invalid("media.encryption", fmt.Sprintf("must be required, optional or off, got %q", c.Media.Encryption))
	}
	if c.SIP.Expires < MinExpires {
		l.invalid("sip.expires", fmt.Sprintf("must be at least %d seconds, got %d", MinExpires, c.SIP.Expires))
	}

	for _, k := range []struct {
		key string
		v   string
	}{{"audio.input", c.Audio.Input}, {"audio.output", c.Audio.Output}} {
		if k.v == "" {
			l.invalid(k.key, `must not be empty (write "null" for no audio)`)
		}
	}
	if b, err := audio.ParseBackend(c.Audio.Backend); err != nil {
		l.invalid("audio.backend", fmt.Sprintf("must be one of %s, got %q", strings.Join(audio.Backends, ", "), c.Audio.Backend))
	} else {
		c.Audio.Backend = b
	}
	if _, err := audio.ParseToneSet(c.Audio.Tones); err != nil {
		l.invalid("audio.tones", fmt.Sprintf("must be jp or us, got %q", c.Audio.Tones))
	}
	if _, err := audio.ParseRecordMode(c.Audio.Record); err != nil {
		l.invalid("audio.record", fmt.Sprintf("must be always, ask or never, got %q", c.Audio.Record))
	}
	if lo, hi := c.Audio.JitterMinMs, c.Audio.JitterMaxMs; lo < 0 || hi > 2000 || lo > hi {
		l.invalid("audio.jitter_min_ms", fmt.Sprintf("jitter buffer bounds must satisfy 0 ≤ jitter_min_ms ≤ jitter_max_ms ≤ 2000, got %d and %d", lo, hi))
	}

	if ip := c.Media.RTPIP; ip != "" {
		if _, err := netip.ParseAddr(ip); err != nil {
			l.invalid("media.rtp_ip", fmt.Sprintf("%q is not an IP address (leave it empty to pick one at run time)", ip))
		}
	}
	portsOK := true
	for _, k := range []struct {
		key string
		v   int
	}{{"media.rtp_port_min", c.Media.RTPPortMin}, {"media.rtp_port_max", c.Media.RTPPortMax}} {
		if k.v < 1 || k.v > 65535 {
			l.invalid(k.key, fmt.Sprintf("must be a port from 1 to 65535, got %d", k.v))
			portsOK = false
		}
	}
	if portsOK && c.Media.RTPPortMin >= c.Media.RTPPortMax {
		l.invalid("media.rtp_port_min", fmt.Sprintf("must be below media.rtp_port_max (%d), got %d",
			c.Media.RTPPortMax, c.Media.RTPPortMin))
	}

	// An empty path with no source is a default that could not be made;
	// resolvePaths has said so already.
	if s := c.Ctl.Socket; s == "" && l.isSet("ctl.socket") {
		l.invalid("ctl.socket", "must not be empty")
	} else if len(s) > maxSocketPath {
		l.invalid("ctl.socket", fmt.Sprintf("%q is %d bytes long; a unix socket path may have at most %d", s, len(s), maxSocketPath))
	}
	if c.Audio.Recordings == "" && l.isSet("audio.recordings") {
		l.invalid("audio.recordings", "must not be empty")
	}
	if c.Log.File == "" && l.isSet("log.file") {
		l.invalid("log.file", "must not be empty")
	}
	l.validateDesk()
	l.validateOutbound()
	l.validateSupervisor()

	switch lvl := strings.ToLower(c.Log.Level); lvl {
	case "debug", "info", "warn", "error":
		c.Log.Level = lvl
	default:
		l.invalid("log.level", fmt.Sprintf("must be debug, info, warn or error, got %q", c.Log.Level))
	}
}

func (l *loader) isSet(key string) bool { _, set := l.src[key]; return set }

func (l *loader) invalid(key, text string) {
	l.errs = append(l.errs, valueError(l.src[key], key, ErrInvalid, text))
}

// SplitList splits a comma-separated list, dropping blanks around and
// between items.
func SplitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// checkHostPort checks a "host:port" listen address; the host may be
// empty (all interfaces).
func checkHostPort(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil || strings.ContainsFunc(host, unicode.IsSpace) {
		return fmt.Sprintf("%q is not host:port", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("%q has port %q; want a number from 1 to 65535", s, port)
	}
	return ""
}

// checkRegistrar checks a registrar URI: sip:host[:port][;params]. RFC 3261
// §10.2 forbids a user part in the REGISTER Request-URI.
func checkRegistrar(s string) string {
	if s == "" {
		return ""
	}
	scheme, rest, _ := strings.Cut(s, ":")
	switch strings.ToLower(scheme) {
	case "sip":
	case "sips":
	default:
		hint := s
		if _, after, ok := strings.Cut(s, "://"); ok {
			hint = after
		}
		return fmt.Sprintf("%q is not a SIP URI (write sip:%s)", s, hint)
	}
	hostport, _, _ := strings.Cut(rest, ";")
	hostport, _, _ = strings.Cut(hostport, "?")
	if strings.Contains(hostport, "@") {
		return fmt.Sprintf("%q has a user part; a registrar is sip:host[:port] (RFC 3261 §10.2)", s)
	}
	host := hostport
	if strings.HasPrefix(hostport, "[") && !strings.HasSuffix(hostport, "]") || strings.Count(hostport, ":") == 1 {
		h, port, err := net.SplitHostPort(hostport)
		if err != nil {
			return fmt.Sprintf("%q is not a SIP URI: %q is not host:port", s, hostport)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("%q has port %q; want a number from 1 to 65535", s, port)
		}
		host = h
	} else if strings.Contains(hostport, ":") && !strings.HasPrefix(hostport, "[") {
		return fmt.Sprintf("%q: write an IPv6 address in brackets, as sip:[%s]", s, hostport)
	}
	host = strings.Trim(host, "[]")
	if host == "" || strings.ContainsFunc(host, unicode.IsSpace) {
		return fmt.Sprintf("%q has no valid host", s)
	}
	return ""
}

// validateDesk checks the [crm] and [ui] sections.
func (l *loader) validateDesk() {
	c := &l.cfg
	if u := c.CRM.URL; u != "" {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			l.invalid("crm.url", fmt.Sprintf("%q is not an http:// or https:// URL such as http://crm.example.com:8080", u))
		} else if c.CRM.User == "" {
			l.invalid("crm.url", "is set, so crm.user must be set too (the operator's CRM login)")
		}
	}
	if r := strings.ToUpper(strings.TrimSpace(c.CRM.Region)); len(r) == 2 && r[0] >= 'A' && r[0] <= 'Z' && r[1] >= 'A' && r[1] <= 'Z' {
		c.CRM.Region = r
	} else {
		l.invalid("crm.region", fmt.Sprintf("must be a two-letter country code such as JP or US, got %q", c.CRM.Region))
	}
	if t := c.CRM.PopTimeoutMs; t < 100 || t > 10000 {
		l.invalid("crm.pop_timeout_ms", fmt.Sprintf("must be from 100 to 10000 milliseconds, got %d", t))
	}
	switch lang := strings.ToLower(strings.TrimSpace(c.UI.Lang)); lang {
	case "", "ja", "en":
		c.UI.Lang = lang
	default:
		l.invalid("ui.lang", fmt.Sprintf("must be ja or en (or empty for the locale's), got %q", c.UI.Lang))
	}
	if s := c.UI.AutoReadyS; s < 0 || s > 3600 {
		l.invalid("ui.auto_ready_s", fmt.Sprintf("must be from 0 (off) to 3600 seconds, got %d", s))
	}
	switch v := strings.ToLower(strings.TrimSpace(c.UI.MonitorIndicator)); v {
	case "show", "hide":
		c.UI.MonitorIndicator = v
	default:
		l.invalid("ui.monitor_indicator", fmt.Sprintf("must be show or hide, got %q", c.UI.MonitorIndicator))
	}
}

// dialTemplate is a PBX feature code with the agent's extension in it:
// "*222{ext}", "eavesdrop-{ext}", "sip:spy-{ext}@pbx.example.com".
var dialTemplate = regexp.MustCompile(`^[A-Za-z0-9*#+._:@-]*\{ext\}[A-Za-z0-9*#+._:@-]*$`)

// validateSupervisor checks the [supervisor] section.
func (l *loader) validateSupervisor() {
	s := &l.cfg.Supervisor
	for _, t := range []struct {
		key string
		v   *string
	}{{"supervisor.listen", &s.Listen}, {"supervisor.whisper", &s.Whisper}, {"supervisor.barge", &s.Barge}} {
		*t.v = strings.TrimSpace(*t.v)
		if *t.v != "" && !dialTemplate.MatchString(*t.v) {
			l.invalid(t.key, fmt.Sprintf("must be a dial string with {ext} once where the agent's extension goes, "+
				"such as \"*222{ext}\", got %q", *t.v))
		}
	}
	if v := s.LongACWS; v < 10 || v > 3600 {
		l.invalid("supervisor.long_acw_s", fmt.Sprintf("must be from 10 to 3600 seconds, got %d", v))
	}
}

// validateOutbound checks the [outbound] section and lower-cases its words.
func (l *loader) validateOutbound() {
	o := &l.cfg.Outbound
	for _, k := range []struct {
		key   string
		v     *string
		words []string
	}{
		{"outbound.mode", &o.Mode, []string{"progressive", "preview"}},
		{"outbound.caller_id_header", &o.CallerIDHeader, []string{"pai", "from", "both"}},
		{"outbound.dial_format", &o.DialFormat, []string{"national", "e164"}},
	} {
		if w := strings.ToLower(strings.TrimSpace(*k.v)); slices.Contains(k.words, w) {
			*k.v = w
			continue
		}
		l.invalid(k.key, fmt.Sprintf("must be %s or %s, got %q",
			strings.Join(k.words[:len(k.words)-1], ", "), k.words[len(k.words)-1], *k.v))
	}
	for _, k := range []struct {
		key    string
		v      int
		lo, hi int
	}{
		{"outbound.countdown_s", o.CountdownS, 0, 120},
		{"outbound.ring_timeout_s", o.RingTimeoutS, 5, 300},
		{"outbound.poll_s", o.PollS, 1, 600},
	} {
		if k.v < k.lo || k.v > k.hi {
			l.invalid(k.key, fmt.Sprintf("must be from %d to %d seconds, got %d", k.lo, k.hi, k.v))
		}
	}
}
