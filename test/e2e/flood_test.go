package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/test/peers"
)

// The sources of the attack: loopback addresses other than the PBX's, as a
// scanner on the internet is not the operator's PBX.
const (
	scannerIP = "127.0.0.2"
	flooderIP = "127.0.0.3"
)

// TestFloodDuringCall: while the operator talks to baresip (1000 Hz) through
// Kamailio, sipvicious maps and enumerates opdesk's SIP port and sipp sends
// it 1,000 INVITEs at 200 a second. The live call must not notice: no gap
// in what opdesk receives longer than 100 ms, memory bounded, the call up
// and opdesk alive afterwards; the flood must be refused (503, or nothing
// once far over the limit) but for a handful of INVITEs.
func TestFloodDuringCall(t *testing.T) {
	peers.Require(t, "kamailio", "baresip", "sipp", "svmap", "svwar")
	rec := t.TempDir()
	k := peers.StartKamailio(t, peers.KamailioOptions{})
	b := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Registrar: k, AutoAnswer: true})
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Registrar: k, Input: "tone:440",
		Audio: "record = \"always\"\nrecordings = " + quote(rec)})
	if err := b.WaitRegistered(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	op.WaitRegistered(10 * time.Second)
	id := op.MustCtl("dial", "bob").Call
	answered := op.WaitEvent(10*time.Second, sip.EvAnswered, id).Time
	time.Sleep(2 * time.Second)

	pid := op.cmd.Process.Pid
	before := rssKB(t, pid)
	peak := startRSSWatch(t, pid)
	target := "127.0.0.1:" + strconv.Itoa(op.Port)
	attackStart := time.Now()
	stopOperator := rejectOthers(t, op, id)

	// The scans, as they come from the internet.
	for _, args := range [][]string{
		{"svmap", "-b", scannerIP, "-p", strconv.Itoa(op.Port), "127.0.0.1"},
		{"svwar", "-b", scannerIP, "-e100-199", "udp://" + target},
		{"svwar", "-b", scannerIP, "-m", "OPTIONS", "-e100-199", "udp://" + target},
		{"svwar", "-b", scannerIP, "-m", "INVITE", "-e100-149", "udp://" + target},
	} {
		runScanner(t, args...)
	}

	// The flood. A flood does not retransmit for long: two retransmissions,
	// then sipp gives a call up.
	flood := peers.StartSipp(t, peers.SippOptions{Scenario: floodScenario(t), IP: flooderIP, Remote: target,
		Args: []string{"-s", "alice", "-r", "200", "-m", "1000", "-l", "1000", "-max_invite_retrans", "2"}})
	err := flood.Wait(ctxT(t, 90*time.Second))
	stopOperator()
	attack := time.Since(attackStart)
	outcomes := flood.Outcomes("INVITE")
	t.Logf("sipp flood: %s (exit: %v)", outcomeSummary(outcomes), firstLine(err))
	after := peak()
	rang := map[string]int{}
	for _, ev := range op.Events() {
		if ev.Type == sip.EvIncoming {
			_, host, _ := strings.Cut(ev.Remote, "@")
			host, _, _ = strings.Cut(host, ":")
			rang[host]++
		}
	}
	t.Logf("opdesk RSS: %.1f MB before the attack, %.1f MB at its peak (+%.1f MB); calls that rang, by From host: %v",
		float64(before)/1024, float64(after)/1024, float64(after-before)/1024, rang)

	select {
	case <-op.exited:
		t.Fatalf("opdesk died under the attack: %s", op.stderr.String())
	default:
	}
	if c := op.Call(id); c.State != "active" {
		t.Fatalf("the live call is %q after the attack", c.State)
	}
	total := 0
	for _, n := range outcomes {
		total += n
	}
	if total != 1000 {
		t.Errorf("sipp sent %d INVITEs, want 1000", total)
	}
	// Refused: 503, or no answer at all once far over the limit. What got
	// through rang and was rejected by the operator (486).
	if outcomes[503]+outcomes[0] < 980 || outcomes[200] > 0 || rang[flooderIP] > 12 {
		t.Errorf("the flood was not refused: %s; %d flood calls rang", outcomeSummary(outcomes), rang[flooderIP])
	}
	if after-before > 50*1024 {
		t.Errorf("opdesk grew by %.1f MB under the attack, want < 50 MB", float64(after-before)/1024)
	}

	time.Sleep(time.Second)
	op.MustCtl("hangup", id)
	op.WaitEvent(10*time.Second, sip.EvEnded, id)
	// What opdesk received, as the call recorded it and as its audio output
	// (file:) wrote it: no gap over 100 ms, and the output as long as the
	// recording (a call the attack rang must not overwrite the live one's).
	recGap, recAt, recLen := longestGap(t, "the live call's recording", mustOne(t, recordings(t, rec)))
	outGap, outAt, outLen := longestGap(t, "opdesk's audio output (file:)", op.Output)
	from, to := attackStart.Sub(answered).Round(time.Second), (attackStart.Sub(answered) + attack).Round(time.Second)
	for _, g := range []struct {
		what    string
		gap, at time.Duration
	}{{"the live call's recording", recGap, recAt}, {"opdesk's audio output (file:)", outGap, outAt}} {
		if g.gap > 100*time.Millisecond {
			t.Errorf("%s: a gap of %s at %s into the call (the attack was from %s to %s), want ≤ 100 ms",
				g.what, g.gap, g.at, from, to)
		}
	}
	if outLen < recLen-time.Second {
		t.Errorf("opdesk's audio output holds %s of the call's signal, its recording %s: the calls the attack "+
			"rang overwrote the live call's output file", outLen, recLen)
	}
}

