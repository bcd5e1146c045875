package tui

// The supervisor's wallboard: every agent of the team at a glance — state and
// time in it, the call in progress, the day's calls, handle time and
// conversions, a rank for coaching — and the team's figures with a small
// chart of calls per interval. The figures come from the CRM
// (GET /v1/wallboard); agent states and calls are applied live from the
// event stream (Options.BoardEvents) as they happen, and the figures are read
// again after a call ends and every boardRefresh. From the selected row the
// supervisor listens, whispers or barges in (model_board.go).

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// Board sort orders, in the order the Sort key steps through them.
const (
	sortName = iota
	sortState
	sortInState
	sortHandled
	sortAHT
	sortRank
	sortCount
)

var sortIDs = [sortCount]string{"board.sort.name", "board.sort.state", "board.sort.in_state", "board.sort.handled",
	"board.sort.aht", "board.sort.rank"}

// Board filters, in the order the Filter key steps through them.
var boardFilters = []crmclient.Status{"", crmclient.StatusOnCall, crmclient.StatusReady, crmclient.StatusACW, crmclient.StatusNotReady}

// board is the wallboard as the desktop keeps it.
type board struct {
	open      bool
	data      crmclient.Wallboard
	loaded    bool
	fetching  bool
	fetchedAt time.Time
	problem   string // why the figures may be old, in words; "" when fine
	live      bool   // the event stream is connected (an EventReady came)
	dirty     bool   // figures changed (a call ended): read them again soon
	sel       int    // index into rows()
	sortBy    int
	desc      bool
	filter    int // index into boardFilters
	session   *monitorSession
}

// monitorSession is the supervisor's call into an agent's call.
type monitorSession struct {
	agent, name string
	mode        crmclient.MonitorMode
	callID      string // this phone's id of the session call, once dialing
	pbx         bool   // through the PBX's feature code: a mode change dials again
	switching   crmclient.MonitorMode
}

// boardRow is one agent as shown: the CRM's figures and a rank.
type boardRow struct {
	crmclient.AgentFigures
	rank int // 1 = best conversion rate (ties: more calls handled)
}

