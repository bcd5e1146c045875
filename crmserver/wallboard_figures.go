package crmserver

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/opdesk/opdesk/crmclient"
)

// wallboardData is what the wallboard of one day is computed from (read by
// Store.Wallboard). figures does no I/O.
type wallboardData struct {
	day, zone       string
	start, end, now time.Time // the day is [start, end)
	interval        time.Duration

	agents      []crmclient.AgentState          // every agent, now, by name
	before      map[string]crmclient.AgentState // each agent's last state before the day
	events      []dayEvent                      // state and call events, in id order
	counters    []crmclient.AgentCounters       // the day's rows, every agent and campaign
	conversions map[string]int                  // agent → successful dispositions
	missed      map[string]int                  // agent → personal callbacks missed
	missedAll   int                             // every callback missed
}

// dayEvent is one stored agent_state or call event, with the fields the
// wallboard reads.
type dayEvent struct {
	at    time.Time // when the CRM stored it
	kind  crmclient.EventKind
	agent string
	f     eventFields
	raw   []byte // call_started: the whole payload, for the call in progress
}

// eventFields are the fields of an agent_state (State, Reason) or call event
// (the others) payload that the wallboard reads: decoding only these is a
// third of the cost of decoding the whole payload.
type eventFields struct {
	State     crmclient.Status    `json:"state"`
	Reason    string              `json:"reason"`
	CallID    string              `json:"call_id"`
	Direction crmclient.Direction `json:"direction"`
	At        time.Time           `json:"at"`
	Abandoned bool                `json:"abandoned"`
}

// offlineReason is the not_ready reason of an operator who is not logged in
// (CreateUser's first state, and what a desktop sets at logout).
const offlineReason = "offline"

// agentDay accumulates one agent's day.
type agentDay struct {
	fig *crmclient.AgentFigures

	cur   eventFields // the state being timed (State, Reason), since curAt
	curAt time.Time

	acw, staffed, available time.Duration // available: ready + on_call + acw
	offline                 []time.Time   // when the agent went offline (stored times)
	calls                   map[string]*callSpan
}

// callSpan is one call of an agent, as its events tell it (desktop times).
type callSpan struct {
	started, ended time.Time // zero while not announced
	raw            []byte    // the call_started payload
}

// offer is one inbound call as the team saw it, counted once by Call-ID.
type offer struct {
	first               time.Time // when it first rang or started (desktop time)
	answered, abandoned bool
}

