package tui

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"github.com/opdesk/opdesk/crmclient"
)

// The wrap-up form (after-call work) is built from the campaign's
// DispositionSchema with huh. huh shows one group at a time, so the form is a
// short sequence of pages, each hidden when it does not apply to the result
// picked on the first page (huh hides groups, not single fields):
//
//	1. result code (Label / LabelJA)
//	2. the fields that belong to that result only (FormField.Codes)
//	3. callback date, time, who calls back — results with FlagCallback
//	4. escalation department (+ the callback promised, if the result has no
//	   callback of its own: it goes into the notes) — results with FlagEscalate
//	5. the fields of every result, and the notes
//
// Default huh keys work throughout: ↑/↓ pick, enter/tab next, shift+tab back,
// ctrl+j a new line in the notes. huh's own quit key (ctrl+c) and the select
// filter ("/", the desktop's FAQ key) are switched off. The root saves with
// ctrl+s at any point and calls Input, which validates everything again, so a
// form saved half-way through names what is missing instead of losing it.
//
// wrapupForm is a value the root keeps, but the huh form and the values it
// edits live behind pointers, so copies share them (huh fields write through
// the pointers they were given).

// callRecord is what the wrap-up needs to know of the call it describes.
type callRecord struct {
	CallID, Phone /*E.164 or ""*/, CustomerID, CampaignID, LeadID string
	Direction                                                     crmclient.Direction
	StartedAt                                                     time.Time
	Duration                                                      time.Duration
}

// wrapValues are the form's answers; huh fields write into them.
type wrapValues struct {
	code       string
	text       map[string]*string // text, number, date, datetime, choice fields by name
	bools      map[string]*bool
	notes      string
	cbDate     string
	cbTime     string
	cbScope    string
	escDept    string
	escPromise string
	done       bool // the operator went through every page
	w, h       int  // the size the huh form was last given
}

// wrapupForm is the disposition form of one call.
type wrapupForm struct {
	lang Lang
	c    crmclient.Campaign
	rec  callRecord
	v    *wrapValues
	form *huh.Form
	now  func() time.Time
}

func newWrapup(lang Lang, c crmclient.Campaign, rec callRecord) wrapupForm {
	v := &wrapValues{text: map[string]*string{}, bools: map[string]*bool{},
		cbScope: string(crmclient.CallbackPersonal), w: 60, h: 20}
	for _, f := range c.Disposition.Fields {
		if f.Type == crmclient.FieldBool {
			v.bools[f.Name] = new(bool)
		} else {
			v.text[f.Name] = new(string)
		}
	}
	w := wrapupForm{lang: lang, c: c, rec: rec, v: v, now: time.Now}
	w.form = w.build()
	return w
}

// SetClock sets the clock the callback time is checked against (the root
// passes Options.Now; tests pin it).
func (w *wrapupForm) SetClock(now func() time.Time) {
	if now != nil {
		w.now = now
	}
}

func (w wrapupForm) result() (crmclient.ResultCode, bool) {
	return w.c.Disposition.Result(w.v.code)
}

func (w wrapupForm) has(f crmclient.ResultFlag) bool {
	r, ok := w.result()
	return ok && r.Has(f)
}

func (w wrapupForm) fieldLabel(f crmclient.FormField) string {
	return pick(w.lang, f.Label, f.LabelJA, f.Name)
}

func (w wrapupForm) resultLabel(r crmclient.ResultCode) string {
	return pick(w.lang, r.Label, r.LabelJA, r.Code)
}

