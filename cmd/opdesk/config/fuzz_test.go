package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadFile feeds arbitrary documents to the loader: it must never
// panic, and every problem must come back as a *Error.
func FuzzLoadFile(f *testing.F) {
	if seed, err := os.ReadFile(filepath.Join("testdata", "example.toml")); err == nil {
		f.Add(seed)
	}
	f.Add([]byte("[sip]\nexpirs = 600\ntransport = \"tls\"\n"))
	f.Add([]byte("sip = { user = \"a\", x = { y = 1 } }\n[[sip]]\n"))
	f.Add([]byte("[sip\n"))
	f.Add([]byte("[keys]\nanswer = [\"f2\", 5]\nhold = \"f7\"\n[keys.call]\nhangup = { x = 1 }\nmute = []\n"))
	// One file per fuzzing process, rewritten for each input: a temporary
	// directory per input made the workers slow enough to miss the fuzzing
	// engine's deadlines on a loaded machine.
	path := filepath.Join(f.TempDir(), "config.toml")
	f.Fuzz(func(t *testing.T, doc []byte) {
		if err := os.WriteFile(path, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(LoadOptions{Path: path, Environ: []string{"HOME=/home/ann"}})
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("not a *Error: %T %v", err, err)
		}
		keyLines(doc) // must not panic on any document, valid or not
	})
}
