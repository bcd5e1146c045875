package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// field describes one key: its name in every source and where it lives in
// Config. The table below is the single list of keys; a test checks that it
// matches the toml tags of Config.
type field struct {
	key  string // "section.name", as in the file
	what string // what a value must be, for type errors; "" means "a string"
	ptr  func(*Config) any
}

var fields = []field{
	{key: "sip.user", ptr: func(c *Config) any { return &c.SIP.User }},
	{key: "sip.password", ptr: func(c *Config) any { return &c.SIP.Password }},
	{key: "sip.password_file", what: "a file name", ptr: func(c *Config) any { return &c.SIP.PasswordFile }},
	{key: "sip.domain", ptr: func(c *Config) any { return &c.SIP.Domain }},
	{key: "sip.display_name", ptr: func(c *Config) any { return &c.SIP.DisplayName }},
	{key: "sip.registrar", what: "a SIP URI string", ptr: func(c *Config) any { return &c.SIP.Registrar }},
	{key: "sip.listen", what: `a "host:port" string`, ptr: func(c *Config) any { return &c.SIP.Listen }},
	{key: "sip.transport", what: `"udp", "tcp" or "tls"`, ptr: func(c *Config) any { return &c.SIP.Transport }},
	{key: "sip.expires", what: "a number of seconds", ptr: func(c *Config) any { return &c.SIP.Expires }},
	{key: "sip.user_agent", ptr: func(c *Config) any { return &c.SIP.UserAgent }},
	{key: "sip.password_keyring", what: `a keyring entry "service/account"`, ptr: func(c *Config) any { return &c.SIP.PasswordKeyring }},
	{key: "sip.tls_ca_file", what: "a file name", ptr: func(c *Config) any { return &c.SIP.TLSCAFile }},
	{key: "sip.tls_server_name", what: "a host name", ptr: func(c *Config) any { return &c.SIP.TLSServerName }},
	{key: "sip.keepalive_s", what: "a number of seconds", ptr: func(c *Config) any { return &c.SIP.KeepaliveS }},
	{key: "sip.failover", what: "SIP URIs separated by commas", ptr: func(c *Config) any { return &c.SIP.Failover }},
	{key: "audio.input", ptr: func(c *Config) any { return &c.Audio.Input }},
	{key: "audio.output", ptr: func(c *Config) any { return &c.Audio.Output }},
	{key: "audio.ring", ptr: func(c *Config) any { return &c.Audio.Ring }},
	{key: "audio.backend", what: "auto, pulseaudio, alsa or null", ptr: func(c *Config) any { return &c.Audio.Backend }},
	{key: "audio.tones", what: "jp or us", ptr: func(c *Config) any { return &c.Audio.Tones }},
	{key: "audio.record", what: "always, ask or never", ptr: func(c *Config) any { return &c.Audio.Record }},
	{key: "audio.recordings", what: "a directory name", ptr: func(c *Config) any { return &c.Audio.Recordings }},
	{key: "audio.jitter_min_ms", what: "a number of milliseconds", ptr: func(c *Config) any { return &c.Audio.JitterMinMs }},
	{key: "audio.jitter_max_ms", what: "a number of milliseconds", ptr: func(c *Config) any { return &c.Audio.JitterMaxMs }},
	{key: "media.rtp_ip", what: "an IP address string", ptr: func(c *Config) any { return &c.Media.RTPIP }},
	{key: "media.rtp_port_min", what: "a port number", ptr: func(c *Config) any { return &c.Media.RTPPortMin }},
	{key: "media.rtp_port_max", what: "a port number", ptr: func(c *Config) any { return &c.Media.RTPPortMax }},
	{key: "media.encryption", what: "required, optional or off", ptr: func(c *Config) any { return &c.Media.Encryption }},
	{key: "ctl.socket", what: "a file name", ptr: func(c *Config) any { return &c.Ctl.Socket }},
	{key: "log.file", what: "a file name", ptr: func(c *Config) any { return &c.Log.File }},
	{key: "log.level", what: "debug, info, warn or error", ptr: func(c *Config) any { return &c.Log.Level }},
	{key: "crm.url", what: "an http(s) URL string", ptr: func(c *Config) any { return &c.CRM.URL }},
	{key: "crm.user", ptr: func(c *Config) any { return &c.CRM.User }},
	{key: "crm.password", ptr: func(c *Config) any { return &c.CRM.Password }},
	{key: "crm.password_file", what: "a file name", ptr: func(c *Config) any { return &c.CRM.PasswordFile }},
	{key: "crm.password_keyring", what: `a keyring entry "service/account"`, ptr: func(c *Config) any { return &c.CRM.PasswordKeyring }},
	{key: "crm.region", what: `a two-letter country code such as "JP"`, ptr: func(c *Config) any { return &c.CRM.Region }},
	{key: "crm.company", ptr: func(c *Config) any { return &c.CRM.Company }},
	{key: "crm.pop_timeout_ms", what: "a number of milliseconds", ptr: func(c *Config) any { return &c.CRM.PopTimeoutMs }},
	{key: "ui.lang", what: "ja or en", ptr: func(c *Config) any { return &c.UI.Lang }},
	{key: "ui.auto_ready_s", what: "a number of seconds", ptr: func(c *Config) any { return &c.UI.AutoReadyS }},
	{key: "ui.monitor_indicator", what: "show or hide", ptr: func(c *Config) any { return &c.UI.MonitorIndicator }},
	{key: "outbound.mode", what: "progressive or preview", ptr: func(c *Config) any { return &c.Outbound.Mode }},
	{key: "outbound.countdown_s", what: "a number of seconds", ptr: func(c *Config) any { return &c.Outbound.CountdownS }},
	{key: "outbound.ring_timeout_s", what: "a number of seconds", ptr: func(c *Config) any { return &c.Outbound.RingTimeoutS }},
	{key: "outbound.caller_id_header", what: "pai, from or both", ptr: func(c *Config) any { return &c.Outbound.CallerIDHeader }},
	{key: "outbound.dial_format", what: "national or e164", ptr: func(c *Config) any { return &c.Outbound.DialFormat }},
	{key: "outbound.poll_s", what: "a number of seconds", ptr: func(c *Config) any { return &c.Outbound.PollS }},
	{key: "supervisor.listen", what: "a dial template with {ext}", ptr: func(c *Config) any { return &c.Supervisor.Listen }},
	{key: "supervisor.whisper", what: "a dial template with {ext}", ptr: func(c *Config) any { return &c.Supervisor.Whisper }},
	{key: "supervisor.barge", what: "a dial template with {ext}", ptr: func(c *Config) any { return &c.Supervisor.Barge }},
	{key: "supervisor.long_acw_s", what: "a number of seconds", ptr: func(c *Config) any { return &c.Supervisor.LongACWS }},
}

