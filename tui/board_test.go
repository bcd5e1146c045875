package tui

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/keymap"
	"github.com/opdesk/opdesk/sip"
)

func fixtureBoard() crmclient.Wallboard {
	state := func(user, name string, s crmclient.Status, reason string, ago time.Duration) crmclient.AgentState {
		return crmclient.AgentState{User: user, DisplayName: name, State: s, Reason: reason, Since: deskNow.Add(-ago),
			SIPURI: "sip:" + map[string]string{"agent1": "1001", "agent2": "1002", "agent3": "1003", "agent4": "1004"}[user] + "@pbx.example"}
	}
	return crmclient.Wallboard{Day: "2025-06-18", TimeZone: "Asia/Tokyo", GeneratedAt: deskNow,
		Agents: []crmclient.AgentFigures{
			{Agent: "agent1", DisplayName: "山田 花子", State: state("agent1", "山田 花子", crmclient.StatusOnCall, "", 3*time.Minute),
				Call: &crmclient.CallEvent{Agent: "agent1", CallID: "abc@pbx", Direction: crmclient.Inbound, Number: "+81312345678",
					At: deskNow.Add(-2*time.Minute - 5*time.Second)},
				Handled: 12, TalkSeconds: 2400, ACWSeconds: 540, AHTSeconds: 245, Conversions: 3},
			{Agent: "agent2", DisplayName: "鈴木 一郎", State: state("agent2", "鈴木 一郎", crmclient.StatusACW, "", 4*time.Minute),
				Handled: 8, AHTSeconds: 312, Conversions: 1, Dialed: 30, Connected: 12, MissedCallbacks: 2},
			{Agent: "agent3", DisplayName: "田中 太郎", State: state("agent3", "田中 太郎", crmclient.StatusReady, "", time.Minute),
				Handled: 5, AHTSeconds: 190},
			{Agent: "agent4", DisplayName: "佐藤 恵", State: state("agent4", "佐藤 恵", crmclient.StatusNotReady, "lunch", 25*time.Minute),
				Handled: 9, AHTSeconds: 205, Conversions: 4},
		},
		Team: crmclient.TeamFigures{Offered: 40, Answered: 36, Abandoned: 3, Handled: 34, AnswerRate: 0.9, AbandonRate: 0.075,
			AHTSeconds: 250, Occupancy: 0.78, CallsPerHour: 6.5, ContactRate: 0.4, Conversion: 0.235, MissedCallbacks: 2},
		Intervals: []crmclient.IntervalCount{{Start: deskNow.Add(-time.Hour), Handled: 2}, {Start: deskNow.Add(-45 * time.Minute), Handled: 6},
			{Start: deskNow.Add(-30 * time.Minute), Handled: 0}, {Start: deskNow.Add(-15 * time.Minute), Handled: 4}},
	}
}

// boardDesk is a supervisor's desk with the wallboard opened by its key.
func boardDesk(t *testing.T, lang Lang, w, h int, mod ...func(*Options)) *desk {
	t.Helper()
	mod = append([]func(*Options){func(o *Options) {
		o.Agent = crmclient.User{Name: "sv1", DisplayName: "佐藤 恵子", Role: crmclient.RoleSupervisor}
		o.Supervisor.LongACW = 2 * time.Minute
	}}, mod...)
	d := newDesk(t, lang, w, h, mod...)
	d.crm.board = fixtureBoard()
	d.press(keymap.Wallboard, keymap.Idle)
	if !d.m.boardShown() || !d.m.board.loaded {
		t.Fatalf("the wallboard did not open:\n%s", ansi.Strip(d.screen()))
	}
	return d
}

func boardEvent(t *testing.T, kind crmclient.EventKind, v any) crmclient.Event {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return crmclient.Event{ID: 1, Kind: kind, Data: b}
}