// build makes the huh form over w.v.
func (w wrapupForm) build() *huh.Form {
	v := w.v
	opts := []huh.Option[string]{huh.NewOption(T(w.lang, "wrapup.choose"), "")}
	for i, r := range w.c.Disposition.Results {
		label := w.resultLabel(r)
		if i < 9 {
			label = strconv.Itoa(i+1) + ". " + label // the digit picks it (keymap Result1…9)
		}
		opts = append(opts, huh.NewOption(label, r.Code))
	}
	groups := []*huh.Group{huh.NewGroup(
		huh.NewSelect[string]().Key("code").Title(T(w.lang, "wrapup.result")).
			Value(&v.code).Options(opts...).
			Validate(func(s string) error {
				if s == "" {
					return errors.New(T(w.lang, "wrapup.err.result"))
				}
				return nil
			}),
	).Title(T(w.lang, "wrapup.title"))}

	// 2: per-result fields
	for _, r := range w.c.Disposition.Results {
		var fields []huh.Field
		for _, f := range w.c.Disposition.Fields {
			if len(f.Codes) > 0 && f.AppliesTo(r.Code) {
				fields = append(fields, w.field(f))
			}
		}
		if len(fields) == 0 {
			continue
		}
		code := r.Code
		groups = append(groups, huh.NewGroup(fields...).Title(w.resultLabel(r)).
			WithHideFunc(func() bool { return v.code != code }))
	}

	// 3: callback
	groups = append(groups, huh.NewGroup(
		huh.NewInput().Title(T(w.lang, "wrapup.cb.date")).Value(&v.cbDate).Placeholder(w.now().Format(time.DateOnly)).
			Validate(w.check(T(w.lang, "wrapup.cb.date"), true, "2006-01-02", "wrapup.err.date")),
		huh.NewInput().Title(T(w.lang, "wrapup.cb.time")).Value(&v.cbTime).Placeholder("14:30").
			Validate(w.check(T(w.lang, "wrapup.cb.time"), true, "15:04", "wrapup.err.time")),
		huh.NewSelect[string]().Title(T(w.lang, "wrapup.cb.scope")).Value(&v.cbScope).Options(
			huh.NewOption(T(w.lang, "wrapup.scope.me"), string(crmclient.CallbackPersonal)),
			huh.NewOption(T(w.lang, "wrapup.scope.team"), string(crmclient.CallbackTeam))),
	).Title(T(w.lang, "wrapup.callback")).WithHideFunc(func() bool { return !w.has(crmclient.FlagCallback) }))

	// 4: escalation
	groups = append(groups, huh.NewGroup(
		huh.NewInput().Title(T(w.lang, "wrapup.esc.dept")).Value(&v.escDept).CharLimit(100).
			Validate(func(s string) error {
				if strings.TrimSpace(s) == "" {
					return errors.New(T(w.lang, "wrapup.err.dept"))
				}
				return nil
			}),
	).Title(T(w.lang, "wrapup.escalation")).
		WithHideFunc(func() bool { return !w.has(crmclient.FlagEscalate) || !w.has(crmclient.FlagCallback) }))
	groups = append(groups, huh.NewGroup(
		huh.NewInput().Title(T(w.lang, "wrapup.esc.dept")).Value(&v.escDept).CharLimit(100).
			Validate(func(s string) error {
				if strings.TrimSpace(s) == "" {
					return errors.New(T(w.lang, "wrapup.err.dept"))
				}
				return nil
			}),
		huh.NewInput().Title(T(w.lang, "wrapup.esc.promise")).Value(&v.escPromise).
			Validate(w.check(T(w.lang, "wrapup.esc.promise"), false, "2006-01-02 15:04", "wrapup.err.datetime")),
	).Title(T(w.lang, "wrapup.escalation")).
		WithHideFunc(func() bool { return !w.has(crmclient.FlagEscalate) || w.has(crmclient.FlagCallback) }))

	// 5: common fields and notes
	var common []huh.Field
	for _, f := range w.c.Disposition.Fields {
		if len(f.Codes) == 0 {
			common = append(common, w.field(f))
		}
	}
	common = append(common, huh.NewText().Title(T(w.lang, "wrapup.notes")).
		Description(T(w.lang, "wrapup.notes.hint")).Value(&v.notes).Lines(3).CharLimit(2000))
	groups = append(groups, huh.NewGroup(common...).Title(T(w.lang, "wrapup.details")))

	km := huh.NewDefaultKeyMap()
	km.Quit = key.NewBinding(key.WithDisabled())
	km.Select.Filter.SetEnabled(false)
	f := huh.NewForm(groups...).WithKeyMap(km).WithShowHelp(true).
		WithWidth(w.v.w).WithHeight(w.v.h)
	f.SubmitCmd, f.CancelCmd = nil, nil
	return f
}

