package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/cmd/opdesk/ctl"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/keymap"
	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/test/peers"
	"github.com/opdesk/opdesk/test/secrets"
)

// journalFile is the call journal in opdesk's state directory (the log
// file's directory).
const journalFile = "calls.json"

// TestCrashMidCall: the headless phone is in a recorded call with baresip
// (600 Hz) when it is killed with SIGKILL. While the call was up the journal
// named it; the next start on the same state directory says on stderr and
// in the log which call was lost and where its recording is, clears the
// journal, and the recording is a valid WAV with the call's audio up to the
// kill.
func TestCrashMidCall(t *testing.T) {
	recDir := t.TempDir()
	k, op, b := recordingPair(t, recDir)
	id := op.MustCtl("dial", "bob").Call
	ans := op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	call := op.Call(id)
	if call.Recording == "" || call.SIPCallID == "" {
		t.Fatalf("call status: recording %q, Call-ID %q", call.Recording, call.SIPCallID)
	}
	journal := filepath.Join(op.Dir, journalFile)
	waitFile(t, journal, call.SIPCallID, call.Recording)
	time.Sleep(time.Until(ans.Time.Add(3 * time.Second)))
	op.Kill9()
	alive := time.Since(ans.Time)
	if b, err := os.ReadFile(journal); err != nil || !strings.Contains(string(b), call.SIPCallID) {
		t.Fatalf("after kill -9 the journal should still name the call: %v\n%s", err, b)
	}

	// The same account on the same state directory (the log file's).
	next := StartOpdesk(t, OpdeskOptions{User: "alice", Registrar: k,
		Audio: "record = \"always\"\nrecordings = " + quote(recDir), Env: []string{"OPDESK_LOG_FILE=" + op.LogPath}})
	logLine := waitFile(t, op.LogPath, "call lost", call.SIPCallID)
	waitGone(t, journal)
	next.WaitRegistered(10 * time.Second)
	next.Stop()
	stderr := next.stderr.String()
	wantStderr := "opdesk: opdesk stopped during a call with bob at "
	if !strings.Contains(stderr, wantStderr) || !strings.Contains(stderr, "the call was lost; the recording (") ||
		!strings.Contains(stderr, call.Recording) {
		t.Errorf("stderr after the restart does not report the lost call with its recording:\n%s", stderr)
	}
	t.Logf("log: %s", logLine)

	checkCrashRecording(t, call.Recording, alive, 900)
	t.Logf("baresip's side after the kill: %s", baresipEnd(b))
}

