package ctl

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// Call sends one request to the opdesk listening on path and returns its
// reply line (raw JSON) and the decoded reply.
func Call(path string, req Request) ([]byte, Reply, error) {
	conn, err := dial(path)
	if err != nil {
		return nil, Reply{}, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write(encode(req)); err != nil {
		return nil, Reply{}, err
	}
	line, err := bufio.NewReaderSize(conn, 64<<10).ReadBytes('\n')
	if err != nil {
		return nil, Reply{}, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	var rep Reply
	if err := json.Unmarshal(line, &rep); err != nil {
		return nil, Reply{}, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	// The line is printed as it came: escape what an older opdesk on the
	// socket may have left raw.
	return escapeControls(line), rep, nil
}

// Events copies the event stream of the opdesk on path to w, one JSON
// object per line, until the stream ends or stop is closed.
func Events(path string, w io.Writer, stop <-chan struct{}) error {
	conn, err := dial(path)
	if err != nil {
		return err
	}
	defer conn.Close()
	go func() {
		<-stop
		conn.Close()
	}()
	if _, err := conn.Write(encode(Request{Cmd: "events"})); err != nil {
		return err
	}
	r := bufio.NewReader(conn)
	first, err := r.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	var rep Reply
	if json.Unmarshal(first, &rep) != nil || !rep.OK {
		return fmt.Errorf("%w: %s", ErrProtocol, first)
	}
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			if _, werr := w.Write(escapeControls(line)); werr != nil {
				return werr
			}
		}
		if err != nil {
			select {
			case <-stop:
				return nil
			default:
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func dial(path string) (net.Conn, error) {
	conn, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return nil, fmt.Errorf("%w at %s", ErrNotRunning, path)
		}
		return nil, err
	}
	return conn, nil
}
