//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package outbox

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on path (created 0600), held for
// as long as the returned file stays open and released by the kernel if the
// process dies. It is a separate file on purpose: opening and closing another
// descriptor on the database itself would drop SQLite's POSIX locks.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("outbox: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("outbox: %s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("outbox: lock %s: %w", path, err)
	}
	return f, nil
}