// figures computes the wallboard: it replays the events over each agent's
// state at the day's start, then adds up per agent and for the team.
func (d *wallboardData) figures() (crmclient.Wallboard, error) {
	wb := crmclient.Wallboard{Day: d.day, TimeZone: d.zone, GeneratedAt: d.now.UTC().Truncate(time.Second),
		Agents: make([]crmclient.AgentFigures, len(d.agents)), Intervals: []crmclient.IntervalCount{}}
	// Time is counted up to now, and not past the day.
	until := maxTime(d.start, minTime(d.now, d.end))
	today := !d.now.Before(d.start) && d.now.Before(d.end)

	byName := make(map[string]*agentDay, len(d.agents))
	for i, a := range d.agents {
		wb.Agents[i] = crmclient.AgentFigures{Agent: a.User, DisplayName: a.DisplayName, State: a}
		ad := &agentDay{fig: &wb.Agents[i], calls: map[string]*callSpan{}, curAt: d.start}
		switch b, ok := d.before[a.User]; {
		case ok:
			ad.cur = eventFields{State: b.State, Reason: b.Reason}
		case !a.Since.After(d.start): // unchanged since before the day
			ad.cur = eventFields{State: a.State, Reason: a.Reason}
		default: // created during the day, or its history expired
			ad.cur = eventFields{State: crmclient.StatusNotReady, Reason: offlineReason}
		}
		byName[a.User] = ad
	}
	offers, first := d.replay(byName, until)

	iv := newIntervals(d.start, first, until, d.interval)
	counters := map[string]crmclient.AgentCounters{}
	for _, c := range d.counters {
		sum := counters[c.Agent]
		sum.Dialed += c.Dialed
		sum.Connected += c.Connected
		counters[c.Agent] = sum
	}
	var team struct{ talk, acw, available, staffed, dialed, connected, conversions int }
	for _, a := range d.agents {
		ad := byName[a.User]
		ad.spend(ad.cur, ad.curAt, until, d.start, until)
		if err := ad.addCalls(d, iv, until, today); err != nil {
			return wb, err
		}
		f := ad.fig
		f.ACWSeconds, f.StaffedSeconds = seconds(ad.acw), seconds(ad.staffed)
		f.AHTSeconds = int(math.Round(ratio(f.TalkSeconds+f.ACWSeconds, f.Handled)))
		f.Conversions, f.MissedCallbacks = d.conversions[a.User], d.missed[a.User]
		f.Dialed, f.Connected = counters[a.User].Dialed, counters[a.User].Connected

		wb.Team.Handled += f.Handled
		team.talk += f.TalkSeconds
		team.acw += f.ACWSeconds
		team.available += seconds(ad.available)
		team.staffed += f.StaffedSeconds
		team.dialed += f.Dialed
		team.connected += f.Connected
		team.conversions += f.Conversions
	}

	t := &wb.Team
	for _, o := range offers {
		t.Offered++
		switch {
		case o.answered:
			t.Answered++
		case o.abandoned:
			t.Abandoned++
		}
		iv.add(o.first, 1, 0)
	}
	t.AnswerRate, t.AbandonRate = ratio(t.Answered, t.Offered), ratio(t.Abandoned, t.Offered)
	t.AHTSeconds = int(math.Round(ratio(team.talk+team.acw, t.Handled)))
	t.Occupancy = min(1, ratio(team.talk+team.acw, team.available))
	t.CallsPerHour = ratio(t.Handled*3600, team.staffed)
	t.ContactRate = ratio(team.connected, team.dialed)
	t.Conversion = ratio(team.conversions, t.Handled)
	t.MissedCallbacks = d.missedAll
	wb.Intervals = iv.counts
	return wb, nil
}

