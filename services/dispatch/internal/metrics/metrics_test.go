package metrics_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ride-choreography/services/dispatch/internal/metrics"
)

// The service's own metric families, as GET /metrics serves them; a family
// without a series is not served at all.
const (
	eventsHandled = `# HELP ride_events_handled_total Events delivered by the sidecar and answered, by subscribed topic and outcome (SUCCESS, RETRY, DROP).
# TYPE ride_events_handled_total counter
`
	deadLetters = `# HELP ride_dead_letters_total Dead letters newly stored, by the topic the event was first delivered on.
# TYPE ride_dead_letters_total counter
`
	tripsRecorded = `# HELP ride_dispatch_trips_recorded_total Trips put on the dispatchers' board, by status (waiting, assigned, not_found).
# TYPE ride_dispatch_trips_recorded_total counter
`
)

var serviceMetrics = []string{"ride_events_handled_total", "ride_dead_letters_total", "ride_dispatch_trips_recorded_total"}

// serve serves m's Handler until the test ends, and returns its URL.
func serve(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// Each call moves its own series, and only it, by one.
func TestEachMethodCountsItsSeriesByOne(t *testing.T) {
	tests := []struct {
		name  string
		count func(*metrics.Metrics)
		// want is what the service's families hold after count ran n
		// times: %[1]d is n.
		want string
	}{
		{
			name:  "event handled: SUCCESS",
			count: func(m *metrics.Metrics) { m.EventHandled("trip-created", "SUCCESS") },
			want:  eventsHandled + `ride_events_handled_total{outcome="SUCCESS",topic="trip-created"} %[1]d` + "\n",
		},
		{
			name:  "event handled: RETRY",
			count: func(m *metrics.Metrics) { m.EventHandled("driver-assigned", "RETRY") },
			want:  eventsHandled + `ride_events_handled_total{outcome="RETRY",topic="driver-assigned"} %[1]d` + "\n",
		},
		{
			name:  "event handled: DROP",
			count: func(m *metrics.Metrics) { m.EventHandled("driver-not-found", "DROP") },
			want:  eventsHandled + `ride_events_handled_total{outcome="DROP",topic="driver-not-found"} %[1]d` + "\n",
		},
		{
			name: "events handled: one series per topic and outcome",
			count: func(m *metrics.Metrics) {
				m.EventHandled("dispatch-dead-letters", "SUCCESS")
				m.EventHandled("dispatch-dead-letters", "RETRY")
			},
			want: eventsHandled +
				`ride_events_handled_total{outcome="RETRY",topic="dispatch-dead-letters"} %[1]d` + "\n" +
				`ride_events_handled_total{outcome="SUCCESS",topic="dispatch-dead-letters"} %[1]d` + "\n",
		},
		{
			name:  "dead letter stored",
			count: func(m *metrics.Metrics) { m.DeadLetterStored("driver-assigned") },
			want:  deadLetters + `ride_dead_letters_total{topic="driver-assigned"} %[1]d` + "\n",
		},
		{
			name:  "trip recorded: waiting",
			count: func(m *metrics.Metrics) { m.TripRecorded("waiting") },
			want:  tripsRecorded + `ride_dispatch_trips_recorded_total{status="waiting"} %[1]d` + "\n",
		},
		{
			name:  "trip recorded: assigned",
			count: func(m *metrics.Metrics) { m.TripRecorded("assigned") },
			want:  tripsRecorded + `ride_dispatch_trips_recorded_total{status="assigned"} %[1]d` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := metrics.New()
			url := serve(t, m)
			for n := 1; n <= 2; n++ {
				tt.count(m)
				if err := testutil.ScrapeAndCompare(url, strings.NewReader(fmt.Sprintf(tt.want, n)), serviceMetrics...); err != nil {
					t.Errorf("after %d calls: %v", n, err)
				}
			}
		})
	}
}

// The Handler serves the text format, the Go runtime's and the process's
// metrics included.
func TestHandlerServesTheTextFormat(t *testing.T) {
	m := metrics.New()
	m.TripRecorded("waiting")
	resp, err := http.Get(serve(t, m))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("HTTP status %d, Content-Type %q; want 200 and the text format", resp.StatusCode, ct)
	}
	for _, want := range []string{
		"\n# TYPE go_goroutines gauge\ngo_goroutines ",
		"\n# TYPE go_memstats_heap_alloc_bytes gauge\n",
		"\n# TYPE process_cpu_seconds_total counter\n",
		"\n" + `ride_dispatch_trips_recorded_total{status="waiting"} 1` + "\n",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("GET /metrics has no %q; it served:\n%s", want, body)
		}
	}
}

// Each Metrics has its own registry: what one counts, another does not
// serve, and making a second one does not collide with the first.
func TestEachMetricsHasItsOwnCounts(t *testing.T) {
	counted, other := metrics.New(), metrics.New()
	counted.EventHandled("trip-created", "SUCCESS")
	counted.DeadLetterStored("trip-created")
	counted.TripRecorded("not_found")
	if err := testutil.ScrapeAndCompare(serve(t, other), strings.NewReader(""), serviceMetrics...); err != nil {
		t.Errorf("the other Metrics: %v", err)
	}
}
