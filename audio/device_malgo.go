//go:build cgo

package audio

/*
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include <dlfcn.h>

static void opdesk_alsa_quiet_handler(const char *file, int line, const char *function, int err, const char *fmt, ...) {}

// opdesk_quiet_alsa makes libasound stop printing its errors on stderr
// (over the TUI): miniaudio loads libasound with dlopen, so we do the same
// and install a handler that drops them; miniaudio's own messages, which
// say the same in fewer words, go to our log.
static void opdesk_quiet_alsa(void) {
	void *h = dlopen("libasound.so.2", RTLD_NOW | RTLD_GLOBAL);
	if (!h) return;
	int (*set)(void *) = (int (*)(void *))dlsym(h, "snd_lib_error_set_handler");
	if (set) set((void *)opdesk_alsa_quiet_handler);
}
*/
import "C"

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/gen2brain/malgo"
)

// nullBackend is miniaudio's null backend. malgo v0.11.24's BackendNull
// constant is off by one (it is miniaudio's "custom" backend, which fails
// with "No backend"); miniaudio's enum has custom at 13 and null at 14.
// Re-check when upgrading malgo.
const nullBackend = malgo.Backend(14)

var malgoBackends = map[string]malgo.Backend{
	"pulseaudio": malgo.BackendPulseaudio,
	"alsa":       malgo.BackendAlsa,
	"null":       nullBackend,
}

// appName is the client name PulseAudio shows (pavucontrol, pactl); C
// memory, allocated once, because the context config must not point into
// Go memory.
var appName = (*byte)(unsafe.Pointer(C.CString("opdesk")))

var backendLabels = map[string]string{
	"pulseaudio": "PulseAudio",
	"alsa":       "ALSA",
	"null":       "null backend",
}

// malgoDevice is a Device on a miniaudio device.
type malgoDevice struct {
	*duplex
	ctx  *malgo.AllocatedContext
	dev  *malgo.Device
	name string
	once sync.Once

	runMu     sync.Mutex // guards suspended and closed, serialises Start/Stop
	suspended bool
	closed    bool
}

// Suspend stops the card until Resume.
func (d *malgoDevice) Suspend() error {
	d.runMu.Lock()
	defer d.runMu.Unlock()
	if d.suspended || d.closed {
		return nil
	}
	d.suspended = true
	return d.dev.Stop()
}

// Resume starts the card again after Suspend.
func (d *malgoDevice) Resume() error {
	d.runMu.Lock()
	defer d.runMu.Unlock()
	if !d.suspended || d.closed {
		return nil
	}
	d.suspended = false
	d.fed.Store(false)
	return d.dev.Start()
}

// OpenDevice opens and starts the sound card cfg names. With Backend
// "auto" it tries PulseAudio, then ALSA; when none works the error wraps
// ErrNoSoundCard and says what each backend answered, and the caller runs
// with NullDevice. A device name that matches nothing wraps
// ErrDeviceNotFound and lists what there is.
//
// The first callbacks may come a second or two after OpenDevice returns
// (PulseAudio); until then ReadFrame returns silence.
func OpenDevice(cfg DeviceConfig) (Device, error) {
	b, err := ParseBackend(cfg.Backend)
	if err != nil {
		return nil, err
	}
	order := []string{b}
	if b == "auto" {
		order = []string{"pulseaudio", "alsa"}
	}
	var why []string
	for _, name := range order {
		d, err := openMalgo(name, cfg)
		if err == nil {
			return d, nil
		}
		if errors.Is(err, ErrDeviceNotFound) {
			return nil, err
		}
		why = append(why, backendLabels[name]+": "+plainDeviceError(name, err))
	}
	return nil, fmt.Errorf("%w (%s)", ErrNoSoundCard, strings.Join(why, "; "))
}

// plainDeviceError says in words what miniaudio's terse results mean.
func plainDeviceError(backend string, err error) string {
	msg := err.Error()
	switch {
	case backend == "pulseaudio" && strings.Contains(msg, "No backend"):
		return "no PulseAudio server is running"
	case backend == "alsa" && strings.Contains(msg, "Failed to open backend device"):
		return "no ALSA sound card, or it is busy (" + msg + ")"
	}
	return msg
}

func openMalgo(backend string, cfg DeviceConfig) (*malgoDevice, error) {
	ctx, err := initContext(backend, cfg.Log)
	if err != nil {
		return nil, err
	}
	d := &malgoDevice{duplex: newDuplex(), ctx: ctx}
	fail := func(err error) (*malgoDevice, error) {
		d.release()
		return nil, err
	}
	playbackOnly := strings.EqualFold(strings.TrimSpace(cfg.Input), "off")
	kind := malgo.Duplex
	if playbackOnly {
		kind = malgo.Playback
	}
	dc := malgo.DefaultDeviceConfig(kind)
	dc.SampleRate = SampleRate
	dc.PeriodSizeInMilliseconds = uint32(cfg.PeriodMs)
	if cfg.PeriodMs <= 0 {
		dc.PeriodSizeInMilliseconds = 20
	}
	dc.Playback.Format, dc.Playback.Channels = malgo.FormatS16, 1
	dc.Capture.Format, dc.Capture.Channels = malgo.FormatS16, 1

	outInfo, err := resolve(ctx, backend, malgo.Playback, "playback", cfg.Output)
	if err != nil {
		return fail(err)
	}
	names := []string{nameOr(outInfo, "default output")}
	var inInfo *DeviceInfo
	if !playbackOnly {
		if inInfo, err = resolve(ctx, backend, malgo.Capture, "capture", cfg.Input); err != nil {
			return fail(err)
		}
		names = append(names, nameOr(inInfo, "default input"))
	}
	var cids []unsafe.Pointer
	defer func() {
		for _, p := range cids {
			C.free(p)
		}
	}()
	setID := func(info *DeviceInfo, dst *unsafe.Pointer) {
		if info == nil {
			return
		}
		var id malgo.DeviceID
		copy(id[:], idBytes(info.ID))
		p := id.Pointer() // C memory: miniaudio copies the id during init
		cids = append(cids, p)
		*dst = p
	}
	setID(outInfo, &dc.Playback.DeviceID)
	setID(inInfo, &dc.Capture.DeviceID)

	cb := malgo.DeviceCallbacks{Data: func(out, in []byte, _ uint32) { d.process(out, in) }}
	if d.dev, err = malgo.InitDevice(ctx.Context, dc, cb); err != nil {
		return fail(fmt.Errorf("opening %s: %v", strings.Join(names, " / "), err))
	}
	if err := d.dev.Start(); err != nil {
		return fail(fmt.Errorf("starting %s: %v", strings.Join(names, " / "), err))
	}
	d.name = backendLabels[backend] + ": " + strings.Join(names, " / ")
	return d, nil
}

