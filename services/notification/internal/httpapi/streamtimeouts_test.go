package httpapi_test

import (
	"io"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/notification/internal/app"
	"github.com/ride-choreography/services/notification/internal/httpapi"
)

// serveWithTimeouts runs ts on a local port, as run serves it but with
// every server timeout at d, until the test ends.
func serveWithTimeouts(t *testing.T, ts *testServer, d time.Duration) *liveServer {
	t.Helper()
	srv := httptest.NewUnstartedServer(ts.handler)
	srv.Config.ReadHeaderTimeout = d
	srv.Config.ReadTimeout = d
	srv.Config.WriteTimeout = d
	srv.Config.IdleTimeout = d
	srv.Start()
	t.Cleanup(srv.Close)
	return &liveServer{Server: srv, issuer: ts.issuer}
}

// The server's timeouts bound a request, not a notification stream: a
// stream open for many times the read and write timeouts still delivers,
// while a client that never finishes its request header (a slow loris) is
// cut off after the header timeout, on the same server.
func TestStreamOutlivesTheServersTimeoutsButASlowHeaderDoesNot(t *testing.T) {
	const timeout = 200 * time.Millisecond
	ts := newTestServer(t, func(d *httpapi.Deps) { d.Heartbeat = 50 * time.Millisecond })
	srv := serveWithTimeouts(t, ts, timeout)

	s := openStream(t, srv, riderID, "")
	loris, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer loris.Close()
	if _, err := io.WriteString(loris, "GET /riders/"+riderID+"/notifications HTTP/1.1\r\nHost: notification\r\n"); err != nil {
		t.Fatal(err)
	}

	opened := time.Now()
	for time.Since(opened) < 5*timeout {
		if b, ok := s.next(t); !ok || b.Comment != "heartbeat" {
			t.Fatalf("after %s: block %+v, open %v; want heartbeats", time.Since(opened).Round(time.Millisecond), b, ok)
		}
	}
	if err := ts.svc.TripReceived(t.Context(), app.TripCreated{TripID: tripID, RiderID: riderID}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]sseBlock{tripReceivedEvent(tripID)}, s.events(t, 1)); diff != "" {
		t.Errorf("notification %s after the stream opened (-want +got):\n%s", time.Since(opened).Round(time.Millisecond), diff)
	}

	// The slow loris's connection was closed long ago, unanswered.
	if err := loris.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(loris); err != nil || len(got) != 0 {
		t.Errorf("slow header: read %q, %v; want the connection closed, unanswered", got, err)
	}
}
