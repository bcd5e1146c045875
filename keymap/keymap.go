// Package keymap holds every action of the agent desktop, the key (or keys)
// each is bound to in each context, and the help text shown for it.
//
// The desktop asks the map which action a key press means in the contexts
// that are active now (Match), and the help overlay lists only the bindings of
// those contexts (Help), so what "?" shows is exactly what works. Keys are
// written as Bubble Tea v2 prints them (tea.KeyPressMsg.String()): "a", "A",
// "enter", "ctrl+s", "alt+1", "f2", "?", "space", "tab", "shift+tab".
//
// Digits, "*", "#" and "+" are not actions where they dial: the desktop
// types them into the dialer when idle (also with a campaign's lead on
// screen) and sends them as DTMF in a call, before asking the map. On the
// wrap-up form's result page, where nothing dials, "1"…"9" pick a result.
//
// The defaults come from Default; the config file's [keys] section overrides
// them per action (Override, Map.Apply), and a mistake names the config
// line. Apply refuses a key that would mean two things at once: twice in one
// context, or in a context and in one that can be active beneath it (Global
// under everything; Call under the script, the wrap-up form and pick lists,
// so hangup works whatever is open). A pick list over the idle dialer may
// take the dialer's keys (enter picks the row): that is what a list is for.
// The README's key table is Default().Markdown(), kept in step by a test.
package keymap

import (
	"slices"
	"strings"
)

// Action is one thing the operator can do. Its name is what the config's
// [keys] section uses ("answer = ["a", "enter"]").
type Action string

// Context is where a binding works. While a text field has focus (the FAQ
// search, a form field, the transfer target) printable keys go to the field
// and only keys that print nothing (esc, tab, ctrl+…, f1…) are matched.
type Context string

// Contexts.
const (
	Global  Context = "global"  // always (unless a text field has the keys)
	Idle    Context = "idle"    // no call: the dialer and agent state
	Ringing Context = "ringing" // a call is ringing in
	Call    Context = "call"    // in a call (talking or on hold)
	Script  Context = "script"  // a script is on screen during a call
	Form    Context = "form"    // the wrap-up form is open
	List    Context = "list"    // a pick list (FAQ results, customers, reasons)
	Lead    Context = "lead"    // a campaign's lead is on screen (no call)
	Board   Context = "board"   // the supervisor's wallboard is on screen
)