// TestCrashDesktopMidCall: the desktop, with the CRM and recording on. A
// first call's wrap-up is saved while the CRM is down, so it waits in the
// outbox; the customer calls again and the desktop is killed with SIGKILL 3 s
// into the call. The desktop started again on the same state directory shows
// on its status bar which call was lost (the customer's name from the card
// cache) and where the recording is; with the CRM back, the outbox delivers
// the earlier wrap-up and the lost call's "call ended"; the recording is
// whole up to the kill.
func TestCrashDesktopMidCall(t *testing.T) {
	peers.Require(t, "tmux", "kamailio", "baresip")
	ctx := ctxT(t, 3*time.Minute)
	k := peers.StartKamailio(t, peers.KamailioOptions{})
	crm := StartCRM(t, 50)
	client := crm.Client(ctx)
	e164 := crm.Callers(ctx, 1)[0]
	card, err := client.ScreenPop(ctx, e164)
	if err != nil || len(card.Customers) != 1 {
		t.Fatalf("seeded caller %s: %v, %d customers", e164, err, len(card.Customers))
	}
	cust := card.Customers[0]

	recDir := t.TempDir()
	cfgPath, logPath := desktopConfig(t, k, crm.URL, "en")
	opts := ScreenOptions{Config: cfgPath, LogPath: logPath, Env: []string{"OPDESK_SIP_PASSWORD=" + password,
		"OPDESK_CRM_PASSWORD=agent1-demo", "OPDESK_AUDIO_RECORD=always", "OPDESK_AUDIO_RECORDINGS=" + recDir}}
	scr := StartScreen(t, opts)
	scr.WaitFor(15*time.Second, "registered")
	b := peers.StartBaresip(t, peers.BaresipOptions{User: national(t, e164), Registrar: k, Source: "ausine,600"})
	if err := b.WaitRegistered(ctx); err != nil {
		t.Fatal(err)
	}

	// Call 1, wrapped up while the CRM is down.
	script := inboundScript(ctx, t, client)
	answerCall(ctx, t, scr, b, k, cust.Name)
	tickChecklist(t, scr, script)
	scr.Press(keymap.Hangup, keymap.Call)
	if _, err := b.WaitEvent(ctx, "CALL_CLOSED"); err != nil {
		t.Fatal(err)
	}
	scr.WaitFor(5*time.Second, "Delivery inquiry")
	crm.Stop()
	scr.SendKey("down")
	scr.SendKey("enter")
	time.Sleep(300 * time.Millisecond)
	scr.SendKey("enter") // order number: empty
	notes := "e2e crash " + strconv.FormatInt(time.Now().UnixNano(), 36) + ": 折り返し希望"
	scr.Type(notes)
	time.Sleep(200 * time.Millisecond)
	scr.Press(keymap.Save, keymap.Form)
	scr.WaitFor(10*time.Second, "waiting in outbox")
	scr.Press(keymap.Ready, keymap.Idle)

	// Call 2, cut by kill -9.
	answerCall(ctx, t, scr, b, k, cust.Name)
	sock := filepath.Join(filepath.Dir(cfgPath), "ctl.sock")
	calls := ctlStatus(t, sock).Calls
	if len(calls) != 1 || calls[0].Recording == "" {
		t.Fatalf("calls on the desktop: %+v; want one, recorded", calls)
	}
	call := calls[0]
	answered := time.Now()
	journal := filepath.Join(filepath.Dir(logPath), journalFile)
	waitFile(t, journal, call.SIPCallID)
	time.Sleep(3 * time.Second)
	scr.Kill9()
	alive := time.Since(answered) + time.Duration(call.DurationSec*float64(time.Second))

	// The desktop again, on the same config and state directory, the CRM back.
	crm.Start()
	again := StartScreen(t, opts)
	screen, _ := again.WaitFor(20*time.Second, "opdesk stopped during a call with", "the call was lost")
	t.Logf("after the restart:\n%s", screen)
	if !strings.Contains(screen, strings.Fields(cust.Name)[0]) {
		t.Errorf("the notice does not name the customer %s", cust.Name)
	}
	waitGone(t, journal)

	// The outbox: the first call's wrap-up, then the lost call's end.
	deadline := time.Now().Add(20 * time.Second)
	for {
		hist, err := client.CallHistory(ctx, cust.ID)
		if err == nil && len(hist) > 0 && strings.Contains(hist[0].Notes, notes) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the wrap-up saved while the CRM was down never arrived: %v %+v", err, hist[:min(1, len(hist))])
		}
		time.Sleep(200 * time.Millisecond)
	}
	ended := waitCallEnded(ctx, t, crm, call.SIPCallID)
	if ended.Agent != "agent1" || ended.CustomerID != cust.ID || ended.Number != e164 {
		t.Errorf("the lost call's end in the CRM: %+v; want agent1, customer %s, number %s", ended, cust.ID, e164)
	}

	checkCrashRecording(t, call.Recording, alive, 900)
}

// answerCall has baresip call the operator and the operator answer once the
// customer's card is on screen.
func answerCall(ctx context.Context, t *testing.T, scr *Screen, b *peers.Baresip, k *peers.Kamailio, name string) {
	t.Helper()
	if err := b.Dial(k.AOR("operator")); err != nil {
		t.Fatal(err)
	}
	scr.WaitFor(10*time.Second, name)
	scr.Press(keymap.Answer, keymap.Ringing)
	if _, err := b.WaitEvent(ctx, "CALL_ESTABLISHED"); err != nil {
		t.Fatal(err)
	}
}

// checkCrashRecording: the recording cut by the kill has a header that
// agrees with the file (the restart repaired it), holds at least 2 s and
// about as long as the call lived, the operator's tone (opHz) on the left
// and the customer's 600 Hz on the right.
func checkCrashRecording(t *testing.T, path string, alive time.Duration, opHz float64) {
	t.Helper()
	if repaired, _, err := audio.RepairWAV(path); repaired || err != nil {
		t.Errorf("the recording was not left whole by the restart: RepairWAV = %v, %v", repaired, err)
	}
	samples, rate, ch, err := audio.ReadWAV(path)
	if err != nil || rate != audio.SampleRate || ch != 2 {
		t.Fatalf("recording %s: %v, %d Hz, %d channels", path, err, rate, ch)
	}
	dur := time.Duration(len(samples)/2) * time.Second / time.Duration(rate)
	if dur < 2*time.Second || dur > alive+500*time.Millisecond || dur < alive-1500*time.Millisecond {
		t.Fatalf("recording holds %v; the call lived %v until the kill", dur, alive)
	}
	left, right := audio.Channel(samples, 2, 0), audio.Channel(samples, 2, 1)
	mid := func(s []int16) []int16 { return s[len(s)/2-rate/2 : len(s)/2+rate/2] }
	if lf, rf := audio.DominantFrequency(mid(left), rate), audio.DominantFrequency(mid(right), rate); math.Abs(lf-opHz) > 10 || math.Abs(rf-600) > 10 {
		t.Errorf("recording: left %.1f Hz, right %.1f Hz; want %.0f and 600", lf, rf, opHz)
	}
	if sox, err := exec.LookPath("sox"); err == nil {
		if out, err := exec.Command(sox, path, "-n", "stat").CombinedOutput(); err != nil || strings.Contains(string(out), "WARN") {
			t.Errorf("sox does not read the recording cleanly: %v\n%s", err, out)
		}
	}
	t.Logf("recording %s: %v of a call that lived %v", filepath.Base(path), dur.Round(time.Millisecond), alive.Round(time.Millisecond))
}