func TestBoardShowsTheFloor(t *testing.T) {
	d := boardDesk(t, LangEN, 160, 48)
	s := ansi.Strip(d.screen())
	for _, want := range []string{"offered 40  answered 36 (90%)  abandoned 3 (8%)  AHT 04:10  occupancy 78%",
		"calls/h 6.5  contact rate 40%  conversion 24%  missed callbacks 2", "山田 花子", "in  03-1234-5678 02:05",
		"鈴木 一郎", "long ACW 2 callbacks missed", "30/12", "Not ready: lunch", "[:# =]"} {
		if !strings.Contains(s, want) {
			t.Errorf("%q not on the wallboard:\n%s", want, s)
		}
	}
	// Ranking: 佐藤 (4 of 9) before 山田 (3 of 12).
	for d.m.board.sortBy != sortRank {
		d.press(keymap.Sort, keymap.Board)
	}
	s = ansi.Strip(d.screen())
	sato, yamada := strings.Index(s, "佐藤 恵 "), strings.Index(s, "山田 花子")
	if sato < 0 || yamada < 0 || sato > yamada {
		t.Errorf("ranking puts 山田 before 佐藤:\n%s", s)
	}
}

// TestBoardLiveState: an agent's state change from the stream is on the
// board in the same frame; a call's end reads the figures again.
func TestBoardLiveState(t *testing.T) {
	d := boardDesk(t, LangEN, 160, 48)
	d.send(boardEventMsg{boardEvent(t, crmclient.EventAgentState, crmclient.AgentState{User: "agent3", DisplayName: "田中 太郎",
		State: crmclient.StatusOnCall, Since: deskNow})})
	d.send(boardEventMsg{boardEvent(t, crmclient.EventCallStarted, crmclient.CallEvent{Agent: "agent3", CallID: "x@pbx",
		Direction: crmclient.Outbound, Number: "+819012345678", At: deskNow})})
	var line string
	for _, l := range strings.Split(ansi.Strip(d.screen()), "\n") {
		if strings.Contains(l, "田中 太郎") {
			line = l
		}
	}
	if !strings.Contains(line, "On call") || !strings.Contains(line, "out 090-1234-5678") {
		t.Fatalf("the new state is not on 田中's row: %q", line)
	}
	reads := d.crm.boardReads
	d.send(boardEventMsg{boardEvent(t, crmclient.EventCallEnded, crmclient.CallEvent{Agent: "agent3", CallID: "x@pbx"})})
	if !d.m.board.dirty {
		t.Error("a call's end did not mark the figures for reading again")
	}
	d.send(boardTickMsg{})
	if d.crm.boardReads != reads+1 {
		t.Errorf("figures read %d times after the call ended, want once more than %d", d.crm.boardReads, reads)
	}
}

func TestBoardSortAndFilter(t *testing.T) {
	d := boardDesk(t, LangEN, 160, 48)
	d.press(keymap.Filter, keymap.Board) // on call only
	s := ansi.Strip(d.screen())
	if !strings.Contains(s, "山田 花子") || strings.Contains(s, "鈴木 一郎") {
		t.Fatalf("filter 'on call' shows:\n%s", s)
	}
	d.press(keymap.Filter, keymap.Board)
	d.press(keymap.Filter, keymap.Board)
	d.press(keymap.Filter, keymap.Board)
	d.press(keymap.Filter, keymap.Board) // back to everyone
	d.press(keymap.Sort, keymap.Board)   // by state: on call, ACW, ready, not ready
	s = ansi.Strip(d.screen())
	if i, j := strings.Index(s, "山田 花子"), strings.Index(s, "佐藤 恵 "); i < 0 || j < 0 || i > j {
		t.Errorf("by state, on call comes before not ready:\n%s", s)
	}
}

