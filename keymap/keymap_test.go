package keymap

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

var updateReadme = flag.Bool("update-readme", false, "write the default key table into ../README.md")

// stack is the contexts active when c is on top, most specific first.
func stack(c Context) []Context { return append([]Context{c}, overlays[c]...) }

// TestDefaultsReachable: every default binding has a key that Match maps
// back to its action when its context is on top of everything that can be
// beneath it, and every action has a key somewhere.
func TestDefaultsReachable(t *testing.T) {
	m := Default()
	for _, b := range m.Bindings() {
		ok := false
		for _, k := range b.Keys {
			if a, found := m.Match(k, stack(b.Context)...); found && a == b.Action {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s in %s (keys %q): no key reaches it with %v active", b.Action, b.Context, b.Keys, stack(b.Context))
		}
	}
	for _, a := range Actions() {
		has := false
		for _, b := range m.Bindings() {
			has = has || (b.Action == a && len(b.Keys) > 0)
		}
		if !has {
			t.Errorf("%s has no default key", a)
		}
	}
}

// TestDefaultsWorkWithTextFocus: while a text field has focus (FAQ search,
// a form field) printable keys type; every Global, Form and List action
// must keep a key that prints nothing, or it could not be reached then.
func TestDefaultsWorkWithTextFocus(t *testing.T) {
	for _, b := range Default().Help(Global, Form, List) {
		if !slices.ContainsFunc(b.Keys, func(k string) bool { return utf8.RuneCountInString(k) > 1 }) {
			t.Errorf("%s in %s has only printable keys %q", b.Action, b.Context, b.Keys)
		}
	}
}

// TestDefaultsNoClash checks the shipped table with the same rules an
// override is checked with: no key twice in a context, none hiding a key of
// a context beneath, no digit where digits dial, every key a name Bubble
// Tea prints.
func TestDefaultsNoClash(t *testing.T) {
	if err := Default().Apply(nil); err != nil {
		t.Errorf("default key map:\n%v", err)
	}
	for _, b := range Default().Bindings() {
		for _, k := range b.Keys {
			if norm, problem := parseKey(k); problem != "" || norm != k {
				t.Errorf("%s in %s: key %q parses as %q, %s", b.Action, b.Context, k, norm, problem)
			}
			if slices.Contains(dialContexts, b.Context) && isDialKey(k) {
				t.Errorf("%s in %s: %q dials", b.Action, b.Context, k)
			}
		}
	}
	// Rebinding every action to its own defaults changes nothing.
	var all []Override
	for _, b := range Default().Bindings() {
		all = append(all, Override{Action: string(b.Action), Context: string(b.Context), Keys: b.Keys, Source: "t:1"})
	}
	m := Default()
	if err := m.Apply(all); err != nil {
		t.Fatal(err)
	}
	if got, want := m.Markdown(), Default().Markdown(); got != want {
		t.Errorf("re-applying the defaults changed the map:\n%s", got)
	}
}

func TestActionsDescribed(t *testing.T) {
	acts := Actions()
	if len(acts) != len(descriptions) {
		t.Errorf("Actions() has %d actions, descriptions %d", len(acts), len(descriptions))
	}
	for _, a := range acts {
		if a.Describe() == "" {
			t.Errorf("%s has no description", a)
		}
	}
	if acts[0] != Help || acts[len(acts)-1] != Select {
		t.Errorf("Actions() not in help order: %v", acts)
	}
	if Action("answr").Describe() != "" {
		t.Error("unknown action described")
	}
}

func TestMarkdown(t *testing.T) {
	md := Default().Markdown()
	lines := strings.Split(strings.TrimSuffix(md, "\n"), "\n")
	if len(lines) != 2+len(Default().Bindings()) {
		t.Fatalf("%d lines for %d bindings:\n%s", len(lines), len(Default().Bindings()), md)
	}
	if lines[0] != "| context | action | keys | what it does |" {
		t.Errorf("header %q", lines[0])
	}
	if want := "| ringing | `answer` | `f2` `a` | answer the ringing call |"; !slices.Contains(lines, want) {
		t.Errorf("no row %q in\n%s", want, md)
	}
	m := Default()
	if err := m.Apply([]Override{{Action: "faq", Keys: []string{"|", "f3"}}, {Action: "redial"}}); err != nil {
		t.Fatal(err)
	}
	md = m.Markdown()
	for _, want := range []string{"| global | `faq` | `\\|` `f3` |", "| idle | `redial` | — |"} {
		if !strings.Contains(md, want) {
			t.Errorf("no %q in\n%s", want, md)
		}
	}
}

const (
	readmeBegin = "<!-- keymap:begin -->"
	readmeEnd   = "<!-- keymap:end -->"
)

// TestReadmeKeyTable keeps the README's key table equal to the defaults.
func TestReadmeKeyTable(t *testing.T) {
	path := filepath.Join("..", "README.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme, table := string(data), "\n"+Default().Markdown()
	begin, end := strings.Index(readme, readmeBegin), strings.Index(readme, readmeEnd)
	if *updateReadme {
		if begin < 0 || end < begin {
			readme = strings.TrimRight(readme, "\n") + "\n\n## Keys\n\n" +
				"The desktop's default keys. Change them in the config file's `[keys]` section\n" +
				"(`answer = [\"f2\", \"a\"]`, or `[keys.call]` then `hangup = \"f4\"` for one context only);\n" +
				"opdesk refuses unknown actions, impossible key names and keys that would clash.\n\n" +
				readmeBegin + table + readmeEnd + "\n"
		} else {
			readme = readme[:begin+len(readmeBegin)] + table + readme[end:]
		}
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if begin < 0 || end < begin {
		t.Fatalf("README.md has no %s … %s markers; run go test ./keymap -update-readme to add the key table", readmeBegin, readmeEnd)
	}
	if got := readme[begin+len(readmeBegin) : end]; got != table {
		t.Errorf("README.md's key table differs from Default().Markdown(); run go test ./keymap -update-readme\ngot:%s\nwant:%s", got, table)
	}
}

func TestNth(t *testing.T) {
	for _, tc := range []struct {
		a      Action
		family string
		n      int
		ok     bool
	}{
		{Choice1, "choice", 1, true}, {Choice9, "choice", 9, true}, {Result3, "result", 3, true},
		{Result3, "choice", 0, false}, {Save, "result", 0, false}, {"choice_0", "choice", 0, false},
		{"choice_10", "choice", 0, false}, {"choice_", "choice", 0, false},
	} {
		if n, ok := tc.a.Nth(tc.family); n != tc.n || ok != tc.ok {
			t.Errorf("%s.Nth(%q) = %d, %v; want %d, %v", tc.a, tc.family, n, ok, tc.n, tc.ok)
		}
	}
}
