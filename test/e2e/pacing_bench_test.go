package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/test/peers"
)

// BenchmarkPacingVsBaresip measures RTP send pacing of opdesk and of
// baresip in the same call, from a tshark capture on loopback: the
// deviation of each packet's inter-departure time from 20 ms. It reports
// p50/p99/max per sender and opdesk's p99 as a ratio of baresip's.
//
//	go test -run '^$' -bench PacingVsBaresip -benchtime 1x ./test/e2e
func BenchmarkPacingVsBaresip(b *testing.B) {
	peers.Require(b, "tshark", "baresip")
	for b.Loop() {
		b.StopTimer()
		ours, theirs := capturePacing(b, 10*time.Second)
		b.StartTimer()
		o, t := percentiles(ours), percentiles(theirs)
		b.ReportMetric(o[0], "opdesk-p50-dev-ms")
		b.ReportMetric(o[1], "opdesk-p99-dev-ms")
		b.ReportMetric(o[2], "opdesk-max-dev-ms")
		b.ReportMetric(t[0], "baresip-p50-dev-ms")
		b.ReportMetric(t[1], "baresip-p99-dev-ms")
		b.ReportMetric(t[2], "baresip-max-dev-ms")
		if t[1] > 0 {
			b.ReportMetric(o[1]/t[1], "p99-ratio-opdesk/baresip")
		}
	}
}

// capturePacing runs a call of length d between opdesk and baresip (no
// registrar, direct) and returns each sender's |interval−20 ms| in ms.
func capturePacing(b *testing.B, d time.Duration) (ours, theirs []float64) {
	bs := peers.StartBaresip(b, peers.BaresipOptions{User: "bob", AutoAnswer: true})
	op := StartOpdesk(b, OpdeskOptions{User: "alice", Input: "tone:440"})
	pcap := filepath.Join(b.TempDir(), "rtp.pcap")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cap := exec.CommandContext(ctx, "tshark", "-q", "-i", "lo", "-f", "udp", "-w", pcap)
	var capErr bytes.Buffer
	cap.Stderr = &capErr
	if err := cap.Start(); err != nil {
		b.Fatal(err)
	}
	time.Sleep(2 * time.Second) // tshark needs a moment before it captures
	id := op.MustCtl("dial", bs.URI()).Call
	op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	time.Sleep(d)
	c := op.Call(id)
	op.MustCtl("hangup", id)
	op.WaitEvent(10*time.Second, sip.EvEnded, id)
	time.Sleep(500 * time.Millisecond)
	cancel()
	_ = cap.Wait()
	if c.Media == nil {
		b.Fatal("no media in status")
	}
	_, lport, _ := strings.Cut(c.Media.Local, ":")
	_, rport, _ := strings.Cut(c.Media.Remote, ":")
	out, err := exec.Command("tshark", "-r", pcap, "-d", "udp.port=="+lport+",rtp", "-d", "udp.port=="+rport+",rtp",
		"-Y", "rtp && rtp.p_type < 96", "-T", "fields", "-e", "frame.time_epoch", "-e", "udp.srcport").Output()
	if err != nil {
		b.Fatalf("tshark read: %v %s", err, capErr.String())
	}
	times := map[string][]float64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		ts, _ := strconv.ParseFloat(f[0], 64)
		times[f[1]] = append(times[f[1]], ts)
	}
	dev := func(ts []float64) []float64 {
		var d []float64
		for i := 1; i < len(ts); i++ {
			gap := (ts[i] - ts[i-1]) * 1000
			if gap > 100 { // a DTMF pause or hold would not be pacing
				continue
			}
			d = append(d, abs(gap-20))
		}
		return d
	}
	ours, theirs = dev(times[lport]), dev(times[rport])
	if len(ours) < 100 || len(theirs) < 100 {
		b.Fatalf("too few RTP packets captured: opdesk %d, baresip %d (ports %s/%s)", len(ours), len(theirs), lport, rport)
	}
	if os.Getenv("OPDESK_BENCH_VERBOSE") != "" {
		fmt.Fprintf(os.Stderr, "captured %d opdesk and %d baresip packets\n", len(ours)+1, len(theirs)+1)
	}
	return ours, theirs
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// percentiles returns p50, p99 and max.
func percentiles(v []float64) [3]float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	at := func(p float64) float64 { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return [3]float64{at(0.50), at(0.99), s[len(s)-1]}
}
