package metrics

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// served returns the service's own series (ride_*) that Handler serves
// with a value other than zero, by name and labels, as Prometheus reads
// them.
func served(t *testing.T, m *Metrics) map[string]float64 {
	t.Helper()
	series := map[string]float64{}
	for line := range strings.Lines(get(t, m.Handler()).Body.String()) {
		if !strings.HasPrefix(line, "ride_") {
			continue
		}
		name, value, ok := strings.Cut(strings.TrimSpace(line), " ")
		v, err := strconv.ParseFloat(value, 64)
		if !ok || err != nil {
			t.Fatalf("served line %q is not a series and its value", line)
		}
		if v != 0 {
			series[name] = v
		}
	}
	return series
}

func get(t *testing.T, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d, want 200; body %s", rec.Code, rec.Body)
	}
	return rec
}

// The buckets of ride_trip_assignment_seconds that hold a wait of 1.5 s:
// every one from 2.56 s up (cumulative counts), +Inf included.
var bucketsFrom2560ms = map[string]float64{
	`ride_trip_assignment_seconds_bucket{le="2.56"}`:  1,
	`ride_trip_assignment_seconds_bucket{le="5.12"}`:  1,
	`ride_trip_assignment_seconds_bucket{le="10.24"}`: 1,
	`ride_trip_assignment_seconds_bucket{le="20.48"}`: 1,
	`ride_trip_assignment_seconds_bucket{le="40.96"}`: 1,
	`ride_trip_assignment_seconds_bucket{le="+Inf"}`:  1,
}

// TestEachMethodMovesItsSeries: each method moves its own series by one,
// and no other.
func TestEachMethodMovesItsSeries(t *testing.T) {
	with := func(series map[string]float64, more map[string]float64) map[string]float64 {
		all := map[string]float64{}
		for _, m := range []map[string]float64{series, more} {
			for k, v := range m {
				all[k] = v
			}
		}
		return all
	}
	tests := []struct {
		name  string
		count func(*Metrics)
		want  map[string]float64
	}{
		{
			name:  "TripAbandoned",
			count: func(m *Metrics) { m.TripAbandoned("assign-driver") },
			want:  map[string]float64{`ride_trips_abandoned_total{step="assign-driver"}`: 1},
		},
		{
			name:  "TripOrdered",
			count: (*Metrics).TripOrdered,
			want:  map[string]float64{`ride_trips_ordered_total`: 1},
		},
		{
			name:  "TripAssigned",
			count: func(m *Metrics) { m.TripAssigned(1500 * time.Millisecond) },
			want: with(bucketsFrom2560ms, map[string]float64{
				`ride_trips_assigned_total`:          1,
				`ride_trip_assignment_seconds_sum`:   1.5,
				`ride_trip_assignment_seconds_count`: 1,
			}),
		},
		{
			name:  "TripNoDriver",
			count: (*Metrics).TripNoDriver,
			want:  map[string]float64{`ride_trips_no_driver_total`: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			if got := served(t, m); len(got) != 0 {
				t.Fatalf("a new Metrics serves %v, want every series at zero", got)
			}
			tt.count(m)
			if diff := cmp.Diff(tt.want, served(t, m)); diff != "" {
				t.Errorf("series after one %s (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

// TestLabels: each step is a series of its own.
func TestLabels(t *testing.T) {
	m := New()
	m.TripAbandoned("assign-driver")
	m.TripAbandoned("assign-driver")
	m.TripAbandoned("trip-received")
	if got := testutil.CollectAndCount(m.tripsAbandoned); got != 2 {
		t.Errorf("ride_trips_abandoned_total has %d series, want 2", got)
	}
	if got := testutil.ToFloat64(m.tripsAbandoned.WithLabelValues("assign-driver")); got != 2 {
		t.Errorf(`ride_trips_abandoned_total{step="assign-driver"} = %v, want 2`, got)
	}
}

// TestAssignmentBuckets: the histogram's buckets run from 5 ms, doubling,
// to about 41 s, and a negative wait (clocks that disagree) counts as none.
func TestAssignmentBuckets(t *testing.T) {
	m := New()
	m.TripAssigned(-2 * time.Second)
	m.TripAssigned(5 * time.Millisecond)
	m.TripAssigned(time.Minute)
	want := map[string]float64{
		`ride_trips_assigned_total`:                      3,
		`ride_trip_assignment_seconds_sum`:               60.005,
		`ride_trip_assignment_seconds_count`:             3,
		`ride_trip_assignment_seconds_bucket{le="+Inf"}`: 3,
	}
	for _, le := range []string{"0.005", "0.01", "0.02", "0.04", "0.08", "0.16", "0.32", "0.64", "1.28", "2.56", "5.12", "10.24", "20.48", "40.96"} {
		want[`ride_trip_assignment_seconds_bucket{le="`+le+`"}`] = 2 // -2 s as 0, and 5 ms
	}
	if diff := cmp.Diff(want, served(t, m)); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
}

// TestHandler: the handler serves the Prometheus text format, the Go
// runtime and process metrics beside the service's, from a registry of
// each Metrics' own.
func TestHandler(t *testing.T) {
	m := New()
	m.TripOrdered()
	rec := get(t, m.Handler())
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q, want the Prometheus text format", ct)
	}
	body := rec.Body.String()
	for _, want := range []string{
		"# TYPE go_goroutines gauge\n",
		"# TYPE go_memstats_heap_alloc_bytes gauge\n",
		"# TYPE process_cpu_seconds_total counter\n",
		"# TYPE ride_trips_ordered_total counter\nride_trips_ordered_total 1\n",
		"# TYPE ride_trips_assigned_total counter\nride_trips_assigned_total 0\n",
		"# TYPE ride_trips_no_driver_total counter\nride_trips_no_driver_total 0\n",
		"# TYPE ride_trip_assignment_seconds histogram\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /metrics lacks %q", want)
		}
	}
	if got := served(t, New()); len(got) != 0 {
		t.Errorf("another Metrics serves %v, want nothing counted: each has its own registry", got)
	}
	if t.Failed() {
		t.Logf("served:\n%s", body)
	}
}
