package peers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SippOptions configures [StartSipp].
type SippOptions struct {
	// Scenario is a path to a scenario XML file, the name of one of this
	// package's scenarios (see [SippScenarios]; ".xml" optional), or a
	// scenario built into sipp ("uas", "uac", ...).
	Scenario string
	// Args are extra sipp arguments, e.g. "-d", "2000", "-s", "alice",
	// "-rtp_echo", "-t", "t1". Unless they contain "-m", "-m 1" is added so
	// sipp exits after one call.
	//
	// A UAS that serves many calls in a row (a test that dials lead after
	// lead) takes "-m", "1000": each INVITE starts a new call of the
	// scenario, with its own To tag, and sipp runs until 1000 calls have
	// ended. Such a sipp does not exit by itself: end it with [Sipp.Quit],
	// which also says whether every call passed.
	Args []string
	// Remote is the target "host:port" for UAC scenarios; empty for a UAS.
	Remote string
	// Port is sipp's SIP port; 0 picks a free one.
	Port int
	// IP is the address sipp binds to and sends from (default Host); any
	// 127.0.0.0/8 address works on loopback, so a test can play a sender
	// other than its PBX.
	IP string
}

// Sipp is a running sipp.
type Sipp struct {
	t        testing.TB
	dir      string
	ip       string
	port     int
	proc     *proc
	scenario string
}

// sippBuiltins are the scenarios embedded in sipp 3.6 (-sn).
var sippBuiltins = []string{"uac", "uas", "regexp", "3pcc-C-A", "3pcc-C-B", "3pcc-A", "3pcc-B", "branchc", "branchs", "uac_pcap"}

// SippScenarios lists this package's scenario names (testdata/sipp).
func SippScenarios() []string {
	entries, _ := fs.ReadDir(testdata, "testdata/sipp")
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".xml") {
			names = append(names, strings.TrimSuffix(e.Name(), ".xml"))
		}
	}
	return names
}

// StartSipp starts sipp on 127.0.0.1 with message and error traces in a
// temp dir and waits until its SIP socket is bound, so a UAS is ready to be
// called when this returns. It is killed in t.Cleanup if still running.
func StartSipp(t testing.TB, opts SippOptions) *Sipp {
	t.Helper()
	Require(t, "sipp")
	dir := t.TempDir()
	s := &Sipp{t: t, dir: dir, port: opts.Port, scenario: opts.Scenario, ip: opts.IP}
	if s.ip == "" {
		s.ip = Host
	}
	if s.port == 0 {
		s.port = FreePort(t)
	}
	scen, err := sippScenarioArgs(dir, opts.Scenario)
	if err != nil {
		t.Fatal(err)
	}
	args := append(scen,
		"-i", s.ip, "-p", strconv.Itoa(s.port),
		"-mp", strconv.Itoa(FreeUDPPortRange(t, 4)),
		"-cp", strconv.Itoa(FreeUDPPort(t)),
		"-nostdin",
		"-trace_err", "-error_file", s.ErrorLog(),
		"-trace_msg", "-message_file", s.MessageLog(),
		"-trace_screen", "-screen_file", filepath.Join(dir, "screen.log"),
	)
	if !slices.Contains(opts.Args, "-m") {
		args = append(args, "-m", "1")
	}
	args = append(args, opts.Args...)
	if opts.Remote != "" {
		args = append(args, opts.Remote)
	}
	logPath := filepath.Join(dir, "sipp.log")
	logOnFailure(t, "sipp "+opts.Scenario, logPath, filepath.Join(dir, "screen.log"), s.ErrorLog(), s.MessageLog())
	p, err := startProc("sipp "+opts.Scenario, dir, logPath, nil, os.DevNull, "sipp", args...)
	if err != nil {
		t.Fatal(err)
	}
	s.proc = p
	t.Cleanup(p.stop)

	tcp := false
	for i, a := range opts.Args {
		if a == "-t" && i+1 < len(opts.Args) && strings.HasPrefix(opts.Args[i+1], "t") {
			tcp = true
		}
	}
	err = waitFor(nil, 10*time.Second, func() bool {
		if p.exited() { // a UAC may already be done
			return true
		}
		return !portFreeOn(s.ip, s.port, tcp)
	})
	if err != nil {
		t.Fatalf("sipp %s: port %d never bound: %v", opts.Scenario, s.port, err)
	}
	// A scenario sipp refuses (bad XML, unused variable...) exits at once.
	if p.exited() && p.err != nil {
		t.Fatalf("sipp %s exited at start: %v\n%s\n%s", opts.Scenario, p.err, tailFile(logPath, 4<<10), s.traces())
	}
	return s
}

