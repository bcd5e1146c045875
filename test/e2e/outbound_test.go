package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/keymap"
)

// TestOutboundCampaigns works outbound campaigns from the keyboard on the
// real desktop in tmux, against Kamailio, sipp gateways and the reference CRM:
//
//  1. progressive: 20 leads in a fixed pattern (answer, ring out, busy,
//     decline); the operator only picks the result and saves when someone
//     answered. Every lead ends with the right result and attempt count
//     (busy and no answer retried once after 60 s, a decline never), every
//     INVITE carries the campaign's caller ID, and the day's counters are on
//     the bar and in the CRM.
//  2. two operators on one campaign: no number is dialed twice; a number on
//     the do-not-call list and the number refused in step 1 are never dialed.
//  3. a number put on the do-not-call list while its lead is on screen
//     (preview) is refused at the dial, with the reason.
//  4. a campaign outside its calling hours dials nothing and says why.
func TestOutboundCampaigns(t *testing.T) {
	lab := startOutboundLab(t)
	mine := []string{"e2e-prog", "e2e-two", "e2e-late", "e2e-night"}
	lab.campaign("e2e-prog", "E2E progressive", allDay, crmclient.RetryPolicy{MaxAttempts: 2,
		DelaySeconds: map[crmclient.AttemptOutcome]int64{crmclient.OutcomeNoAnswer: 60, crmclient.OutcomeBusy: 60}})
	lab.campaign("e2e-two", "E2E two operators", allDay, crmclient.RetryPolicy{MaxAttempts: 1,
		DelaySeconds: map[crmclient.AttemptOutcome]int64{}})
	lab.campaign("e2e-late", "E2E late DNC", allDay, crmclient.RetryPolicy{})
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	later := time.Now().In(tokyo).Add(3 * time.Hour)
	night := crmclient.CallingWindow{Start: later.Format("15:04"), End: later.Add(time.Hour).Format("15:04"), TimeZone: "Asia/Tokyo"}
	lab.campaign("e2e-night", "E2E closed window", night, crmclient.RetryPolicy{})
	lab.user("op1", mine...)
	lab.user("op2", "e2e-two")

	// Step 1's list: lead i on gateway i%4; the answered ones get results
	// 1, 2, 3 (refused), 2, 1.
	kinds := [...]gwKind{gwAnswer, gwRing, gwBusy, gwReject}
	var prog []listRow
	results := map[string]int{}
	answerResults := []int{1, 2, 3, 2, 1}
	refusedNumber := ""
	for i := range 20 {
		r := listRow{fmt.Sprintf("架電テスト%02d", i+1), gwNumber(kinds[i%4], i+1)}
		prog = append(prog, r)
		if kinds[i%4] == gwAnswer {
			results[r.name] = answerResults[i/4]
			if answerResults[i/4] == 3 {
				refusedNumber = r.number
			}
		}
	}
	lab.importList("e2e-prog", prog)

	// Step 2's list, imported now (before the refusal): busy and declining
	// lines, two that answer, the number step 1 will refuse, and one a
	// supervisor puts on the do-not-call list after the import.
	var two []listRow
	twoResults := map[string]int{}
	for i := range 12 {
		two = append(two, listRow{fmt.Sprintf("二人目テスト%02d", i+1), gwNumber([]gwKind{gwBusy, gwReject}[i%2], 100+i)})
	}
	for i := range 2 {
		r := listRow{fmt.Sprintf("二人目応答%02d", i+1), gwNumber(gwAnswer, 100+i)}
		two = append(two, r)
		twoResults[r.name] = 2
	}
	dncNumber := gwNumber(gwAnswer, 150)
	two = append(two, listRow{"拒否済みの番号", refusedNumber}, listRow{"架電禁止の番号", dncNumber})
	lab.importList("e2e-two", two)
	if _, err := lab.sv.AddDNC(ctxFor(t), crmclient.DNCRequest{Phone: dncNumber, Reason: "本人より架電停止の申し出"}); err != nil {
		t.Fatal(err)
	}
	lab.importList("e2e-late", []listRow{{"遅延禁止01", gwNumber(gwAnswer, 200)}, {"遅延禁止02", gwNumber(gwAnswer, 201)}})
	lab.importList("e2e-night", []listRow{{"夜間01", gwNumber(gwAnswer, 300)}})

	outbound := "\n[outbound]\nmode = \"progressive\"\ncountdown_s = 1\nring_timeout_s = 5\npoll_s = 5\n"
	op1 := lab.desk("op1", outbound)
	bot1 := &wrapBot{t: t, scr: op1, results: results}

	t.Run("progressive", func(t *testing.T) {
		start := time.Now()
		enterCampaign(t, op1, mine, "e2e-prog", "E2E progressive", false)
		lab.runUntil(5*time.Minute, []string{"e2e-prog"}, bot1)
		took := time.Since(start)

		got := lab.leads("e2e-prog")
		invites := lab.invites()
		perNumber := map[string]int{}
		for _, inv := range invites {
			perNumber[inv.number]++
			if !strings.Contains(inv.pai, "+81345670000") {
				t.Errorf("INVITE to %s without the campaign's caller ID (P-Asserted-Identity %q)", inv.number, inv.pai)
			}
		}
		answered := 0
		for i, r := range prog {
			l := got[dialed(r.number)]
			want := leadState{status: "failed"}
			switch kinds[i%4] {
			case gwAnswer:
				answered++
				want = leadState{status: "done", attempts: 1,
					lastResult: []string{"", "interested", "not_interested", "refused"}[results[r.name]]}
			case gwRing:
				want.attempts, want.lastResult = 2, string(crmclient.OutcomeNoAnswer)
			case gwBusy:
				want.attempts, want.lastResult = 2, string(crmclient.OutcomeBusy)
			case gwReject:
				want.attempts, want.lastResult = 1, string(crmclient.OutcomeRejected)
			}
			if l.status != want.status || l.attempts != want.attempts || l.lastResult != want.lastResult {
				t.Errorf("%s %s: %s after %d attempts (%s), want %s after %d (%s)", r.name, r.number,
					l.status, l.attempts, l.lastResult, want.status, want.attempts, want.lastResult)
			}
			if n := perNumber[dialed(r.number)]; n != want.attempts {
				t.Errorf("%s %s: %d INVITEs, want %d", r.name, r.number, n, want.attempts)
			}
		}
		dials := len(invites)
		if dials != 30 {
			t.Errorf("%d calls placed, want 30 (20 leads, 10 retried once)", dials)
		}
		// The day's counters: on the bar, and in the CRM.
		bar := fmt.Sprintf("dialed %d  connected %d (%d%%)", dials, answered, answered*100/dials)
		op1.WaitFor(5*time.Second, bar, "conv 2")
		op1c, err := crmclient.New(lab.crm.URL)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := op1c.Login(ctxFor(t), "op1", "op1-pass"); err != nil {
			t.Fatal(err)
		}
		k, err := op1c.MyCounters(ctxFor(t), "e2e-prog", "")
		if err != nil || k.Dialed != dials || k.Connected != answered || k.Conversions != 2 || k.TalkSeconds < answered {
			t.Errorf("counters in the CRM: %+v, %v; want dialed %d, connected %d, conversions 2", k, err, dials, answered)
		}

		// Figures for the closing note: keys per answered call, and the
		// time from the save key to the next INVITE (minus the countdown).
		gaps := saveToInvite(bot1.saves, invites, time.Second)
		t.Logf("progressive run: %d leads, %d calls, %d answered, %v; keys per answered call %.1f (result + save); "+
			"save → next INVITE minus the 1 s countdown: min %v median %v max %v over %d saves",
			len(prog), dials, answered, took.Round(time.Second), float64(bot1.keys)/float64(answered),
			gaps[0].Round(time.Millisecond), gaps[len(gaps)/2].Round(time.Millisecond),
			gaps[len(gaps)-1].Round(time.Millisecond), len(gaps))
		if len(bot1.done) != answered {
			t.Errorf("%d wrap-ups for %d answered calls", len(bot1.done), answered)
		}
	})

	t.Run("two operators", func(t *testing.T) {
		before := len(lab.invites())
		op2 := lab.desk("op2", outbound)
		bot2 := &wrapBot{t: t, scr: op2, results: twoResults}
		bot1.results = twoResults
		enterCampaign(t, op1, mine, "e2e-two", "E2E two operators", true)
		enterCampaign(t, op2, []string{"e2e-two"}, "e2e-two", "E2E two operators", false)
		lab.runUntil(3*time.Minute, []string{"e2e-two"}, bot1, bot2)

		by := map[string][]string{} // number → the operators who dialed it
		for _, inv := range lab.invites()[before:] {
			by[inv.number] = append(by[inv.number], inv.from)
		}
		ops := map[string]int{}
		for _, r := range two {
			who := by[dialed(r.number)]
			switch r.number {
			case dncNumber, refusedNumber:
				if len(who) != 0 {
					t.Errorf("%s (%s) is on the do-not-call list but was dialed by %v", r.name, r.number, who)
				}
				continue
			}
			if len(who) != 1 {
				t.Errorf("%s (%s) dialed %d times, by %v; want once", r.name, r.number, len(who), who)
			}
			for _, w := range who {
				ops[w]++
			}
		}
		if ops["op1"] == 0 || ops["op2"] == 0 {
			t.Errorf("both operators should have dialed: %v", ops)
		}
		states := lab.leads("e2e-two")
		for _, n := range []string{dncNumber, refusedNumber} {
			if l := states[dialed(n)]; l.status != string(crmclient.LeadBlocked) || l.attempts != 0 {
				t.Errorf("lead %s: %s after %d attempts, want dnc after 0", n, l.status, l.attempts)
			}
		}
		t.Logf("two operators: calls per operator %v, wrap-ups %d + %d", ops, len(bot1.done), len(bot2.done))
	})

	t.Run("dnc added while on screen", func(t *testing.T) {
		op1.Press(keymap.DialMode, keymap.Lead) // preview: enter dials
		enterCampaign(t, op1, mine, "e2e-late", "E2E late DNC", true)
		op1.WaitFor(5*time.Second, "遅延禁止01", "preview dialing")
		if _, err := lab.sv.AddDNC(ctxFor(t), crmclient.DNCRequest{Phone: gwNumber(gwAnswer, 200), Reason: "他部署より連絡"}); err != nil {
			t.Fatal(err)
		}
		before := len(lab.invites())
		op1.Press(keymap.DialLead, keymap.Lead)
		op1.WaitFor(5*time.Second, "is on the do-not-call list (do not call) — not dialed", "遅延禁止02")
		if got := lab.invites()[before:]; len(got) != 0 {
			t.Errorf("INVITEs after the refusal: %+v", got)
		}
	})

	t.Run("outside calling hours", func(t *testing.T) {
		before := len(lab.invites())
		enterCampaign(t, op1, mine, "e2e-night", "E2E closed window", true)
		op1.WaitFor(5*time.Second, "outside calling hours", "calling hours are "+night.String())
		time.Sleep(2 * time.Second)
		if got := lab.invites()[before:]; len(got) != 0 {
			t.Errorf("dialed outside calling hours: %+v", got)
		}
	})
}