// check validates a typed value against layout (empty passes unless required
// — requiredness of schema fields is checked by Input, where it depends on
// the result).
func (w wrapupForm) check(label string, required bool, layout, errID string) func(string) error {
	return func(s string) error {
		s = strings.TrimSpace(s)
		if s == "" {
			if required {
				return errors.New(T(w.lang, "wrapup.err.required", label))
			}
			return nil
		}
		if _, err := time.Parse(layout, s); err != nil {
			return errors.New(T(w.lang, errID, label))
		}
		return nil
	}
}

// field makes the huh field of one schema field.
func (w wrapupForm) field(f crmclient.FormField) huh.Field {
	label := w.fieldLabel(f)
	title := label
	if f.Required {
		title += T(w.lang, "script.required")
	}
	if f.Type == crmclient.FieldBool {
		return huh.NewConfirm().Title(title).Value(w.v.bools[f.Name]).
			Affirmative(T(w.lang, "wrapup.yes")).Negative(T(w.lang, "wrapup.no"))
	}
	p := w.v.text[f.Name]
	switch f.Type {
	case crmclient.FieldChoice:
		opts := []huh.Option[string]{huh.NewOption(T(w.lang, "wrapup.choose"), "")}
		for _, c := range f.Choices {
			opts = append(opts, huh.NewOption(cleanLine(c), c))
		}
		return huh.NewSelect[string]().Title(title).Value(p).Options(opts...)
	case crmclient.FieldNumber:
		return huh.NewInput().Title(title).Value(p).Validate(func(s string) error {
			if s = strings.TrimSpace(s); s != "" {
				if _, err := strconv.ParseFloat(s, 64); err != nil {
					return errors.New(T(w.lang, "wrapup.err.number", label))
				}
			}
			return nil
		})
	case crmclient.FieldDate:
		return huh.NewInput().Title(title).Value(p).Placeholder("2025-06-20").
			Validate(w.check(label, false, "2006-01-02", "wrapup.err.date"))
	case crmclient.FieldDateTime:
		return huh.NewInput().Title(title).Value(p).Placeholder("2025-06-20 14:30").
			Validate(w.check(label, false, "2006-01-02 15:04", "wrapup.err.datetime"))
	}
	return huh.NewInput().Title(title).Value(p).CharLimit(500)
}

// PickResult picks the campaign's n-th result (1-based) when the form is on
// its result page, the way a key on the result page does, and moves on to
// the page that result needs next (its fields, the callback time, the
// escalation), if any; a result that needs nothing more can be saved at
// once. took is false elsewhere in the form (the key is then the field's).
func (w *wrapupForm) PickResult(n int) (cmd tea.Cmd, took bool) {
	f := w.form.GetFocusedField()
	if f == nil || f.GetKey() != "code" || n < 1 || n > len(w.c.Disposition.Results) {
		return nil, false
	}
	r := w.c.Disposition.Results[n-1]
	w.v.code = r.Code
	// The select shows the value it was built with: rebuild on the new one.
	w.form = w.build()
	cmds := []tea.Cmd{w.form.Init()}
	if w.needsMore(r) {
		cmds = append(cmds, w.form.NextGroup())
	}
	return tea.Sequence(cmds...), true
}

