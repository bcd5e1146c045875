package keymap

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Override rebinds one action: the config file's `answer = ["f2", "a"]`
// (every context answer works in) or `[keys.call] hangup = "f4"` (only
// there). An empty Keys unbinds the action.
type Override struct {
	Action  string   // the action's name, as in the config ("answer")
	Keys    []string // key names as Bubble Tea prints them; empty unbinds
	Context string   // "" = every context the action is bound in
	// Source is where the override was written, for errors:
	// "config.toml:12", "environment OPDESK_KEYS_ANSWER" or
	// "flag --keys.answer". A source that starts with "environment " or
	// "flag " names the setting itself, so messages do not repeat it.
	Source string
}

// Sentinels wrapped by the errors Apply returns.
var (
	// ErrUnknownAction: the override names no action (usually a typo).
	ErrUnknownAction = errors.New("unknown action")
	// ErrUnknownContext: [keys.X] names no context, or one the action does
	// not work in.
	ErrUnknownContext = errors.New("unknown context")
	// ErrKeyName: a key name Bubble Tea never reports, so it could never be
	// pressed.
	ErrKeyName = errors.New("invalid key name")
	// ErrDialKey: a digit, *, # or + without a modifier where those keys
	// dial or send DTMF.
	ErrDialKey = errors.New("key dials")
	// ErrClash: one key for two actions that are active together.
	ErrClash = errors.New("key clash")
	// ErrNoKey: quit or help was left without a key.
	ErrNoKey = errors.New("action needs a key")
)

// Error is one problem with an override. Its message starts with the
// override's Source and the setting ("keys.call.hangup"), so a person knows
// which line to fix.
type Error struct {
	Source string // Override.Source
	Key    string // the setting: "keys.answer" or "keys.call.hangup"
	Err    error  // one of the sentinels above
	msg    string
}

func (e *Error) Error() string {
	var parts []string
	if e.Source != "" {
		parts = append(parts, e.Source)
	}
	if e.Key != "" && !strings.HasPrefix(e.Source, "flag ") && !strings.HasPrefix(e.Source, "environment ") {
		parts = append(parts, e.Key)
	}
	return strings.Join(append(parts, e.msg), ": ")
}

func (e *Error) Unwrap() error { return e.Err }

// origin is where a binding's keys came from; the zero value is the default.
type origin struct {
	n      int    // which override set it, counting from 1 across Apply calls; 0 = the default
	source string // Override.Source
	key    string // "keys.answer"
}

// dialContexts are the contexts active while digits, *, # and + dial (idle)
// or send DTMF (a call): the desktop takes those keys before asking the map,
// so a binding there could never fire.
var dialContexts = []Context{Global, Idle, Lead, Board, Call, Script}

// overlays lists, for each context, the contexts that can be active beneath
// it. Global is beneath everything. Script, the wrap-up form and pick lists
// open during a call, so they must not hide the call's keys (hangup has to
// work whatever is open). A list over the idle dialer is different: there,
// enter picks the row instead of dialing, by design, so Idle is not listed.
var overlays = map[Context][]Context{
	Idle:    {Global},
	Lead:    {Global},             // over the idle dialer like a list: enter dials the lead
	Board:   {Idle, Call, Global}, // over the dialer, and over a monitor session (a call)
	Ringing: {Global},
	Call:    {Global},
	Script:  {Call, Global},
	Form:    {Call, Global},
	List:    {Ringing, Call, Global},
}

// allContexts is every context, in help order.
var allContexts = []Context{Global, Idle, Lead, Board, Ringing, Call, Script, Form, List}

// Apply replaces the keys of each override's action, in order (a later
// override of the same action wins), then checks the result: no key may mean
// two actions in one context, or hide another action that is active at the
// same time (a Call key that is also Help's Global key). It reports every
// problem at once, joined with errors.Join; each is an [*Error]. On error m
// is left as it was.
func (m *Map) Apply(overrides []Override) error {
	work := slices.Clone(m.bindings)
	from := make(map[int]origin, len(work))
	for i := range work {
		from[i] = m.origin(i)
	}
	var errs []error
	n := m.applied
	for _, o := range overrides {
		n++
		errs = append(errs, apply(work, from, o, n)...)
	}
	errs = append(errs, clashes(work, from)...)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	m.bindings = work
	m.from = from
	m.applied = n
	return nil
}

func (m *Map) origin(i int) origin {
	if m.from == nil {
		return origin{}
	}
	return m.from[i]
}

