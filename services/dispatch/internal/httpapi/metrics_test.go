package httpapi_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/dispatch/internal/contracttest"
)

// metricLines returns the lines of GET /metrics that hold a series of the
// service's own metrics (ride_*), in the order served.
func (ts *testServer) metricLines(t *testing.T) []string {
	t.Helper()
	resp := ts.do(t, http.MethodGet, "/metrics", nil)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET /metrics: HTTP status %d, Content-Type %q; want 200 and the text format", resp.StatusCode, ct)
	}
	if !strings.Contains(string(body), "\ngo_goroutines ") {
		t.Errorf("GET /metrics serves no go_goroutines:\n%s", body)
	}
	var lines []string
	for line := range strings.Lines(string(body)) {
		if strings.HasPrefix(line, "ride_") {
			lines = append(lines, strings.TrimSuffix(line, "\n"))
		}
	}
	return lines
}

// GET /metrics serves what the subscriptions and the use cases counted
// behind the routes: every delivery by topic and outcome, the dead letter
// once, and each trip on the board once however often its event came.
func TestMetricsCountWhatTheServiceDid(t *testing.T) {
	ts := newTestServer(t)
	if got := ts.metricLines(t); len(got) != 0 {
		t.Errorf("before anything happened: %v, want no series", got)
	}

	for _, topic := range []string{"trip-created", "driver-assigned", "trip-created"} {
		if got := ts.deliver(t, topic, contracttest.Example(t, topic)); got != "SUCCESS" {
			t.Fatalf("%s: status %s, want SUCCESS", topic, got)
		}
	}
	ts.store.fail(errors.New("state store down"))
	if got := ts.deliver(t, "driver-not-found", contracttest.Example(t, "driver-not-found")); got != "RETRY" {
		t.Fatalf("driver-not-found with the store down: status %s, want RETRY", got)
	}
	poison := []byte(strings.Replace(string(contracttest.Example(t, "driver-assigned")), `"etaSeconds": 240`, `"etaSeconds": -1`, 1))
	if got := ts.deliver(t, "driver-assigned", poison); got != "DROP" {
		t.Fatalf("driver-assigned with a negative ETA: status %s, want DROP", got)
	}
	for range 2 { // Dapr forwards it to the dead letters; redelivered, it is stored once
		if got := ts.deliver(t, "dead-letters", poison); got != "SUCCESS" {
			t.Fatalf("dead letter: status %s, want SUCCESS", got)
		}
	}

	want := []string{
		`ride_dead_letters_total{topic="driver-assigned"} 1`,
		`ride_dispatch_trips_recorded_total{status="assigned"} 1`,
		`ride_dispatch_trips_recorded_total{status="waiting"} 1`,
		`ride_events_handled_total{outcome="DROP",topic="driver-assigned"} 1`,
		`ride_events_handled_total{outcome="RETRY",topic="driver-not-found"} 1`,
		`ride_events_handled_total{outcome="SUCCESS",topic="dispatch-dead-letters"} 2`,
		`ride_events_handled_total{outcome="SUCCESS",topic="driver-assigned"} 1`,
		`ride_events_handled_total{outcome="SUCCESS",topic="trip-created"} 2`,
	}
	if diff := cmp.Diff(want, ts.metricLines(t)); diff != "" {
		t.Errorf("GET /metrics (-want +got):\n%s", diff)
	}
}