// needsMore reports whether result r has a page of its own after the first
// one (fields for it, a callback time, an escalation) with something required.
func (w wrapupForm) needsMore(r crmclient.ResultCode) bool {
	if r.Has(crmclient.FlagCallback) || r.Has(crmclient.FlagEscalate) {
		return true
	}
	for _, f := range w.c.Disposition.Fields {
		if len(f.Codes) > 0 && f.AppliesTo(r.Code) {
			return true
		}
	}
	return false
}

// Init starts the form (focus, cursor blink, size request).
func (w wrapupForm) Init() tea.Cmd { return w.form.Init() }

// Update passes a key (or huh's own messages) to the form. When the operator
// finishes the last page the form starts over on the first, keeping every
// answer, and says ctrl+s saves.
func (w wrapupForm) Update(msg tea.Msg) (wrapupForm, tea.Cmd) {
	if _, ok := msg.(tea.WindowSizeMsg); ok {
		return w, nil // the root sizes the form through View
	}
	m, cmd := w.form.Update(msg)
	if f, ok := m.(*huh.Form); ok {
		w.form = f
	}
	if w.form.State != huh.StateNormal {
		w.v.done = w.form.State == huh.StateCompleted
		w.form = w.build()
		return w, w.form.Init()
	}
	return w, cmd
}

// View renders the form in at most width×height cells: a status line, then
// the current page.
func (w wrapupForm) View(width, height int) string {
	if width <= 0 || height <= 0 {
		return ""
	}
	if h := max(height-1, 1); width != w.v.w || h != w.v.h {
		// huh keeps its size in the form; the pointer is shared, so resizing
		// here resizes the root's copy too.
		w.v.w, w.v.h = width, h
		w.form.WithWidth(width).WithHeight(h)
	}
	status := T(w.lang, "wrapup.savehint")
	if w.v.done {
		status = T(w.lang, "wrapup.done")
	}
	if f := w.form.GetFocusedField(); f != nil && f.Error() != nil {
		status = "! " + f.Error().Error() // huh marks the field; the words go here
	}
	out := []string{fit(status, width)}
	for _, l := range strings.Split(w.form.View(), "\n") {
		out = append(out, fit(l, width))
	}
	return strings.Join(out[:min(len(out), height)], "\n")
}

// Typing reports whether a text field has focus (the root then matches only
// keys that print nothing, so typing "?" in the notes does not open help).
func (w wrapupForm) Typing() bool {
	switch w.form.GetFocusedField().(type) {
	case *huh.Input, *huh.Text:
		return true
	}
	return false
}

