package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/test/peers"
)

// BenchmarkOutboundSaveToInvite measures progressive dialing on the real
// desktop in tmux: b.N answered leads in a row, each wrapped up with the
// result key and save, and the time from the save key to the next lead's
// INVITE at the customer's line, minus the 1 s countdown — the desktop's
// own share (outbox delivery of the wrap-up, the next lead from the CRM, the
// do-not-call check, the INVITE). The reference, measured in the same run
// through the same Kamailio to the same gateway: baresip's time from a dial
// command on its control socket to its INVITE, a softphone's bare dial.
//
//	go test -run '^$' -bench OutboundSaveToInvite -benchtime 20x ./test/e2e
//
// (test/bench/outbound.sh runs it.)
func BenchmarkOutboundSaveToInvite(b *testing.B) {
	peers.Require(b, "baresip")
	lab := startOutboundLab(b)
	lab.campaign("bench", "Bench progressive", allDay, crmclient.RetryPolicy{})
	lab.user("op1", "bench")
	var rows []listRow
	results := map[string]int{}
	for i := range b.N + 1 {
		r := listRow{fmt.Sprintf("ベンチ%03d", i+1), gwNumber(gwAnswer, 500+i)}
		rows = append(rows, r)
		results[r.name] = 2
	}
	lab.importList("bench", rows)
	op := lab.desk("op1", "\n[outbound]\nmode = \"progressive\"\ncountdown_s = 1\nring_timeout_s = 10\n")
	bot := &wrapBot{t: b, scr: op, results: results}
	enterCampaign(b, op, []string{"bench"}, "bench", "Bench progressive", false)
	b.ResetTimer()
	lab.runUntil(time.Duration(b.N+1)*15*time.Second, []string{"bench"}, bot)
	b.StopTimer()

	ours := saveToInvite(bot.saves, lab.invites(), time.Second)

	br := peers.StartBaresip(b, peers.BaresipOptions{User: "bench-baresip", Registrar: lab.k})
	ctx := ctxT(b, 5*time.Minute)
	if err := br.WaitRegistered(ctx); err != nil {
		b.Fatal(err)
	}
	var theirs []time.Duration
	for i := range b.N {
		number := dialed(gwNumber(gwAnswer, 900+i))
		before := len(lab.invites())
		at := time.Now()
		if err := br.Dial(lab.k.AOR(number)); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			if inv := lab.invites(); len(inv) > before {
				theirs = append(theirs, inv[len(inv)-1].at.Sub(at))
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("baresip's INVITE to %s never reached the gateway", number)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if _, err := br.WaitEvent(ctx, "CALL_CLOSED"); err != nil {
			b.Fatal(err)
		}
	}
	slices.Sort(theirs)
	if len(ours) == 0 || len(theirs) == 0 {
		b.Fatalf("no samples: ours %v, baresip %v", ours, theirs)
	}
	med := func(d []time.Duration) time.Duration { return d[len(d)/2] }
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(med(ours)), "save-to-invite-ms")
	b.ReportMetric(ms(ours[len(ours)-1]), "save-to-invite-max-ms")
	b.ReportMetric(ms(med(theirs)), "baresip-dial-to-invite-ms")
	b.ReportMetric(ms(med(ours))/ms(med(theirs)), "ratio")
	b.ReportMetric(float64(bot.keys)/float64(len(bot.done)), "keys/call")
	b.Logf("save → next INVITE minus the countdown over %d saves: min %v median %v max %v; "+
		"baresip dial → INVITE over %d calls: min %v median %v max %v; keys per answered call %.1f",
		len(ours), ours[0].Round(100*time.Microsecond), med(ours).Round(100*time.Microsecond),
		ours[len(ours)-1].Round(100*time.Microsecond), len(theirs), theirs[0].Round(100*time.Microsecond),
		med(theirs).Round(100*time.Microsecond), theirs[len(theirs)-1].Round(100*time.Microsecond),
		float64(bot.keys)/float64(len(bot.done)))
}
