package tui

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/opdesk/opdesk/keymap"
	"github.com/opdesk/opdesk/sip"
)

type fakeSwitcher struct {
	mu       sync.Mutex
	names    []string
	fail     error
	switched []string
}

func (s *fakeSwitcher) Devices() ([]string, error) { return s.names, nil }
func (s *fakeSwitcher) SwitchAudio(in, out string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.switched = append(s.switched, in+"|"+out)
	return nil
}

// TestDeviceKeySwitchesMidCall: the device key lists the sound cards, the
// list keys pick one and it becomes input and output during the call; a
// failed switch says why and keeps the call.
func TestDeviceKeySwitchesMidCall(t *testing.T) {
	sw := &fakeSwitcher{names: []string{"Built-in Audio", "Jabra Evolve2 40"}}
	d := newDesk(t, LangEN, 80, 24, func(o *Options) { o.Audio = sw })
	d.event(incoming(satoNumber, ""))
	d.press(keymap.Answer, keymap.Ringing)
	d.event(sip.Event{Type: sip.EvAnswered, CallID: "c1"})
	d.press(keymap.SwitchAudio, keymap.Call)
	if s := ansi.Strip(d.screen()); !strings.Contains(s, "Jabra Evolve2 40") {
		t.Fatalf("no device list:\n%s", s)
	}
	d.press(keymap.Down, keymap.List)
	d.press(keymap.Select, keymap.List)
	if len(sw.switched) != 1 || sw.switched[0] != "Jabra Evolve2 40|Jabra Evolve2 40" {
		t.Fatalf("switched %v", sw.switched)
	}
	if s := ansi.Strip(d.screen()); !strings.Contains(s, "sound card: Jabra Evolve2 40") {
		t.Fatalf("no confirmation on the bar:\n%s", s)
	}
	sw.fail = errors.New("the sound card stays Built-in Audio: device busy")
	d.press(keymap.SwitchAudio, keymap.Call)
	d.press(keymap.Select, keymap.List)
	if s := ansi.Strip(d.screen()); !strings.Contains(s, "sound card not switched") || d.m.call == nil {
		t.Fatalf("failure not shown or call lost:\n%s", s)
	}
	d.press(keymap.SwitchAudio, keymap.Call)
	d.press(keymap.Back, keymap.Global)
	if d.m.dev.open {
		t.Error("esc did not close the list")
	}
}

func TestDeviceKeyWithoutSoundCard(t *testing.T) {
	d := newDesk(t, LangJA, 80, 24)
	d.press(keymap.SwitchAudio, keymap.Idle)
	if s := ansi.Strip(d.screen()); !strings.Contains(s, T(LangJA, "call.no_device")) {
		t.Fatalf("no message:\n%s", s)
	}
}

// TestCatalogueComplete: every message id has both languages, and no id is
// defined by two parts of the UI (the later would silently win).
func TestCatalogueComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, part := range catalogueParts {
		for id, m := range part {
			if seen[id] {
				t.Errorf("%s is defined twice", id)
			}
			seen[id] = true
			if strings.TrimSpace(m.en) == "" || strings.TrimSpace(m.ja) == "" {
				t.Errorf("%s: en %q ja %q", id, m.en, m.ja)
			}
		}
	}
}
