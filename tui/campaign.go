package tui

// The campaign run: an outbound campaign the operator works from the
// keyboard. The CRM hands out one lead at a time under a lease (no colleague
// gets it meanwhile); the desktop shows it — the customer's card on the side,
// the lead's attempts, the list's columns, the script's first step, the
// callbacks due and the day's figures here — and dials it when the operator
// presses enter (preview) or after a visible countdown (progressive).
//
// Before every dial the desktop checks, in this order: the campaign's calling
// window in the lead's time zone, numbers this desk has just put on the
// do-not-call list (the CRM may not have them yet: the wrap-up can still be in
// the outbox), the number itself (a Japanese or international number the PBX
// can dial), and the CRM's do-not-call list, asked right before the INVITE.
// Any refusal is said on the status bar in words, and the number is never
// dialed. The CRM enforces the same rules on its side (next-lead order, DNC
// closing leads).
//
// A call that reaches nobody ends in an automatic outcome (no answer, busy,
// rejected, unreachable, invalid number) recorded through the outbox; the
// CRM counts the attempt and schedules the retry by the campaign's rules. A
// failure on our side (the PBX refusing us, no common codec) is not the
// lead's: the lead is given back and the dialer pauses, saying why.

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/opdesk/opdesk/crmclient"
)

// skipReasons are the codes a skipped lead is given back with; shown as
// "skip.<code>".
var skipReasons = []string{"not_now", "check_first", "ask_supervisor", "other"}

// campaignRun is the campaign being worked. The Model holds a pointer; nil
// means no campaign.
type campaignRun struct {
	gen         int // Model.campGen when it started
	c           crmclient.Campaign
	zone        *time.Location // the calling window's zone: the counters' day
	progressive bool
	paused      bool

	lead   *crmclient.Lead // leased and on screen; nil while asking or waiting
	seq    int             // bumped by every lead request and countdown change: older answers are dropped
	asking bool            // a NextLead is on its way
	wait   string          // why no lead is on screen (nothing due, outside hours, CRM down)
	due    time.Time       // when the CRM says the next lead is callable (zero: it did not say)
	again  time.Time       // when the desktop asks again (shown with wait)
	dialAt time.Time       // progressive: when the lead on screen is dialed; zero = no countdown

	checking bool   // the pre-dial do-not-call check is on its way
	leadCall string // the lead whose call is being placed or is up

	// settled holds, per lead this desk finished (a wrap-up or an automatic
	// outcome), its attempts before that call: while the outbox still holds
	// undelivered work, a lead the CRM hands back with no more attempts than
	// that is not dialed again (the CRM has not heard of the call yet).
	settled map[string]int
	// blocked are numbers this desk put on the do-not-call list (a refusal,
	// a wrong number), dialed by nobody here even before the CRM has them.
	blocked map[string]bool

	callbacks []crmclient.Callback
	announced map[string]bool // callbacks whose "due now" notice was shown

	counters crmclient.AgentCounters

	skipOpen bool
	skipPick int
}

func newCampaignRun(c crmclient.Campaign, progressive bool, now time.Time) *campaignRun {
	zone, err := time.LoadLocation(c.Window.TimeZone)
	if err != nil || c.Window.TimeZone == "" {
		zone = now.Location()
	}
	r := &campaignRun{c: c, zone: zone, progressive: progressive,
		settled: map[string]int{}, blocked: map[string]bool{}, announced: map[string]bool{}}
	r.counters = crmclient.AgentCounters{CampaignID: c.ID, Day: r.day(now)}
	return r
}

// day is the counters' day: the date in the campaign's zone.
func (r *campaignRun) day(now time.Time) string { return now.In(r.zone).Format(time.DateOnly) }

// counting reports whether the progressive countdown runs.
func (r *campaignRun) counting() bool { return !r.dialAt.IsZero() }

// stopCountdown stops the countdown; a timer already armed finds its seq stale.
func (r *campaignRun) stopCountdown() {
	if r.counting() {
		r.dialAt = time.Time{}
		r.seq++
	}
}