// portFreeOn reports whether nothing is bound to ip:port yet (udpFree and
// tcpFree on another address than Host).
func portFreeOn(ip string, port int, tcp bool) bool {
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	var c io.Closer
	var err error
	if tcp {
		c, err = net.Listen("tcp4", addr)
	} else {
		c, err = net.ListenPacket("udp4", addr)
	}
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// sippScenarioArgs resolves a scenario to "-sf FILE" or "-sn NAME".
func sippScenarioArgs(dir, scenario string) ([]string, error) {
	if scenario == "" {
		return nil, errors.New("sipp: no scenario")
	}
	if st, err := os.Stat(scenario); err == nil && !st.IsDir() {
		abs, err := filepath.Abs(scenario)
		return []string{"-sf", abs}, err
	}
	name := strings.TrimSuffix(path.Base(scenario), ".xml") + ".xml"
	if b, err := testdata.ReadFile("testdata/sipp/" + name); err == nil && !strings.Contains(scenario, "/") {
		dst := filepath.Join(dir, name)
		return []string{"-sf", dst}, os.WriteFile(dst, b, 0o644)
	}
	if slices.Contains(sippBuiltins, scenario) {
		return []string{"-sn", scenario}, nil
	}
	return nil, fmt.Errorf("sipp: scenario %q is no file, none of %v and no sipp built-in", scenario, SippScenarios())
}

// Port is sipp's SIP port.
func (s *Sipp) Port() int { return s.port }

// Addr is "IP:PORT" (IP is 127.0.0.1 unless SippOptions.IP said else).
func (s *Sipp) Addr() string { return s.ip + ":" + strconv.Itoa(s.port) }

// URI is "sip:USER@127.0.0.1:PORT"; sipp's UAS scenarios accept any user.
func (s *Sipp) URI(user string) string { return "sip:" + user + "@" + s.Addr() }

// ErrorLog is the -trace_err file (unexpected messages).
func (s *Sipp) ErrorLog() string { return filepath.Join(s.dir, "errors.log") }

// MessageLog is the -trace_msg file (every message sent and received).
func (s *Sipp) MessageLog() string { return filepath.Join(s.dir, "messages.log") }

// Wait waits for sipp to exit. Exit status 0 (every call passed the
// scenario) returns nil; anything else returns an error carrying the tail
// of the error and message traces. When ctx ends first sipp is killed.
func (s *Sipp) Wait(ctx context.Context) error {
	select {
	case <-s.proc.done:
	case <-ctx.Done():
		s.proc.stop()
		return fmt.Errorf("sipp %s: %w\n%s", s.scenario, context.Cause(ctx), s.traces())
	}
	if s.proc.err == nil {
		return nil
	}
	code := -1
	var ee *exec.ExitError
	if errors.As(s.proc.err, &ee) {
		code = ee.ExitCode()
	}
	return fmt.Errorf("sipp %s: exit status %d (%s)\n%s", s.scenario, code, sippExitMeaning(code), s.traces())
}

// Quit asks sipp to stop as if 'q' were pressed (SIGUSR1): it takes no new
// calls, lets the calls in progress finish and exits. It then returns what
// [Sipp.Wait] returns: nil when every call so far passed the scenario. A
// call still waiting for a message keeps sipp running until ctx ends.
func (s *Sipp) Quit(ctx context.Context) error {
	if !s.proc.exited() {
		_ = s.proc.cmd.Process.Signal(syscall.SIGUSR1)
	}
	return s.Wait(ctx)
}

func sippExitMeaning(code int) string {
	switch code {
	case 1:
		return "at least one call failed"
	case 97:
		return "exit on internal command"
	case 99:
		return "normal exit without calls processed"
	case 255, 254:
		return "fatal error"
	default:
		return "killed or unknown"
	}
}

func (s *Sipp) traces() string {
	return "--- errors (tail) ---\n" + tailFile(s.ErrorLog(), 4<<10) +
		"\n--- messages (tail) ---\n" + tailFile(s.MessageLog(), 8<<10) +
		"\n--- screen (tail) ---\n" + tailFile(filepath.Join(s.dir, "screen.log"), 4<<10)
}

// Outcomes counts, per call sipp started (by Call-ID of the method's
// requests it sent), how the far end answered: the final status code of
// the method's transaction, or the last provisional one for a call that
// never had a final answer, or 0 for a call that had no answer at all.
// It reads the message trace, so it is complete once sipp has exited.
func (s *Sipp) Outcomes(method string) map[int]int {
	return sippOutcomes(s.Messages(), method)
}

func sippOutcomes(msgs []SippMessage, method string) map[int]int {
	code := map[string]int{} // by Call-ID
	for _, m := range msgs {
		cid := m.Header("Call-ID")
		switch {
		case !m.Received && m.Method() == method:
			if _, ok := code[cid]; !ok {
				code[cid] = 0
			}
		case m.Received && m.Method() == "" && strings.HasSuffix(m.Header("CSeq"), " "+method):
			f := strings.Fields(m.StartLine())
			if len(f) < 2 {
				continue
			}
			c, err := strconv.Atoi(f[1])
			if err != nil {
				continue
			}
			if prev := code[cid]; prev < 200 || c >= 200 {
				code[cid] = c
			}
		}
	}
	out := map[int]int{}
	for _, c := range code {
		out[c]++
	}
	return out
}