// Input builds the disposition from the answers, or says in the pane's
// language what is missing: the result, required fields of that result, the
// checklist items in missing (from scriptPane.Missing), a callback time in
// the future, the escalation department, a number when the result needs one.
// A required yes/no field (consent) must be answered yes.
func (w wrapupForm) Input(missing []string) (crmclient.DispositionInput, error) {
	l := w.lang
	r, ok := w.result()
	if !ok {
		return crmclient.DispositionInput{}, errors.New(T(l, "wrapup.err.result"))
	}
	if len(missing) > 0 {
		sep := ", "
		if l == LangJA {
			sep = "、"
		}
		return crmclient.DispositionInput{}, errors.New(T(l, "wrapup.err.checklist", strings.Join(missing, sep)))
	}
	in := crmclient.DispositionInput{
		CampaignID: w.rec.CampaignID, LeadID: w.rec.LeadID, CustomerID: w.rec.CustomerID,
		Phone: w.rec.Phone, CallID: w.rec.CallID, Direction: w.rec.Direction,
		StartedAt: w.rec.StartedAt, DurationSeconds: int(w.rec.Duration.Round(time.Second) / time.Second),
		Code: r.Code, Notes: strings.TrimSpace(cleanText(w.v.notes)),
	}
	if in.CampaignID == "" {
		in.CampaignID = w.c.ID
	}
	for _, f := range w.c.Disposition.Fields {
		if !f.AppliesTo(r.Code) {
			continue
		}
		val, err := w.fieldValue(f)
		if err != nil {
			return crmclient.DispositionInput{}, err
		}
		if val != nil {
			if in.Fields == nil {
				in.Fields = map[string]any{}
			}
			in.Fields[f.Name] = val
		}
	}
	now := w.now()
	if r.Has(crmclient.FlagCallback) {
		at, err := w.parseFuture(strings.TrimSpace(w.v.cbDate)+" "+strings.TrimSpace(w.v.cbTime),
			T(l, "wrapup.callback"), now, true)
		if err != nil {
			return crmclient.DispositionInput{}, err
		}
		in.CallbackAt = &at
		in.CallbackScope = crmclient.CallbackScope(w.v.cbScope)
		if in.CallbackScope != crmclient.CallbackTeam {
			in.CallbackScope = crmclient.CallbackPersonal
		}
	}
	if r.Has(crmclient.FlagEscalate) {
		in.EscalateTo = cleanLine(w.v.escDept)
		if strings.TrimSpace(in.EscalateTo) == "" {
			return crmclient.DispositionInput{}, errors.New(T(l, "wrapup.err.dept"))
		}
		if p := strings.TrimSpace(w.v.escPromise); p != "" && !r.Has(crmclient.FlagCallback) {
			at, err := w.parseFuture(p, T(l, "wrapup.esc.promise"), now, false)
			if err != nil {
				return crmclient.DispositionInput{}, err
			}
			line := T(l, "wrapup.promised", at.Format("2006-01-02 15:04"))
			in.Notes = strings.TrimSpace(in.Notes + "\n" + line)
		}
	}
	needsPhone := r.Has(crmclient.FlagCallback) || r.Has(crmclient.FlagDNC) || r.Has(crmclient.FlagRefusedNeverCall)
	if needsPhone && in.Phone == "" {
		return crmclient.DispositionInput{}, errors.New(T(l, "wrapup.err.nophone", w.resultLabel(r)))
	}
	return in, nil
}

// parseFuture reads "2006-01-02 15:04" in local time and insists it is
// after now.
func (w wrapupForm) parseFuture(s, label string, now time.Time, required bool) (time.Time, error) {
	if strings.TrimSpace(s) == "" && required {
		return time.Time{}, errors.New(T(w.lang, "wrapup.err.required", label))
	}
	loc := now.Location()
	at, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		return time.Time{}, errors.New(T(w.lang, "wrapup.err.datetime", label))
	}
	if !at.After(now) {
		return time.Time{}, errors.New(T(w.lang, "wrapup.err.past"))
	}
	return at, nil
}

// fieldValue is one field's JSON value (nil: left empty and not required).
func (w wrapupForm) fieldValue(f crmclient.FormField) (any, error) {
	label := w.fieldLabel(f)
	if f.Type == crmclient.FieldBool {
		b := *w.v.bools[f.Name]
		if f.Required && !b {
			return nil, errors.New(T(w.lang, "wrapup.err.required", label))
		}
		return b, nil
	}
	s := strings.TrimSpace(*w.v.text[f.Name])
	if s == "" {
		if f.Required {
			return nil, errors.New(T(w.lang, "wrapup.err.required", label))
		}
		return nil, nil
	}
	switch f.Type {
	case crmclient.FieldNumber:
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, errors.New(T(w.lang, "wrapup.err.number", label))
		}
		return n, nil
	case crmclient.FieldDate:
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, errors.New(T(w.lang, "wrapup.err.date", label))
		}
		return s, nil
	case crmclient.FieldDateTime:
		at, err := time.ParseInLocation("2006-01-02 15:04", s, w.now().Location())
		if err != nil {
			return nil, errors.New(T(w.lang, "wrapup.err.datetime", label))
		}
		return at.Format(time.RFC3339), nil
	case crmclient.FieldChoice:
		if !slices.Contains(f.Choices, s) {
			return nil, errors.New(T(w.lang, "wrapup.err.choice", label))
		}
		return s, nil
	}
	return cleanText(s), nil
}