// contactRate is connected ÷ dialed in percent.
func (r *campaignRun) contactRate() int {
	if r.counters.Dialed == 0 {
		return 0
	}
	return r.counters.Connected * 100 / r.counters.Dialed
}

// campaignPicker is the list of outbound campaigns to work (and "leave").
type campaignPicker struct {
	open bool
	pick int
	rows []crmclient.Campaign // outbound campaigns; a leading zero value = "leave the campaign"
}

// barCounters is the status bar's campaign figures.
func (r *campaignRun) barCounters(lang Lang) string {
	k := r.counters
	return T(lang, "bar.camp", k.Dialed, k.Connected, r.contactRate(), clock(time.Duration(k.TalkSeconds)*time.Second), k.Conversions)
}

// view is the main pane while a campaign is worked and no call is up.
func (r *campaignRun) view(lang Lang, st styles, width, height int, now time.Time, preview *crmclient.ScriptNode,
	dialDigits, region string, supervisor bool) string {
	mode := T(lang, "camp.preview")
	if r.progressive {
		mode = T(lang, "camp.progressive")
	}
	lines := []string{st.title.Render(cleanLine(r.c.Name)) + "  " + st.dim.Render(mode)}
	switch {
	case r.paused:
		lines = append(lines, st.warn.Render(T(lang, "camp.paused")))
	case r.counting():
		secs := int((r.dialAt.Sub(now) + time.Second - 1) / time.Second)
		lines = append(lines, st.warn.Render(T(lang, "camp.countdown", max(0, secs))))
	case r.checking || r.leadCall != "":
		lines = append(lines, st.dim.Render(T(lang, "camp.dialing")))
	case r.lead != nil:
		lines = append(lines, st.dim.Render(T(lang, "camp.press_dial")))
	}
	if dialDigits != "" {
		lines = append(lines, st.keyName.Render("> "+dialDigits+"▏")+"  "+st.dim.Render(T(lang, "camp.manual")))
	}
	lines = append(lines, "")

	if l := r.lead; l != nil {
		lines = append(lines, r.leadLines(lang, st, *l, region)...)
	} else {
		w := r.wait
		if r.asking && w == "" {
			w = T(lang, "camp.asking")
		}
		for _, l := range wrapText(w, width) {
			lines = append(lines, st.warn.Render(l))
		}
		if !r.due.IsZero() {
			lines = append(lines, T(lang, "camp.due", r.due.Local().Format("15:04:05")))
		}
		if !r.again.IsZero() {
			lines = append(lines, st.dim.Render(T(lang, "camp.again", r.again.Local().Format("15:04:05"))))
		}
	}

	if n := preview; n != nil {
		lines = append(lines, "", st.title.Render(T(lang, "camp.script", cleanLine(n.Title))))
		for i, l := range wrapText(cleanText(stripMarkdown(n.Body)), width) {
			if i == 3 {
				break
			}
			lines = append(lines, st.dim.Render(l))
		}
	}
	if cb := r.callbackLines(lang, st, now, region, supervisor); len(cb) > 0 {
		lines = append(append(lines, ""), cb...)
	}
	return block(strings.Join(lines, "\n"), width, height)
}

// leadLines describe the lead: who, number, attempts and the last result,
// a promised callback, and the list's own columns.
func (r *campaignRun) leadLines(lang Lang, st styles, l crmclient.Lead, region string) []string {
	name := cleanLine(l.Name)
	if name == "" {
		name = T(lang, "camp.no_name")
	}
	if k := cleanLine(l.NameKana); k != "" {
		name += "  " + st.dim.Render(k)
	}
	lines := []string{st.keyName.Render(name), T(lang, "cust.phone") + ": " + displayNumber(l.Phone, region)}
	att := T(lang, "camp.attempts", l.Attempts, r.c.Retry.MaxAttempts)
	if l.LastResult != "" {
		last := resultLabel(lang, r.c, l.LastResult)
		if l.LastAttemptAt != nil {
			last += " " + l.LastAttemptAt.Local().Format("01/02 15:04")
		}
		att += " · " + T(lang, "camp.last", last)
	}
	lines = append(lines, att)
	if l.Status == crmclient.LeadCallback && l.CallbackAt != nil {
		lines = append(lines, st.banner.Render(T(lang, "camp.callback_lead", l.CallbackAt.Local().Format("01/02 15:04"),
			T(lang, "scope."+string(l.CallbackScope)))))
	}
	for _, k := range slices.Sorted(maps.Keys(l.Fields)) {
		lines = append(lines, cleanLine(k)+": "+cleanLine(l.Fields[k]))
	}
	return lines
}

