package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

const password = "hunter2-do-not-print"

func TestPasswordNeverPrinted(t *testing.T) {
	cfg, err := Load(LoadOptions{Environ: []string{"HOME=/home/ann", "OPDESK_SIP_PASSWORD=" + password}})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("text", "cfg", cfg, "sip", cfg.SIP, "pw", cfg.SIP.Password)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("json", "cfg", cfg, "sip", cfg.SIP, "pw", cfg.SIP.Password)
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"String":  cfg.String(),
		"slog":    logs.String(),
		"json":    string(js),
		"%v":      fmt.Sprintf("%v", cfg),
		"%+v":     fmt.Sprintf("%+v", *cfg),
		"%#v":     fmt.Sprintf("%#v", cfg),
		"%s":      fmt.Sprintf("%s", cfg),
		"%q":      fmt.Sprintf("%q", cfg),
		"sip %v":  fmt.Sprintf("%v", cfg.SIP),
		"sip %#v": fmt.Sprintf("%#v", cfg.SIP),
		"pw %x":   fmt.Sprintf("%x", cfg.SIP.Password),
		"pw %d":   fmt.Sprintf("%d", cfg.SIP.Password),
		"Redacted": func() string {
			r := cfg.Redacted()
			return string(r.SIP.Password)
		}(),
	}
	for name, out := range outputs {
		if strings.Contains(out, password) {
			t.Errorf("%s shows the password: %s", name, out)
		}
		if !strings.Contains(out, "***") {
			t.Errorf("%s does not show the masked password: %s", name, out)
		}
	}
	if cfg.SIP.Password.Reveal() != password {
		t.Error("Redacted changed the original")
	}
	if empty := Secret(""); empty.String() != "" || fmt.Sprint(empty) != "" {
		t.Error("an empty secret should print empty, so 'not set' stays visible")
	}
}

// TestExample checks that the example config a newcomer copies loads
// cleanly, and pins what it loads to in a golden file.
func TestExample(t *testing.T) {
	environ := []string{
		"HOME=/home/ann",
		"XDG_RUNTIME_DIR=/run/user/1000",
		"OPDESK_SIP_PASSWORD=" + password,
	}
	cfg, err := Load(LoadOptions{Path: filepath.Join("testdata", "example.toml"), Environ: environ})
	if err != nil {
		t.Fatalf("example.toml: %v", err)
	}
	if len(cfg.Warnings) > 0 {
		t.Errorf("example.toml warnings: %q", cfg.Warnings)
	}
	golden := filepath.Join("testdata", "example.golden")
	got := cfg.String()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("example.toml loads to\n%s\nwant (%s)\n%s", got, golden, want)
	}
}

// TestExampleShowsDefaults checks that every commented-out "# key = value"
// line in the example shows the real default, so the example cannot drift.
func TestExampleShowsDefaults(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	def, err := Load(LoadOptions{Environ: []string{"HOME=/home/ann", "XDG_RUNTIME_DIR=/run/user/1000"}})
	if err != nil {
		t.Fatal(err)
	}
	section, shown := "", 0
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[]")
			continue
		}
		name, value, ok := strings.Cut(strings.TrimPrefix(line, "# "), " = ")
		f := lookupKey(section + "." + name)
		if !strings.HasPrefix(line, "# ") || !ok || f == nil || strings.Contains(value, "~") || f.key == "sip.password_file" {
			continue
		}
		shown++
		if got := f.literal(def); got != value {
			t.Errorf("example.toml shows %s = %s, but the default is %s", f.key, value, got)
		}
	}
	if shown < 10 {
		t.Errorf("found only %d commented defaults; has the example's layout changed?", shown)
	}
}