// Actions. Keep in step with defaults below and with the README's table.
const (
	Help      Action = "help"       // show or hide the keys that work now
	Quit      Action = "quit"       // leave opdesk (asks when a call is up)
	FAQ       Action = "faq"        // search the FAQ
	FocusNext Action = "focus_next" // next pane
	FocusPrev Action = "focus_prev" // previous pane
	Back      Action = "back"       // close the overlay or search, leave a field

	DialNumber  Action = "dial"        // dial what the dialer holds
	Redial      Action = "redial"      // dial the last number again
	ClearDialer Action = "clear"       // empty the dialer
	Ready       Action = "ready"       // go ready for calls
	NotReady    Action = "not_ready"   // not ready, with a reason
	SwitchAudio Action = "device"      // pick another sound card
	ScrollUp    Action = "scroll_up"   // scroll the customer's orders and history
	ScrollDown  Action = "scroll_down" // scroll the customer's orders and history

	Answer   Action = "answer"   // answer the ringing call
	Reject   Action = "reject"   // decline the ringing call (486 Busy Here)
	Hangup   Action = "hangup"   // end the call
	Hold     Action = "hold"     // hold or resume
	Mute     Action = "mute"     // mute or unmute the microphone
	Transfer Action = "transfer" // blind transfer to a number or name
	Record   Action = "record"   // start or stop recording (record = ask)
	WrapUp   Action = "wrapup"   // open the wrap-up form now

	ChoiceUp   Action = "choice_up"   // previous script choice or checklist item
	ChoiceDown Action = "choice_down" // next script choice or checklist item
	Choose     Action = "choose"      // follow the choice, tick the item
	Choice1    Action = "choice_1"    // follow script choice 1 directly
	Choice2    Action = "choice_2"
	Choice3    Action = "choice_3"
	Choice4    Action = "choice_4"
	Choice5    Action = "choice_5"
	Choice6    Action = "choice_6"
	Choice7    Action = "choice_7"
	Choice8    Action = "choice_8"
	Choice9    Action = "choice_9"
	ScriptBack Action = "script_back" // back to the previous script step
	TickNext   Action = "tick_next"   // tick the next checklist item (one key per disclosure)

	Save    Action = "save"     // save the wrap-up form (through the outbox)
	Result1 Action = "result_1" // pick the form's result 1 (on the result page)
	Result2 Action = "result_2"
	Result3 Action = "result_3"
	Result4 Action = "result_4"
	Result5 Action = "result_5"
	Result6 Action = "result_6"
	Result7 Action = "result_7"
	Result8 Action = "result_8"
	Result9 Action = "result_9"

	Campaign Action = "campaign"  // pick a campaign to call, or leave it
	DialLead Action = "dial_lead" // dial the lead on screen now
	SkipLead Action = "skip"      // skip the lead, with a reason
	Pause    Action = "pause"     // pause or resume the dialer
	DialMode Action = "mode"      // switch between preview and progressive dialing

	Wallboard Action = "wallboard" // show or hide the wallboard (supervisors)
	Sort      Action = "sort"      // sort the wallboard by the next column
	Reverse   Action = "reverse"   // reverse the wallboard's order
	Filter    Action = "filter"    // show all agents, or only those in one state
	Listen    Action = "listen"    // listen to the selected agent's call
	Whisper   Action = "whisper"   // whisper to the selected agent
	Barge     Action = "barge"     // barge into the selected agent's call

	Up     Action = "up"     // move up in a list
	Down   Action = "down"   // move down in a list
	Select Action = "select" // open or pick the selected row
)

// Binding is one action's keys in one context.
type Binding struct {
	Action  Action
	Context Context
	Keys    []string
}

// Map is a complete key map. The zero value has no bindings; use Default.
type Map struct {
	bindings []Binding      // in help order
	from     map[int]origin // where bindings[i]'s keys came from; absent = default (see Apply)
	applied  int            // overrides applied so far
}

// defaults is the shipped key map, in the order help shows it.
var defaults = []Binding{
	{Help, Global, []string{"?", "f1"}},
	{FAQ, Global, []string{"/", "f3"}},
	{FocusNext, Global, []string{"tab"}},
	{FocusPrev, Global, []string{"shift+tab"}},
	{Back, Global, []string{"esc"}},
	{Quit, Global, []string{"ctrl+q"}},

	{DialNumber, Idle, []string{"enter"}},
	{Redial, Idle, []string{"ctrl+r"}},
	{ClearDialer, Idle, []string{"ctrl+u"}},
	{Ready, Idle, []string{"f5"}},
	{NotReady, Idle, []string{"f6"}},
	{SwitchAudio, Idle, []string{"f9"}},
	{Campaign, Idle, []string{"ctrl+o"}},
	{Wallboard, Idle, []string{"ctrl+b"}},
	{ScrollUp, Global, []string{"pgup"}},
	{ScrollDown, Global, []string{"pgdown"}},

	{Answer, Ringing, []string{"f2", "a"}},
	{Reject, Ringing, []string{"f4", "x"}},

	{Hangup, Call, []string{"f4", "ctrl+x"}},
	{Hold, Call, []string{"f7", "alt+h"}},
	{Mute, Call, []string{"f8", "alt+m"}},
	{Transfer, Call, []string{"ctrl+t"}},
	{Record, Call, []string{"ctrl+e"}},
	{WrapUp, Call, []string{"ctrl+w"}},
	{SwitchAudio, Call, []string{"f9"}},

	{ChoiceDown, Script, []string{"down", "ctrl+n"}},
	{ChoiceUp, Script, []string{"up", "ctrl+p"}},
	{Choose, Script, []string{"enter"}},
	{Choice1, Script, []string{"alt+1"}},
	{Choice2, Script, []string{"alt+2"}},
	{Choice3, Script, []string{"alt+3"}},
	{Choice4, Script, []string{"alt+4"}},
	{Choice5, Script, []string{"alt+5"}},
	{Choice6, Script, []string{"alt+6"}},
	{Choice7, Script, []string{"alt+7"}},
	{Choice8, Script, []string{"alt+8"}},
	{Choice9, Script, []string{"alt+9"}},
	{ScriptBack, Script, []string{"alt+backspace", "alt+0"}},
	{TickNext, Script, []string{"space"}},

	{Save, Form, []string{"ctrl+s"}},
	{Result1, Form, []string{"1", "alt+1"}},
	{Result2, Form, []string{"2", "alt+2"}},
	{Result3, Form, []string{"3", "alt+3"}},
	{Result4, Form, []string{"4", "alt+4"}},
	{Result5, Form, []string{"5", "alt+5"}},
	{Result6, Form, []string{"6", "alt+6"}},
	{Result7, Form, []string{"7", "alt+7"}},
	{Result8, Form, []string{"8", "alt+8"}},
	{Result9, Form, []string{"9", "alt+9"}},

	{DialLead, Lead, []string{"enter"}},
	{SkipLead, Lead, []string{"s"}},
	{Pause, Lead, []string{"p"}},
	{DialMode, Lead, []string{"m"}},

	{Up, Board, []string{"up", "k"}},
	{Down, Board, []string{"down", "j"}},
	{Sort, Board, []string{"o"}},
	{Reverse, Board, []string{"O"}},
	{Filter, Board, []string{"f"}},
	{Listen, Board, []string{"l"}},
	{Whisper, Board, []string{"w"}},
	{Barge, Board, []string{"b"}},

	{Up, List, []string{"up", "ctrl+p"}},
	{Down, List, []string{"down", "ctrl+n"}},
	{Select, List, []string{"enter"}},
}

