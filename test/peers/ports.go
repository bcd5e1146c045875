package peers

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"testing"
)

// handedOut remembers every port this process gave away, so two peers started
// by parallel tests never get the same one (the kernel may reuse a port as
// soon as the probe socket is closed).
var handedOut struct {
	sync.Mutex
	ports map[int]bool
}

func claim(port int) bool {
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.ports == nil {
		handedOut.ports = map[int]bool{}
	}
	if handedOut.ports[port] {
		return false
	}
	handedOut.ports[port] = true
	return true
}

func udpFree(port int) bool {
	c, err := net.ListenPacket("udp4", net.JoinHostPort(Host, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func tcpFree(port int) bool {
	l, err := net.Listen("tcp4", net.JoinHostPort(Host, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// FreeUDPPort returns a UDP port on 127.0.0.1 that nothing is bound to.
// There is a window between the probe and the peer's bind in which another
// process could take it; within this process a port is never handed out twice.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	return freePort(t, "udp", func() (int, error) {
		c, err := net.ListenPacket("udp4", Host+":0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}, nil)
}

// FreeTCPPort returns a TCP port on 127.0.0.1 that nothing listens on.
func FreeTCPPort(t testing.TB) int {
	t.Helper()
	return freePort(t, "tcp", func() (int, error) {
		l, err := net.Listen("tcp4", Host+":0")
		if err != nil {
			return 0, err
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port, nil
	}, nil)
}

// FreePort returns a port on 127.0.0.1 that is free for both UDP and TCP, as
// a SIP listener needs (baresip and Kamailio bind both).
func FreePort(t testing.TB) int {
	t.Helper()
	return freePort(t, "udp+tcp", func() (int, error) {
		l, err := net.Listen("tcp4", Host+":0")
		if err != nil {
			return 0, err
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port, nil
	}, udpFree)
}

// FreeUDPPortRange returns the first of n consecutive free UDP ports, the
// first one even (RTP convention). It probes outside the kernel's ephemeral
// range so kernel-assigned ports do not land in the middle of it.
func FreeUDPPortRange(t testing.TB, n int) int {
	t.Helper()
	for range 500 {
		base := 20000 + 2*rand.IntN(6000)
		ok := true
		for p := base; p < base+n && ok; p++ {
			ok = udpFree(p)
		}
		if !ok {
			continue
		}
		claimed := 0
		for p := base; p < base+n; p++ {
			if !claim(p) {
				break
			}
			claimed++
		}
		if claimed == n {
			return base
		}
	}
	t.Fatalf("peers: no %d consecutive free UDP ports", n)
	return 0
}

func freePort(t testing.TB, what string, probe func() (int, error), also func(int) bool) int {
	t.Helper()
	var lastErr error
	for range 100 {
		p, err := probe()
		if err != nil {
			lastErr = err
			continue
		}
		if also != nil && !also(p) {
			continue
		}
		if claim(p) {
			return p
		}
	}
	t.Fatalf("peers: no free %s port: %v", what, fmt.Sprint(lastErr))
	return 0
}