func (f *field) section() string { s, _, _ := strings.Cut(f.key, "."); return s }
func (f *field) name() string    { _, n, _ := strings.Cut(f.key, "."); return n }
func (f *field) flag() string    { return "--" + f.key }
func (f *field) env() string     { return envName(f.key) }

func envName(key string) string {
	return "OPDESK_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

func (f *field) expected() string {
	if f.what != "" {
		return f.what
	}
	return "a string"
}

func lookupKey(key string) *field {
	for i := range fields {
		if fields[i].key == key {
			return &fields[i]
		}
	}
	return nil
}

func lookupEnv(name string) *field {
	for i := range fields {
		if fields[i].env() == name {
			return &fields[i]
		}
	}
	return nil
}

func isSection(name string) bool {
	for i := range fields {
		if fields[i].section() == name {
			return true
		}
	}
	return false
}

// setText stores s, from the environment or a flag, into c. It returns a
// type-error message, or "".
func (f *field) setText(c *Config, s string) string {
	switch p := f.ptr(c).(type) {
	case *string:
		*p = s
	case *Secret:
		*p = Secret(s)
	case *int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Sprintf("expected %s, got %q", f.expected(), s)
		}
		*p = n
	}
	return ""
}

// setTOML stores v, decoded from the file, into c. It returns a type-error
// message, or "".
func (f *field) setTOML(c *Config, v any) string {
	switch p := f.ptr(c).(type) {
	case *string:
		if s, ok := v.(string); ok {
			*p = s
			return ""
		}
	case *Secret:
		if s, ok := v.(string); ok {
			*p = Secret(s)
			return ""
		}
	case *int:
		if n, ok := v.(int64); ok && int64(int(n)) == n {
			*p = int(n)
			return ""
		}
		if s, ok := v.(string); ok {
			if _, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
				return fmt.Sprintf("expected %s, got %q (write %s without quotes)", f.expected(), s, strings.TrimSpace(s))
			}
		}
	}
	return fmt.Sprintf("expected %s, got %s", f.expected(), describe(v))
}

// literal renders the field's value in c as a TOML literal.
func (f *field) literal(c *Config) string {
	switch p := f.ptr(c).(type) {
	case *string:
		return strconv.Quote(*p)
	case *Secret:
		return strconv.Quote(p.String())
	case *int:
		return strconv.Itoa(*p)
	}
	panic("config: field " + f.key + " has an unsupported type")
}

// describe renders a decoded TOML value for an error message.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case map[string]any:
		return "a table"
	case []any:
		return "an array"
	default:
		return fmt.Sprint(v)
	}
}