// callbackLines list the callbacks of this campaign: due ones first and
// marked, missed ones (for a supervisor: everyone's) highlighted.
func (r *campaignRun) callbackLines(lang Lang, st styles, now time.Time, region string, supervisor bool) []string {
	var lines []string
	for _, cb := range r.callbacks {
		if cb.CampaignID != r.c.ID {
			continue
		}
		who := cleanLine(cb.Name)
		if who == "" {
			who = displayNumber(cb.Phone, region)
		}
		line := cb.DueAt.Local().Format("01/02 15:04") + " " + who + " (" + T(lang, "scope."+string(cb.Scope))
		if supervisor && cb.Agent != "" {
			line += ", " + cleanLine(cb.Agent)
		}
		line += ")"
		switch {
		case cb.Missed:
			line = st.alert.Render(T(lang, "camp.cb_missed") + " " + line)
		case !cb.DueAt.After(now):
			line = st.warn.Render(T(lang, "camp.cb_due") + " " + line)
		}
		lines = append(lines, line)
		if len(lines) == 6 {
			break
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return append([]string{st.title.Render(T(lang, "camp.callbacks"))}, lines...)
}

// skipView is the pick list of skip reasons.
func (r *campaignRun) skipView(lang Lang, st styles, width, height int) string {
	lines := []string{st.title.Render(T(lang, "skip.title"))}
	for i, code := range skipReasons {
		l := fmt.Sprintf("%d. %s", i+1, T(lang, "skip."+code))
		if i == r.skipPick {
			l = st.selected.Render(l)
		}
		lines = append(lines, l)
	}
	return block(strings.Join(lines, "\n"), width, height)
}

// view is the campaign picker.
func (p *campaignPicker) view(lang Lang, st styles, width, height int) string {
	lines := []string{st.title.Render(T(lang, "camp.pick"))}
	for i, c := range p.rows {
		l := T(lang, "camp.leave")
		if c.ID != "" {
			l = fmt.Sprintf("%s  %s", cleanLine(c.Name), st.dim.Render(cleanLine(c.ID)+" · "+c.Window.String()))
		}
		if i == p.pick {
			l = st.selected.Render(fit(l, width))
		}
		lines = append(lines, l)
	}
	return block(strings.Join(lines, "\n"), width, height)
}

// resultLabel is a lead's last result in words: a result code's label, an
// automatic outcome from the catalogue, else the code as it is.
func resultLabel(lang Lang, c crmclient.Campaign, code string) string {
	if r, ok := c.Disposition.Result(code); ok {
		return pick(lang, r.Label, r.LabelJA, r.Code)
	}
	return tOr(lang, "outcome."+code, cleanLine(code))
}

// displayNumber shows an E.164 number the way the operator reads it: national
// form for a number of the home region ("03-1234-5678"), international
// otherwise ("+1 650-253-0000"); anything else cleaned as it is.
func displayNumber(e164, region string) string {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return cleanLine(e164)
	}
	if phonenumbers.GetRegionCodeForNumber(num) == region {
		return phonenumbers.Format(num, phonenumbers.NATIONAL)
	}
	return phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
}

// stripMarkdown removes the emphasis marks a script's first lines carry, for
// the short preview (the script pane renders the real thing during the call).
func stripMarkdown(s string) string {
	return strings.NewReplacer("**", "", "__", "", "`", "").Replace(s)
}
