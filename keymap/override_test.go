package keymap

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// match is one expectation on the map after Apply: key in the contexts
// means action ("" = nothing).
type match struct {
	key  string
	ctxs []Context
	want Action
}

func TestApply(t *testing.T) {
	call := []Context{Call, Global}
	tests := []struct {
		name      string
		overrides []Override
		want      []string // error lines, exactly; nil = success
		is        error
		matches   []match
	}{
		{
			name:      "rebind everywhere",
			overrides: []Override{{Action: "answer", Keys: []string{"f12"}, Source: "config.toml:3"}},
			matches:   []match{{"f12", []Context{Ringing, Global}, Answer}, {"f2", []Context{Ringing, Global}, ""}, {"a", []Context{Ringing}, ""}},
		},
		{
			name:      "names are normalised",
			overrides: []Override{{Action: "hold", Keys: []string{"F10", "Alt+Ctrl+PageUp", " ", "A", "あ", "ctrl+shift+a", "Escape", "ctrl++"}}},
			matches: []match{{"f10", call, Hold}, {"ctrl+alt+pgup", call, Hold}, {"space", call, Hold}, {"A", call, Hold},
				{"あ", call, Hold}, {"ctrl+shift+a", call, Hold}, {"esc", []Context{Call}, Hold}, {"ctrl++", call, Hold}, {"f7", call, ""}},
			// esc is Back's in Global: the rebinding hides it; space ticks
			// the checklist in the script, which sits over the call.
			want: []string{`keys.hold: "esc" for hold in call hides back, which has "esc" in global (back's default key; rebind back too, or pick another key)`,
				`keys.hold: "space" for tick_next in script hides hold, which has "space" in call (tick_next's default key; rebind tick_next too, or pick another key)`},
			is: ErrClash,
		},
		{
			name:      "one context only",
			overrides: []Override{{Action: "device", Context: "call", Keys: []string{"f10"}}},
			matches:   []match{{"f10", call, SwitchAudio}, {"f9", call, ""}, {"f9", []Context{Idle, Global}, SwitchAudio}},
		},
		{
			name: "later override wins",
			overrides: []Override{
				{Action: "mute", Keys: []string{"f10"}, Source: "config.toml:3"},
				{Action: "mute", Keys: []string{"f11"}, Source: "flag --keys.mute"},
			},
			matches: []match{{"f11", call, Mute}, {"f10", call, ""}},
		},
		{
			name: "swap two keys: checked after applying everything",
			overrides: []Override{
				{Action: "hangup", Keys: []string{"f7"}, Source: "config.toml:3"},
				{Action: "hold", Keys: []string{"f4"}, Source: "config.toml:4"},
			},
			matches: []match{{"f7", call, Hangup}, {"f4", call, Hold}},
		},
		{
			name:      "unbind",
			overrides: []Override{{Action: "redial", Keys: nil}, {Action: "record", Keys: []string{}}},
			matches:   []match{{"ctrl+r", []Context{Idle, Global}, ""}, {"ctrl+e", call, ""}},
		},
		{
			name:      "digits outside the dialer",
			overrides: []Override{{Action: "answer", Keys: []string{"1"}}, {Action: "choice_1", Keys: []string{"alt+1"}}},
			matches:   []match{{"1", []Context{Ringing}, Answer}},
		},
		{
			name:      "unknown action",
			overrides: []Override{{Action: "answr", Keys: []string{"f2"}, Source: "config.toml:12"}},
			want:      []string{`config.toml:12: keys.answr: unknown action "answr" (did you mean "answer"?)`},
			is:        ErrUnknownAction,
		},
		{
			name:      "unknown action from a flag does not repeat the name",
			overrides: []Override{{Action: "hnagup", Keys: []string{"f4"}, Source: "flag --keys.hnagup"}},
			want:      []string{`flag --keys.hnagup: unknown action "hnagup" (did you mean "hangup"?)`},
		},
		{
			name:      "context in an environment variable's name",
			overrides: []Override{{Action: "call_hangup", Keys: []string{"f4"}, Source: "environment OPDESK_KEYS_CALL_HANGUP"}},
			want:      []string{`environment OPDESK_KEYS_CALL_HANGUP: unknown action "call_hangup" (did you mean hangup under [keys.call]?)`},
		},
		{
			name:      "nothing like it",
			overrides: []Override{{Action: "zzzzzzzz", Keys: []string{"f4"}, Source: "c:1"}},
			want:      []string{`c:1: keys.zzzzzzzz: unknown action "zzzzzzzz"`},
		},
		{
			name:      "unknown context",
			overrides: []Override{{Action: "hangup", Context: "cal", Keys: []string{"f4"}, Source: "c:5"}},
			want:      []string{`c:5: keys.cal.hangup: unknown context "cal" (did you mean "call"?); contexts are global, idle, lead, board, ringing, call, script, form, list`},
			is:        ErrUnknownContext,
		},
		{
			name:      "action not in that context",
			overrides: []Override{{Action: "answer", Context: "idle", Keys: []string{"f2"}, Source: "c:5"}},
			want:      []string{`c:5: keys.idle.answer: answer does not work in idle, only in ringing; set it as keys.answer or under [keys.ringing]`},
			is:        ErrUnknownContext,
		},
		{
			name: "key names",
			overrides: []Override{{Action: "hold", Source: "c:7", Keys: []string{
				"ctrl+shift+é", "shift+a", "shift+1", "ctrl+A", "entr", "hyper+a", "ctrl+ctrl+a", "", "ctrl+", "ctrl+i", "foo+a", "\t", "frobnicate"}}},
			want: []string{
				`c:7: keys.hold: "ctrl+shift+é": ctrl and alt combine only with ASCII characters and named keys (the terminal reports "é" only as typed text)`,
				`c:7: keys.hold: "shift+a": a shifted character arrives as itself; write "A"`,
				`c:7: keys.hold: "shift+1": a shifted character arrives as itself; write the character shift gives`,
				`c:7: keys.hold: "ctrl+A": write the letter in lower case, "ctrl+a" (add shift+ for the shifted letter)`,
				`c:7: keys.hold: unknown key "entr" (did you mean "enter"?)`,
				`c:7: keys.hold: "hyper+a": terminals do not report hyper reliably; use ctrl+, alt+ or shift+`,
				`c:7: keys.hold: "ctrl+ctrl+a" names ctrl twice`,
				`c:7: keys.hold: an empty key name (an empty list, [], removes the keys)`,
				`c:7: keys.hold: "ctrl+" has no key after the last +`,
				`c:7: keys.hold: "ctrl+i": the terminal sends it as tab; bind "tab" instead`,
				`c:7: keys.hold: "foo+a": "foo" is not a modifier; use ctrl+, alt+ or shift+`,
				`c:7: keys.hold: "\t" is not a printable character; name the key instead (enter, tab, esc, …)`,
				`c:7: keys.hold: unknown key "frobnicate"; write one character ("a", "?") or a key name such as enter, esc, tab, space, backspace, up, pgdown or f1 to f12, after ctrl+, alt+ or shift+ if needed`,
			},
			is: ErrKeyName,
		},
		{
			name: "digits where they dial",
			overrides: []Override{
				{Action: "hangup", Keys: []string{"5"}, Source: "c:2"},
				{Action: "device", Keys: []string{"#"}, Source: "c:3"},
				{Action: "faq", Keys: []string{"+", "f3"}, Source: "c:4"},
				{Action: "choose", Keys: []string{"*"}, Source: "c:5"},
			},
			want: []string{
				`c:2: keys.hangup: "5" cannot be bound without a modifier in call: digits, *, # and + dial when idle and send DTMF in a call (try "alt+5")`,
				`c:3: keys.device: "#" cannot be bound without a modifier in idle: digits, *, # and + dial when idle and send DTMF in a call (try "alt+#")`,
				`c:3: keys.device: "#" cannot be bound without a modifier in call: digits, *, # and + dial when idle and send DTMF in a call (try "alt+#")`,
				`c:4: keys.faq: "+" cannot be bound without a modifier in global: digits, *, # and + dial when idle and send DTMF in a call (try "alt++")`,
				`c:5: keys.choose: "*" cannot be bound without a modifier in script: digits, *, # and + dial when idle and send DTMF in a call (try "alt+*")`,
			},
			is: ErrDialKey,
		},
		{
			name:      "clash with a default in one context",
			overrides: []Override{{Action: "hold", Keys: []string{"f4"}, Source: "config.toml:14"}},
			want:      []string{`config.toml:14: keys.hold: "f4" is bound to both hold and hangup in call (hangup's default key; rebind hangup too, or pick another key)`},
			is:        ErrClash,
		},
		{
			name: "clash between two overrides names both lines",
			overrides: []Override{
				{Action: "hold", Keys: []string{"f10"}, Source: "config.toml:14"},
				{Action: "mute", Context: "call", Keys: []string{"f10"}, Source: "config.toml:20"},
			},
			want: []string{`config.toml:20: keys.call.mute: "f10" is bound to both mute and hold in call (hold is set at config.toml:14)`},
		},
		{
			name:      "a call key hiding a global one",
			overrides: []Override{{Action: "hangup", Keys: []string{"?", "f4"}, Source: "config.toml:9"}},
			want:      []string{`config.toml:9: keys.hangup: "?" for hangup in call hides help, which has "?" in global (help's default key; rebind help too, or pick another key)`},
		},
		{
			name:      "a global key hidden by a default call key",
			overrides: []Override{{Action: "faq", Keys: []string{"f4"}, Source: "config.toml:9"}},
			want: []string{
				`config.toml:9: keys.faq: "f4" for reject in ringing hides faq, which has "f4" in global (reject's default key; rebind reject too, or pick another key)`,
				`config.toml:9: keys.faq: "f4" for hangup in call hides faq, which has "f4" in global (hangup's default key; rebind hangup too, or pick another key)`,
			},
		},
		{
			name:      "a script key hiding a call key",
			overrides: []Override{{Action: "choose", Context: "script", Keys: []string{"f4"}, Source: "config.toml:30"}},
			want:      []string{`config.toml:30: keys.script.choose: "f4" for choose in script hides hangup, which has "f4" in call (hangup's default key; rebind hangup too, or pick another key)`},
		},
		{
			name:      "a list over the dialer may take enter",
			overrides: []Override{{Action: "dial", Keys: []string{"enter", "ctrl+n"}}},
			matches:   []match{{"ctrl+n", []Context{Idle, Global}, DialNumber}, {"ctrl+n", []Context{List, Idle, Global}, Down}},
		},
		{
			name:      "quit and help keep a key",
			overrides: []Override{{Action: "quit", Source: "c:1"}, {Action: "help", Keys: []string{}, Context: "global", Source: "c:2"}},
			want: []string{
				`c:1: keys.quit: quit must keep at least one key, or opdesk could not be left`,
				`c:2: keys.global.help: help must keep at least one key, or nobody could look up the others`,
			},
			is: ErrNoKey,
		},
		{
			name: "every problem at once",
			overrides: []Override{
				{Action: "answr", Keys: []string{"f2"}, Source: "c:1"},
				{Action: "hold", Keys: []string{"shift+h"}, Source: "c:2"},
				{Action: "mute", Keys: []string{"f4"}, Source: "c:3"},
			},
			want: []string{
				`c:1: keys.answr: unknown action "answr" (did you mean "answer"?)`,
				`c:2: keys.hold: "shift+h": a shifted character arrives as itself; write "H"`,
				`c:3: keys.mute: "f4" is bound to both mute and hangup in call (hangup's default key; rebind hangup too, or pick another key)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Default()
			err := m.Apply(tt.overrides)
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Apply errors:\n got: %q\nwant: %q", got, tt.want)
			}
			if err != nil {
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("errors.Is(err, %v) = false", tt.is)
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Errorf("not a *Error: %T", err)
				}
				if m.Markdown() != Default().Markdown() {
					t.Error("a failed Apply changed the map")
				}
				return
			}
			for _, mt := range tt.matches {
				if a, _ := m.Match(mt.key, mt.ctxs...); a != mt.want {
					t.Errorf("Match(%q, %v) = %q, want %q", mt.key, mt.ctxs, a, mt.want)
				}
			}
		})
	}
}

// TestApplyLater: a second Apply still knows which line set a key.
func TestApplyLater(t *testing.T) {
	m := Default()
	if err := m.Apply([]Override{{Action: "hold", Keys: []string{"f10"}, Source: "a:1"}}); err != nil {
		t.Fatal(err)
	}
	err := m.Apply([]Override{{Action: "mute", Keys: []string{"f10"}, Source: "b:2"}})
	want := `b:2: keys.mute: "f10" is bound to both mute and hold in call (hold is set at a:1)`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if a, _ := m.Match("f10", Call); a != Hold {
		t.Errorf("f10 = %q after a failed Apply, want hold", a)
	}
}

// TestDefaultIsFresh: overriding one map leaves Default and other maps alone.
func TestDefaultIsFresh(t *testing.T) {
	m := Default()
	if err := m.Apply([]Override{{Action: "answer", Keys: []string{"f12"}}}); err != nil {
		t.Fatal(err)
	}
	if a, _ := Default().Match("f2", Ringing); a != Answer {
		t.Errorf("Default() changed: f2 = %q", a)
	}
}

// FuzzParseKey: any text from a config file gives a key or a reason, never
// a panic, and a key it gives parses to itself.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"f2", "ctrl+shift+é", "Alt+Ctrl+PageUp", "ctrl++", "+", " ", "あ", "shift+", "++a", "ctrl+\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, problem := parseKey(s)
		if (k == "") == (problem == "") {
			t.Fatalf("parseKey(%q) = %q, %q", s, k, problem)
		}
		if k != "" {
			if again, p := parseKey(k); again != k {
				t.Fatalf("parseKey(%q) = %q, but that parses as %q, %q", s, k, again, p)
			}
		}
	})
}