// rows are the agents in the chosen order and filter.
func (b *board) rows(now time.Time) []boardRow {
	rows := make([]boardRow, 0, len(b.data.Agents))
	for _, a := range b.data.Agents {
		rows = append(rows, boardRow{AgentFigures: a})
	}
	// Ranking for coaching: conversion rate, then calls handled.
	byRank := slices.Clone(rows)
	slices.SortStableFunc(byRank, func(x, y boardRow) int {
		return cmp.Or(-cmp.Compare(convRate(x.AgentFigures), convRate(y.AgentFigures)), -cmp.Compare(x.Handled, y.Handled),
			cmp.Compare(x.Agent, y.Agent))
	})
	rank := map[string]int{}
	for i, r := range byRank {
		rank[r.Agent] = i + 1
	}
	out := rows[:0]
	for _, r := range rows {
		r.rank = rank[r.Agent]
		if f := boardFilters[b.filter]; f == "" || r.State.State == f {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(x, y boardRow) int {
		var c int
		switch b.sortBy {
		case sortState:
			c = cmp.Compare(stateOrder(x.State.State), stateOrder(y.State.State))
		case sortInState:
			c = -cmp.Compare(now.Sub(x.State.Since), now.Sub(y.State.Since))
		case sortHandled:
			c = -cmp.Compare(x.Handled, y.Handled)
		case sortAHT:
			c = -cmp.Compare(x.AHTSeconds, y.AHTSeconds)
		case sortRank:
			c = cmp.Compare(x.rank, y.rank)
		}
		c = cmp.Or(c, cmp.Compare(x.Agent, y.Agent))
		if b.desc {
			c = -c
		}
		return c
	})
	return out
}

func convRate(a crmclient.AgentFigures) float64 {
	if a.Handled == 0 {
		return 0
	}
	return float64(a.Conversions) / float64(a.Handled)
}

// stateOrder groups agents the way a floor is read: talking, wrapping up,
// ready, not ready.
func stateOrder(s crmclient.Status) int {
	switch s {
	case crmclient.StatusOnCall:
		return 0
	case crmclient.StatusACW:
		return 1
	case crmclient.StatusReady:
		return 2
	}
	return 3
}

// selected is the agent under the cursor, nil when the list is empty.
func (b *board) selected(now time.Time) *boardRow {
	rows := b.rows(now)
	if len(rows) == 0 {
		return nil
	}
	r := rows[min(b.sel, len(rows)-1)]
	return &r
}

// apply takes one event of the stream into the board. It reports whether the
// figures should be read again (a call ended, counters moved, an agent the
// board does not know).
func (b *board) apply(ev crmclient.Event) (refetch bool) {
	find := func(agent string) *crmclient.AgentFigures {
		for i := range b.data.Agents {
			if b.data.Agents[i].Agent == agent {
				return &b.data.Agents[i]
			}
		}
		return nil
	}
	switch ev.Kind {
	case crmclient.EventReady:
		b.live = true
		return true
	case crmclient.EventAgentState:
		st, err := ev.AgentState()
		if err != nil {
			return false
		}
		a := find(st.User)
		if a == nil {
			return true
		}
		a.State = st
	case crmclient.EventCallStarted:
		ce, err := ev.Call()
		if err != nil {
			return false
		}
		if a := find(ce.Agent); a != nil {
			a.Call = &ce
			return false
		}
		return true
	case crmclient.EventCallEnded:
		if ce, err := ev.Call(); err == nil {
			if a := find(ce.Agent); a != nil && a.Call != nil && a.Call.CallID == ce.CallID {
				a.Call = nil
			}
		}
		return true
	case crmclient.EventCallMissed, crmclient.EventCounters:
		return true
	}
	return false
}

// view renders the wallboard in width×height.
func (b *board) view(lang Lang, st styles, width, height int, now time.Time, region string, longACW time.Duration) string {
	t := b.data.Team
	pct := func(f float64) string { return fmt.Sprintf("%d%%", int(f*100+0.5)) }
	live := st.good.Render(T(lang, "board.live"))
	if !b.live {
		live = st.warn.Render(T(lang, "board.reconnecting"))
	}
	head := []string{
		st.title.Render(T(lang, "board.title")) + "  " + live + "  " + st.dim.Render(T(lang, "board.as_of",
			b.fetchedAt.Local().Format("15:04:05"))),
		T(lang, "board.team1", t.Offered, t.Answered, pct(t.AnswerRate), t.Abandoned, pct(t.AbandonRate),
			clock(time.Duration(t.AHTSeconds)*time.Second), pct(t.Occupancy)),
		T(lang, "board.team2", t.CallsPerHour, pct(t.ContactRate), pct(t.Conversion), t.MissedCallbacks),
	}
	if b.problem != "" {
		head = append(head, st.alert.Render(b.problem))
	}
	if len(b.data.Intervals) > 0 {
		head = append(head, T(lang, "board.chart")+" ["+sparkline(b.data.Intervals, width-20)+"]")
	}
	if s := b.session; s != nil {
		mode := T(lang, "mode."+string(s.mode))
		if s.switching != "" {
			mode += " → " + T(lang, "mode."+string(s.switching))
		}
		head = append(head, st.banner.Render(T(lang, "board.session", cleanLine(s.name), mode)))
	}
	filter := T(lang, "board.filter.all")
	if f := boardFilters[b.filter]; f != "" {
		filter = tOr(lang, "agent."+string(f), string(f))
	}
	order := T(lang, sortIDs[b.sortBy])
	if b.desc {
		order += " ↑"
	}
	head = append(head, st.dim.Render(T(lang, "board.view", order, filter)))

	wide := width >= wideCols
	type col struct {
		id string
		w  int
	}
	// Narrow screens drop the outbound figures and squeeze the rest; the
	// notes (long after-call work, missed callbacks) always have a column.
	cols := []col{{"#", 2}, {"board.col.agent", 9}, {"board.col.state", 10}, {"board.col.in_state", 5},
		{"board.col.call", 22}, {"board.col.handled", 4}, {"board.col.aht", 5}, {"board.col.conv", 4}}
	if wide {
		cols = []col{{"#", 3}, {"board.col.agent", 14}, {"board.col.state", 16}, {"board.col.in_state", 9},
			{"board.col.call", 26}, {"board.col.handled", 7}, {"board.col.aht", 7}, {"board.col.conv", 5},
			{"board.col.outbound", 12}}
	}
	cols = append(cols, col{"board.col.notes", 0})
	var hdr []string
	for _, c := range cols {
		label := c.id
		if c.id != "#" {
			label = T(lang, c.id)
		}
		if c.w > 0 {
			label = pad(label, c.w)
		}
		hdr = append(hdr, label)
	}
	lines := append(head, st.keyName.Render(fit(strings.Join(hdr, " "), width)))
	rows := b.rows(now)
	if len(rows) == 0 {
		lines = append(lines, st.dim.Render(T(lang, "board.empty")))
	}
	for i, r := range rows {
		inState := now.Sub(r.State.Since)
		state := boardState(lang, r.State)
		var notes []string
		if r.State.State == crmclient.StatusACW && longACW > 0 && inState > longACW {
			notes = append(notes, T(lang, "board.long_acw"))
		}
		if r.MissedCallbacks > 0 {
			notes = append(notes, T(lang, "board.missed", r.MissedCallbacks))
		}
		call := ""
		if c := r.Call; c != nil {
			dir := "in "
			if c.Direction == crmclient.Outbound {
				dir = "out"
			}
			call = dir + " " + displayNumber(c.Number, region) + " " + clock(now.Sub(c.At))
		}
		cells := []string{fmt.Sprint(r.rank), cleanLine(r.DisplayName), state, clock(inState), call,
			fmt.Sprint(r.Handled), clock(time.Duration(r.AHTSeconds) * time.Second), fmt.Sprint(r.Conversions)}
		if wide {
			cells = append(cells, fmt.Sprintf("%d/%d", r.Dialed, r.Connected))
		}
		cells = append(cells, strings.Join(notes, " "))
		var parts []string
		for j, c := range cols {
			if c.w == 0 {
				parts = append(parts, cells[j])
				continue
			}
			parts = append(parts, pad(fit(cells[j], c.w), c.w))
		}
		line := fit(strings.Join(parts, " "), width)
		switch {
		case i == min(b.sel, len(rows)-1):
			line = st.selected.Render(line)
		case len(notes) > 0:
			line = st.alert.Render(line)
		}
		lines = append(lines, line)
	}
	return block(strings.Join(lines, "\n"), width, height)
}

// boardState is an agent's state in words, with the not-ready reason.
func boardState(lang Lang, s crmclient.AgentState) string {
	switch s.State {
	case crmclient.StatusReady:
		return T(lang, "agent.ready")
	case crmclient.StatusOnCall:
		return T(lang, "agent.on_call")
	case crmclient.StatusACW:
		return T(lang, "agent.acw")
	}
	if s.Reason == "offline" { // the CRM's word for a desktop that is not running
		return T(lang, "agent.offline")
	}
	if s.Reason != "" {
		return T(lang, "agent.not_ready_why", tOr(lang, "reason."+s.Reason, cleanLine(s.Reason)))
	}
	return T(lang, "agent.not_ready")
}

// sparkLevels are ASCII on purpose: block elements are ambiguous-width and
// jump in Japanese terminals.
const sparkLevels = " .:-=+*#"

// sparkline draws the calls handled per interval, the latest at the right,
// in at most width cells.
func sparkline(iv []crmclient.IntervalCount, width int) string {
	if width < 1 {
		return ""
	}
	if len(iv) > width {
		iv = iv[len(iv)-width:]
	}
	top := 0
	for _, c := range iv {
		top = max(top, c.Handled)
	}
	var b strings.Builder
	for _, c := range iv {
		i := 0
		if top > 0 && c.Handled > 0 {
			i = max(1, c.Handled*(len(sparkLevels)-1)/top)
		}
		b.WriteByte(sparkLevels[i])
	}
	return b.String()
}
