package crmserver

import (
	"net/http"
	"time"
)

// NewHTTPServer returns an http.Server for h with timeouts on every phase of a
// connection. Without them a client that opens connections and sends nothing (or
// one byte a minute) holds a goroutine and a socket each, for ever.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second, // a 1 MiB body over a slow home uplink
		WriteTimeout:      20 * time.Second,
		IdleTimeout:       2 * time.Minute, // desktops keep one connection warm for screen pops
		MaxHeaderBytes:    32 << 10,
	}
}