// waitFile waits until the file at p holds every one of wants on one line,
// and returns that line.
func waitFile(t *testing.T, p string, wants ...string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(p)
		for _, l := range strings.Split(string(b), "\n") {
			if containsAll(l, wants) {
				return l
			}
		}
		if strings.HasSuffix(p, journalFile) && containsAll(string(b), wants) {
			return string(b) // the journal is indented JSON
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not show %q within 10 s:\n%s", p, wants, tail(string(b), 4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func containsAll(s string, wants []string) bool {
	for _, w := range wants {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// waitGone waits until the file at p no longer exists.
func waitGone(t *testing.T, p string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(p)
			t.Fatalf("%s is still there 10 s after the restart:\n%s", p, b)
		}
	}
}

// ctlStatus runs opdesk ctl status on the socket.
func ctlStatus(t *testing.T, sock string) sip.Status {
	t.Helper()
	out, err := exec.Command(opdeskBin, "ctl", "--ctl.socket="+sock, "status").Output()
	secrets.Append(t, "ctl", "$ opdesk ctl status\n"+string(out))
	var rep ctl.Reply
	if err != nil || json.Unmarshal(out, &rep) != nil || rep.Status == nil {
		t.Fatalf("opdesk ctl status: %v: %s", err, out)
	}
	return *rep.Status
}

// waitCallEnded reads the CRM's event stream as a supervisor until it holds
// the call_ended of the call with SIP Call-ID callID.
func waitCallEnded(ctx context.Context, t *testing.T, crm *CRM, callID string) crmclient.CallEvent {
	t.Helper()
	sv, err := crmclient.New(crm.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sv.Login(ctx, "sv1", "sv1-demo"); err != nil {
		t.Fatal(err)
	}
	errFound := errors.New("found")
	var got crmclient.CallEvent
	deadline := time.Now().Add(20 * time.Second)
	for {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := sv.Events(sctx, 0, func(ev crmclient.Event) error {
			if ev.Kind != crmclient.EventCallEnded {
				return nil
			}
			if c, err := ev.Call(); err == nil && c.CallID == callID {
				got = c
				return errFound
			}
			return nil
		})
		cancel()
		if errors.Is(err, errFound) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("no call_ended for the lost call %s in the CRM within 20 s (last: %v)", callID, err)
		}
	}
}

// Kill9 kills the desktop running in the screen with SIGKILL and waits
// until it is gone.
func (s *Screen) Kill9() {
	s.t.Helper()
	out, err := exec.Command("tmux", "list-panes", "-t", s.session, "-F", "#{pane_pid}").Output()
	if err != nil {
		s.t.Fatalf("tmux list-panes: %v", err)
	}
	shell := strings.TrimSpace(string(out))
	pid := 0
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so read after ')'.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) < 2 || f[1] != shell {
			continue
		}
		dir := filepath.Dir(p)
		if exe, err := os.Readlink(filepath.Join(dir, "exe")); err == nil && exe == opdeskBin {
			pid, _ = strconv.Atoi(filepath.Base(dir))
		}
	}
	if pid == 0 {
		s.t.Fatalf("no opdesk process under the pane's shell %s", shell)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		s.t.Fatal(err)
	}
	// Gone once the pane's shell has reaped it. (The shell's "OPDESK-EXITED"
	// lands wherever the desktop left the cursor, maybe split by a wrap.)
	for deadline := time.Now().Add(5 * time.Second); syscall.Kill(pid, 0) == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			s.t.Fatalf("opdesk (pid %d) still there 5 s after SIGKILL", pid)
		}
	}
}

// baresipEnd says whether and how baresip's side of the call ended.
func baresipEnd(b *peers.Baresip) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, err := b.WaitEvent(ctx, "CALL_CLOSED")
	if err != nil {
		return "still up 5 s after the kill (nothing tells it the phone is gone)"
	}
	return "closed: " + ev.Param
}
