package peers

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
)

// ErrCommandFailed is returned when baresip answers a ctrl_tcp command with
// "ok": false.
var ErrCommandFailed = errors.New("baresip command failed")

// ErrClosed is returned for commands after the ctrl_tcp connection closed.
var ErrClosed = errors.New("baresip control connection closed")

// BaresipResponse is baresip's answer to a ctrl_tcp command.
type BaresipResponse struct {
	OK    bool   `json:"ok"`
	Data  string `json:"data"`
	Token string `json:"token"`
}

// BaresipEvent is one ctrl_tcp event, for example
// {"event":true,"type":"CALL_ESTABLISHED","class":"call",
// "accountaor":"sip:bob@127.0.0.1:5060","direction":"incoming",
// "peeruri":"sip:alice@127.0.0.1:5060","id":"997e25f26b89d1dd","param":"..."}.
//
// Types seen from baresip 1.0: REGISTERING, REGISTER_OK, REGISTER_FAIL,
// CALL_INCOMING, CALL_RINGING, CALL_PROGRESS, CALL_ESTABLISHED, CALL_CLOSED
// (Param = reason), CALL_LOCAL_SDP / CALL_REMOTE_SDP (Param = "offer" or
// "answer"; a REMOTE_SDP offer mid-call is a re-INVITE), CALL_RTPESTAB,
// CALL_RTCP, CALL_DTMF_START (Param = the digit) and CALL_DTMF_END (no
// Param).
type BaresipEvent struct {
	Type       string `json:"type"`
	Class      string `json:"class"`
	AccountAOR string `json:"accountaor"`
	Direction  string `json:"direction"`
	PeerURI    string `json:"peeruri"`
	ID         string `json:"id"`
	Param      string `json:"param"`
	// Raw is the event's JSON as received.
	Raw string `json:"-"`
}

// ctrlMessage is either a response or an event on the ctrl_tcp socket.
type ctrlMessage struct {
	Event    bool `json:"event"`
	Response bool `json:"response"`
	BaresipResponse
	BaresipEvent
}

// ctrlConn speaks baresip's ctrl_tcp protocol: netstring-framed JSON
// ("LEN:{...},") both ways.
type ctrlConn struct {
	conn    net.Conn
	onEvent func(BaresipEvent)

	writeMu sync.Mutex
	mu      sync.Mutex
	next    int
	pending map[string]chan BaresipResponse
	closed  bool
	done    chan struct{}
}

func newCtrlConn(conn net.Conn, onEvent func(BaresipEvent)) *ctrlConn {
	c := &ctrlConn{conn: conn, onEvent: onEvent, pending: map[string]chan BaresipResponse{}, done: make(chan struct{})}
	go c.readLoop()
	return c
}

func (c *ctrlConn) close() {
	c.conn.Close()
	<-c.done
}

func (c *ctrlConn) readLoop() {
	defer close(c.done)
	defer func() {
		c.mu.Lock()
		c.closed = true
		for tok, ch := range c.pending {
			close(ch)
			delete(c.pending, tok)
		}
		c.mu.Unlock()
	}()
	r := bufio.NewReader(c.conn)
	for {
		msg, err := readNetstring(r)
		if err != nil {
			return
		}
		var m ctrlMessage
		if err := json.Unmarshal(msg, &m); err != nil {
			continue
		}
		switch {
		case m.Response:
			c.mu.Lock()
			ch := c.pending[m.BaresipResponse.Token]
			delete(c.pending, m.BaresipResponse.Token)
			c.mu.Unlock()
			if ch != nil {
				ch <- m.BaresipResponse
			}
		case m.Event:
			ev := m.BaresipEvent
			ev.Raw = string(msg)
			c.onEvent(ev)
		}
	}
}

// command sends one command and waits for the response with its token.
func (c *ctrlConn) command(cmd, params string, done <-chan struct{}) (BaresipResponse, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return BaresipResponse{}, ErrClosed
	}
	c.next++
	tok := strconv.Itoa(c.next)
	ch := make(chan BaresipResponse, 1)
	c.pending[tok] = ch
	c.mu.Unlock()

	body, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": tok})
	c.writeMu.Lock()
	_, err := fmt.Fprintf(c.conn, "%d:%s,", len(body), body)
	c.writeMu.Unlock()
	if err != nil {
		return BaresipResponse{}, fmt.Errorf("baresip %s: %w", cmd, err)
	}
	select {
	case resp, ok := <-ch:
		if !ok {
			return BaresipResponse{}, fmt.Errorf("baresip %s: %w", cmd, ErrClosed)
		}
		if !resp.OK {
			return resp, fmt.Errorf("baresip %s %q: %w: %s", cmd, params, ErrCommandFailed, resp.Data)
		}
		return resp, nil
	case <-done:
		return BaresipResponse{}, fmt.Errorf("baresip %s: gave up waiting for the response", cmd)
	}
}

// readNetstring reads one "LEN:DATA," frame.
func readNetstring(r *bufio.Reader) ([]byte, error) {
	head, err := r.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(head[:len(head)-1])
	if err != nil || n < 0 || n > 1<<24 {
		return nil, fmt.Errorf("bad netstring length %q", head)
	}
	buf := make([]byte, n+1)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	if buf[n] != ',' {
		return nil, fmt.Errorf("netstring not terminated by ','")
	}
	return buf[:n], nil
}
