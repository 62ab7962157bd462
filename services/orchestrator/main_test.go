package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/orchestrator/internal/auth/authtest"
	"github.com/ride-choreography/services/orchestrator/internal/dapr/daprtest"
	"github.com/ride-choreography/services/orchestrator/internal/testkit"
)

// hangGuard ends a wait that would otherwise last forever. It bounds
// nothing the service promises.
const hangGuard = 30 * time.Second

// start runs the orchestrator in-process against sidecar, on a free port,
// with steps retried fast, and waits until it is ready. The test's end
// stops it.
func start(t *testing.T, sidecar *daprtest.Sidecar) (base string, logs *testkit.Buffer, issuer *authtest.Issuer) {
	t.Helper()
	port := freePort(t)
	issuer = authtest.New(t)
	vars := map[string]string{
		"APP_PORT": port, "DAPR_HOST": sidecar.URL.Hostname(), "DAPR_HTTP_PORT": sidecar.URL.Port(),
		"STEP_ATTEMPTS": "3", "STEP_PAUSE": "10ms",
		"AUTH_ISSUER": issuer.URL, "AUTH_JWKS_URL": issuer.JWKSURL(),
	}
	logs = &testkit.Buffer{}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- run(ctx, env(vars), logs, io.Discard) }()
	t.Cleanup(func() {
		stop()
		select {
		case <-done:
		case <-time.After(hangGuard):
			t.Errorf("run did not return %v after the test ended", hangGuard)
		}
	})
	base = "http://127.0.0.1:" + port
	waitUntil(t, "the orchestrator to be ready", func() bool { return answers(base+"/readyz", http.StatusOK) })
	return base, logs, issuer
}

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

// orderTrip posts an order as rider-42, with a token of issuer, and
// returns the trip id answered.
func orderTrip(t *testing.T, base string, issuer *authtest.Issuer) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/trips",
		strings.NewReader(`{"riderId":"rider-42","pickup":{"lat":50.0755,"lon":14.4378},"dropoff":{"lat":50.1,"lon":14.26}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", issuer.Bearer(t, "rider-42"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var trip struct{ TripID string }
	if err := json.NewDecoder(resp.Body).Decode(&trip); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /trips: %s, %v", resp.Status, err)
	}
	return trip.TripID
}

// status returns the trip's status as GET /trips/{id} answers rider-42.
func status(t *testing.T, base string, issuer *authtest.Issuer, tripID string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/trips/"+tripID, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", issuer.Bearer(t, "rider-42"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var trip struct{ Status string }
	_ = json.NewDecoder(resp.Body).Decode(&trip)
	return trip.Status
}

// An order runs through the steps in turn, over Dapr service invocation:
// the rider is told it arrived, the driver service assigns a driver, the
// rider is told who comes; the trip, kept in memory, shows the driver.
func TestRunOrdersThroughTheSteps(t *testing.T) {
	sidecar := daprtest.Start(t, daprtest.DriverAssigned)
	base, _, issuer := start(t, sidecar)

	tripID := orderTrip(t, base, issuer)
	waitUntil(t, "the trip's driver", func() bool { return status(t, base, issuer, tripID) == "driver_assigned" })
	want := []string{"notification trip-received", "driver assign-driver", "notification driver-assigned"}
	if diff := cmp.Diff(want, sidecar.Invocations()); diff != "" {
		t.Errorf("invocations (-want +got):\n%s", diff)
	}
}

// A step that keeps failing is tried STEP_ATTEMPTS times, then the flow
// gives up: the trip stays requested, nobody tells the rider more, and the
// log and the metrics say so. This is the naive orchestrator's way, and
// the README's table counts it.
func TestRunGivesUpAfterTheRetries(t *testing.T) {
	sidecar := daprtest.Start(t, daprtest.DriverAssigned)
	base, logs, issuer := start(t, sidecar)
	sidecar.AnswerEveryStep(http.StatusInternalServerError)

	tripID := orderTrip(t, base, issuer)
	waitUntil(t, "the flow to give up", func() bool {
		for _, line := range logs.All(t) {
			if line["message"] == "trip flow abandoned" && line["tripId"] == tripID && line["step"] == "trip-received" {
				return true
			}
		}
		return false
	})
	if got := sidecar.Invocations(); len(got) != 3 {
		t.Errorf("invocations %v, want trip-received tried 3 times", got)
	}
	if got := status(t, base, issuer, tripID); got != "requested" {
		t.Errorf("trip status %q, want requested: the flow gave up", got)
	}
	if !strings.Contains(get(t, base+"/metrics"), `ride_trips_abandoned_total{step="trip-received"} 1`) {
		t.Error("the abandoned trip is not counted in /metrics")
	}
}

// A step that refuses the call (4xx) is not retried.
func TestRunDoesNotRetryARefusal(t *testing.T) {
	sidecar := daprtest.Start(t, daprtest.DriverAssigned)
	base, _, issuer := start(t, sidecar)
	sidecar.AnswerEveryStep(http.StatusBadRequest)

	orderTrip(t, base, issuer)
	time.Sleep(200 * time.Millisecond) // more than the retries' pauses
	if got := sidecar.Invocations(); len(got) != 1 {
		t.Errorf("invocations %v, want one: a refusal is final", got)
	}
}

// TestShutdownIsNotHeldUpByASilentConnection: a connection that never
// sends a request does not keep run from shutting down within its budget
// (ReadHeaderTimeout; http.Server.Shutdown would count it busy for 5 s).
func TestShutdownIsNotHeldUpByASilentConnection(t *testing.T) {
	sidecar := daprtest.Start(t, daprtest.DriverAssigned)
	port := freePort(t)
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, env(map[string]string{"APP_PORT": port, "DAPR_HOST": sidecar.URL.Hostname(), "DAPR_HTTP_PORT": sidecar.URL.Port()}), io.Discard, io.Discard)
	}()
	base := "http://127.0.0.1:" + port
	waitUntil(t, "readiness", func() bool { return answers(base+"/readyz", http.StatusOK) })
	conn, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	time.Sleep(100 * time.Millisecond) // let the server accept it
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v, want nil: the silent connection held up the shutdown", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("run did not return")
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