// Default returns the shipped key map. Each call returns a new value that
// can be overridden without touching other maps.
func Default() *Map {
	m := &Map{bindings: make([]Binding, len(defaults))}
	for i, b := range defaults {
		b.Keys = slices.Clone(b.Keys)
		m.bindings[i] = b
	}
	return m
}

// Match returns the action key means in the first of ctxs that binds it.
// Pass the active contexts most specific first (e.g. Form, Call, Global).
func (m *Map) Match(key string, ctxs ...Context) (Action, bool) {
	for _, c := range ctxs {
		for _, b := range m.bindings {
			if b.Context == c && slices.Contains(b.Keys, key) {
				return b.Action, true
			}
		}
	}
	return "", false
}

// Keys returns the keys of action a in context c (nil if unbound there).
func (m *Map) Keys(a Action, c Context) []string {
	for _, b := range m.bindings {
		if b.Action == a && b.Context == c {
			return slices.Clone(b.Keys)
		}
	}
	return nil
}

// Help returns the bindings of ctxs, in help order, grouped by context in
// the order ctxs are given.
func (m *Map) Help(ctxs ...Context) []Binding {
	var out []Binding
	for _, c := range ctxs {
		for _, b := range m.bindings {
			if b.Context == c {
				b.Keys = slices.Clone(b.Keys)
				out = append(out, b)
			}
		}
	}
	return out
}

// Bindings returns every binding, in help order.
func (m *Map) Bindings() []Binding {
	return m.Help(Global, Idle, Lead, Board, Ringing, Call, Script, Form, List)
}

