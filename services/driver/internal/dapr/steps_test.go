package dapr_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/dapr"
	"github.com/ride-choreography/services/driver/internal/driver"
	"github.com/ride-choreography/services/driver/internal/testkit"
)

// stepHarness serves the steps over the same fake store as the
// subscriptions' harness.
type stepHarness struct {
	store     *testkit.Store
	publisher *testkit.Publisher
	steps     *dapr.Steps
}

func newStepHarness(now time.Time, drivers ...driver.Driver) *stepHarness {
	h := &stepHarness{store: testkit.NewStore(drivers...), publisher: &testkit.Publisher{}}
	service := app.NewService(h.store, h.publisher, &testkit.Metrics{}, driver.DefaultPool(), timing, func() time.Time { return now })
	h.steps = dapr.NewSteps(zerolog.Nop(), service)
	return h
}

// call invokes the assign-driver step with body, as daprd forwards an
// invocation.
func (h *stepHarness) call(t *testing.T, body string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.steps.AssignDriver().ServeHTTP(w, httptest.NewRequest(http.MethodPost, dapr.RouteAssignDriver, strings.NewReader(body)))
	return w
}

// onTrips returns "driver: trip" for every driver of the default pool on
// a trip.
func (h *stepHarness) onTrips(t *testing.T) []string {
	t.Helper()
	var ids []string
	for _, d := range driver.DefaultPool() {
		ids = append(ids, d.ID)
	}
	stored, err := h.store.Drivers(t.Context(), ids)
	if err != nil {
		t.Fatal(err)
	}
	var busy []string
	for _, sd := range stored {
		if sd.Driver.TripID != "" {
			busy = append(busy, sd.Driver.ID+": "+sd.Driver.TripID)
		}
	}
	return busy
}

type stepAnswer struct {
	Topic string         `json:"topic"`
	Event map[string]any `json:"event"`
}

func TestAssignDriverStepAnswersTheOutcomeWithoutPublishing(t *testing.T) {
	h := newStepHarness(requestedAt.Add(time.Second), driver.DefaultPool()...)

	w := h.call(t, validData)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d %s, want 200 application/json: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	var got stepAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	d, _ := got.Event["driver"].(map[string]any)
	if got.Topic != app.TopicDriverAssigned || got.Event["tripId"] != exampleTrip || got.Event["riderId"] != "rider-42" || d["name"] != "Petra" {
		t.Errorf("answer %+v, want driver-assigned with Petra, the nearest, for trip %s", got, exampleTrip)
	}
	if published := h.publisher.Published(); len(published) != 0 {
		t.Errorf("the step published %+v; an orchestrator tells the rider itself", published)
	}
}

// The trip id is the step's idempotency key: an orchestrator retrying a
// call (or a workflow re-running an activity) gets the same driver, and
// the pool loses no second driver.
func TestAssignDriverStepTwiceTakesOneDriver(t *testing.T) {
	h := newStepHarness(requestedAt.Add(time.Second), driver.DefaultPool()...)
	first, second := h.call(t, validData), h.call(t, validData)
	if first.Code != http.StatusOK || !bytes.Equal(first.Body.Bytes(), second.Body.Bytes()) {
		t.Errorf("second call answered %d %s, want the first answer again: %s", second.Code, second.Body, first.Body)
	}
	if busy := h.onTrips(t); len(busy) != 1 {
		t.Errorf("drivers on a trip after two calls for one trip: %v, want one", busy)
	}
}

func TestAssignDriverStepWithNobodyFreeAsksToRetry(t *testing.T) {
	h := newStepHarness(requestedAt.Add(time.Second), allBusy(t, requestedAt)...)
	w := h.call(t, validData)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("status %d, Retry-After %q, %s; want 503 problem+json with Retry-After 1", w.Code, w.Header().Get("Retry-After"), w.Header().Get("Content-Type"))
	}
	if !strings.Contains(w.Body.String(), "no driver is free yet") {
		t.Errorf("body %s does not say why", w.Body)
	}
}

