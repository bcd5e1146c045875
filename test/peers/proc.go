package peers

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Host is the loopback address every peer binds to.
const Host = "127.0.0.1"

// stopGrace is how long a peer gets to exit after SIGTERM before SIGKILL.
const stopGrace = 5 * time.Second

// proc is one started peer process and its process group.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has been reaped
	err  error         // exit status; valid once done is closed
}

// startProc starts bin in its own process group with stdout and stderr
// appended to logPath. The caller owns stopping it.
func startProc(name, dir, logPath string, env []string, stdin string, bin string, args ...string) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logf, "=== %s: %s %s\n", time.Now().Format(time.RFC3339Nano), bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	if stdin != "" {
		in, err := os.Open(stdin)
		if err != nil {
			logf.Close()
			return nil, err
		}
		defer in.Close()
		cmd.Stdin = in
	}
	// Own process group so a stop reaches forked children (Kamailio's
	// workers); Pdeathsig so a crashed test binary does not leave the
	// direct child behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after stopGrace, and
// waits for the process to be reaped. Safe to call more than once.
func (p *proc) stop() {
	pgid := p.cmd.Process.Pid
	if !p.exited() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopGrace):
		}
	}
	// Children may outlive the leader; the group is killed either way.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
}

// logOnFailure registers a cleanup that prints the tail of each log file
// when the test has failed. Register it before the cleanup that stops the
// process so it runs after it (cleanups run last-in first-out).
func logOnFailure(t testing.TB, name string, paths ...string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, p := range paths {
			t.Logf("--- %s log %s (tail) ---\n%s", name, p, tailFile(p, 16<<10))
		}
	})
}

// tailFile returns up to the last max bytes of a file, or a note why not.
func tailFile(path string, max int64) string {
	f, err := os.Open(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "(" + err.Error() + ")"
	}
	off := st.Size() - max
	if off < 0 {
		off = 0
	}
	b, err := io.ReadAll(io.NewSectionReader(f, off, st.Size()-off))
	if err != nil && !errors.Is(err, io.EOF) {
		return "(" + err.Error() + ")"
	}
	if off > 0 {
		return "[...]" + string(b)
	}
	return string(b)
}

// waitFor polls ready every interval until it returns true, the process
// exits or the timeout passes.
func waitFor(p *proc, timeout time.Duration, ready func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if ready() {
			return nil
		}
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited early: %v", p.name, p.err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s", nameOf(p), timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func nameOf(p *proc) string {
	if p == nil {
		return "peer"
	}
	return p.name
}