// descriptions are the actions' short English descriptions (the README's
// table and error messages use them; the desktop has its own translations).
var descriptions = map[Action]string{
	Help:        "show or hide the keys that work now",
	Quit:        "leave opdesk (asks first when a call is up)",
	FAQ:         "search the FAQ",
	FocusNext:   "go to the next pane",
	FocusPrev:   "go to the previous pane",
	Back:        "close the overlay or search, leave a field",
	DialNumber:  "dial what the dialer holds",
	Redial:      "dial the last number again",
	ClearDialer: "empty the dialer",
	Ready:       "go ready for calls",
	NotReady:    "go not ready, with a reason",
	SwitchAudio: "pick another sound card",
	ScrollUp:    "scroll the customer's orders and history up",
	ScrollDown:  "scroll the customer's orders and history down",
	Answer:      "answer the ringing call",
	Reject:      "decline the ringing call (busy)",
	Hangup:      "end the call",
	Hold:        "hold or resume the call",
	Mute:        "mute or unmute the microphone",
	Transfer:    "transfer the call to a number or name",
	Record:      "start or stop recording",
	WrapUp:      "open the wrap-up form now",
	ChoiceUp:    "previous script choice or checklist item",
	ChoiceDown:  "next script choice or checklist item",
	Choose:      "follow the choice, tick the item",
	Choice1:     "follow script choice 1",
	Choice2:     "follow script choice 2",
	Choice3:     "follow script choice 3",
	Choice4:     "follow script choice 4",
	Choice5:     "follow script choice 5",
	Choice6:     "follow script choice 6",
	Choice7:     "follow script choice 7",
	Choice8:     "follow script choice 8",
	Choice9:     "follow script choice 9",
	ScriptBack:  "back to the previous script step",
	TickNext:    "tick the next checklist item (the disclosures, in the order they are said)",
	Save:        "save the wrap-up form",
	Result1:     "pick result 1 of the wrap-up form",
	Result2:     "pick result 2 of the wrap-up form",
	Result3:     "pick result 3 of the wrap-up form",
	Result4:     "pick result 4 of the wrap-up form",
	Result5:     "pick result 5 of the wrap-up form",
	Result6:     "pick result 6 of the wrap-up form",
	Result7:     "pick result 7 of the wrap-up form",
	Result8:     "pick result 8 of the wrap-up form",
	Result9:     "pick result 9 of the wrap-up form",
	Campaign:    "pick an outbound campaign to call, or leave it",
	DialLead:    "dial the lead on screen now (with digits typed: dial those)",
	SkipLead:    "skip the lead, with a reason",
	Pause:       "pause or resume the dialer",
	DialMode:    "switch between preview and progressive dialing",
	Wallboard:   "show or hide the wallboard (supervisors)",
	Sort:        "sort the wallboard by the next column",
	Reverse:     "reverse the wallboard's order",
	Filter:      "show all agents, or only those in one state",
	Listen:      "listen to the selected agent's call (nobody hears you)",
	Whisper:     "whisper to the selected agent (the customer does not hear you)",
	Barge:       "barge into the selected agent's call (everybody hears you)",
	Up:          "move up in the list",
	Down:        "move down in the list",
	Select:      "open or pick the selected row",
}

// Actions returns every action, in help order (the order of Bindings, each
// action once).
func Actions() []Action {
	var out []Action
	for _, b := range Default().Bindings() {
		if !slices.Contains(out, b.Action) {
			out = append(out, b.Action)
		}
	}
	return out
}

// Nth returns n when a is the n-th action of a numbered family (1–9):
// Action("choice_3").Nth("choice") is 3, true.
func (a Action) Nth(family string) (int, bool) {
	rest, ok := strings.CutPrefix(string(a), family+"_")
	if !ok || len(rest) != 1 || rest[0] < '1' || rest[0] > '9' {
		return 0, false
	}
	return int(rest[0] - '0'), true
}

// Describe returns a's short English description, "" for an unknown action.
func (a Action) Describe() string { return descriptions[a] }

// Markdown renders m as a Markdown table (context, action, keys, what it
// does), one row per binding in help order. The README's key table is
// Default().Markdown(); a test keeps the two in step.
func (m *Map) Markdown() string {
	var b strings.Builder
	b.WriteString("| context | action | keys | what it does |\n|---|---|---|---|\n")
	for _, bd := range m.Bindings() {
		keys := "—"
		if len(bd.Keys) > 0 {
			quoted := make([]string, len(bd.Keys))
			for i, k := range bd.Keys {
				// A pipe ends a table cell even inside a code span (GFM).
				quoted[i] = "`" + strings.ReplaceAll(k, "|", `\|`) + "`"
			}
			keys = strings.Join(quoted, " ")
		}
		b.WriteString("| " + string(bd.Context) + " | `" + string(bd.Action) + "` | " + keys + " | " + bd.Action.Describe() + " |\n")
	}
	return b.String()
}