// suggest returns the candidate closest to typo, or "" if none is close
// enough to be a likely typo. A candidate whose last dotted part equals
// typo's ("user" → "sip.user", "sip.rtp_ip" → "media.rtp_ip") wins outright.
func suggest(typo string, candidates []string) string {
	leaf := typo[strings.LastIndexByte(typo, '.')+1:]
	var sameLeaf []string
	for _, c := range candidates {
		if c != typo && c[strings.LastIndexByte(c, '.')+1:] == leaf {
			sameLeaf = append(sameLeaf, c)
		}
	}
	if len(sameLeaf) == 1 {
		return sameLeaf[0]
	}
	best, bestDist := "", 0
	for _, c := range candidates {
		d := editDistance(strings.ToLower(typo), strings.ToLower(c))
		if best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" || bestDist > max(1, len(typo)/3) {
		return ""
	}
	return best
}

// keyNames returns every known key, sorted.
func keyNames() []string {
	names := make([]string, len(fields))
	for i := range fields {
		names[i] = fields[i].key
	}
	sort.Strings(names)
	return names
}

// sectionNames returns every known section, in table order, [keys] last.
func sectionNames() []string {
	var names []string
	for i := range fields {
		if s := fields[i].section(); len(names) == 0 || names[len(names)-1] != s {
			names = append(names, s)
		}
	}
	return append(names, keysSection)
}

// The [keys] section maps the desktop's action names to key names. Its
// names are not in the fields table: they belong to package keymap, which
// cmd applies the overrides to (config does not import it, so the
// configuration stays loadable without the desktop).
const (
	keysSection = "keys"
	keysEnv     = "OPDESK_KEYS_"
	// keysWhat is what a [keys] value must be, for type errors.
	keysWhat = `a key name or a list of key names, such as "f2" or ["f2", "a"]`
)

// keyList reads a [keys] value from the file: a string or an array of
// strings. It returns a type-error message, or "".
func keyList(v any) ([]string, string) {
	switch v := v.(type) {
	case string:
		return []string{v}, ""
	case []any:
		keys := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Sprintf("expected %s, got a list holding %s (quote key names)", keysWhat, describe(e))
			}
			keys = append(keys, s)
		}
		return keys, ""
	}
	return nil, fmt.Sprintf("expected %s, got %s", keysWhat, describe(v))
}

// splitKeyList reads a [keys] value from the environment or a flag:
// comma-separated key names ("f2,a"). "" removes the keys, and "," alone is
// the comma key (in a list, the comma key needs the config file).
func splitKeyList(s string) []string {
	switch strings.TrimSpace(s) {
	case "":
		return []string{}
	case ",":
		return []string{","}
	}
	keys := strings.Split(s, ",")
	for i, k := range keys {
		if k != " " {
			keys[i] = strings.TrimSpace(k)
		}
	}
	return keys
}

// keysTOML renders the [keys] overrides as TOML: the overrides that are in
// effect (the last for each action and context), actions for every context
// first, then one [keys.CONTEXT] table per context.
func keysTOML(overrides []KeyOverride) string {
	type id struct{ ctx, action string }
	last := make(map[id][]string)
	for _, o := range overrides {
		last[id{o.Context, o.Action}] = o.Keys
	}
	ids := make([]id, 0, len(last))
	for k := range last {
		ids = append(ids, k)
	}
	sort.Slice(ids, func(i, j int) bool {
		if ids[i].ctx != ids[j].ctx {
			return ids[i].ctx < ids[j].ctx
		}
		return ids[i].action < ids[j].action
	})
	var b strings.Builder
	b.WriteString("\n[" + keysSection + "]\n")
	table := ""
	for _, k := range ids {
		if k.ctx != table {
			table = k.ctx
			fmt.Fprintf(&b, "\n[%s.%s]\n", keysSection, tomlKey(k.ctx))
		}
		keys := last[k]
		value := ""
		if len(keys) == 1 {
			value = strconv.Quote(keys[0])
		} else {
			quoted := make([]string, len(keys))
			for i, key := range keys {
				quoted[i] = strconv.Quote(key)
			}
			value = "[" + strings.Join(quoted, ", ") + "]"
		}
		fmt.Fprintf(&b, "%s = %s\n", tomlKey(k.action), value)
	}
	return b.String()
}

// tomlKey writes name as a bare TOML key if it can be one, else quoted.
func tomlKey(name string) string {
	bare := name != ""
	for _, r := range name {
		bare = bare && (r == '_' || r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}
	if bare {
		return name
	}
	return strconv.Quote(name)
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of adjacent bytes each
// cost one, so "expries" is one step from "expires".
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
