//go:build cgo

package audio

import (
	"testing"
	"time"
)

// TestNullBackendRuns opens miniaudio's null backend: a device that exists
// on every machine, runs in real time and captures silence. It is the
// backend malgo's own BackendNull constant fails to select (see
// nullBackend).
func TestNullBackendRuns(t *testing.T) {
	dev, err := OpenDevice(DeviceConfig{Backend: "null"})
	if err != nil {
		t.Fatalf("null backend: %v", err)
	}
	defer dev.Close()
	deadline := time.Now().Add(5 * time.Second)
	for dev.Stats().Callbacks < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d callbacks in 5 s", dev.Name(), dev.Stats().Callbacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
	f := make([]int16, FrameSamples)
	for i := range f {
		f[i] = 1000
	}
	if err := dev.WriteFrame(f); err != nil {
		t.Fatal(err)
	}
	f[0] = 7
	time.Sleep(40 * time.Millisecond)
	if err := dev.ReadFrame(f); err != nil || f[0] != 0 {
		t.Fatalf("null capture gave %d, %v", f[0], err)
	}
	t.Logf("%s: %+v", dev.Name(), dev.Stats())
	if err := dev.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestListDevicesNull(t *testing.T) {
	infos, err := ListDevices("null")
	if err != nil {
		t.Fatal(err)
	}
	var kinds = map[string]int{}
	for _, in := range infos {
		kinds[in.Kind]++
		t.Logf("%+v", in)
	}
	if kinds["playback"] == 0 || kinds["capture"] == 0 {
		t.Fatalf("null backend lists %v", kinds)
	}
}
