package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeConfig writes doc to a config.toml in a fresh directory and returns
// its path.
func writeConfig(t *testing.T, doc string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// errorLines splits a joined error into its messages.
func errorLines(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

func TestLoadErrors(t *testing.T) {
	longDir := "/tmp/" + strings.Repeat("d", 100)
	tests := []struct {
		name string
		file string   // config file content; "" = no file
		env  []string // added to HOME=/home/ann
		args []string
		want []string // "{path}" stands for the config file
		is   error
	}{
		// Unknown keys.
		{name: "unknown key suggests closest", file: "[sip]\nuser = \"alice\"\nexpirs = 600\n",
			want: []string{`{path}:3: unknown key "sip.expirs" (did you mean "sip.expires"?)`}, is: ErrUnknownKey},
		{name: "swapped letters", file: "[sip]\nexipres = 600\n",
			want: []string{`{path}:2: unknown key "sip.exipres" (did you mean "sip.expires"?)`}, is: ErrUnknownKey},
		{name: "unknown key far from any", file: "[sip]\nfoo_bar_baz = 1\n",
			want: []string{`{path}:2: unknown key "sip.foo_bar_baz"`}, is: ErrUnknownKey},
		{name: "key in the wrong section", file: "[sip]\nrtp_ip = \"10.0.0.1\"\n",
			want: []string{`{path}:2: unknown key "sip.rtp_ip" (did you mean "media.rtp_ip"?)`}, is: ErrUnknownKey},
		{name: "key outside any section", file: "# hi\nregistrar = \"sip:pbx\"\n",
			want: []string{`{path}:2: unknown key "registrar" (did you mean "sip.registrar"?)`}, is: ErrUnknownKey},
		{name: "misspelt section", file: "[sipp]\nuser = \"alice\"\n",
			want: []string{`{path}:1: unknown section "sipp" (did you mean "sip"?)`}, is: ErrUnknownKey},
		{name: "section not known yet", file: "[wallboard]\nurl = \"http://crm\"\n",
			want: []string{`{path}:1: unknown section "wallboard"`}, is: ErrUnknownKey},
		{name: "dotted key at top level", file: "user_agent = \"x\"\nsip.expirs = 600\n",
			want: []string{
				`{path}:1: unknown key "user_agent" (did you mean "sip.user_agent"?)`,
				`{path}:2: unknown key "sip.expirs" (did you mean "sip.expires"?)`,
			}, is: ErrUnknownKey},
		{name: "nested table in a section", file: "[sip]\n[sip.extra]\na = 1\n",
			want: []string{`{path}:2: unknown key "sip.extra"`}, is: ErrUnknownKey},

		// Wrong types.
		{name: "number expected", file: "[sip]\n\nexpires = \"abc\"\n",
			want: []string{`{path}:3: sip.expires: expected a number of seconds, got "abc"`}, is: ErrType},
		{name: "quoted number", file: "[sip]\nexpires = \"600\"\n",
			want: []string{`{path}:2: sip.expires: expected a number of seconds, got "600" (write 600 without quotes)`}, is: ErrType},
		{name: "float for a number", file: "[media]\nrtp_port_min = 1.5\n",
			want: []string{`{path}:2: media.rtp_port_min: expected a port number, got 1.5`}, is: ErrType},
		{name: "string expected", file: "[sip]\nuser = 42\n",
			want: []string{`{path}:2: sip.user: expected a string, got 42`}, is: ErrType},
		{name: "array for a string", file: "[audio]\ninput = [\"a\"]\n",
			want: []string{`{path}:2: audio.input: expected a string, got an array`}, is: ErrType},
		{name: "section given a value", file: "sip = \"pbx\"\n",
			want: []string{`{path}:1: sip: expected a table ([sip] followed by its keys), got "pbx"`}, is: ErrType},

		// Invalid values.
		{name: "transport", file: "[sip]\ntransport = \"tsl\"\n",
			want: []string{`{path}:2: sip.transport: must be udp, tcp or tls, got "tsl"`}, is: ErrInvalid},
		{name: "listen without host", file: "[sip]\nlisten = \"5060\"\n",
			want: []string{`{path}:2: sip.listen: "5060" is not host:port`}, is: ErrInvalid},
		{name: "listen bad port", file: "[sip]\nlisten = \"0.0.0.0:99999\"\n",
			want: []string{`{path}:2: sip.listen: "0.0.0.0:99999" has port "99999"; want a number from 1 to 65535`}, is: ErrInvalid},
		{name: "registrar without scheme", file: "[sip]\nuser = \"alice\"\nregistrar = \"pbx.example.com\"\n",
			want: []string{`{path}:3: sip.registrar: "pbx.example.com" is not a SIP URI (write sip:pbx.example.com)`}, is: ErrInvalid},
		{name: "registrar with port, no scheme", file: "[sip]\nuser = \"alice\"\nregistrar = \"pbx.example.com:5060\"\n",
			want: []string{`{path}:3: sip.registrar: "pbx.example.com:5060" is not a SIP URI (write sip:pbx.example.com:5060)`}, is: ErrInvalid},
		{name: "registrar as URL", file: "[sip]\nuser = \"alice\"\nregistrar = \"udp://pbx\"\n",
			want: []string{`{path}:3: sip.registrar: "udp://pbx" is not a SIP URI (write sip:pbx)`}, is: ErrInvalid},
		{name: "registrar sips", file: "[sip]\nuser = \"alice\"\nregistrar = \"sips:pbx\"\n",
			want: []string{`sip.transport: the registrar "sips:pbx" is a sips: URI, which needs transport = "tls", got "udp"`}, is: ErrInvalid},
		{name: "failover", file: "[sip]\nuser = \"alice\"\nregistrar = \"sip:pbx\"\nfailover = \"sip:pbx2, pbx3\"\n",
			want: []string{`{path}:4: sip.failover: "pbx3" is not a SIP URI (write sip:pbx3)`}, is: ErrInvalid},
		{name: "encryption", file: "[media]\nencryption = \"maybe\"\n",
			want: []string{`{path}:2: media.encryption: must be required, optional or off, got "maybe"`}, is: ErrInvalid},
		{name: "keyring", file: "[crm]\npassword_keyring = \"opdesk\"\n",
			want: []string{`{path}:2: crm.password_keyring: "opdesk" is not "service/account" (for example "opdesk/alice")`}, is: ErrInvalid},
		{name: "registrar with user", file: "[sip]\nuser = \"alice\"\nregistrar = \"sip:alice@pbx\"\n",
			want: []string{`{path}:3: sip.registrar: "sip:alice@pbx" has a user part; a registrar is sip:host[:port] (RFC 3261 §10.2)`}, is: ErrInvalid},
		{name: "registrar bad port", file: "[sip]\nuser = \"alice\"\nregistrar = \"sip:pbx:0\"\n",
			want: []string{`{path}:3: sip.registrar: "sip:pbx:0" has port "0"; want a number from 1 to 65535`}, is: ErrInvalid},
		{name: "registrar no host", file: "[sip]\nuser = \"alice\"\nregistrar = \"sip:\"\n",
			want: []string{`{path}:3: sip.registrar: "sip:" has no valid host`}, is: ErrInvalid},
		{name: "registrar needs user", file: "[sip]\nregistrar = \"sip:pbx\"\n",
			want: []string{`{path}:2: sip.registrar: is set, so sip.user must be set too (the user to register)`}, is: ErrInvalid},
		{name: "domain as URI", file: "[sip]\ndomain = \"sip:pbx\"\n",
			want: []string{`{path}:2: sip.domain: "sip:pbx" is a URI; write only the host, pbx`}, is: ErrInvalid},
		{name: "expires too short", file: "[sip]\nexpires = 30\n",
			want: []string{`{path}:2: sip.expires: must be at least 60 seconds, got 30`}, is: ErrInvalid},
		{name: "empty audio", file: "[audio]\noutput = \"\"\n",
			want: []string{`{path}:2: audio.output: must not be empty (write "null" for no audio)`}, is: ErrInvalid},
		{name: "audio backend typo", file: "[audio]\nbackend = \"puls\"\n",
			want: []string{`{path}:2: audio.backend: must be one of auto, pulseaudio, alsa, null, got "puls"`}, is: ErrInvalid},
		{name: "audio tones", file: "[audio]\ntones = \"uk\"\n",
			want: []string{`{path}:2: audio.tones: must be jp or us, got "uk"`}, is: ErrInvalid},
		{name: "audio record", file: "[audio]\nrecord = \"yes\"\n",
			want: []string{`{path}:2: audio.record: must be always, ask or never, got "yes"`}, is: ErrInvalid},
		{name: "jitter bounds", file: "[audio]\njitter_min_ms = 300\n",
			want: []string{`{path}:2: audio.jitter_min_ms: jitter buffer bounds must satisfy 0 ≤ jitter_min_ms ≤ jitter_max_ms ≤ 2000, got 300 and 200`}, is: ErrInvalid},
		{name: "rtp ip", file: "[media]\nrtp_ip = \"pbx\"\n",
			want: []string{`{path}:2: media.rtp_ip: "pbx" is not an IP address (leave it empty to pick one at run time)`}, is: ErrInvalid},
		{name: "rtp port out of range", file: "[media]\nrtp_port_max = 70000\n",
			want: []string{`{path}:2: media.rtp_port_max: must be a port from 1 to 65535, got 70000`}, is: ErrInvalid},
		{name: "rtp ports reversed", file: "[media]\nrtp_port_min = 40000\nrtp_port_max = 30000\n",
			want: []string{`{path}:2: media.rtp_port_min: must be below media.rtp_port_max (30000), got 40000`}, is: ErrInvalid},
		{name: "log level", file: "[log]\nlevel = \"verbose\"\n",
			want: []string{`{path}:2: log.level: must be debug, info, warn or error, got "verbose"`}, is: ErrInvalid},
		{name: "template without ext", file: "[supervisor]\nlisten = \"*222\"\n",
			want: []string{`{path}:2: supervisor.listen: must be a dial string with {ext} once where the agent's extension goes, such as "*222{ext}", got "*222"`}, is: ErrInvalid},
		{name: "template with spaces", file: "[supervisor]\nbarge = \"*224 {ext}\"\n",
			want: []string{`{path}:2: supervisor.barge: must be a dial string with {ext} once where the agent's extension goes, such as "*222{ext}", got "*224 {ext}"`}, is: ErrInvalid},
		{name: "long acw", file: "[supervisor]\nlong_acw_s = 5\n",
			want: []string{`{path}:2: supervisor.long_acw_s: must be from 10 to 3600 seconds, got 5`}, is: ErrInvalid},
		{name: "monitor indicator", file: "[ui]\nmonitor_indicator = \"blink\"\n",
			want: []string{`{path}:2: ui.monitor_indicator: must be show or hide, got "blink"`}, is: ErrInvalid},
		{name: "outbound mode", file: "[outbound]\nmode = \"predictive\"\n",
			want: []string{`{path}:2: outbound.mode: must be progressive or preview, got "predictive"`}, is: ErrInvalid},
		{name: "outbound caller ID header", file: "[outbound]\ncaller_id_header = \"ppi\"\n",
			want: []string{`{path}:2: outbound.caller_id_header: must be pai, from or both, got "ppi"`}, is: ErrInvalid},
		{name: "outbound dial format", file: "[outbound]\ndial_format = \"international\"\n",
			want: []string{`{path}:2: outbound.dial_format: must be national or e164, got "international"`}, is: ErrInvalid},
		{name: "outbound countdown", file: "[outbound]\ncountdown_s = -1\n",
			want: []string{`{path}:2: outbound.countdown_s: must be from 0 to 120 seconds, got -1`}, is: ErrInvalid},
		{name: "outbound ring timeout", file: "[outbound]\n\nring_timeout_s = 4\n",
			want: []string{`{path}:3: outbound.ring_timeout_s: must be from 5 to 300 seconds, got 4`}, is: ErrInvalid},
		{name: "outbound poll", file: "[outbound]\npoll_s = 0\n",
			want: []string{`{path}:2: outbound.poll_s: must be from 1 to 600 seconds, got 0`}, is: ErrInvalid},
		{name: "outbound key typo", file: "[outbound]\nring_timeout = 30\n",
			want: []string{`{path}:2: unknown key "outbound.ring_timeout" (did you mean "outbound.ring_timeout_s"?)`}, is: ErrUnknownKey},
		{name: "outbound section typo", file: "[outbond]\nmode = \"preview\"\n",
			want: []string{`{path}:1: unknown section "outbond" (did you mean "outbound"?)`}, is: ErrUnknownKey},
		{name: "outbound quoted number", file: "[outbound]\npoll_s = \"30\"\n",
			want: []string{`{path}:2: outbound.poll_s: expected a number of seconds, got "30" (write 30 without quotes)`}, is: ErrType},
		{name: "outbound env", env: []string{"OPDESK_OUTBOUND_CALLER_ID_HEADER=pia"},
			want: []string{`environment OPDESK_OUTBOUND_CALLER_ID_HEADER: must be pai, from or both, got "pia"`}, is: ErrInvalid},
		{name: "outbound flag typo", args: []string{"--outbound.countdown=5"},
			want: []string{`flag --outbound.countdown: unknown setting (did you mean --outbound.countdown_s?)`}, is: ErrUnknownKey},
		{name: "socket too long", file: "[ctl]\nsocket = \"" + longDir + "/ctl.sock\"\n",
			want: []string{`{path}:2: ctl.socket: "` + longDir + `/ctl.sock" is 114 bytes long; a unix socket path may have at most 107`}, is: ErrInvalid},
		{name: "password and password file in one source", file: "[sip]\npassword = \"x\"\npassword_file = \"pw\"\n",
			want: []string{`{path}:3: sip.password_file: sip.password is set too; keep one of them`}, is: ErrInvalid},
		{name: "missing password file", file: "[sip]\npassword_file = \"/nonexistent/pw\"\n",
			want: []string{`{path}:2: sip.password_file: open /nonexistent/pw: no such file or directory`}, is: fs.ErrNotExist},

		// TOML syntax.
		{name: "unclosed table", file: "[sip\nuser = 1\n",
			want: []string{`{path}:1: invalid TOML: expected ']' to close table name`}, is: ErrSyntax},
		{name: "duplicate key", file: "[sip]\nuser = \"a\"\nuser = \"b\"\n",
			want: []string{`{path}:3: invalid TOML: key user is already defined`}, is: ErrSyntax},
		{name: "unterminated string", file: "[sip]\n\nuser = \"alice\n",
			want: []string{`{path}:3: invalid TOML: basic strings cannot have new lines`}, is: ErrSyntax},

		// Environment and flags name themselves instead of a line.
		{name: "env type", env: []string{"OPDESK_SIP_EXPIRES=abc"},
			want: []string{`environment OPDESK_SIP_EXPIRES: expected a number of seconds, got "abc"`}, is: ErrType},
		{name: "env invalid", env: []string{"OPDESK_SIP_TRANSPORT=tsl"},
			want: []string{`environment OPDESK_SIP_TRANSPORT: must be udp, tcp or tls, got "tsl"`}, is: ErrInvalid},
		{name: "env header injection", env: []string{"OPDESK_SIP_DISPLAY_NAME=Al\r\nVia: x"},
			want: []string{`environment OPDESK_SIP_DISPLAY_NAME: "Al\r\nVia: x" contains a control character such as a line break`}, is: ErrInvalid},
		{name: "flag type", args: []string{"--sip.expires=abc"},
			want: []string{`flag --sip.expires: expected a number of seconds, got "abc"`}, is: ErrType},
		{name: "flag invalid, separate value", args: []string{"--sip.listen", "5060"},
			want: []string{`flag --sip.listen: "5060" is not host:port`}, is: ErrInvalid},
		{name: "flag unknown", args: []string{"-sip.expirs=600"},
			want: []string{`flag --sip.expirs: unknown setting (did you mean --sip.expires?)`}, is: ErrUnknownKey},
		{name: "flag without value", args: []string{"--sip.expires"},
			want: []string{`flag --sip.expires: needs a value`}, is: ErrInvalid},
		{name: "not a config flag", args: []string{"--verbose"},
			want: []string{`argument "--verbose" is not a --section.key=value flag`}, is: ErrUnknownKey},
		{name: "missing explicit config", args: []string{"--config", "/nonexistent/opdesk.toml"},
			want: []string{`flag --config: cannot read config file /nonexistent/opdesk.toml: no such file or directory`}, is: fs.ErrNotExist},
		{name: "missing config from env", env: []string{"OPDESK_CONFIG=/nonexistent/opdesk.toml"},
			want: []string{`environment OPDESK_CONFIG: cannot read config file /nonexistent/opdesk.toml: no such file or directory`}, is: fs.ErrNotExist},

		// Positions survive the TOML forms a line scan would get wrong.
		{name: "inline table", file: "# comment\nsip = { user = \"alice\", transport = \"tsl\" }\n",
			want: []string{`{path}:2: sip.transport: must be udp, tcp or tls, got "tsl"`}, is: ErrInvalid},
		{name: "multi-line string hides a fake key", file: "[sip]\ndisplay_name = \"\"\"Alice\ntransport = x\"\"\"\n\ntransport = \"tsl\"\n",
			want: []string{
				`{path}:2: sip.display_name: "Alice\ntransport = x" contains a control character such as a line break`,
				`{path}:5: sip.transport: must be udp, tcp or tls, got "tsl"`,
			}, is: ErrInvalid},
		{name: "quoted key", file: "[\"sip\"]\n\"transport\" = \"tsl\"\n",
			want: []string{`{path}:2: sip.transport: must be udp, tcp or tls, got "tsl"`}, is: ErrInvalid},

		// Everything at once, file top to bottom, then environment, then flags.
		{name: "all problems reported",
			file: "[sip]\nexpirs = 600\ntransport = \"tsl\"\nexpires = \"abc\"\n[log]\nlevel = \"loud\"\n",
			env:  []string{"OPDESK_SIP_LISTEN=5060"},
			args: []string{"--media.rtp_port_min=x"},
			want: []string{
				`{path}:2: unknown key "sip.expirs" (did you mean "sip.expires"?)`,
				`{path}:3: sip.transport: must be udp, tcp or tls, got "tsl"`,
				`{path}:4: sip.expires: expected a number of seconds, got "abc"`,
				`{path}:6: log.level: must be debug, info, warn or error, got "loud"`,
				`environment OPDESK_SIP_LISTEN: "5060" is not host:port`,
				`flag --media.rtp_port_min: expected a port number, got "x"`,
			}},
		{name: "a later source fixes an earlier value", file: "[sip]\ntransport = \"tsl\"\n",
			args: []string{"--sip.transport=tcp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := LoadOptions{Environ: append([]string{"HOME=/home/ann"}, tt.env...), Args: tt.args}
			path := ""
			if tt.file != "" {
				path = writeConfig(t, tt.file)
				opts.Path = path
			}
			cfg, err := Load(opts)
			var want []string
			for _, w := range tt.want {
				want = append(want, strings.ReplaceAll(w, "{path}", path))
			}
			got := errorLines(err)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("errors:\n got: %q\nwant: %q", got, want)
			}
			if len(want) > 0 && cfg != nil {
				t.Errorf("got a config along with errors")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(err, %v) = false", tt.is)
			}
			var e *Error
			if err != nil && !errors.As(err, &e) {
				t.Errorf("error is not a *config.Error: %T", err)
			}
		})
	}
}

func TestNoHomeNeedsExplicitPaths(t *testing.T) {
	_, err := Load(LoadOptions{})
	want := []string{
		"ctl.socket: no default without XDG_RUNTIME_DIR, XDG_STATE_HOME or HOME in the environment; set ctl.socket",
		"log.file: no default without XDG_STATE_HOME or HOME in the environment; set log.file",
	}
	if got := errorLines(err); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n got: %q\nwant: %q", got, want)
	}

	cfg, err := Load(LoadOptions{Args: []string{"--ctl.socket=/run/c.sock", "--log.file=/var/log/o.log"}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Ctl.Socket != "/run/c.sock" || cfg.Log.File != "/var/log/o.log" {
		t.Errorf("paths = %q, %q", cfg.Ctl.Socket, cfg.Log.File)
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct{ typo, want string }{
		{"sip.expirs", "sip.expires"},
		{"sip.exipres", "sip.expires"},
		{"SIP.Expires", "sip.expires"},
		{"registrar", "sip.registrar"},
		{"sip.rtp_port_min", "media.rtp_port_min"},
		{"log.levle", "log.level"},
		{"sip.zzz", ""},
		{"wallboard.refresh", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.typo, keyNames()); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.typo, got, tt.want)
		}
	}
}
