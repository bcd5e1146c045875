package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/cmd/opdesk/ctl"
	"github.com/opdesk/opdesk/keymap"
)

// BenchmarkMonitoredOperator measures what a supervisor listening in costs
// the operator's desktop: its CPU and its upstream RTP over a window of a
// plain call, then over the same window while the supervisor listens (the
// desktop then sends a second stream, the mix of customer and operator).
// baresip, the customer in the same call, is measured over both windows as
// the reference for one call's cost.
//
//	go test -run '^$' -bench MonitoredOperator -benchtime 1x ./test/e2e
func BenchmarkMonitoredOperator(b *testing.B) {
	const window = 20 * time.Second
	lab := startSupervisorLab(b)
	out, err := exec.Command("pgrep", "-f", "--", "opdesk --config "+lab.opConfig).Output()
	pid, err2 := strconv.Atoi(strings.Fields(string(out) + " x")[0])
	if err != nil || err2 != nil {
		b.Fatalf("the operator's opdesk process: %v %v %q", err, err2, out)
	}
	sock := filepath.Join(filepath.Dir(lab.opConfig), "ctl.sock")
	measure := func() (opCPU, brCPU time.Duration, sentPackets uint64) {
		return procCPU(b, pid), procCPU(b, lab.customer.PID()), packetsSent(b, sock)
	}
	b.ResetTimer()
	c0, r0, p0 := measure()
	time.Sleep(window)
	c1, r1, p1 := measure()
	lab.svScr.Press(keymap.Listen, keymap.Board)
	lab.op.WaitFor(10*time.Second, "SV sv1: listening")
	time.Sleep(time.Second) // the session's media is up
	c2, r2, p2 := measure()
	time.Sleep(window)
	c3, r3, p3 := measure()
	b.StopTimer()

	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / window.Seconds() }
	// G.711 at 20 ms: 160 bytes of audio + 12 RTP + 8 UDP + 20 IPv4 per packet.
	kbps := func(packets uint64) float64 { return float64(packets) * 200 * 8 / window.Seconds() / 1000 }
	plain, monitored := pct(c1-c0), pct(c3-c2)
	b.ReportMetric(plain, "op-cpu-%")
	b.ReportMetric(monitored, "op-cpu-monitored-%")
	b.ReportMetric(monitored-plain, "extra-cpu-%")
	b.ReportMetric(kbps(p1-p0), "up-kbps")
	b.ReportMetric(kbps(p3-p2), "up-monitored-kbps")
	b.ReportMetric(pct(r1-r0), "baresip-cpu-%")
	b.ReportMetric((monitored-plain)/pct(r1-r0), "extra/baresip-call")
	b.Logf("operator: CPU %.2f%% → %.2f%% while monitored (+%.2f points); upstream %.1f → %.1f kbit/s (%d → %d packets in %v); "+
		"baresip in the same call: CPU %.2f%% / %.2f%%", plain, monitored, monitored-plain, kbps(p1-p0), kbps(p3-p2),
		p1-p0, p3-p2, window, pct(r1-r0), pct(r3-r2))
}

// procCPU is a process's user + system CPU time so far (all its threads).
func procCPU(tb testing.TB, pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ = 100 on Linux
}

// packetsSent is the RTP packets the desktop has sent on all its calls
// (the monitor session included), from its control socket.
func packetsSent(tb testing.TB, sock string) uint64 {
	out, err := exec.Command(opdeskBin, "ctl", "--ctl.socket="+sock, "status").Output()
	if err != nil {
		tb.Fatalf("ctl status: %v", err)
	}
	var rep ctl.Reply
	if err := json.Unmarshal(out, &rep); err != nil || rep.Status == nil {
		tb.Fatalf("ctl status: %q %v", out, err)
	}
	var n uint64
	for _, c := range rep.Status.Calls {
		if c.Media != nil {
			n += c.Media.PacketsSent
		}
	}
	return n
}
