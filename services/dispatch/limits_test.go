package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// limit bounds every part of a request the server reads and writes.
func TestLimitBoundsTheServer(t *testing.T) {
	s := &http.Server{}
	limit(s)
	type limits struct {
		ReadHeader, Read, Write, Idle time.Duration
		MaxHeaderBytes                int
	}
	want := limits{ReadHeader: 2 * time.Second, Read: 10 * time.Second, Write: time.Minute, Idle: 2 * time.Minute, MaxHeaderBytes: 32 << 10}
	got := limits{ReadHeader: s.ReadHeaderTimeout, Read: s.ReadTimeout, Write: s.WriteTimeout, Idle: s.IdleTimeout, MaxHeaderBytes: s.MaxHeaderBytes}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("limits (-want +got):\n%s", diff)
	}
}

// The server run starts has the limits: a header larger than
// maxHeaderBytes is refused (431), and one that never ends is cut off,
// unanswered, after readHeaderTimeout, while a plain request is served.
func TestRunServesWithTheLimits(t *testing.T) {
	s := start(t, sidecarEnv(t))
	s.waitFor(t, "/readyz", http.StatusOK)
	checkServerLimits(t, s.url)
}

// checkServerLimits checks the limits of the server at base.
func checkServerLimits(t *testing.T, base string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Padding", strings.Repeat("x", 2*maxHeaderBytes))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("a header of %d bytes: %v", 2*maxHeaderBytes, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a header of %d bytes: status %d, want 431", 2*maxHeaderBytes, resp.StatusCode)
	}

	resp, err = http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz: status %d, want 200", resp.StatusCode)
	}

	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: service\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(readHeaderTimeout + 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(conn); err != nil || len(got) != 0 {
		t.Errorf("a header that never ends: read %q, %v; want the connection closed, unanswered", got, err)
	}
}
