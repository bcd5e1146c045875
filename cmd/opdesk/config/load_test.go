package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestDefaults(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		socket  string
		logFile string
	}{
		{"home only", []string{"HOME=/home/ann"},
			"/home/ann/.local/state/opdesk/ctl.sock", "/home/ann/.local/state/opdesk/opdesk.log"},
		{"xdg", []string{"HOME=/home/ann", "XDG_RUNTIME_DIR=/run/user/1000", "XDG_STATE_HOME=/var/state"},
			"/run/user/1000/opdesk/ctl.sock", "/var/state/opdesk/opdesk.log"},
		{"relative xdg ignored", []string{"HOME=/home/ann", "XDG_RUNTIME_DIR=run", "XDG_STATE_HOME=state"},
			"/home/ann/.local/state/opdesk/ctl.sock", "/home/ann/.local/state/opdesk/opdesk.log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(LoadOptions{Environ: tt.environ})
			if err != nil {
				t.Fatal(err)
			}
			want := Config{
				SIP: SIP{Listen: "0.0.0.0:5060", Transport: "udp", Expires: 300, UserAgent: "opdesk", KeepaliveS: 30},
				Audio: Audio{Input: "default", Output: "default", Backend: "auto", Tones: "jp", Record: "never",
					JitterMinMs: 20, JitterMaxMs: 200, Recordings: filepath.Join(filepath.Dir(tt.logFile), "recordings")},
				Media: Media{RTPPortMin: 16384, RTPPortMax: 32766, Encryption: "optional"},
				Ctl:   Ctl{Socket: tt.socket},
				Log:   Log{File: tt.logFile, Level: "info"},
				CRM:   CRM{Region: "JP", PopTimeoutMs: 800},
				UI:    UI{MonitorIndicator: "show"},
				Outbound: Outbound{Mode: "progressive", CountdownS: 5, RingTimeoutS: 30, CallerIDHeader: "pai",
					DialFormat: "national", PollS: 30},
				Supervisor: Supervisor{LongACWS: 120},
			}
			if !reflect.DeepEqual(*cfg, want) {
				t.Errorf("got  %#v\nwant %#v", cfg.Redacted(), want)
			}
		})
	}
}

func TestDefaultFile(t *testing.T) {
	xdg := t.TempDir()
	path := filepath.Join(xdg, "opdesk", "config.toml")
	env := []string{"HOME=/home/ann", "XDG_CONFIG_HOME=" + xdg}

	// A missing default file is fine.
	cfg, err := Load(LoadOptions{Environ: env})
	if err != nil || cfg.Path != "" {
		t.Fatalf("no file: cfg.Path=%q err=%v", cfg.Path, err)
	}

	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("[sip]\nexpires = 120\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err = Load(LoadOptions{Environ: env})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Path != path || cfg.SIP.Expires != 120 {
		t.Errorf("Path=%q Expires=%d, want %q 120", cfg.Path, cfg.SIP.Expires, path)
	}
}

func TestConfigPathPrecedence(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	for _, name := range []string{"default", "env", "opt", "flag"} {
		files[name] = filepath.Join(dir, name+".toml")
		if err := os.WriteFile(files[name], []byte("[sip]\nuser_agent = \""+name+"\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "opdesk"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(files["default"], filepath.Join(dir, "opdesk", "config.toml")); err != nil {
		t.Fatal(err)
	}
	base := []string{"HOME=/home/ann", "XDG_CONFIG_HOME=" + dir}
	tests := []struct {
		name string
		opts LoadOptions
		want string
	}{
		{"default", LoadOptions{Environ: base}, "default"},
		{"OPDESK_CONFIG", LoadOptions{Environ: append(base, "OPDESK_CONFIG="+files["env"])}, "env"},
		{"Path over OPDESK_CONFIG", LoadOptions{Path: files["opt"], Environ: append(base, "OPDESK_CONFIG="+files["env"])}, "opt"},
		{"--config over Path", LoadOptions{Path: files["opt"], Args: []string{"--config=" + files["flag"]}, Environ: base}, "flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.SIP.UserAgent != tt.want {
				t.Errorf("read %q, want %q", cfg.SIP.UserAgent, tt.want)
			}
		})
	}
}

