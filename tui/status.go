package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/opdesk/opdesk/sip"
)

// The status bar: two lines, everything from what the last poll read (the
// phone's Status, the outbox's Stats) so it never claims more than the core
// knows. Line 1: registration, agent state and time in it, call state and
// timer, codec, jitter/loss, REC, MUTED, outbox backlog. Line 2: mic and
// speaker meters, personal counters, and the message line (the last thing
// the desktop has to tell, else Options.Notice).

// flashFor is how long a message stays on the bar.
const flashFor = 8 * time.Second

func (m *Model) statusBar(width int) string {
	st, lang, now := m.st, m.lang, m.now()
	sep := st.barDim.Render(" │ ")
	var l1 []string

	reg := m.status.Registration
	regText := tOr(lang, "reg."+string(reg), string(reg))
	switch reg {
	case sip.RegFailed, sip.RegUnregistered:
		l1 = append(l1, st.bar.Inherit(st.alert).Render(regText))
	case "":
		l1 = append(l1, st.barDim.Render("…"))
	default:
		l1 = append(l1, st.bar.Render(regText))
	}
	agent := m.agent.label() + " " + clock(now.Sub(m.agent.since))
	l1 = append(l1, st.bar.Bold(true).Render(agent))

	info := m.activeCallInfo()
	if c := m.call; c != nil {
		ct := T(lang, "call."+c.state)
		if c.remoteHeld {
			ct = T(lang, "call.remote_held")
		}
		switch {
		case !c.answeredAt.IsZero():
			ct += " " + clock(now.Sub(c.answeredAt))
		case !c.evTime.IsZero():
			ct += " " + clock(now.Sub(c.evTime))
		}
		l1 = append(l1, st.bar.Render(ct))
		if info != nil && info.Codec != "" {
			codec := info.Codec
			if info.SRTP != "" {
				codec += " " + T(lang, "bar.srtp")
			}
			l1 = append(l1, st.barDim.Render(codec))
		}
		if info != nil && info.Media != nil {
			l1 = append(l1, st.barDim.Render(T(lang, "bar.jitter", info.Media.JitterMs)+" "+T(lang, "bar.loss", info.Media.Lost)))
		}
		if info != nil && info.Recording != "" {
			l1 = append(l1, st.bar.Inherit(st.rec).Render("● "+T(lang, "bar.rec")))
		}
	} else {
		l1 = append(l1, st.barDim.Render(T(lang, "call.none")))
	}
	if mo := m.monitored; mo != nil && !m.o.HideMonitor {
		// Said in words, not colour alone: the operator must know.
		l1 = append(l1, st.bar.Inherit(st.warn).Render(T(lang, "bar.monitored", mo.supervisor,
			tOr(lang, "mode."+mo.mode, mo.mode))))
	}
	if m.status.Muted || (m.call != nil && m.call.muted) {
		l1 = append(l1, st.bar.Inherit(st.warn).Render(T(lang, "bar.muted")))
	}
	if m.hasOB {
		ob := T(lang, "bar.outbox", m.obStats.Pending)
		if m.obStats.Failed > 0 {
			ob = T(lang, "bar.outbox_fail", m.obStats.Pending, m.obStats.Failed)
		}
		if m.obStats.Pending > 0 || m.obStats.Failed > 0 {
			l1 = append(l1, st.bar.Inherit(st.warn).Render(ob))
		} else {
			l1 = append(l1, st.barDim.Render(ob))
		}
	}

	au := m.status.Audio
	meters := T(lang, "bar.mic") + " " + meter(au.MicPeakDBFS) + " " + T(lang, "bar.spk") + " " + meter(au.SpeakerPeakDBFS)
	l2 := []string{st.bar.Render(meters)}
	counters := st.barDim.Render(m.agent.counters())
	if m.camp != nil {
		counters = st.barDim.Render(m.camp.barCounters(lang))
	}
	msg := m.message()
	if msg != "" {
		style := st.bar
		if m.flashAlert {
			style = st.bar.Inherit(st.alert)
		}
		msg = style.Render(msg)
	}
	line2 := strings.Join(append(l2, counters), sep)
	if msg != "" {
		if ansi.StringWidth(line2)+3+ansi.StringWidth(msg) > width {
			line2 = strings.Join(append(l2, msg), sep) // the message matters more than the counters
		} else {
			line2 += sep + msg
		}
	}
	return barLine(st, strings.Join(l1, sep), width) + "\n" + barLine(st, line2, width)
}

// barLine fits a bar line to width and fills the rest with the bar colour.
func barLine(st styles, s string, width int) string {
	s = fit(s, width)
	if w := ansi.StringWidth(s); w < width {
		s += st.bar.Render(strings.Repeat(" ", width-w))
	}
	return s
}

// message is the bar's message: a recent flash, else the notice.
func (m *Model) message() string {
	if m.flash != "" && m.now().Sub(m.flashAt) < flashFor {
		return m.flash
	}
	return m.notice
}

// activeCallInfo is the polled CallInfo of the current call, if any.
func (m *Model) activeCallInfo() *sip.CallInfo {
	if m.call == nil {
		return nil
	}
	for i := range m.status.Calls {
		if m.status.Calls[i].ID == m.call.id {
			return &m.status.Calls[i]
		}
	}
	return nil
}

// meter draws a dBFS level as 5 cells of ASCII ("[###--]"): ASCII because
// block characters are ambiguous-width and jump in Japanese terminals.
func meter(dbfs float64) string {
	const cells = 5
	n := int((dbfs + 60) / 60 * cells)
	if dbfs <= -96 || n < 0 {
		n = 0
	}
	n = min(n, cells)
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", cells-n) + "]"
}

// clock formats a duration as m:ss, or h:mm:ss from an hour on.
func clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

// tOr is T with a fallback for ids built from data (an order status the
// catalogue does not know shows as the raw word, not "!order.x").
func tOr(lang Lang, id, fallback string) string {
	if _, ok := resolved()[id]; ok {
		return T(lang, id)
	}
	return fallback
}

func ansiWidth(s string) int { return ansi.StringWidth(s) }
