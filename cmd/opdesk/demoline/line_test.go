package demoline

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/sip"
)

// startLine starts a line for a test and closes it with the test.
func startLine(t *testing.T, cfg Config) *Line {
	t.Helper()
	l, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := l.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// operator is the desk under demo: a real sip.Phone registered to the line,
// writing what it hears to a WAV per call.
func operator(t *testing.T, l *Line, out string) (*sip.Phone, <-chan sip.Event) {
	t.Helper()
	ph, err := sip.New(sip.Config{
		User:       "opdesk",
		Domain:     l.Domain(),
		Registrar:  l.URI(),
		Listen:     "127.0.0.1:0",
		Expires:    60 * time.Second,
		Input:      "tone:440",
		Output:     "file:" + out,
		RTPPortMin: 41000, RTPPortMax: 41999,
	})
	if err != nil {
		t.Fatalf("operator phone: %v", err)
	}
	ev, stop := ph.Subscribe(128)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ph.Close(ctx)
		stop()
	})
	return ph, ev
}

// registered waits until the operator's phone is registered to the line
// (its event may come before the test subscribes).
func registered(t *testing.T, op *sip.Phone) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for op.Status().Registration != sip.RegRegistered {
		if time.Now().After(deadline) {
			t.Fatalf("operator not registered to the line after 3 s: %+v", op.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func next(t *testing.T, ch <-chan sip.Event, typ sip.EventType, d time.Duration) sip.Event {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case e := <-ch:
			if e.Type == typ {
				return e
			}
			if e.Type == sip.EvEnded {
				t.Fatalf("call ended (%s: %s) while waiting for %s", e.Cause, e.Text, typ)
			}
		case <-timeout:
			t.Fatalf("no %s within %s", typ, d)
		}
	}
}

// voicedFrames counts 20 ms frames of a WAV louder than -40 dBFS RMS.
func voicedFrames(t *testing.T, path string) (voiced, total int) {
	t.Helper()
	pcm, _, _, err := audio.ReadWAV(path)
	if err != nil {
		t.Fatalf("reading what the operator heard: %v", err)
	}
	for i := 0; i+audio.FrameSamples <= len(pcm); i += audio.FrameSamples {
		total++
		if audio.RMS(pcm[i:i+audio.FrameSamples]) > 0.01 {
			voiced++
		}
	}
	return voiced, total
}

// The whole demo loop against a real opdesk phone: it registers, the line
// rings it from a customer number within FirstCall+1 s, the operator
// answers and hears speech, hangs up; then the operator dials a customer
// and the line answers after its ringing.
func TestLineRingsAnswersAndSpeaks(t *testing.T) {
	l := startLine(t, Config{
		Callers:   []string{"03-1234-5678", "0698765432"},
		FirstCall: time.Second,
		Interval:  time.Minute,
	})
	heard := filepath.Join(t.TempDir(), "heard.wav")
	start := time.Now()
	op, ev := operator(t, l, heard)
	registered(t, op)
	regAt := time.Since(start)

	in := next(t, ev, sip.EvIncoming, l.cfg.FirstCall+time.Second)
	t.Logf("registered after %s, rung %s later", regAt.Round(time.Millisecond), (time.Since(start) - regAt).Round(time.Millisecond))
	if in.Remote != "sip:0312345678@127.0.0.1" || in.RemoteName != "" {
		t.Errorf("caller = %q %q, want sip:0312345678@127.0.0.1 and no name", in.RemoteName, in.Remote)
	}
	if _, err := op.Answer(in.CallID); err != nil {
		t.Fatalf("Answer: %v", err)
	}
	time.Sleep(3 * time.Second)
	if _, err := op.Hangup(in.CallID); err != nil {
		t.Fatalf("Hangup: %v", err)
	}
	next(t, ev, sip.EvEnded, 3*time.Second)
	voiced, total := voicedFrames(t, heard)
	t.Logf("operator heard %d voiced of %d frames", voiced, total)
	if total < 100 || voiced < 50 {
		t.Errorf("operator heard %d voiced of %d frames in 3 s, want speech (>= 50 voiced)", voiced, total)
	}

	dialled := time.Now()
	id, err := op.Dial(context.Background(), "03-1234-5678")
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	next(t, ev, sip.EvRinging, 2*time.Second)
	next(t, ev, sip.EvAnswered, 4*time.Second)
	took := time.Since(dialled)
	t.Logf("line answered after %s", took.Round(time.Millisecond))
	if took < time.Second {
		t.Errorf("line answered after %s, want it to ring ~2 s first", took)
	}
	time.Sleep(2 * time.Second)
	if _, err := op.Hangup(id); err != nil {
		t.Fatalf("Hangup: %v", err)
	}
	next(t, ev, sip.EvEnded, 3*time.Second)
	if voiced, _ := voicedFrames(t, heard); voiced < 20 {
		t.Errorf("on the outbound call the operator heard %d voiced frames, want speech", voiced)
	}
	if n := l.Calls(); n != 2 {
		t.Errorf("Calls() = %d, want 2", n)
	}
}

// A REGISTER with Expires: 0 removes the operator: the line stops calling
// although the operator's phone is still up.
func TestLineStopsAfterUnregister(t *testing.T) {
	l := startLine(t, Config{FirstCall: 500 * time.Millisecond, Interval: time.Minute})
	op, ev := operator(t, l, filepath.Join(t.TempDir(), "heard.wav"))
	registered(t, op)

	code := rawRegister(t, l, op.Status().Contact, 0)
	if code != 200 {
		t.Fatalf("REGISTER Expires: 0 got %d, want 200", code)
	}
	if bs := l.ph.Bindings(); len(bs) != 0 {
		t.Fatalf("bindings after Expires: 0: %+v", bs)
	}
	deadline := time.After(l.cfg.FirstCall + 1500*time.Millisecond)
	for {
		select {
		case e := <-ev:
			if e.Type == sip.EvIncoming {
				t.Fatalf("the line called an unregistered operator: %+v", e)
			}
			continue
		case <-deadline:
		}
		break
	}
	if n := l.Calls(); n != 0 {
		t.Errorf("Calls() = %d, want 0", n)
	}
}

// rawRegister sends one hand-written REGISTER for opdesk's contact and
// returns the status code.
func rawRegister(t *testing.T, l *Line, contact string, expires int) int {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dst, err := net.ResolveUDPAddr("udp4", strings.TrimPrefix(l.URI(), "sip:"))
	if err != nil {
		t.Fatal(err)
	}
	msg := strings.Join([]string{
		"REGISTER " + l.URI() + " SIP/2.0",
		"Via: SIP/2.0/UDP " + conn.LocalAddr().String() + ";branch=z9hG4bK-unreg-1;rport",
		"Max-Forwards: 70",
		"From: <sip:opdesk@127.0.0.1>;tag=unreg1",
		"To: <sip:opdesk@127.0.0.1>",
		"Call-ID: unreg-1@127.0.0.1",
		"CSeq: 1 REGISTER",
		"Contact: <" + contact + ">",
		fmt.Sprintf("Expires: %d", expires),
		"Content-Length: 0",
		"", "",
	}, "\r\n")
	if _, err := conn.WriteTo([]byte(msg), dst); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, _, err := conn.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no answer to REGISTER: %v", err)
	}
	var code int
	if _, err := fmt.Sscanf(string(buf[:n]), "SIP/2.0 %d", &code); err != nil {
		t.Fatalf("bad response %q", buf[:n])
	}
	return code
}

// The line refuses to listen where other machines could register to it.
func TestLineRefusesPublicAddress(t *testing.T) {
	if _, err := Start(Config{Listen: "0.0.0.0:0"}); err == nil {
		t.Fatal("Start listened on 0.0.0.0")
	}
}