// runScanner runs a sipvicious tool for at most a minute; what it finds
// does not matter, only what it does to opdesk.
func runScanner(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = t.TempDir() // sipvicious keeps its sessions under the working directory
	cmd.Env = append(os.Environ(), "HOME="+cmd.Dir)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s: %s, %v; %s", strings.Join(args, " "), time.Since(start).Round(100*time.Millisecond), err,
		lastLine(string(out)))
}

// floodScenario writes a UAC scenario that takes any refusal (403, 486,
// 503) or a ringing call, ACKs a final answer and gives up on a call with
// no final answer after 10 s (no CANCEL: a flood does not clean up).
func floodScenario(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flood.xml")
	ack := `
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: flood <sip:flood@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>`
	xml := `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="opdesk flood">
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: flood <sip:flood@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:flood@[local_ip]:[local_port]>
      Max-Forwards: 70
      User-Agent: friendly-scanner
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=flood 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" optional="true" next="answered"/>
  <recv response="403" optional="true" next="refused"/>
  <recv response="486" optional="true" next="refused"/>
  <recv response="503" timeout="10000" ontimeout="done" next="refused"/>
  <label id="refused"/>` + ack + `
  <nop next="done"/>
  <label id="answered"/>` + strings.Replace(ack, "[last_Via:]", "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]", 1) + `
  <send retrans="500">
    <![CDATA[

      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: flood <sip:flood@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
  <label id="done"/>
</scenario>
`
	if err := os.WriteFile(path, []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func outcomeSummary(o map[int]int) string {
	codes := make([]int, 0, len(o))
	for c := range o {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		what := strconv.Itoa(c)
		switch {
		case c == 0:
			what = "no answer"
		case c < 200:
			what += " (still ringing)"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", what, o[c]))
	}
	return strings.Join(parts, ", ")
}

// rssKB is a process's resident set (VmRSS) in kB.
func rssKB(t *testing.T, pid int) int {
	t.Helper()
	kb, err := vmRSS(pid)
	if err != nil {
		t.Fatalf("opdesk's memory: %v", err)
	}
	return kb
}

func vmRSS(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// startRSSWatch samples pid's RSS every 100 ms until the returned function
// is called, which returns the peak.
func startRSSWatch(t *testing.T, pid int) func() int {
	t.Helper()
	stop, done := make(chan struct{}), make(chan int)
	go func() {
		peak := 0
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if kb, err := vmRSS(pid); err == nil {
				peak = max(peak, kb)
			}
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	var peak int
	var once sync.Once
	f := func() int {
		once.Do(func() {
			close(stop)
			peak = <-done
		})
		return peak
	}
	t.Cleanup(func() { f() })
	return f
}

// longestGap is the longest run of near-silent 10 ms windows in the right
// channel (the far end) of a recording, or its only channel, where it
// starts, and how much of it holds the far end's signal (from the first to
// the last loud window). The first second (the answer) and what
// follows the last loud window (the hangup) are not counted; silence from
// the start on is: a file whose start was overwritten holds zeros there.
func longestGap(t *testing.T, what, path string) (gap, at, signal time.Duration) {
	t.Helper()
	samples, rate, ch, err := audio.ReadWAV(path)
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return 0, 0, 0
	}
	if ch > 1 {
		samples = audio.Channel(samples, ch, 1)
	}
	win := rate / 100
	var rms []float64
	for i := 0; i+win <= len(samples); i += win {
		rms = append(rms, audio.RMS(samples[i:i+win]))
	}
	sorted := append([]float64(nil), rms...)
	sort.Float64s(sorted)
	if len(sorted) == 0 || sorted[len(sorted)/2] == 0 {
		t.Logf("%s: %s holds %d ms of silence", what, path, len(rms)*10)
		return 0, 0, 0
	}
	quiet := sorted[len(sorted)/2] * 0.1 // a tenth of the tone's level
	first, last := -1, -1
	for i, r := range rms {
		if r > quiet {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	signal = time.Duration(last-first+1) * 10 * time.Millisecond
	longest, start, run := 0, 0, 0
	for i := min(100, last); i <= last; i++ {
		if rms[i] <= quiet {
			run++
			if run > longest {
				longest, start = run, i-run+1
			}
		} else {
			run = 0
		}
	}
	gap, at = time.Duration(longest)*10*time.Millisecond, time.Duration(start)*10*time.Millisecond
	t.Logf("%s: %s of signal in %d ms, longest gap %s at %s", what, signal, len(rms)*10, gap, at)
	return gap, at, signal
}

// rejectOthers plays the operator during the attack: every call that rings
// besides the live one is rejected (486) within a second. A rejection can
// take a while (opdesk waits for the ACK a scanner never sends), so they run
// side by side. It returns the function that stops it and waits for them.
func rejectOthers(t *testing.T, op *Opdesk, live string) func() {
	stop, done := make(chan struct{}), make(chan struct{})
	var hangups sync.WaitGroup
	go func() {
		defer close(done)
		rejected := map[string]bool{}
		for {
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
			out, _, _ := op.Ctl("status")
			var rep struct {
				Status sip.Status `json:"status"`
			}
			if json.Unmarshal([]byte(out), &rep) != nil {
				continue
			}
			for _, c := range rep.Status.Calls {
				if c.ID != live && c.State == "incoming" && !rejected[c.ID] {
					rejected[c.ID] = true
					hangups.Add(1)
					go func() {
						defer hangups.Done()
						op.Ctl("hangup", c.ID)
					}()
				}
			}
		}
	}()
	var once sync.Once
	f := func() {
		once.Do(func() {
			close(stop)
			<-done
			hangups.Wait()
		})
	}
	t.Cleanup(f)
	return f
}

func firstLine(err error) string {
	if err == nil {
		return "ok"
	}
	l, _, _ := strings.Cut(err.Error(), "\n")
	return l
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