func nameOr(info *DeviceInfo, def string) string {
	if info == nil {
		return def
	}
	return info.Name
}

var quietALSA sync.Once

func initContext(backend string, logf func(string)) (*malgo.AllocatedContext, error) {
	if backend == "alsa" {
		quietALSA.Do(func() { C.opdesk_quiet_alsa() })
	}
	id, ok := malgoBackends[backend]
	if !ok {
		return nil, fmt.Errorf("unknown audio backend %q", backend)
	}
	var cfg malgo.ContextConfig
	cfg.Pulse.PApplicationName = appName
	var logProc malgo.LogProc
	if logf != nil {
		logProc = func(msg string) { logf(strings.TrimSpace(msg)) }
	}
	ctx, err := malgo.InitContext([]malgo.Backend{id}, cfg, logProc)
	if err != nil {
		return nil, err
	}
	return ctx, nil
}

// resolve turns a configured device name into the backend's device, or nil
// for the default.
func resolve(ctx *malgo.AllocatedContext, backend string, kind malgo.DeviceType, label, spec string) (*DeviceInfo, error) {
	s := strings.TrimSpace(spec)
	if s == "" || strings.EqualFold(s, "default") {
		return nil, nil
	}
	infos, err := listContext(ctx, backend, kind, label)
	if err != nil {
		return nil, err
	}
	return pickDevice(label, spec, infos)
}

func listContext(ctx *malgo.AllocatedContext, backend string, kind malgo.DeviceType, label string) ([]DeviceInfo, error) {
	devs, err := ctx.Devices(kind)
	if err != nil {
		return nil, fmt.Errorf("listing %s devices: %v", label, err)
	}
	out := make([]DeviceInfo, 0, len(devs))
	for i := range devs {
		out = append(out, DeviceInfo{
			Backend: backend,
			Kind:    label,
			ID:      idString(devs[i].ID),
			Name:    devs[i].Name(),
			Default: devs[i].IsDefault != 0,
		})
	}
	return out, nil
}

// ListDevices lists the playback and capture devices of a backend ("auto"
// lists PulseAudio and ALSA, whichever answer). A backend that cannot be
// reached is reported in the error only if none could.
func ListDevices(backend string) ([]DeviceInfo, error) {
	b, err := ParseBackend(backend)
	if err != nil {
		return nil, err
	}
	order := []string{b}
	if b == "auto" {
		order = []string{"pulseaudio", "alsa"}
	}
	var all []DeviceInfo
	var why []string
	for _, name := range order {
		ctx, err := initContext(name, nil)
		if err != nil {
			why = append(why, backendLabels[name]+": "+err.Error())
			continue
		}
		for _, k := range []struct {
			kind  malgo.DeviceType
			label string
		}{{malgo.Playback, "playback"}, {malgo.Capture, "capture"}} {
			infos, err := listContext(ctx, name, k.kind, k.label)
			if err != nil {
				why = append(why, backendLabels[name]+": "+err.Error())
				continue
			}
			all = append(all, infos...)
		}
		_ = ctx.Uninit()
		ctx.Free()
	}
	if len(all) == 0 && len(why) > 0 {
		return nil, fmt.Errorf("%w (%s)", ErrNoSoundCard, strings.Join(why, "; "))
	}
	return all, nil
}

// Name says which backend and devices are open.
func (d *malgoDevice) Name() string { return d.name }

// Close stops the card and frees it; safe to call more than once.
func (d *malgoDevice) Close() error {
	d.runMu.Lock()
	d.closed = true
	d.runMu.Unlock()
	d.once.Do(d.release)
	return nil
}

func (d *malgoDevice) release() {
	if d.dev != nil {
		_ = d.dev.Stop()
		d.dev.Uninit()
	}
	if d.ctx != nil {
		_ = d.ctx.Uninit()
		d.ctx.Free()
	}
}

// idString shows a device id the way the backend names it ("pulse",
// "alsa_output.usb-Jabra…") when it is printable text, else as "hex:…".
func idString(id malgo.DeviceID) string {
	raw := bytes.TrimRight(id[:], "\x00")
	for _, b := range raw {
		if b < 0x20 || b > 0x7e {
			return "hex:" + hex.EncodeToString(raw)
		}
	}
	return string(raw)
}

// idBytes is the inverse of idString.
func idBytes(s string) []byte {
	if h, ok := strings.CutPrefix(s, "hex:"); ok {
		raw, _ := hex.DecodeString(h)
		return raw
	}
	return []byte(s)
}