func TestAssignDriverStepRefusesBadBodies(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":           "{",
		"empty":              "",
		"missing riderId":    strings.Replace(validData, `"riderId":"rider-42",`, ``, 1),
		"tripId not a UUID":  strings.Replace(validData, exampleTrip, "trip-1", 1),
		"larger than 64 KiB": strings.Replace(validData, `"rider-42"`, `"`+strings.Repeat("r", 64<<10)+`"`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			want := http.StatusBadRequest
			if len(body) > 64<<10 {
				want = http.StatusRequestEntityTooLarge
			}
			h := newStepHarness(requestedAt.Add(time.Second), driver.DefaultPool()...)
			w := h.call(t, body)
			if w.Code != want || w.Header().Get("Content-Type") != "application/problem+json" {
				t.Errorf("status %d %s, want %d problem+json: %s", w.Code, w.Header().Get("Content-Type"), want, w.Body)
			}
			if busy := h.onTrips(t); len(busy) != 0 {
				t.Errorf("drivers took trips from a refused call: %v", busy)
			}
		})
	}
}

// A trip with no driver within the maximum pickup distance is answered at
// once, with the outcome and its reason code: a final answer the
// orchestrator passes on, not a 503 it would retry.
func TestAssignDriverStepWithNobodyNearAnswersAtOnce(t *testing.T) {
	store := testkit.NewStore(driver.DefaultPool()...)
	bounded := app.Timing{AssignDeadline: time.Minute, RideDuration: 2 * time.Minute, MaxPickupMeters: 15_000}
	service := app.NewService(store, &testkit.Publisher{}, &testkit.Metrics{}, driver.DefaultPool(), bounded, func() time.Time { return requestedAt.Add(time.Second) })
	h := &stepHarness{store: store, steps: dapr.NewSteps(zerolog.Nop(), service)}
	farAway := strings.Replace(validData, `"pickup":{"lat":50.08,"lon":14.42}`, `"pickup":{"lat":50.08,"lon":16.25}`, 1)

	w := h.call(t, farAway)

	if w.Code != http.StatusOK {
		t.Fatalf("status %d %s, want 200 and the outcome", w.Code, w.Body)
	}
	var got stepAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Topic != app.TopicDriverNotFound || got.Event["reasonCode"] != "no_driver_near" || got.Event["reason"] != "no driver within 15 km of the pickup" {
		t.Errorf("answer %+v, want driver-not-found with reasonCode no_driver_near", got)
	}
	if busy := h.onTrips(t); len(busy) != 0 {
		t.Errorf("drivers on a trip: %v, want none", busy)
	}
}

// brokenBody is a request body whose reading fails, as when the caller
// is cut off or too slow for the server's ReadTimeout.
type brokenBody struct{}

func (brokenBody) Read([]byte) (int, error) {
	return 0, errors.New("read tcp 127.0.0.1:8081->127.0.0.1:40112: i/o timeout")
}

// A body over 64 KiB is a 413 that says the limit; one that cannot be read
// is a 400 that does not repeat the error (addresses, Go's words), which
// the log keeps.
func TestAssignDriverStepBodyLimits(t *testing.T) {
	h := newStepHarness(requestedAt.Add(time.Second), driver.DefaultPool()...)
	for name, tt := range map[string]struct {
		body   io.Reader
		status int
		detail string
	}{
		"over 64 KiB":    {strings.NewReader(`{"riderId":"` + strings.Repeat("r", 64<<10) + `"}`), http.StatusRequestEntityTooLarge, "the body must be at most 65536 bytes"},
		"cannot be read": {brokenBody{}, http.StatusBadRequest, "the body could not be read"},
	} {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.steps.AssignDriver().ServeHTTP(w, httptest.NewRequest(http.MethodPost, dapr.RouteAssignDriver, tt.body))
			var p struct {
				Title, Detail string
				Status        int
			}
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("answer %d %s %s: want a problem (%v)", w.Code, w.Header().Get("Content-Type"), w.Body, err)
			}
			if w.Code != tt.status || p.Status != tt.status || p.Detail != tt.detail {
				t.Errorf("answer %d %+v, want %d with detail %q", w.Code, p, tt.status, tt.detail)
			}
		})
	}
}
