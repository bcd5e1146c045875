package e2e

import (
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/sip"
	"github.com/opdesk/opdesk/test/peers"
)

// recordingPair is Kamailio, baresip sending 600 Hz (auto-answer) and an
// opdesk sending 900 Hz that records every call into dir.
func recordingPair(t *testing.T, dir string) (*peers.Kamailio, *Opdesk, *peers.Baresip) {
	t.Helper()
	k := peers.StartKamailio(t, peers.KamailioOptions{})
	b := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Registrar: k, AutoAnswer: true, Source: "ausine,600"})
	op := StartOpdesk(t, OpdeskOptions{User: "alice", Registrar: k, Input: "tone:900",
		Audio: "record = \"always\"\nrecordings = " + quote(dir)})
	if err := b.WaitRegistered(ctxT(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	op.WaitRegistered(10 * time.Second)
	return k, op, b
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// recordings lists the WAVs under dir's day folders.
func recordings(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.wav"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestRecordTenSecondCall: a 10 s call is a 10 ± 0.2 s stereo WAV, the
// operator (900 Hz) on the left, the customer (600 Hz) on the right.
func TestRecordTenSecondCall(t *testing.T) {
	dir := t.TempDir()
	_, op, _ := recordingPair(t, dir)
	id := op.MustCtl("dial", "bob").Call
	ans := op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	time.Sleep(2 * time.Second)
	if c := op.Call(id); c.Recording == "" || !strings.HasPrefix(c.Recording, dir) {
		t.Fatalf("call status shows recording %q, want a file under %s", c.Recording, dir)
	}
	time.Sleep(time.Until(ans.Time.Add(10 * time.Second)))
	op.MustCtl("hangup", id)
	end := op.WaitEvent(10*time.Second, sip.EvEnded, id)
	// The call as opdesk saw it: from its answered event to its ended event
	// (the hangup's BYE round trip included).
	call := end.Time.Sub(ans.Time).Seconds()

	path := mustOne(t, recordings(t, dir))
	samples, rate, ch, err := audio.ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if rate != audio.SampleRate || ch != 2 {
		t.Fatalf("%s: %d Hz %d channels, want 8000 Hz stereo", path, rate, ch)
	}
	dur := float64(len(samples)/2) / float64(rate)
	if math.Abs(dur-10) > 0.2 || math.Abs(dur-call) > 0.2 {
		t.Fatalf("recording is %.3f s long, want 10 ± 0.2 s (the call lasted %.3f s)", dur, call)
	}
	left, right := audio.Channel(samples, 2, 0), audio.Channel(samples, 2, 1)
	mid := func(s []int16) []int16 { return s[len(s)/2-rate/2 : len(s)/2+rate/2] }
	lf, rf := audio.DominantFrequency(mid(left), rate), audio.DominantFrequency(mid(right), rate)
	if math.Abs(lf-900) > 10 || math.Abs(rf-600) > 10 {
		t.Fatalf("left %.1f Hz, right %.1f Hz; want the operator's 900 left and the customer's 600 right", lf, rf)
	}
	if x := toneShare(right, 900); x > 0.01 {
		t.Fatalf("the operator's 900 Hz leaks into the customer's channel: %.3f of its energy", x)
	}
	t.Logf("%s: %.3f s for a %.3f s call, left %.1f Hz, right %.1f Hz", filepath.Base(path), dur, call, lf, rf)
}

// TestRecordingSurvivesKill9: opdesk is killed with SIGKILL mid-call; the
// next opdesk repairs the recording at start, and it plays up to the crash.
func TestRecordingSurvivesKill9(t *testing.T) {
	dir := t.TempDir()
	k, op, _ := recordingPair(t, dir)
	id := op.MustCtl("dial", "bob").Call
	op.WaitEvent(10*time.Second, sip.EvAnswered, id)
	answered := time.Now()
	time.Sleep(3500 * time.Millisecond)
	op.Kill9()
	alive := time.Since(answered).Seconds()

	next := StartOpdesk(t, OpdeskOptions{User: "alice2", Registrar: k,
		Audio: "record = \"always\"\nrecordings = " + quote(dir)})
	next.WaitRegistered(10 * time.Second)
	path := mustOne(t, recordings(t, dir))
	if !strings.Contains(next.stderr.String(), "repaired") {
		t.Logf("opdesk did not report a repair (the kill may have come right after a header update): %s", next.stderr.String())
	}
	samples, rate, ch, err := audio.ReadWAV(path)
	if err != nil {
		t.Fatalf("after the crash: %v", err)
	}
	dur := float64(len(samples)/max(ch, 1)) / float64(rate)
	if ch != 2 || dur < alive-0.5 || dur > alive+0.2 {
		t.Fatalf("recording after kill -9: %d channels, %.2f s; the call lived %.2f s", ch, dur, alive)
	}
	if lf := audio.DominantFrequency(audio.Channel(samples, 2, 0)[len(samples)/4:len(samples)/4+rate], rate); math.Abs(lf-900) > 10 {
		t.Fatalf("left channel %.1f Hz after repair, want 900", lf)
	}
	if sox, err := exec.LookPath("sox"); err == nil {
		out, err := exec.Command(sox, path, "-n", "stat").CombinedOutput()
		if err != nil || strings.Contains(string(out), "WARN") {
			t.Fatalf("sox does not accept the repaired file: %v\n%s", err, out)
		}
	} else {
		t.Log("!!! sox not installed: the repaired file was not checked with a second WAV reader")
	}
	t.Logf("killed %.2f s into the call; the repaired recording holds %.2f s", alive, dur)
}
