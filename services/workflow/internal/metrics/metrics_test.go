package metrics

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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

// TestEachMethodMovesItsSeries: each method moves its own series by one,
// and no other.
func TestEachMethodMovesItsSeries(t *testing.T) {
	tests := []struct {
		name  string
		count func(*Metrics)
		want  map[string]float64
	}{
		{
			name:  "TripOrdered",
			count: (*Metrics).TripOrdered,
			want:  map[string]float64{`ride_trips_ordered_total`: 1},
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
