package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/backlog/internal/streams"
)

// fakeGroups answers each read with the next of its answers (the last one
// again once they run out) and records each read.
type fakeGroups struct {
	mu      sync.Mutex
	answers []answer
	reads   int
}

type answer struct {
	groups []streams.Group
	err    error
	block  bool // wait for the read's context to end, and return its error
}

func (f *fakeGroups) Groups(ctx context.Context) ([]streams.Group, error) {
	f.mu.Lock()
	a := f.answers[min(f.reads, len(f.answers)-1)]
	f.reads++
	f.mu.Unlock()
	if a.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return a.groups, a.err
}

// scrape returns the status and the ride_backlog_ lines of GET /metrics.
func scrape(t *testing.T, m *Metrics) (int, []string) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	var lines []string
	for line := range strings.Lines(rec.Body.String()) {
		if strings.HasPrefix(line, "ride_backlog_") {
			lines = append(lines, strings.TrimSuffix(line, "\n"))
		}
	}
	return rec.Code, lines
}

// logLines returns the level and message of each JSON log line.
func logLines(t *testing.T, logs *bytes.Buffer) []string {
	t.Helper()
	var out []string
	dec := json.NewDecoder(logs)
	for {
		var entry map[string]any
		if err := dec.Decode(&entry); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatalf("log is not JSON lines: %v", err)
		}
		out = append(out, entry["level"].(string)+" "+entry["message"].(string))
	}
}

func TestScrapeServesWhatTheBrokerHolds(t *testing.T) {
	tests := []struct {
		name     string
		answer   answer
		want     []string
		wantLogs []string
	}{
		{
			name: "every group of every topic",
			answer: answer{groups: []streams.Group{
				{Topic: "trip-created", App: "driver", Lag: 7, Pending: 3},
				{Topic: "trip-created", App: "notification", Lag: 0, Pending: 0},
				{Topic: "driver-assigned", App: "trip", Lag: 1, Pending: 64},
			}},
			want: []string{
				`ride_backlog_lag{app="driver",topic="trip-created"} 7`,
				`ride_backlog_lag{app="notification",topic="trip-created"} 0`,
				`ride_backlog_lag{app="trip",topic="driver-assigned"} 1`,
				`ride_backlog_pending{app="driver",topic="trip-created"} 3`,
				`ride_backlog_pending{app="notification",topic="trip-created"} 0`,
				`ride_backlog_pending{app="trip",topic="driver-assigned"} 64`,
				`ride_backlog_up 1`,
			},
		},
		{
			name:   "no groups yet",
			answer: answer{},
			want:   []string{`ride_backlog_up 1`},
		},
		{
			name: "lag unknown: pending only, and a warning",
			answer: answer{groups: []streams.Group{
				{Topic: "trip-created", App: "driver", Lag: streams.UnknownLag, Pending: 2},
				{Topic: "trip-created", App: "trip", Lag: 4},
			}},
			want: []string{
				`ride_backlog_lag{app="trip",topic="trip-created"} 4`,
				`ride_backlog_pending{app="driver",topic="trip-created"} 2`,
				`ride_backlog_pending{app="trip",topic="trip-created"} 0`,
				`ride_backlog_up 1`,
			},
			wantLogs: []string{"warn lag unknown: entries were deleted from the stream ahead of the group"},
		},
		{
			name:     "broker not read: up 0, no backlog, the error logged",
			answer:   answer{err: errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")},
			want:     []string{`ride_backlog_up 0`},
			wantLogs: []string{"error backlog not read"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			m := New(zerolog.New(&logs), &fakeGroups{answers: []answer{tt.answer}}, time.Second)

			status, got := scrape(t, m)

			if status != http.StatusOK {
				t.Errorf("GET /metrics = %d, want 200", status)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("served series mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLogs, logLines(t, &logs)); diff != "" {
				t.Errorf("logs mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEveryScrapeReadsAgain: the figures are the broker's at each scrape,
// and a broker back after an outage is read again.
func TestEveryScrapeReadsAgain(t *testing.T) {
	fake := &fakeGroups{answers: []answer{
		{groups: []streams.Group{{Topic: "trip-created", App: "driver", Lag: 5}}},
		{err: errors.New("connection refused")},
		{groups: []streams.Group{{Topic: "trip-created", App: "driver", Lag: 0, Pending: 2}}},
	}}
	m := New(zerolog.Nop(), fake, time.Second)
	want := [][]string{
		{`ride_backlog_lag{app="driver",topic="trip-created"} 5`, `ride_backlog_pending{app="driver",topic="trip-created"} 0`, `ride_backlog_up 1`},
		{`ride_backlog_up 0`},
		{`ride_backlog_lag{app="driver",topic="trip-created"} 0`, `ride_backlog_pending{app="driver",topic="trip-created"} 2`, `ride_backlog_up 1`},
	}

	for i, w := range want {
		_, got := scrape(t, m)
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("scrape %d mismatch (-want +got):\n%s", i+1, diff)
		}
	}
	if fake.reads != len(want) {
		t.Errorf("%d scrapes read the broker %d times, want once each", len(want), fake.reads)
	}
}

// TestScrapeGivesUpAfterTimeout: a broker that does not answer makes the
// scrape answer up 0 once the timeout has passed, not hang.
func TestScrapeGivesUpAfterTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	m := New(zerolog.Nop(), &fakeGroups{answers: []answer{{block: true}}}, timeout)
	start := time.Now()

	status, got := scrape(t, m)

	took := time.Since(start)
	if status != http.StatusOK || !cmp.Equal(got, []string{`ride_backlog_up 0`}) {
		t.Errorf("GET /metrics = %d %v, want 200 with ride_backlog_up 0", status, got)
	}
	if took < timeout || took > 5*time.Second {
		t.Errorf("the scrape took %s, want the timeout of %s and little more", took, timeout)
	}
}

// TestHandlerServesTextFormat scrapes as Prometheus does: the text format,
// the gauges described, beside the Go runtime's and the process's metrics.
func TestHandlerServesTextFormat(t *testing.T) {
	m := New(zerolog.Nop(), &fakeGroups{answers: []answer{{groups: []streams.Group{{Topic: "trip-created", App: "driver", Lag: 1}}}}}, time.Second)
	rec := httptest.NewRecorder()

	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))

	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q, want the Prometheus text format 0.0.4", ct)
	}
	for _, want := range []string{
		"# TYPE ride_backlog_lag gauge\n",
		"# TYPE ride_backlog_pending gauge\n",
		"# TYPE ride_backlog_up gauge\n",
		"# HELP ride_backlog_lag Events on the topic not yet delivered",
		"# TYPE go_goroutines gauge\ngo_goroutines ",
		"# TYPE process_start_time_seconds gauge\n",
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("served text lacks %q:\n%s", want, rec.Body.String())
		}
	}
}

// TestNamesFollowPrometheusConventions lints the metrics as promtool does.
func TestNamesFollowPrometheusConventions(t *testing.T) {
	m := New(zerolog.Nop(), &fakeGroups{answers: []answer{{groups: []streams.Group{{Topic: "trip-created", App: "driver", Lag: 1}}}}}, time.Second)

	problems, err := testutil.GatherAndLint(m.registry, "ride_backlog_lag", "ride_backlog_pending", "ride_backlog_up")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}
