package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/opdesk/opdesk/cmd/opdesk/config"
	"github.com/opdesk/opdesk/keymap"
)

// loadKeys loads a config file holding doc and builds the key map from it.
func loadKeys(t *testing.T, doc string) (*keymap.Map, string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{Path: path, Environ: []string{"HOME=/home/ann"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := keyMap(cfg)
	return m, path, err
}

// TestKeyMapFromConfig: a [keys] line reaches the desktop's key map.
func TestKeyMapFromConfig(t *testing.T) {
	m, _, err := loadKeys(t, "[keys]\nanswer = \"f12\"\n\n[keys.call]\ndevice = \"f10\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := m.Match("f12", keymap.Ringing); !ok || a != keymap.Answer {
		t.Errorf("f12 while ringing = %q, %v; want answer", a, ok)
	}
	if a, ok := m.Match("f2", keymap.Ringing); ok {
		t.Errorf("f2 while ringing still = %q", a)
	}
	if a, _ := m.Match("f10", keymap.Call); a != keymap.SwitchAudio {
		t.Errorf("f10 in a call = %q, want device", a)
	}
	if a, _ := m.Match("f9", keymap.Idle); a != keymap.SwitchAudio {
		t.Errorf("f9 when idle = %q; [keys.call] must not change idle", a)
	}
}

// TestKeyMapTypo: a misspelt action stops opdesk with the file and line.
func TestKeyMapTypo(t *testing.T) {
	m, path, err := loadKeys(t, "[ui]\nlang = \"ja\"\n\n[keys]\nanswr = \"f12\"\n")
	want := path + `:5: keys.answr: unknown action "answr" (did you mean "answer"?)`
	if err == nil || err.Error() != want || m != nil {
		t.Fatalf("got %v, %v\nwant %s", m, err, want)
	}
	if !errors.Is(err, keymap.ErrUnknownAction) {
		t.Error("not keymap.ErrUnknownAction")
	}
}
