package main

import (
	"net/http"
	"time"
)

// The limits of the service's HTTP server, so that no client holds a
// connection, or a handler, longer than a request needs:
//
//   - readHeaderTimeout: a connection that sends no whole request header
//     in time (a client's spare dial, a slow loris) is closed. Shutdown
//     would wait 5 s for a silent connection otherwise, more than the
//     shutdown budget.
//   - readTimeout: the whole request, its body (64 KiB at most) included.
//   - writeTimeout: from the end of the request header to the end of the
//     answer: well beyond what a handler takes (an event delivery, which daprd gives 10 s, or the board read through the sidecar).
//   - idleTimeout: a kept-alive connection with no request; longer than
//     clients keep theirs (Go's 90 s), so that they close it first and a
//     request never meets a connection closing under it.
//   - maxHeaderBytes: the request line and headers (a bearer token
//     included); a larger header is answered 431 by net/http.
//
// A board stream outlives writeTimeout: it gives each of its writes
// a deadline of its own (internal/httpapi, stream.go).
const (
	readHeaderTimeout = 2 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 32 << 10
)

// limit sets the limits on the server.
func limit(s *http.Server) {
	s.ReadHeaderTimeout = readHeaderTimeout
	s.ReadTimeout = readTimeout
	s.WriteTimeout = writeTimeout
	s.IdleTimeout = idleTimeout
	s.MaxHeaderBytes = maxHeaderBytes
}
