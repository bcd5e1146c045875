package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/opdesk/opdesk/audio"
	"github.com/opdesk/opdesk/cmd/opdesk/config"
	"github.com/opdesk/opdesk/sip"
)

// openAudio opens the sound card when audio.input or audio.output names
// one, and returns nil when neither does (null, tone: and file: ends are
// opened per call). Without a usable card it says why, in the log and on
// stderr, and returns the null device: the phone still works, silently.
func openAudio(cfg *config.Config, log *slog.Logger, stderr io.Writer) audio.Device {
	in, out := audio.IsDeviceSpec(cfg.Audio.Input), audio.IsDeviceSpec(cfg.Audio.Output)
	if !in && !out {
		return nil
	}
	input, output := cfg.Audio.Input, cfg.Audio.Output
	if !in {
		input = "off"
	}
	if !out {
		output = "default"
	}
	dev, err := audio.OpenDevice(deviceConfig(cfg, log, input, output))
	if err != nil {
		hint := "calls run without sound (null device)"
		if errors.Is(err, audio.ErrDeviceNotFound) {
			hint += "; fix audio.input / audio.output (opdesk audio list shows the names)"
		}
		log.Warn("audio", "err", err, "fallback", "null device")
		fmt.Fprintf(stderr, "opdesk: warning: %v\nopdesk: %s\n", err, hint)
		return audio.NullDevice{}
	}
	log.Info("audio", "device", dev.Name())
	return dev
}

// deviceConfig is how every sound card opdesk opens is configured: the
// configured backend, miniaudio's messages in the log at debug level.
func deviceConfig(cfg *config.Config, log *slog.Logger, input, output string) audio.DeviceConfig {
	return audio.DeviceConfig{
		Backend: cfg.Audio.Backend,
		Input:   input,
		Output:  output,
		Log:     func(msg string) { log.Debug("miniaudio", "msg", msg) },
	}
}

// openRinger opens the ringer's device when audio.ring names one of its
// own: "" rings on the output device, "off" never rings (the null device).
func openRinger(cfg *config.Config, log *slog.Logger, stderr io.Writer) audio.Device {
	switch r := strings.TrimSpace(cfg.Audio.Ring); {
	case r == "":
		return nil
	case strings.EqualFold(r, "off"):
		return audio.NullDevice{}
	}
	dev, err := audio.OpenDevice(deviceConfig(cfg, log, "off", cfg.Audio.Ring))
	if err != nil {
		log.Warn("ringer", "err", err)
		fmt.Fprintf(stderr, "opdesk: warning: the ringer: %v; incoming calls ring on the headset instead\n", err)
		return nil
	}
	log.Info("ringer", "device", dev.Name())
	return dev
}

// switchingPhone is the phone with its sound card behind a Switchable, so
// that ctl "device" (and the desktop's key) can change the headset during a
// call.
type switchingPhone struct {
	*sip.Phone
	dev *audio.Switchable
	cfg *config.Config
	log *slog.Logger
}

// SwitchAudio opens the named devices and makes them current; on failure
// the old ones stay.
func (p *switchingPhone) SwitchAudio(input, output string) error {
	dev, err := audio.OpenDevice(deviceConfig(p.cfg, p.log, input, output))
	if err != nil {
		return fmt.Errorf("the sound card stays %s: %w", p.dev.Name(), err)
	}
	// Keep the old card until the new one runs (PulseAudio starts a stream
	// a second or two after it is opened), so the call does not go silent.
	deadline := time.Now().Add(3 * time.Second)
	for dev.Stats().Callbacks < 5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	p.log.Info("audio device switched", "from", p.dev.Name(), "to", dev.Name())
	p.dev.Switch(dev)
	return nil
}

// Devices lists the names of the sound cards that can be switched to.
func (p *switchingPhone) Devices() ([]string, error) {
	infos, err := audio.ListDevices(p.cfg.Audio.Backend)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range infos {
		names = append(names, d.Name)
	}
	return names, nil
}

// runAudio is "opdesk audio list".
func runAudio(cfgArgs, rest []string, stdout, stderr io.Writer) int {
	if len(rest) != 1 || rest[0] != "list" {
		fmt.Fprintln(stderr, "usage: opdesk audio list [--audio.backend=auto|pulseaudio|alsa|null]")
		return 2
	}
	cfg, ok := loadConfig(cfgArgs, stderr)
	if !ok {
		return 2
	}
	infos, err := audio.ListDevices(cfg.Audio.Backend)
	if err != nil {
		fmt.Fprintf(stderr, "opdesk: %v\n", err)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BACKEND\tKIND\tDEFAULT\tID\tNAME")
	for _, d := range infos {
		def := ""
		if d.Default {
			def = "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Backend, d.Kind, def, d.ID, strings.ToValidUTF8(d.Name, "?"))
	}
	_ = tw.Flush()
	fmt.Fprintln(stdout, "\nUse a NAME (or a unique part of it) or an ID as audio.input, audio.output or audio.ring.")
	return 0
}
