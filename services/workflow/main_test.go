package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ride-choreography/services/workflow/internal/dapr/daprtest"
	"github.com/ride-choreography/services/workflow/internal/testkit"
)

// hangGuard ends a wait that would otherwise last forever. It bounds
// nothing the service promises.
const hangGuard = 30 * time.Second

// The workflow itself runs only on a real sidecar with Dapr's placement
// and scheduler: the end-to-end tests drive it (test/styles_test.go). Here,
// run's own promises: ready once the sidecar is, and a clean stop.

func waitUntil(t *testing.T, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", hangGuard, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestShutdownIsNotHeldUpByASilentConnection: a connection that never
// sends a request does not keep run from shutting down within its budget
// (ReadHeaderTimeout; http.Server.Shutdown would count it busy for 5 s),
// and neither does the workflow worker, which has no engine to reach here.
func TestShutdownIsNotHeldUpByASilentConnection(t *testing.T) {
	sidecar := daprtest.Start(t, daprtest.DriverAssigned).URL
	port := freePort(t)
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	logs := &testkit.Buffer{}
	go func() {
		done <- run(ctx, env(map[string]string{
			"APP_PORT": port, "DAPR_HOST": sidecar.Hostname(), "DAPR_HTTP_PORT": sidecar.Port(), "DAPR_GRPC_PORT": freePort(t),
		}), logs, io.Discard)
	}()
	base := "http://127.0.0.1:" + port
	waitUntil(t, "readiness", func() bool { return answers(base+"/readyz", http.StatusOK) })
	conn, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	time.Sleep(100 * time.Millisecond) // let the server accept it
	start := time.Now()
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v, want nil: the silent connection held up the shutdown", err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("run took %v to stop, more than the 5 s Container Apps gives", took)
		}
		// Every line it wrote is JSON (All fails on one that is not), and
		// says what happened, in order.
		msgs := logs.Messages(t)
		for _, want := range []string{"listening", "ready", "shutting down"} {
			if !slices.Contains(msgs, want) {
				t.Errorf("log messages %q lack %q", msgs, want)
			}
		}
	case <-time.After(hangGuard):
		t.Fatal("run did not return")
	}
}