func TestPrecedence(t *testing.T) {
	path := writeConfig(t, "[sip]\nexpires = 400\ntransport = \"tcp\"\n[media]\nrtp_port_min = 20000\n")
	tests := []struct {
		name      string
		env       []string
		args      []string
		expires   int
		transport string
		portMin   int
	}{
		{name: "file over defaults", expires: 400, transport: "tcp", portMin: 20000},
		{name: "env over file", env: []string{"OPDESK_SIP_EXPIRES=500", "OPDESK_MEDIA_RTP_PORT_MIN=21000"},
			expires: 500, transport: "tcp", portMin: 21000},
		{name: "flag over env", env: []string{"OPDESK_SIP_EXPIRES=500"}, args: []string{"--sip.expires=600", "--sip.transport", "udp"},
			expires: 600, transport: "udp", portMin: 20000},
		{name: "last flag wins", args: []string{"--sip.expires=600", "-sip.expires=700"},
			expires: 700, transport: "tcp", portMin: 20000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(LoadOptions{Path: path, Environ: append([]string{"HOME=/home/ann"}, tt.env...), Args: tt.args})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.SIP.Expires != tt.expires || cfg.SIP.Transport != tt.transport || cfg.Media.RTPPortMin != tt.portMin {
				t.Errorf("expires=%d transport=%q rtp_port_min=%d, want %d %q %d",
					cfg.SIP.Expires, cfg.SIP.Transport, cfg.Media.RTPPortMin, tt.expires, tt.transport, tt.portMin)
			}
		})
	}
}

// TestOutbound: every [outbound] key from the file, the environment and a
// flag, each overriding the one before; words are lower-cased.
func TestOutbound(t *testing.T) {
	path := writeConfig(t, "[outbound]\nmode = \"Preview\"\ncountdown_s = 0\nring_timeout_s = 45\n"+
		"caller_id_header = \"FROM\"\ndial_format = \"E164\"\npoll_s = 600\n")
	cfg, err := Load(LoadOptions{Path: path, Environ: []string{"HOME=/home/ann"}})
	if err != nil {
		t.Fatal(err)
	}
	want := Outbound{Mode: "preview", CountdownS: 0, RingTimeoutS: 45, CallerIDHeader: "from", DialFormat: "e164", PollS: 600}
	if cfg.Outbound != want {
		t.Errorf("from the file: %+v, want %+v", cfg.Outbound, want)
	}
	cfg, err = Load(LoadOptions{Path: path,
		Environ: []string{"HOME=/home/ann", "OPDESK_OUTBOUND_MODE=progressive", "OPDESK_OUTBOUND_COUNTDOWN_S=10",
			"OPDESK_OUTBOUND_RING_TIMEOUT_S=20", "OPDESK_OUTBOUND_CALLER_ID_HEADER=both", "OPDESK_OUTBOUND_POLL_S=5"},
		Args: []string{"--outbound.ring_timeout_s=300", "--outbound.dial_format", "national", "--outbound.caller_id_header=pai"}})
	if err != nil {
		t.Fatal(err)
	}
	want = Outbound{Mode: "progressive", CountdownS: 10, RingTimeoutS: 300, CallerIDHeader: "pai", DialFormat: "national", PollS: 5}
	if cfg.Outbound != want {
		t.Errorf("with environment and flags: %+v, want %+v", cfg.Outbound, want)
	}
}

