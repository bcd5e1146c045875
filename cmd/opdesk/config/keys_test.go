package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestKeys: the [keys] section, OPDESK_KEYS_* and --keys.* flags become
// Config.Keys in the order they apply, each naming where it was set.
func TestKeys(t *testing.T) {
	path := writeConfig(t, `[keys.call]
hangup = "f4"
device = ["f10", "ctrl+d"]

[keys]
answer = "f2"
hold = ["f7", "alt+h"]
mute = []
ringing.reject = "x"
`)
	cfg, err := Load(LoadOptions{
		Path:    path,
		Environ: []string{"HOME=/home/ann", "OPDESK_KEYS_REDIAL=ctrl+r, f10", "OPDESK_KEYS_RECORD=", "OPDESK_KEYS_FAQ=,"},
		Args:    []string{"--keys.answer=f12,a", "--keys.call.hangup", "f8"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []KeyOverride{
		{Action: "answer", Keys: []string{"f2"}, Source: path + ":6"},
		{Action: "hold", Keys: []string{"f7", "alt+h"}, Source: path + ":7"},
		{Action: "mute", Keys: []string{}, Source: path + ":8"},
		{Action: "device", Context: "call", Keys: []string{"f10", "ctrl+d"}, Source: path + ":3"},
		{Action: "hangup", Context: "call", Keys: []string{"f4"}, Source: path + ":2"},
		{Action: "reject", Context: "ringing", Keys: []string{"x"}, Source: path + ":9"},
		{Action: "faq", Keys: []string{","}, Source: "environment OPDESK_KEYS_FAQ"},
		{Action: "record", Keys: []string{}, Source: "environment OPDESK_KEYS_RECORD"},
		{Action: "redial", Keys: []string{"ctrl+r", "f10"}, Source: "environment OPDESK_KEYS_REDIAL"},
		{Action: "answer", Keys: []string{"f12", "a"}, Source: "flag --keys.answer"},
		{Action: "hangup", Context: "call", Keys: []string{"f8"}, Source: "flag --keys.call.hangup"},
	}
	if !reflect.DeepEqual(cfg.Keys, want) {
		t.Errorf("Keys:\n got %q\nwant %q", cfg.Keys, want)
	}

	// String shows what is in effect, as TOML that loads back to it.
	s := cfg.String()
	wantTOML := "\n[keys]\n" +
		"answer = [\"f12\", \"a\"]\nfaq = \",\"\nhold = [\"f7\", \"alt+h\"]\nmute = []\nrecord = []\nredial = [\"ctrl+r\", \"f10\"]\n" +
		"\n[keys.call]\ndevice = [\"f10\", \"ctrl+d\"]\nhangup = \"f8\"\n" +
		"\n[keys.ringing]\nreject = \"x\"\n"
	if !strings.HasSuffix(s, wantTOML) {
		t.Errorf("String() ends\n%s\nwant it to end\n%s", s[strings.Index(s, "\n[keys]"):], wantTOML)
	}
	again, err := Load(LoadOptions{Path: writeConfig(t, s), Environ: []string{"HOME=/home/ann"}})
	if err != nil {
		t.Fatalf("String() does not load back: %v", err)
	}
	if got := again.String(); got[strings.Index(got, "\n[keys]"):] != wantTOML {
		t.Errorf("loaded back, the keys print as\n%s", got[strings.Index(got, "\n[keys]"):])
	}

	r := cfg.Redacted()
	r.Keys[1].Keys[0] = "changed"
	if cfg.Keys[1].Keys[0] != "f7" {
		t.Error("Redacted shares the key lists with the original")
	}
}

func TestKeysNone(t *testing.T) {
	cfg, err := Load(LoadOptions{Path: writeConfig(t, "[keys]\n"), Environ: []string{"HOME=/home/ann"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Keys) != 0 || !strings.HasSuffix(cfg.String(), "\n[keys]\n") {
		t.Errorf("Keys = %q, String ends %q", cfg.Keys, cfg.String()[len(cfg.String())-20:])
	}
}

// TestKeysErrors: wrong types in [keys] are reported like any other key,
// with file and line; action names are left to keymap.
func TestKeysErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		args []string
		want []string // "{path}" stands for the config file
		is   error
	}{
		{
			name: "a number",
			file: "[keys]\nanswer = 5\n",
			want: []string{`{path}:2: keys.answer: expected a key name or a list of key names, such as "f2" or ["f2", "a"], got 5`},
			is:   ErrType,
		},
		{
			name: "a number in a list",
			file: "[keys]\nhold = [\"f7\", 7]\n",
			want: []string{`{path}:2: keys.hold: expected a key name or a list of key names, such as "f2" or ["f2", "a"], got a list holding 7 (quote key names)`},
			is:   ErrType,
		},
		{
			name: "a table where keys are expected",
			file: "[keys]\n[keys.call.hangup]\nx = \"f4\"\n",
			want: []string{`{path}:2: keys.call.hangup: expected a key name or a list of key names, such as "f2" or ["f2", "a"], got a table`},
			is:   ErrType,
		},
		{
			name: "keys not a table",
			file: "keys = \"f2\"\n",
			want: []string{`{path}:1: keys: expected a table ([keys] followed by lines such as answer = "f2"), got "f2"`},
			is:   ErrType,
		},
		{
			name: "section typo",
			file: "[key]\nanswer = \"f2\"\n",
			want: []string{`{path}:1: unknown section "key" (did you mean "keys"?)`},
			is:   ErrUnknownKey,
		},
		{
			name: "every error at once, in file order",
			file: "[keys]\nanswer = 5\n[keys.call]\nhangup = true\nhold = \"f7\"\n",
			want: []string{
				`{path}:2: keys.answer: expected a key name or a list of key names, such as "f2" or ["f2", "a"], got 5`,
				`{path}:4: keys.call.hangup: expected a key name or a list of key names, such as "f2" or ["f2", "a"], got true`,
			},
		},
		{
			name: "a flag with too many dots",
			args: []string{"--keys.call.hangup.x=f4", "--keys.=f4"},
			want: []string{
				`flag --keys.call.hangup.x: is not --keys.ACTION or --keys.CONTEXT.ACTION`,
				`flag --keys.: is not --keys.ACTION or --keys.CONTEXT.ACTION`,
			},
			is: ErrUnknownKey,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.file)
			_, err := Load(LoadOptions{Path: path, Args: tt.args, Environ: []string{"HOME=/home/ann"}})
			var want []string
			for _, w := range tt.want {
				want = append(want, strings.ReplaceAll(w, "{path}", path))
			}
			if got := errorLines(err); !slices.Equal(got, want) {
				t.Fatalf("errors:\n got %q\nwant %q", got, want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(err, %v) = false", tt.is)
			}
		})
	}
}

// TestExampleKeys: the commented-out [keys] lines of the example are valid
// once uncommented.
func TestExampleKeys(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(data), "\n[keys]\n")
	var doc strings.Builder
	doc.WriteString("[keys]\n")
	for _, line := range strings.Split(section, "\n") {
		if l, ok := strings.CutPrefix(line, "# "); ok && (strings.Contains(l, " = ") || strings.HasPrefix(l, "[keys.")) {
			doc.WriteString(l + "\n")
		}
	}
	cfg, err := Load(LoadOptions{Path: writeConfig(t, doc.String()), Environ: []string{"HOME=/home/ann"}})
	if err != nil {
		t.Fatalf("%s\n%v", doc.String(), err)
	}
	if len(cfg.Keys) != 3 {
		t.Errorf("uncommented example keys: %q", cfg.Keys)
	}
}
