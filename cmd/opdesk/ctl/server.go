package ctl

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/opdesk/opdesk/sip"
)

// Server accepts control connections on a Unix socket.
type Server struct {
	phone Phone
	log   *slog.Logger
	ln    net.Listener
	path  string
	ctx   context.Context
	stop  context.CancelFunc
	wg    sync.WaitGroup
}

// Listen creates the socket at path (its directory is made 0700, the
// socket 0600: whoever can write to it can place calls) and serves it.
func Listen(path string, phone Phone, log *slog.Logger) (*Server, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("control socket directory: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("another opdesk is already running on %s", path)
	}
	_ = os.Remove(path) // stale socket of a process that died
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	_ = os.Chmod(path, 0o600)
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{phone: phone, log: log, ln: ln, path: path, ctx: ctx, stop: stop}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Close stops accepting, ends open connections and removes the socket.
func (s *Server) Close() error {
	s.stop()
	err := s.ln.Close()
	s.wg.Wait()
	_ = os.Remove(s.path)
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(conn)
		}()
	}
}

func (s *Server) serve(conn net.Conn) {
	defer conn.Close()
	// Close the connection when the server stops, so reads end.
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-s.ctx.Done():
			conn.Close()
		case <-done:
		}
	}()
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 4096), maxLine)
	for sc.Scan() {
		var req Request
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			_, _ = conn.Write(encode(Reply{Error: "request is not JSON: " + err.Error()}))
			continue
		}
		if req.Cmd == "events" {
			s.streamEvents(conn)
			return
		}
		rep := s.Do(req)
		s.log.Info("ctl", "cmd", req.Cmd, "ok", rep.OK, "error", rep.Error)
		if _, err := conn.Write(encode(rep)); err != nil {
			return
		}
	}
}

// streamEvents writes events to conn until the client goes away.
func (s *Server) streamEvents(conn net.Conn) {
	ch, cancel := s.phone.Subscribe(256)
	defer cancel()
	if _, err := conn.Write(encode(Reply{OK: true})); err != nil {
		return
	}
	gone := make(chan struct{})
	go func() {
		// The client sends nothing more; a read returns when it closes.
		buf := make([]byte, 1)
		for {
			if _, err := conn.Read(buf); err != nil {
				close(gone)
				return
			}
		}
	}()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return
			}
			_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := conn.Write(encode(ev)); err != nil {
				return
			}
		case <-gone:
			return
		case <-s.ctx.Done():
			return
		}
	}
}

// Do carries out one request.
func (s *Server) Do(req Request) Reply {
	id, err := s.do(req)
	if err != nil {
		return Reply{Error: Sentence(err)}
	}
	if req.Cmd == "status" {
		st := s.phone.Status()
		return Reply{OK: true, Status: &st}
	}
	return Reply{OK: true, Call: id}
}

func (s *Server) do(req Request) (string, error) {
	a := req.Args
	arg := func(i int) string {
		if i < len(a) {
			return a[i]
		}
		return ""
	}
	ph := s.phone
	switch req.Cmd {
	case "status":
		return "", nil
	case "dial":
		if len(a) != 1 {
			return "", fmt.Errorf("%w: dial TARGET", ErrUsage)
		}
		return ph.Dial(s.ctx, a[0])
	case "answer":
		return ph.Answer(arg(0))
	case "hangup":
		return ph.Hangup(arg(0))
	case "hold":
		return ph.Hold(arg(0))
	case "resume":
		return ph.Resume(arg(0))
	case "mute":
		ph.SetMuted(true)
		return "", nil
	case "unmute":
		ph.SetMuted(false)
		return "", nil
	case "dtmf":
		if len(a) < 1 || len(a) > 2 {
			return "", fmt.Errorf("%w: dtmf DIGITS [ID]", ErrUsage)
		}
		return ph.SendDTMF(arg(1), a[0])
	case "device":
		sw, ok := ph.(AudioSwitcher)
		if !ok || len(a) < 1 || len(a) > 2 {
			return "", fmt.Errorf("%w: device INPUT [OUTPUT] (names from opdesk audio list; needs a sound card in the config)", ErrUsage)
		}
		out := arg(1)
		if out == "" {
			out = a[0]
		}
		return "", sw.SwitchAudio(a[0], out)
	case "record":
		if len(a) < 1 || len(a) > 2 || (a[0] != "on" && a[0] != "off") {
			return "", fmt.Errorf("%w: record on|off [ID]", ErrUsage)
		}
		return ph.Record(arg(1), a[0] == "on")
	case "transfer":
		if len(a) == 3 && a[0] == "--attended" {
			return ph.AttendedTransfer(a[1], a[2])
		}
		if len(a) < 1 || len(a) > 2 || a[0] == "--attended" {
			return "", fmt.Errorf("%w: transfer TARGET [ID] | transfer --attended ID1 ID2", ErrUsage)
		}
		return ph.Transfer(arg(1), a[0])
	}
	return "", fmt.Errorf("%w: unknown command %q", ErrUsage, req.Cmd)
}

// Sentence turns a phone error into one line an operator can act on.
func Sentence(err error) string {
	switch {
	case errors.Is(err, sip.ErrNoCall):
		return "there is no call that this applies to"
	case errors.Is(err, sip.ErrAmbiguous):
		return "there are several calls: give the call id (see opdesk ctl status)"
	case errors.Is(err, sip.ErrBadState):
		return "the call is not in a state that allows this: " + err.Error()
	}
	return err.Error()
}