// apply applies one override to work, or returns why it cannot.
func apply(work []Binding, from map[int]origin, o Override, n int) []error {
	key := "keys." + o.Action
	if o.Context != "" {
		key = "keys." + o.Context + "." + o.Action
	}
	fail := func(sentinel error, format string, args ...any) []error {
		return []error{&Error{Source: o.Source, Key: key, Err: sentinel, msg: fmt.Sprintf(format, args...)}}
	}

	a := Action(o.Action)
	if descriptions[a] == "" {
		return fail(ErrUnknownAction, "unknown action %q%s", o.Action, suggestAction(o.Action))
	}
	var bound []Context
	for _, b := range work {
		if b.Action == a {
			bound = append(bound, b.Context)
		}
	}
	if c := Context(o.Context); c != "" && !slices.Contains(bound, c) {
		if !slices.Contains(allContexts, c) {
			names := make([]string, len(allContexts))
			for i, c := range allContexts {
				names[i] = string(c)
			}
			return fail(ErrUnknownContext, "unknown context %q%s; contexts are %s", o.Context,
				didYouMean(suggest(o.Context, names)), strings.Join(names, ", "))
		}
		if len(bound) == 0 {
			return fail(ErrUnknownContext, "%s has no binding in this key map", a)
		}
		return fail(ErrUnknownContext, "%s does not work in %s, only in %s; set it as keys.%s or under [keys.%s]",
			a, c, joinContexts(bound), a, bound[0])
	}

	var errs []error
	var keys []string
	for _, k := range o.Keys {
		norm, problem := parseKey(k)
		if problem != "" {
			errs = append(errs, fail(ErrKeyName, "%s", problem)...)
			continue
		}
		if !slices.Contains(keys, norm) {
			keys = append(keys, norm)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	if len(keys) == 0 && a == Quit {
		return fail(ErrNoKey, "quit must keep at least one key, or opdesk could not be left")
	}
	if len(keys) == 0 && a == Help {
		return fail(ErrNoKey, "help must keep at least one key, or nobody could look up the others")
	}
	for _, b := range work {
		if b.Action != a || (o.Context != "" && b.Context != Context(o.Context)) {
			continue
		}
		if !slices.Contains(dialContexts, b.Context) {
			continue
		}
		for _, k := range keys {
			if isDialKey(k) {
				errs = append(errs, fail(ErrDialKey, "%q cannot be bound without a modifier in %s: digits, *, # and + dial when idle "+
					"and send DTMF in a call (try \"alt+%s\")", k, b.Context, k)...)
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	for i, b := range work {
		if b.Action == a && (o.Context == "" || b.Context == Context(o.Context)) {
			work[i].Keys = slices.Clone(keys)
			from[i] = origin{n: n, source: o.Source, key: key}
		}
	}
	return nil
}

// clashes finds keys that mean two actions at once: twice in one context,
// or in a context and in one beneath it (see overlays).
func clashes(work []Binding, from map[int]origin) []error {
	var errs []error
	// report names both bindings; the error is filed under the one an
	// override set (the later one when both were), so it points at a line
	// the operator wrote.
	report := func(i, j int, k string, hides bool) {
		blame, other := i, j
		if from[j].n > from[i].n {
			blame, other = j, i
		}
		bi, bj := work[i], work[j]
		var msg string
		if hides {
			msg = fmt.Sprintf("%q for %s in %s hides %s, which has %q in %s", k, bi.Action, bi.Context, bj.Action, k, bj.Context)
		} else {
			msg = fmt.Sprintf("%q is bound to both %s and %s in %s", k, work[blame].Action, work[other].Action, bi.Context)
		}
		ob, oo := from[blame], from[other]
		switch {
		case oo.n > 0 && oo.source != "":
			msg += fmt.Sprintf(" (%s is set at %s)", work[other].Action, oo.source)
		case oo.n > 0:
			msg += fmt.Sprintf(" (%s is set too)", work[other].Action)
		case ob.n > 0:
			msg += fmt.Sprintf(" (%s's default key; rebind %s too, or pick another key)", work[other].Action, work[other].Action)
		}
		e := &Error{Source: ob.source, Key: ob.key, Err: ErrClash, msg: msg}
		if ob.n == 0 {
			e.Source = "default keys"
		}
		errs = append(errs, e)
	}
	for i, bi := range work {
		for _, k := range bi.Keys {
			for j := i + 1; j < len(work); j++ {
				if bj := work[j]; bj.Context == bi.Context && bj.Action != bi.Action && slices.Contains(bj.Keys, k) {
					report(i, j, k, false)
				}
			}
			for j, bj := range work {
				if bj.Action != bi.Action && slices.Contains(overlays[bi.Context], bj.Context) && slices.Contains(bj.Keys, k) {
					report(i, j, k, true)
				}
			}
		}
	}
	return errs
}

func joinContexts(cs []Context) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, " and ")
}

// isDialKey reports whether k is a digit, *, # or + without a modifier.
func isDialKey(k string) bool { return len(k) == 1 && strings.Contains("0123456789*#+", k) }

// namedKeys are the keys Bubble Tea v2 prints by name
// (ultraviolet's keyTypeString), the ones worth binding.
var namedKeys = []string{"enter", "esc", "tab", "space", "backspace", "delete", "insert",
	"up", "down", "left", "right", "home", "end", "pgup", "pgdown",
	"f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12"}

// keyAliases are other names people write for named keys.
var keyAliases = map[string]string{
	"escape": "esc", "return": "enter", "del": "delete", "ins": "insert",
	"pageup": "pgup", "pagedown": "pgdown", "page_up": "pgup", "page_down": "pgdown",
	"arrowup": "up", "arrowdown": "down", "arrowleft": "left", "arrowright": "right",
}

// terminalTwins are ctrl keys a terminal sends as the same bytes as another
// key, so Bubble Tea reports that other key.
var terminalTwins = map[string]string{"ctrl+i": "tab", "ctrl+m": "enter", "ctrl+[": "esc"}

// parseKey turns a key name into the form Bubble Tea v2 prints
// (tea.KeyPressMsg.String()): modifiers in lower case, in the order ctrl,
// alt, shift; named keys in lower case; a lone character as itself. It
// returns a reason when no key press could ever print as name.
func parseKey(name string) (key, problem string) {
	if name == "" {
		return "", "an empty key name (an empty list, [], removes the keys)"
	}
	if name == " " {
		return "space", ""
	}
	var ctrl, alt, shift bool
	rest := name
	for {
		i := strings.IndexByte(rest, '+')
		if i <= 0 || i == len(rest)-1 {
			break // "+" alone, or a trailing "+", is the plus key
		}
		mod := strings.ToLower(strings.TrimSpace(rest[:i]))
		var seen *bool
		switch mod {
		case "ctrl", "control":
			seen = &ctrl
		case "alt", "opt", "option":
			seen = &alt
		case "shift":
			seen = &shift
		case "meta", "super", "hyper", "cmd", "win":
			return "", fmt.Sprintf("%q: terminals do not report %s reliably; use ctrl+, alt+ or shift+", name, mod)
		default:
			return "", fmt.Sprintf("%q: %q is not a modifier; use ctrl+, alt+ or shift+", name, rest[:i])
		}
		if *seen {
			return "", fmt.Sprintf("%q names %s twice", name, mod)
		}
		*seen = true
		rest = rest[i+1:]
	}
	if len(rest) > 1 && strings.HasSuffix(rest, "+") {
		return "", fmt.Sprintf("%q has no key after the last +", name)
	}
	prefix := ""
	if ctrl {
		prefix += "ctrl+"
	}
	if alt {
		prefix += "alt+"
	}
	if shift {
		prefix += "shift+"
	}

	if utf8.RuneCountInString(rest) == 1 {
		r, _ := utf8.DecodeRuneInString(rest)
		switch {
		case r == ' ':
			return prefix + "space", ""
		case !unicode.IsPrint(r):
			return "", fmt.Sprintf("%q is not a printable character; name the key instead (enter, tab, esc, …)", name)
		case prefix == "":
			return rest, ""
		case !ctrl && !alt:
			hint := "the character shift gives"
			if u := unicode.ToUpper(r); u != r {
				hint = strconv.Quote(string(u))
			}
			return "", fmt.Sprintf("%q: a shifted character arrives as itself; write %s", name, hint)
		case r > '~':
			return "", fmt.Sprintf("%q: ctrl and alt combine only with ASCII characters and named keys "+
				"(the terminal reports %q only as typed text)", name, rest)
		case 'A' <= r && r <= 'Z':
			return "", fmt.Sprintf("%q: write the letter in lower case, %q (add shift+ for the shifted letter)",
				name, prefix+strings.ToLower(rest))
		}
		if twin, ok := terminalTwins[prefix+rest]; ok {
			return "", fmt.Sprintf("%q: the terminal sends it as %s; bind %q instead", name, twin, twin)
		}
		return prefix + rest, ""
	}

	k := strings.ToLower(strings.TrimSpace(rest))
	if alias, ok := keyAliases[k]; ok {
		k = alias
	}
	if !slices.Contains(namedKeys, k) {
		if s := suggest(k, namedKeys); s != "" {
			return "", fmt.Sprintf("unknown key %q (did you mean %q?)", name, prefix+s)
		}
		return "", fmt.Sprintf("unknown key %q; write one character (\"a\", \"?\") or a key name such as enter, esc, "+
			"tab, space, backspace, up, pgdown or f1 to f12, after ctrl+, alt+ or shift+ if needed", name)
	}
	return prefix + k, ""
}

// suggestAction renders the likeliest meant action for a typo, if any, as
// " (did you mean …?)". "call_hangup" (an environment variable cannot name a
// context) suggests the [keys.call] table.
func suggestAction(typo string) string {
	for _, c := range allContexts {
		if rest, ok := strings.CutPrefix(typo, string(c)+"_"); ok && descriptions[Action(rest)] != "" {
			return fmt.Sprintf(" (did you mean %s under [keys.%s]?)", rest, c)
		}
	}
	names := make([]string, 0, len(descriptions))
	for _, a := range Actions() {
		names = append(names, string(a))
	}
	return didYouMean(suggest(typo, names))
}

func didYouMean(s string) string {
	if s == "" {
		return ""
	}
	return " (did you mean " + strconv.Quote(s) + "?)"
}

// suggest returns the candidate closest to typo, or "" if none is close
// enough to be a likely typo.
func suggest(typo string, candidates []string) string {
	best, bestDist := "", 0
	for _, c := range candidates {
		d := editDistance(strings.ToLower(typo), c)
		if best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" || bestDist > max(1, len(typo)/3) {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of adjacent bytes each
// cost one ("answr" is one step from "answer", "hnagup" from "hangup").
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
