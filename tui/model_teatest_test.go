package tui

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/opdesk/opdesk/crmclient"
	"github.com/opdesk/opdesk/keymap"
	"github.com/opdesk/opdesk/sip"
)

// signalWriter closes seen the first time a log line holds want.
type signalWriter struct {
	mu   sync.Mutex
	want string
	seen chan struct{}
	done bool
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done && strings.Contains(string(p), w.want) {
		w.done = true
		close(w.seen)
	}
	return len(p), nil
}

// TestProgramRingAnswer runs the real Bubble Tea program (teatest) with the
// fakes: the event comes through Phone.Subscribe as from *sip.Phone, the card
// is rendered while ringing (the "card shown" log line), and the bound answer
// key reaches the phone.
func TestProgramRingAnswer(t *testing.T) {
	phone, crm := newFakePhone(), &fakeCRM{
		cards: map[string]crmclient.Card{satoNumber: fixtureCard()},
		hints: map[string][]crmclient.Hint{"C-0001": fixtureHints()},
	}
	sig := &signalWriter{want: "card shown", seen: make(chan struct{})}
	m := New(Options{Phone: phone, CRM: crm, Outbox: &fakeOutbox{delivered: true}, Lang: LangJA, NoTick: true,
		Log: slog.New(slog.NewTextHandler(sig, nil))})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	phone.ch <- sip.Event{Type: sip.EvIncoming, CallID: "c1", Remote: "sip:" + satoNumber + "@pbx", Time: time.Now()}
	select {
	case <-sig.seen:
	case <-time.After(3 * time.Second):
		t.Fatal("no card shown within 3 s")
	}
	tm.Send(keyMsg(t, keymap.Default().Keys(keymap.Answer, keymap.Ringing)[0]))
	deadline := time.Now().Add(3 * time.Second)
	for len(phone.Calls()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := phone.Calls(); len(got) != 1 || got[0] != "answer c1" {
		t.Fatalf("phone calls = %q", got)
	}
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(3*time.Second)).(*Model)
	if s := ansi.Strip(fm.View().Content); !strings.Contains(s, "佐藤　陽子") {
		t.Fatalf("final screen:\n%s", s)
	}
}
