package tui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/crmclient/outbox"
	"github.com/opdesk/opdesk/sip"
)

// The root model's messages. Every piece of I/O (the phone, the CRM, the
// outbox) runs in a tea.Cmd and comes back as one of these; Update never
// blocks. None is exported: the desktop is driven from outside only through
// its Options (the phone's events, the CRM's answers) and the keyboard.

// phoneEventMsg is one event from Phone.Subscribe; listen re-arms after it.
type phoneEventMsg struct{ ev sip.Event }

// phoneClosedMsg says the event channel was closed (the phone shut down).
type phoneClosedMsg struct{}

// tickMsg is the 10 Hz status poll.
type tickMsg time.Time

// statusMsg carries what the poll read from the phone and the outbox.
type statusMsg struct {
	st    sip.Status
	ob    outbox.Stats
	hasOB bool
}

// campaignsMsg is the answer of CRM.Campaigns.
type campaignsMsg struct {
	list []crmclient.Campaign
	err  error
}

// popMsg is the screen-pop answer for call callID.
type popMsg struct {
	callID string
	card   crmclient.Card
	err    error
}

// popTimeoutMsg fires PopTimeout after a lookup started, in case the CRM
// does not honour the context: the operator is told the CRM is down anyway.
type popTimeoutMsg struct{ callID string }

// hintsMsg is the banner for customerID.
type hintsMsg struct {
	callID     string
	customerID string
	hints      []crmclient.Hint
	err        error
}

// scriptMsg is a fetched talk script.
type scriptMsg struct {
	id     string
	script crmclient.Script
	err    error
}

// phoneResultMsg is the outcome of a phone action (answer, hangup, …).
type phoneResultMsg struct {
	op     string // catalogue-free word for the log: "answer", "hangup", …
	callID string
	err    error
}

// dialedMsg is the answer of Phone.Dial (or DialWith: campaign).
type dialedMsg struct {
	target   string
	callID   string
	err      error
	campaign bool
}

// agentPostedMsg is the answer of CRM.PutAgentState.
type agentPostedMsg struct {
	state crmclient.Status
	err   error
}

// savedMsg says a wrap-up went into the outbox (err nil) and whether the
// outbox delivered it within a moment (sent) or it is waiting.
type savedMsg struct {
	err  error
	sent bool
}

// autoReadyMsg makes the operator ready AutoReady after a save, unless
// something else happened since (seq no longer current).
type autoReadyMsg struct{ seq int }

// customerCreatedMsg is the answer of CRM.CreateCustomer (new caller form).
type customerCreatedMsg struct {
	callID string
	c      crmclient.Customer
	err    error
}

// The commands that produce them. Each bounds its own time, so a CRM that
// hangs costs a message later, never a frozen screen.

func (m *Model) pollCmd() tea.Cmd {
	ph, ob := m.o.Phone, m.o.Outbox
	return func() tea.Msg {
		msg := statusMsg{st: ph.Status()}
		if ob != nil {
			msg.ob, msg.hasOB = ob.Stats(), true
		}
		return msg
	}
}

func (m *Model) campaignsCmd() tea.Cmd {
	crm := m.o.CRM
	if crm == nil {
		return nil
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), crmTimeout)
		defer cancel()
		list, err := crm.Campaigns(ctx)
		return campaignsMsg{list, err}
	}
}

func (m *Model) popCmd(callID, number string) tea.Cmd {
	crm, d := m.o.CRM, m.o.PopTimeout
	return tea.Batch(func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		card, err := crm.ScreenPop(ctx, number)
		return popMsg{callID, card, err}
	}, tea.Tick(d+100*time.Millisecond, func(time.Time) tea.Msg { return popTimeoutMsg{callID} }))
}

func (m *Model) hintsCmd(callID, customerID string) tea.Cmd {
	crm, d := m.o.CRM, m.o.PopTimeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		hs, err := crm.Hints(ctx, customerID)
		return hintsMsg{callID, customerID, hs, err}
	}
}

func (m *Model) scriptCmd(id string) tea.Cmd {
	crm := m.o.CRM
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), crmTimeout)
		defer cancel()
		s, err := crm.GetScript(ctx, id)
		return scriptMsg{id, s, err}
	}
}

func (m *Model) agentCmd(s crmclient.Status, reason string) tea.Cmd {
	// Where supervisors reach this desktop (monitoring, the PBX extension).
	crm, aor := m.o.CRM, m.status.AOR
	if crm == nil {
		return nil
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), crmTimeout)
		defer cancel()
		_, err := crm.PutAgentState(ctx, crmclient.AgentStateRequest{State: s, Reason: reason, SIPURI: aor})
		return agentPostedMsg{s, err}
	}
}

// phoneCmd runs one phone action that answers (id, error).
func (m *Model) phoneCmd(op, callID string, f func() (string, error)) tea.Cmd {
	return func() tea.Msg {
		_, err := f()
		return phoneResultMsg{op: op, callID: callID, err: err}
	}
}

func (m *Model) dialCmd(target string) tea.Cmd {
	ph := m.o.Phone
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), phoneTimeout)
		defer cancel()
		id, err := ph.Dial(ctx, target)
		return dialedMsg{target: target, callID: id, err: err}
	}
}

// saveCmd puts the disposition in the outbox and waits a moment for the
// outbox to deliver it, so the bar can say "sent" or "waiting".
func (m *Model) saveCmd(body []byte) tea.Cmd {
	ob := m.o.Outbox
	return func() tea.Msg {
		sent, err := putAndWait(ob, outbox.KindDisposition, body)
		return savedMsg{err: err, sent: sent}
	}
}

// putAndWait puts an item in the outbox and waits up to sentWait for the
// outbox to deliver it. sent is false when it is still waiting there (the
// CRM is down: it goes out later, nothing is lost).
func putAndWait(ob Outbox, kind string, body []byte) (sent bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), crmTimeout)
	defer cancel()
	before := ob.Stats().Sent
	if _, err := ob.Put(ctx, kind, body); err != nil {
		return false, err
	}
	deadline := time.Now().Add(sentWait)
	for time.Now().Before(deadline) {
		st := ob.Stats()
		if st.Sent > before || (st.Pending == 0 && st.Failed == 0) {
			return true, nil
		}
		if st.LastError != "" && st.Pending > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false, nil
}

func (m *Model) createCustomerCmd(callID string, in crmclient.CustomerInput) tea.Cmd {
	crm := m.o.CRM
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), crmTimeout)
		defer cancel()
		c, err := crm.CreateCustomer(ctx, in)
		return customerCreatedMsg{callID, c, err}
	}
}