// replay applies the events in stored order: agents' states are timed up to
// each change, calls gathered per agent, and the day's inbound calls gathered
// by Call-ID. first is the day's first event (zero when it has none).
func (d *wallboardData) replay(byName map[string]*agentDay, until time.Time) (offers map[string]*offer, first time.Time) {
	offers = map[string]*offer{}
	seen := func(t time.Time) {
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	for i := range d.events {
		e := &d.events[i]
		ad := byName[e.agent]
		if ad == nil {
			continue // a supervisor's, or a user since deleted
		}
		if e.kind == crmclient.EventAgentState {
			if e.f.State == crmclient.StatusNotReady && e.f.Reason == offlineReason {
				ad.offline = append(ad.offline, e.at)
			}
			if d.inDay(e.at) {
				seen(e.at)
				ad.spend(ad.cur, ad.curAt, e.at, d.start, until)
				ad.cur, ad.curAt = e.f, e.at
			}
			continue
		}
		c := &e.f
		span := ad.calls[c.CallID]
		if span == nil {
			span = &callSpan{}
			ad.calls[c.CallID] = span
		}
		switch e.kind {
		case crmclient.EventCallStarted:
			span.started, span.raw = c.At, e.raw
		case crmclient.EventCallEnded:
			span.ended = c.At
		}
		if !d.inDay(c.At) {
			continue
		}
		seen(c.At)
		if c.Direction != crmclient.Inbound || e.kind == crmclient.EventCallEnded {
			continue
		}
		o := offers[c.CallID]
		if o == nil {
			o = &offer{first: c.At}
			offers[c.CallID] = o
		}
		o.first = minTime(o.first, c.At) // a desktop may announce late: stored order is not call order
		o.answered = o.answered || e.kind == crmclient.EventCallStarted
		o.abandoned = o.abandoned || e.kind == crmclient.EventCallMissed && c.Abandoned
	}
	return offers, first
}

// addCalls counts the agent's calls that started on the day (Handled,
// TalkSeconds, the intervals) and finds the call in progress (today only): the
// latest started one not ended. A call never announced ended is over when the
// agent went offline after it began; until then it counts up to until.
func (ad *agentDay) addCalls(d *wallboardData, iv *intervals, until time.Time, today bool) error {
	var (
		talk    time.Duration
		current *callSpan
	)
	for _, span := range ad.calls {
		if span.started.IsZero() {
			continue
		}
		at := span.started
		stop, open := span.ended, span.ended.IsZero()
		if open {
			if t, ok := ad.offlineAfter(at); ok {
				stop, open = t, false
			} else {
				stop = until
			}
		}
		if open && today && (current == nil || at.After(current.started)) {
			current = span
		}
		if !d.inDay(at) {
			continue
		}
		ad.fig.Handled++
		iv.add(at, 0, 1)
		if stop.After(at) {
			talk += stop.Sub(at)
		}
	}
	ad.fig.TalkSeconds = seconds(talk)
	if current != nil {
		ad.fig.Call = new(crmclient.CallEvent)
		if err := json.Unmarshal(current.raw, ad.fig.Call); err != nil {
			return fmt.Errorf("wallboard: call_started event of %s: %w", ad.fig.Agent, err)
		}
	}
	return nil
}

// inDay reports whether t falls on the day.
func (d *wallboardData) inDay(t time.Time) bool { return !t.Before(d.start) && t.Before(d.end) }

// spend times state st over [from, to), clipped to [dayStart, until).
func (ad *agentDay) spend(st eventFields, from, to, dayStart, until time.Time) {
	from, to = maxTime(from, dayStart), minTime(to, until)
	if !to.After(from) {
		return
	}
	dt := to.Sub(from)
	switch st.State {
	case crmclient.StatusACW:
		ad.acw += dt
		fallthrough
	case crmclient.StatusReady, crmclient.StatusOnCall:
		ad.available += dt
		ad.staffed += dt
	case crmclient.StatusNotReady:
		if st.Reason != offlineReason {
			ad.staffed += dt
		}
	}
}

// offlineAfter is when the agent first went offline after t: a call never
// announced ended is over by then.
func (ad *agentDay) offlineAfter(t time.Time) (time.Time, bool) {
	for _, o := range ad.offline {
		if o.After(t) {
			return o, true
		}
	}
	return time.Time{}, false
}

// intervals counts calls per interval of the day, from the interval holding the
// day's first event to the one holding until.
type intervals struct {
	start  time.Time
	size   time.Duration
	first  int // index of counts[0] among the day's intervals
	counts []crmclient.IntervalCount
}

func newIntervals(dayStart, first, until time.Time, size time.Duration) *intervals {
	iv := &intervals{start: dayStart, size: size, counts: []crmclient.IntervalCount{}}
	if first.IsZero() || !until.After(dayStart) {
		return iv
	}
	last := int((until.Sub(dayStart) - 1) / size)
	iv.first = min(int(first.Sub(dayStart)/size), last)
	for i := iv.first; i <= last; i++ {
		iv.counts = append(iv.counts, crmclient.IntervalCount{Start: dayStart.Add(time.Duration(i) * size).UTC()})
	}
	return iv
}

// add counts at t, a time of the day (the last interval takes those after until:
// a desktop clock ahead of the CRM's).
func (iv *intervals) add(t time.Time, offered, handled int) {
	if len(iv.counts) == 0 {
		return
	}
	i := min(max(int(t.Sub(iv.start)/iv.size)-iv.first, 0), len(iv.counts)-1)
	iv.counts[i].Offered += offered
	iv.counts[i].Handled += handled
}

// ratio is a ÷ b, 0 when b is 0.
func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func seconds(d time.Duration) int { return int(d.Round(time.Second) / time.Second) }

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