// TestBoardPeerMonitoring: listen on the selected agent's call with a grant
// from the CRM, switch to whisper with a new one; the session is no customer
// call (no state posted, no wrap-up).
func TestBoardPeerMonitoring(t *testing.T) {
	d := boardDesk(t, LangEN, 160, 48)
	d.press(keymap.Listen, keymap.Board)
	if len(d.crm.grants) != 1 || d.crm.grants[0] != (crmclient.GrantRequest{Agent: "agent1", CallID: "abc@pbx", Mode: crmclient.MonitorListen}) {
		t.Fatalf("grants asked %+v", d.crm.grants)
	}
	if got := d.phoneCalls("monitor"); len(got) != 1 || got[0] != "monitor 1001 grant-listen-agent1" {
		t.Fatalf("monitor call %v", got)
	}
	states := len(d.crm.States())
	d.event(sip.Event{Type: sip.EvDialing, CallID: "out-1", Remote: "sip:1001@pbx.example"})
	d.event(sip.Event{Type: sip.EvAnswered, CallID: "out-1"})
	if len(d.crm.States()) != states || len(d.crm.callEvents) != 0 {
		t.Errorf("the session posted states %v or call events %v", d.crm.States()[states:], d.crm.callEvents)
	}
	s := ansi.Strip(d.screen())
	if !strings.Contains(s, "you are monitoring 山田 花子: listening") {
		t.Fatalf("no session banner on the board:\n%s", s)
	}
	d.press(keymap.Whisper, keymap.Board)
	if got := d.phoneCalls("grant"); len(got) != 1 || got[0] != "grant out-1 grant-whisper-agent1" {
		t.Fatalf("mode switch %v", got)
	}
	if d.m.board.session.mode != crmclient.MonitorWhisper {
		t.Errorf("mode %s after the switch", d.m.board.session.mode)
	}
	d.event(sip.Event{Type: sip.EvEnded, CallID: "out-1", Cause: sip.CauseLocalHangup})
	if d.m.board.session != nil || d.m.wrapOpen {
		t.Errorf("after the session: session %+v, wrap-up open %v", d.m.board.session, d.m.wrapOpen)
	}
}

func TestBoardPBXMonitoring(t *testing.T) {
	d := boardDesk(t, LangJA, 160, 48, func(o *Options) {
		o.Supervisor.Listen, o.Supervisor.Barge = "*222{ext}", "*224{ext}"
	})
	d.press(keymap.Listen, keymap.Board)
	if got := d.phoneCalls("dial"); len(got) != 1 || got[0] != "dial *2221001" || len(d.crm.grants) != 0 {
		t.Fatalf("PBX listen: %v, grants %v", got, d.crm.grants)
	}
	d.event(sip.Event{Type: sip.EvDialing, CallID: "out-1", Remote: "sip:*2221001@pbx.example"})
	d.event(sip.Event{Type: sip.EvAnswered, CallID: "out-1"})
	d.press(keymap.Barge, keymap.Board) // another feature code: hang up, call it
	d.event(sip.Event{Type: sip.EvEnded, CallID: "out-1", Cause: sip.CauseLocalHangup})
	if got := d.phoneCalls("dial"); len(got) != 2 || got[1] != "dial *2241001" {
		t.Fatalf("PBX barge: %v", got)
	}
}

func TestBoardRefusals(t *testing.T) {
	d := boardDesk(t, LangEN, 160, 48)
	d.press(keymap.Down, keymap.Board) // 鈴木, in ACW: no call
	d.press(keymap.Listen, keymap.Board)
	if s := ansi.Strip(d.screen()); !strings.Contains(s, "鈴木 一郎 has no call to monitor") {
		t.Errorf("no refusal:\n%s", s)
	}
	if len(d.crm.grants) != 0 {
		t.Errorf("grants asked: %v", d.crm.grants)
	}
	// An agent cannot open it.
	a := newDesk(t, LangEN, 80, 24)
	a.press(keymap.Wallboard, keymap.Idle)
	if a.m.board.open {
		t.Error("an agent opened the wallboard")
	}
}

