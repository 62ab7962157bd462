package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// serviceMetrics are the names of the service's own metrics.
var serviceMetrics = []string{"ride_events_handled_total", "ride_dead_letters_total", "ride_assignments_total", "ride_assignment_seconds"}

// scrape returns the text m's Handler serves, with its Content-Type.
func scrape(t *testing.T, m *Metrics) (body, contentType string) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d, want 200", rec.Code)
	}
	b, err := io.ReadAll(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), rec.Header().Get("Content-Type")
}

// moved returns the samples of the service's own metrics that m serves,
// leaving out those at zero but for the histogram's sum and count.
func moved(t *testing.T, m *Metrics) []string {
	t.Helper()
	body, _ := scrape(t, m)
	var out []string
	for line := range strings.Lines(body) {
		line = strings.TrimSuffix(line, "\n")
		if !strings.HasPrefix(line, "ride_") {
			continue
		}
		name := line[:strings.IndexAny(line, "{ ")]
		if strings.HasSuffix(line, " 0") && !strings.HasSuffix(name, "_sum") && !strings.HasSuffix(name, "_count") {
			continue
		}
		out = append(out, line)
	}
	return out
}

// TestEachMethodMovesItsSeriesByOne calls each method once on new metrics
// and reads what the Handler then serves: the method's series, and only
// it, moved by one.
func TestEachMethodMovesItsSeriesByOne(t *testing.T) {
	// untouched returns what is served when only the counters given moved:
	// the histogram's zero sum and count come first, as the text lists the
	// metrics by name.
	untouched := func(counters ...string) []string {
		return append([]string{"ride_assignment_seconds_sum 0", "ride_assignment_seconds_count 0"}, counters...)
	}
	tests := []struct {
		name string
		call func(m *Metrics)
		want []string
	}{
		{
			name: "nothing yet",
			call: func(*Metrics) {},
			want: untouched(),
		},
		{
			name: "event handled",
			call: func(m *Metrics) { m.EventHandled("trip-created", "SUCCESS") },
			want: untouched(`ride_events_handled_total{outcome="SUCCESS",topic="trip-created"} 1`),
		},
		{
			name: "event to be retried",
			call: func(m *Metrics) { m.EventHandled("trip-created", "RETRY") },
			want: untouched(`ride_events_handled_total{outcome="RETRY",topic="trip-created"} 1`),
		},
		{
			name: "event dropped",
			call: func(m *Metrics) { m.EventHandled("trip-created", "DROP") },
			want: untouched(`ride_events_handled_total{outcome="DROP",topic="trip-created"} 1`),
		},
		{
			name: "dead letter handled",
			call: func(m *Metrics) { m.EventHandled("driver-dead-letters", "SUCCESS") },
			want: untouched(`ride_events_handled_total{outcome="SUCCESS",topic="driver-dead-letters"} 1`),
		},
		{
			name: "dead letter stored",
			call: func(m *Metrics) { m.DeadLetterStored("trip-created") },
			want: untouched(`ride_dead_letters_total{topic="trip-created"} 1`),
		},
		{
			name: "driver assigned after 1.5 s",
			call: func(m *Metrics) { m.AssignmentRecorded("driver_assigned", 1500*time.Millisecond) },
			want: []string{
				`ride_assignment_seconds_bucket{le="2.56"} 1`,
				`ride_assignment_seconds_bucket{le="5.12"} 1`,
				`ride_assignment_seconds_bucket{le="10.24"} 1`,
				`ride_assignment_seconds_bucket{le="20.48"} 1`,
				`ride_assignment_seconds_bucket{le="40.96"} 1`,
				`ride_assignment_seconds_bucket{le="+Inf"} 1`,
				`ride_assignment_seconds_sum 1.5`,
				`ride_assignment_seconds_count 1`,
				`ride_assignments_total{outcome="driver_assigned"} 1`,
			},
		},
		{
			name: "no driver after a minute",
			call: func(m *Metrics) { m.AssignmentRecorded("no_driver", time.Minute) },
			want: []string{
				`ride_assignment_seconds_bucket{le="+Inf"} 1`,
				`ride_assignment_seconds_sum 60`,
				`ride_assignment_seconds_count 1`,
				`ride_assignments_total{outcome="no_driver"} 1`,
			},
		},
		{
			name: "driver assigned before requested, by another host's clock",
			call: func(m *Metrics) { m.AssignmentRecorded("driver_assigned", -2*time.Second) },
			want: []string{
				`ride_assignment_seconds_bucket{le="0.005"} 1`,
				`ride_assignment_seconds_bucket{le="0.01"} 1`,
				`ride_assignment_seconds_bucket{le="0.02"} 1`,
				`ride_assignment_seconds_bucket{le="0.04"} 1`,
				`ride_assignment_seconds_bucket{le="0.08"} 1`,
				`ride_assignment_seconds_bucket{le="0.16"} 1`,
				`ride_assignment_seconds_bucket{le="0.32"} 1`,
				`ride_assignment_seconds_bucket{le="0.64"} 1`,
				`ride_assignment_seconds_bucket{le="1.28"} 1`,
				`ride_assignment_seconds_bucket{le="2.56"} 1`,
				`ride_assignment_seconds_bucket{le="5.12"} 1`,
				`ride_assignment_seconds_bucket{le="10.24"} 1`,
				`ride_assignment_seconds_bucket{le="20.48"} 1`,
				`ride_assignment_seconds_bucket{le="40.96"} 1`,
				`ride_assignment_seconds_bucket{le="+Inf"} 1`,
				`ride_assignment_seconds_sum 0`,
				`ride_assignment_seconds_count 1`,
				`ride_assignments_total{outcome="driver_assigned"} 1`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()

			tt.call(m)

			if diff := cmp.Diff(tt.want, moved(t, m)); diff != "" {
				t.Errorf("served samples mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCountsAddUp: every call adds one to its series, whatever was counted
// before, and a new label value makes a new series.
func TestCountsAddUp(t *testing.T) {
	m := New()

	for range 3 {
		m.EventHandled("trip-created", "SUCCESS")
	}
	m.EventHandled("trip-created", "RETRY")
	m.DeadLetterStored("trip-created")
	m.DeadLetterStored("trip-created")
	m.DeadLetterStored("")
	m.AssignmentRecorded("driver_assigned", time.Second)
	m.AssignmentRecorded("driver_assigned", 2*time.Second)
	m.AssignmentRecorded("no_driver", time.Minute)

	counters := []struct {
		name string
		got  float64
		want float64
	}{
		{name: "trip-created SUCCESS", got: testutil.ToFloat64(m.eventsHandled.WithLabelValues("trip-created", "SUCCESS")), want: 3},
		{name: "trip-created RETRY", got: testutil.ToFloat64(m.eventsHandled.WithLabelValues("trip-created", "RETRY")), want: 1},
		{name: "dead letters of trip-created", got: testutil.ToFloat64(m.deadLetters.WithLabelValues("trip-created")), want: 2},
		{name: "dead letters of no topic", got: testutil.ToFloat64(m.deadLetters.WithLabelValues("")), want: 1},
		{name: "driver_assigned", got: testutil.ToFloat64(m.assignments.WithLabelValues("driver_assigned")), want: 2},
		{name: "no_driver", got: testutil.ToFloat64(m.assignments.WithLabelValues("no_driver")), want: 1},
	}
	for _, c := range counters {
		if c.got != c.want {
			t.Errorf("%s = %g, want %g", c.name, c.got, c.want)
		}
	}
	series := []struct {
		name string
		got  int
		want int
	}{
		{name: "ride_events_handled_total", got: testutil.CollectAndCount(m.eventsHandled), want: 2},
		{name: "ride_dead_letters_total", got: testutil.CollectAndCount(m.deadLetters), want: 2},
		{name: "ride_assignments_total", got: testutil.CollectAndCount(m.assignments), want: 2},
		{name: "ride_assignment_seconds", got: testutil.CollectAndCount(m.assignmentSeconds), want: 1},
	}
	for _, s := range series {
		if s.got != s.want {
			t.Errorf("%s has %d series, want %d", s.name, s.got, s.want)
		}
	}
	want := []string{"ride_assignment_seconds_sum 63", "ride_assignment_seconds_count 3"}
	var got []string
	for _, line := range moved(t, m) {
		if strings.HasPrefix(line, "ride_assignment_seconds_sum") || strings.HasPrefix(line, "ride_assignment_seconds_count") {
			got = append(got, line)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("histogram mismatch (-want +got):\n%s", diff)
	}
}

// TestHandlerServesTextFormat scrapes the Handler as Prometheus does: the
// text format, the Go runtime's metrics and the process's beside the
// service's, each described.
func TestHandlerServesTextFormat(t *testing.T) {
	m := New()
	m.EventHandled("trip-created", "SUCCESS")
	m.DeadLetterStored("trip-created")
	m.AssignmentRecorded("driver_assigned", time.Second)

	body, contentType := scrape(t, m)

	if !strings.HasPrefix(contentType, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q, want the Prometheus text format 0.0.4", contentType)
	}
	for _, want := range []string{
		"# TYPE go_goroutines gauge\ngo_goroutines ",
		"# TYPE go_gc_duration_seconds summary\n",
		"# TYPE go_memstats_heap_alloc_bytes gauge\n",
		"# TYPE process_start_time_seconds gauge\n",
		"# TYPE ride_events_handled_total counter\n",
		"# TYPE ride_dead_letters_total counter\n",
		"# TYPE ride_assignments_total counter\n",
		"# TYPE ride_assignment_seconds histogram\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("served text lacks %q:\n%s", want, body)
		}
	}
}

// TestNamesFollowPrometheusConventions lints the service's metrics as
// promtool does.
func TestNamesFollowPrometheusConventions(t *testing.T) {
	m := New()
	m.EventHandled("trip-created", "SUCCESS")
	m.DeadLetterStored("trip-created")
	m.AssignmentRecorded("driver_assigned", time.Second)

	problems, err := testutil.GatherAndLint(m.registry, serviceMetrics...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// TestNewMetricsStartAtZero: two instances count apart (neither uses the
// global registry), so every test and every service starts from zero.
func TestNewMetricsStartAtZero(t *testing.T) {
	first, second := New(), New()

	first.EventHandled("trip-created", "SUCCESS")

	if got := testutil.ToFloat64(second.eventsHandled.WithLabelValues("trip-created", "SUCCESS")); got != 0 {
		t.Errorf("second instance counted %g, want 0", got)
	}
}
