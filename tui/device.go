package tui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// devicePicker is the sound-card pick list behind the device key: the names
// come from Options.Audio (a tea.Cmd, the list can take a moment), the
// chosen one becomes input and output at once, mid-call too.
type devicePicker struct {
	open  bool
	names []string
	pick  int
}

// devicesMsg carries the sound cards listed for the picker.
type devicesMsg struct {
	names []string
	err   error
}

// deviceSwitchedMsg says how switching to name went.
type deviceSwitchedMsg struct {
	name string
	err  error
}

func (m *Model) listDevicesCmd() tea.Cmd {
	if m.o.Audio == nil {
		m.setFlash(T(m.lang, "call.no_device"), false)
		return nil
	}
	sw := m.o.Audio
	return func() tea.Msg {
		names, err := sw.Devices()
		return devicesMsg{names: names, err: err}
	}
}

func (m *Model) onDevices(msg devicesMsg) {
	switch {
	case msg.err != nil:
		m.setFlash(T(m.lang, "device.list_failed", cleanLine(msg.err.Error())), true)
	case len(msg.names) == 0:
		m.setFlash(T(m.lang, "device.none"), true)
	default:
		m.dev = devicePicker{open: true, names: msg.names}
	}
}

func (m *Model) switchDeviceCmd() tea.Cmd {
	name := m.dev.names[m.dev.pick]
	m.dev.open = false
	sw := m.o.Audio
	m.setFlash(T(m.lang, "device.switching", cleanLine(name)), false)
	return func() tea.Msg { return deviceSwitchedMsg{name: name, err: sw.SwitchAudio(name, name)} }
}

func (m *Model) onDeviceSwitched(msg deviceSwitchedMsg) {
	if msg.err != nil {
		m.log.Warn("device switch", "device", msg.name, "err", msg.err)
		m.setFlash(T(m.lang, "device.failed", cleanLine(msg.err.Error())), true)
		return
	}
	m.log.Info("device switched", "device", msg.name)
	m.setFlash(T(m.lang, "device.switched", cleanLine(msg.name)), false)
}

func (p *devicePicker) move(d int) { p.pick = max(0, min(len(p.names)-1, p.pick+d)) }

// view is the pick list.
func (p *devicePicker) view(lang Lang, st styles, width, height int) string {
	lines := []string{st.title.Render(T(lang, "device.title"))}
	for i, n := range p.names {
		l := fmt.Sprintf("%d. %s", i+1, cleanLine(n))
		if i == p.pick {
			l = st.selected.Render(l)
		}
		lines = append(lines, l)
	}
	return block(strings.Join(lines, "\n"), width, height)
}

var msgsDevice = map[string]msg{
	"device.title":       {"Sound card — pick one (enter), esc to keep the current one", "サウンドカードを選択 (Enter)、Escで変更しない"},
	"device.none":        {"no sound card found", "サウンドカードが見つかりません"},
	"device.list_failed": {"cannot list the sound cards: %s", "サウンドカード一覧を取得できません: %s"},
	"device.switching":   {"switching to %s…", "%s に切り替えています…"},
	"device.switched":    {"sound card: %s", "サウンドカード: %s"},
	"device.failed":      {"sound card not switched: %s", "サウンドカードを切り替えられません: %s"},
}

func init() { catalogueParts = append(catalogueParts, msgsDevice) }