func TestBoardCRMDown(t *testing.T) {
	d := boardDesk(t, LangJA, 160, 48)
	d.crm.mu.Lock()
	d.crm.down = true
	d.crm.mu.Unlock()
	d.send(boardTickMsg{periodic: true})
	s := ansi.Strip(d.screen())
	if !strings.Contains(s, "CRM に接続できません") || !strings.Contains(s, "再接続中") || !strings.Contains(s, "山田 花子") {
		t.Fatalf("a CRM outage is not said, or the board is gone:\n%s", s)
	}
	d.crm.mu.Lock()
	d.crm.down = false
	d.crm.mu.Unlock()
	d.send(boardEventMsg{crmclient.Event{Kind: crmclient.EventReady, Data: []byte(`{"after":7,"heartbeat_ms":15000}`)}})
	d.send(boardTickMsg{})
	if s := ansi.Strip(d.screen()); !strings.Contains(s, "ライブ") || strings.Contains(s, "CRM に接続できません") {
		t.Fatalf("not live again after the stream came back:\n%s", s)
	}
}

// TestMonitoredIndicator: the operator sees a supervisor on the call, unless
// the team's policy hides it; a refused attempt shows nothing.
func TestMonitoredIndicator(t *testing.T) {
	d := newDesk(t, LangJA, 120, 36)
	d.ringAnswer()
	d.event(sip.Event{Type: sip.EvMonitorRefused, Remote: "sip:evil@pbx.example", Text: "monitor grant has expired"})
	if s := ansi.Strip(d.screen()); strings.Contains(s, "SV") || strings.Contains(s, "expired") {
		t.Fatalf("a refused attempt disturbed the operator:\n%s", s)
	}
	d.event(sip.Event{Type: sip.EvMonitorStarted, CallID: "c1", Target: "2", Text: "sv1", Cause: "whisper"})
	if s := ansi.Strip(d.screen()); !strings.Contains(s, "SV sv1: ささやき中") {
		t.Fatalf("no indicator:\n%s", s)
	}
	d.event(sip.Event{Type: sip.EvMonitorEnded, CallID: "c1", Target: "2"})
	if s := ansi.Strip(d.screen()); strings.Contains(s, "SV sv1") {
		t.Fatalf("indicator stays after the end:\n%s", s)
	}
	h := newDesk(t, LangJA, 120, 36, func(o *Options) { o.HideMonitor = true })
	h.ringAnswer()
	h.event(sip.Event{Type: sip.EvMonitorStarted, CallID: "c1", Text: "sv1", Cause: "listen"})
	if s := ansi.Strip(h.screen()); strings.Contains(s, "SV sv1") {
		t.Fatalf("indicator shown against the policy:\n%s", s)
	}
}

// TestCallEventsPosted: supervisors see calls start, end and go unanswered.
func TestCallEventsPosted(t *testing.T) {
	d := newDesk(t, LangEN, 80, 24)
	ev := incoming(satoNumber, "サトウ")
	ev.SIPCallID = "c1@pbx"
	d.event(ev)
	d.press(keymap.Answer, keymap.Ringing)
	d.event(sip.Event{Type: sip.EvAnswered, CallID: "c1", SIPCallID: "c1@pbx"})
	d.event(sip.Event{Type: sip.EvEnded, CallID: "c1", Cause: sip.CauseRemoteHangup})
	missed := incoming(satoNumber, "サトウ")
	missed.CallID, missed.SIPCallID = "c2", "c2@pbx"
	d.event(missed)
	d.event(sip.Event{Type: sip.EvEnded, CallID: "c2", Cause: sip.CauseRemoteCancel})
	got := d.crm.callEvents
	if len(got) != 3 || got[0].Event != crmclient.CallStarted || got[0].CallID != "c1@pbx" || got[0].Number != "+81312345678" ||
		got[0].CustomerID != "C-0001" || got[0].Direction != crmclient.Inbound || got[1].Event != crmclient.CallEnded ||
		got[2].Event != crmclient.CallMissed || !got[2].Abandoned || got[2].CallID != "c2@pbx" {
		t.Fatalf("call events %+v", got)
	}
}