func TestPassword(t *testing.T) {
	dir := t.TempDir()
	private := filepath.Join(dir, "private")
	shared := filepath.Join(dir, "shared")
	if err := os.WriteFile(private, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shared, []byte("s3cret\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o644); err != nil { // beat the umask
		t.Fatal(err)
	}
	configWith := func(doc string, mode os.FileMode) string {
		p := writeConfig(t, doc)
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// password_file is relative to the config file's directory.
	privConfig := configWith("[sip]\npassword_file = \"pw\"\n", 0o600)
	if err := os.WriteFile(filepath.Join(filepath.Dir(privConfig), "pw"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		env      []string
		args     []string
		want     string
		warnings []string // "{path}" stands for the config file
	}{
		{name: "from environment", env: []string{"OPDESK_SIP_PASSWORD=envpw"}, want: "envpw"},
		{name: "file, newline trimmed", env: []string{"OPDESK_SIP_PASSWORD_FILE=" + private}, want: "s3cret"},
		{name: "file relative to config", path: privConfig, want: "s3cret"},
		{name: "file readable by others", env: []string{"OPDESK_SIP_PASSWORD_FILE=" + shared}, want: "s3cret",
			warnings: []string{"environment OPDESK_SIP_PASSWORD_FILE: " + shared + " has mode 0644, wider than 0600, so others may read the password; run chmod 600 " + shared}},
		{name: "env password beats file password_file", path: privConfig, env: []string{"OPDESK_SIP_PASSWORD=envpw"}, want: "envpw"},
		{name: "env password_file beats file password",
			path: configWith("[sip]\npassword = \"filepw\"\n", 0o600), env: []string{"OPDESK_SIP_PASSWORD_FILE=" + private}, want: "s3cret"},
		{name: "password in a readable config", path: configWith("[sip]\npassword = \"filepw\"\n", 0o644), want: "filepw",
			warnings: []string{"{path}: holds sip.password but has mode 0644; run chmod 600 {path}, or move the password to OPDESK_SIP_PASSWORD"}},
		{name: "flag works but warns", args: []string{"--sip.password=flagpw"}, want: "flagpw",
			warnings: []string{"flag --sip.password: every user of this machine can read it in the process list; use OPDESK_SIP_PASSWORD or sip.password_file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(LoadOptions{Path: tt.path, Environ: append([]string{"HOME=/home/ann"}, tt.env...), Args: tt.args})
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.SIP.Password.Reveal(); got != tt.want {
				t.Errorf("password = %q, want %q", got, tt.want)
			}
			var want []string
			for _, w := range tt.warnings {
				want = append(want, strings.ReplaceAll(w, "{path}", tt.path))
			}
			if !slices.Equal(cfg.Warnings, want) {
				t.Errorf("warnings:\n got: %q\nwant: %q", cfg.Warnings, want)
			}
		})
	}
}

func TestRelativePaths(t *testing.T) {
	path := writeConfig(t, "[log]\nfile = \"logs/opdesk.log\"\n[ctl]\nsocket = \"~/ctl.sock\"\n")
	cfg, err := Load(LoadOptions{Path: path, Environ: []string{"HOME=/home/ann"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(path), "logs", "opdesk.log"); cfg.Log.File != want {
		t.Errorf("log.file = %q, want %q", cfg.Log.File, want)
	}
	if cfg.Ctl.Socket != "/home/ann/ctl.sock" {
		t.Errorf("ctl.socket = %q", cfg.Ctl.Socket)
	}

	cfg, err = Load(LoadOptions{Environ: []string{"HOME=/home/ann", "OPDESK_LOG_FILE=rel.log"}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log.File != "rel.log" {
		t.Errorf("log.file from env = %q, want it relative to the working directory", cfg.Log.File)
	}
}

func TestNormalises(t *testing.T) {
	cfg, err := Load(LoadOptions{Environ: []string{"HOME=/h", "OPDESK_SIP_TRANSPORT=TCP", "OPDESK_LOG_LEVEL=Debug"}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SIP.Transport != "tcp" || cfg.Log.Level != "debug" || cfg.Log.SlogLevel().String() != "DEBUG" {
		t.Errorf("transport=%q level=%q", cfg.SIP.Transport, cfg.Log.Level)
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		args       []string
		configArgs []string
		rest       []string
	}{
		{nil, nil, nil},
		{[]string{"--sip.expires=600", "-v", "dial", "sip:bob@pbx"},
			[]string{"--sip.expires=600"}, []string{"-v", "dial", "sip:bob@pbx"}},
		{[]string{"--config", "/c.toml", "--sip.user", "alice", "--headless"},
			[]string{"--config", "/c.toml", "--sip.user", "alice"}, []string{"--headless"}},
		{[]string{"-sip.password", "-x-", "--n", "-1.5"},
			[]string{"-sip.password", "-x-"}, []string{"--n", "-1.5"}},
		{[]string{"--log.level=debug", "--", "--sip.user=x"},
			[]string{"--log.level=debug"}, []string{"--", "--sip.user=x"}},
		{[]string{"--sip.expires"}, []string{"--sip.expires"}, nil},
		{[]string{"---sip.user=x", "-=x", "--.x=1"}, nil, []string{"---sip.user=x", "-=x", "--.x=1"}},
	}
	for _, tt := range tests {
		configArgs, rest := SplitArgs(tt.args)
		if !slices.Equal(configArgs, tt.configArgs) || !slices.Equal(rest, tt.rest) {
			t.Errorf("SplitArgs(%q) = %q, %q; want %q, %q", tt.args, configArgs, rest, tt.configArgs, tt.rest)
		}
	}
}

// TestFieldsMatchConfig keeps the key table and the Config struct in step.
func TestFieldsMatchConfig(t *testing.T) {
	var tagged []string
	ct := reflect.TypeOf(Config{})
	for i := range ct.NumField() {
		sec := ct.Field(i)
		if sec.Tag.Get("toml") == "-" {
			continue
		}
		for j := range sec.Type.NumField() {
			tagged = append(tagged, sec.Tag.Get("toml")+"."+sec.Type.Field(j).Tag.Get("toml"))
		}
	}
	var keys []string
	for i := range fields {
		keys = append(keys, fields[i].key)
		var c Config
		if reflect.ValueOf(fields[i].ptr(&c)).Kind() != reflect.Pointer {
			t.Errorf("%s: ptr does not return a pointer", fields[i].key)
		}
	}
	if !slices.Equal(keys, tagged) {
		t.Errorf("fields table:\n%q\nConfig toml tags:\n%q", keys, tagged)
	}
}

func TestKeyLines(t *testing.T) {
	doc := "a.b = 1\n[sip]\nuser = \"x\"\nnote = '''\nexpires = 1\n'''\nexpires = 2\n[media]\nx = { y = 1,\n z = 2 }\n\"q.k\" = 3\n"
	want := map[string]int{"a": 1, "a.b": 1, "sip": 2, "sip.user": 3, "sip.note": 4, "sip.expires": 7,
		"media": 8, "media.x": 9, "media.x.y": 9, "media.x.z": 10, "media.q.k": 11}
	if got := keyLines([]byte(doc)); !reflect.DeepEqual(got, want) {
		t.Errorf("keyLines:\n got %v\nwant %v", got, want)
	}
}

// TestUnknownEnvironmentWarns: an OPDESK_ variable that names no setting
// (another program's, or a typo) is reported, with a suggestion, but does
// not stop opdesk from starting.
func TestUnknownEnvironmentWarns(t *testing.T) {
	cfg, err := Load(LoadOptions{Path: writeConfig(t, ""), Environ: []string{"OPDESK_SIP_EXPIRS=600", "HOME=/nonexistent"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"environment OPDESK_SIP_EXPIRS is not an opdesk setting and is ignored (did you mean OPDESK_SIP_EXPIRES?)"}
	if !slices.Equal(cfg.Warnings, want) {
		t.Fatalf("warnings:\n got: %q\nwant: %q", cfg.Warnings, want)
	}
	if cfg.SIP.Expires != DefaultExpires {
		t.Fatalf("expires = %d, the unknown variable must not set anything", cfg.SIP.Expires)
	}
}
