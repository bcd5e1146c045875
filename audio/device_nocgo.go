//go:build !cgo

package audio

import "fmt"

// OpenDevice needs cgo (miniaudio); this build has none, so every sound card
// is missing and opdesk runs with NullDevice.
func OpenDevice(cfg DeviceConfig) (Device, error) {
	if _, err := ParseBackend(cfg.Backend); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: this opdesk was built without cgo, which the sound card needs", ErrNoSoundCard)
}

// ListDevices: see OpenDevice.
func ListDevices(backend string) ([]DeviceInfo, error) {
	return nil, fmt.Errorf("%w: this opdesk was built without cgo, which the sound card needs", ErrNoSoundCard)
}
