package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// agentState is the operator's availability as the desktop keeps it (the
// CRM is told with PutAgentState), the ACW timer, and the personal counters
// on the bar.
type agentState struct {
	lang   Lang
	state  crmclient.Status
	reason string    // not_ready reason code ("break", …)
	since  time.Time // when state began

	// Counters for this session.
	calls       int
	talk, acw   time.Duration
	conversions int

	// reasons is the not-ready pick list; open while choosing.
	reasonsOpen bool
	reasonPick  int
}

// notReadyReasons are the codes posted with not_ready; shown as "reason.<code>".
var notReadyReasons = []string{"break", "lunch", "training", "meeting"}

// conversionCodes are result codes that count as a conversion. The counter is a
// heuristic, kept simple on purpose: a result counts when its code is one of
// these or the campaign marks it with the "success" flag.
var conversionCodes = []string{"sale", "order", "appointment", "converted", "resolved_sale", "success"}

func isConversion(r crmclient.ResultCode, code string) bool {
	return slices.Contains(conversionCodes, code) || r.Has(crmclient.FlagSuccess) ||
		strings.Contains(r.LabelJA, "成約")
}

func (a *agentState) set(s crmclient.Status, reason string, now time.Time) {
	a.state, a.reason, a.since = s, reason, now
}

// label is the state in words: "Ready", "Not ready: 休憩", "ACW".
func (a *agentState) label() string {
	switch a.state {
	case crmclient.StatusReady:
		return T(a.lang, "agent.ready")
	case crmclient.StatusOnCall:
		return T(a.lang, "agent.on_call")
	case crmclient.StatusACW:
		return T(a.lang, "agent.acw")
	}
	if a.reason != "" {
		return T(a.lang, "agent.not_ready_why", T(a.lang, "reason."+a.reason))
	}
	return T(a.lang, "agent.not_ready")
}

// aht is the average handle time: (talk + ACW) / calls.
func (a *agentState) aht() time.Duration {
	if a.calls == 0 {
		return 0
	}
	return (a.talk + a.acw) / time.Duration(a.calls)
}

func (a *agentState) counters() string {
	return T(a.lang, "bar.counters", a.calls, clock(a.talk), clock(a.aht()), a.conversions)
}

// reasonsView is the not-ready pick list.
func (a *agentState) reasonsView(st styles, width, height int) string {
	lines := []string{st.title.Render(T(a.lang, "reason.title"))}
	for i, r := range notReadyReasons {
		l := fmt.Sprintf("%d. %s", i+1, T(a.lang, "reason."+r))
		if i == a.reasonPick {
			l = st.selected.Render(l)
		}
		lines = append(lines, l)
	}
	return block(strings.Join(lines, "\n"), width, height)
}

// panel is the idle left pane: state, time in state, counters.
func (a *agentState) panel(st styles, width, height int, now time.Time) string {
	lines := []string{
		st.title.Render(a.label()) + "  " + clock(now.Sub(a.since)),
		a.counters(),
		"",
		st.dim.Render(T(a.lang, "cust.idle")),
	}
	return block(strings.Join(lines, "\n"), width, height)
}
