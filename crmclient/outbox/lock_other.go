//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package outbox

import (
	"fmt"
	"os"
)

// lockFile only creates the lock file here: this platform has no flock, so
// running two opdesk instances on one outbox is not detected.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("outbox: lock %s: %w", path, err)
	}
	return f, nil
}
