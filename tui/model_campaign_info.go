package tui

// What the campaign pane shows besides the lead: the callbacks (and the
// notice when one falls due) and the day's counters, read from the CRM on
// entering and posted after every change.

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/opdesk/opdesk/crmclient"
)

// callbacksCmd reads the callbacks (the operator's and the team's; a
// supervisor's: everyone's).
func (m *Model) callbacksCmd() tea.Cmd {
	crm, gen := m.o.CRM, m.camp.gen
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), crmTimeout)
		defer cancel()
		list, err := crm.Callbacks(ctx, false)
		return callbacksMsg{gen, list, err}
	}
}

func (m *Model) gotCallbacks(msg callbacksMsg) tea.Cmd {
	r := m.camp
	if r == nil || msg.gen != r.gen {
		return nil
	}
	next := tea.Tick(callbacksEvery, func(time.Time) tea.Msg { return callbacksTickMsg{msg.gen} })
	if msg.err != nil {
		m.log.Warn("callbacks", "err", msg.err)
		return next
	}
	r.callbacks = msg.list
	// One notice for the callbacks that fell due since the last look: the
	// operator's own promise first (the CRM hands those out first too).
	var fresh []crmclient.Callback
	for _, cb := range msg.list {
		if cb.CampaignID != r.c.ID || cb.DueAt.After(m.now()) || r.announced[cb.LeadID] {
			continue
		}
		if cb.Scope == crmclient.CallbackPersonal && cb.Agent != m.o.Agent.Name {
			continue // a colleague's promise: listed, not announced
		}
		r.announced[cb.LeadID] = true
		fresh = append(fresh, cb)
	}
	if len(fresh) == 0 {
		return next
	}
	slices.SortStableFunc(fresh, func(a, b crmclient.Callback) int {
		return cmp.Or(cmp.Compare(scopeRank(a.Scope), scopeRank(b.Scope)), a.DueAt.Compare(b.DueAt))
	})
	cb := fresh[0]
	who := cleanLine(cb.Name)
	if who == "" {
		who = displayNumber(cb.Phone, m.region())
	}
	text := T(m.lang, "camp.cb_notice", who, cb.DueAt.Local().Format("15:04"))
	if len(fresh) > 1 {
		text += T(m.lang, "camp.cb_more", len(fresh)-1)
	}
	m.setFlash(text, true)
	return next
}

// scopeRank orders personal callbacks before team ones.
func scopeRank(s crmclient.CallbackScope) int {
	if s == crmclient.CallbackPersonal {
		return 0
	}
	return 1
}

// countersCmd reads the day's counters, so a restarted desktop goes on counting.
func (m *Model) countersCmd() tea.Cmd {
	r := m.camp
	crm, gen, id, day := m.o.CRM, r.gen, r.c.ID, r.counters.Day
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), crmTimeout)
		defer cancel()
		c, err := crm.MyCounters(ctx, id, day)
		return countersMsg{gen, c, err}
	}
}

func (m *Model) gotCounters(msg countersMsg) {
	r := m.camp
	if r == nil || msg.gen != r.gen {
		return
	}
	if msg.err != nil {
		m.log.Warn("counters", "err", msg.err)
		return
	}
	if msg.c.Day == r.counters.Day {
		// What was counted here before the answer came adds to the stored figures.
		k := &r.counters
		k.Dialed += msg.c.Dialed
		k.Connected += msg.c.Connected
		k.TalkSeconds += msg.c.TalkSeconds
		k.Conversions += msg.c.Conversions
	}
}

// bumpCounters changes the day's counters (starting a new day's at midnight
// in the campaign's zone).
func (m *Model) bumpCounters(f func(*crmclient.AgentCounters)) {
	r := m.camp
	if r == nil {
		return
	}
	if day := r.day(m.now()); day != r.counters.Day {
		r.counters = crmclient.AgentCounters{CampaignID: r.c.ID, Day: day}
	}
	f(&r.counters)
}

// postCountersCmd sends the day's counters to the CRM (absolute figures, so a
// lost answer is mended by the next post).
func (m *Model) postCountersCmd() tea.Cmd {
	r := m.camp
	if r == nil {
		return nil
	}
	crm, k := m.o.CRM, r.counters
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), crmTimeout)
		defer cancel()
		_, err := crm.PutCounters(ctx, k)
		return countersPostedMsg{err}
	}
}

// apiMessage is the CRM's own sentence for an error, else the error.
func apiMessage(err error) string {
	var ae *crmclient.APIError
	if errors.As(err, &ae) && ae.Message != "" {
		return cleanLine(ae.Message)
	}
	return cleanLine(err.Error())
}
