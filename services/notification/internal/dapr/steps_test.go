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

	"github.com/dapr/go-sdk/service/common"
	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/notification/internal/app"
	"github.com/ride-choreography/services/notification/internal/contracttest"
	"github.com/ride-choreography/services/notification/internal/dapr"
)

// stepBody is the data of the topic's example CloudEvent in contracts/:
// what an orchestrator sends the step standing for the event.
func stepBody(tb testing.TB, topic string) []byte {
	tb.Helper()
	var ce struct{ Data json.RawMessage }
	if err := json.Unmarshal(contracttest.Example(tb, topic), &ce); err != nil {
		tb.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, ce.Data); err != nil {
		tb.Fatal(err)
	}
	return compact.Bytes()
}

// invoke calls a step with body, as daprd forwards an invocation.
func invoke(handler http.Handler, route string, body []byte) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, httptest.NewRequest(http.MethodPost, route, strings.NewReader(string(body))))
	return w
}

// Each step takes the data of the event it stands for (the contract
// examples' data) and runs the same use case as the event's subscription.
func TestStepsRunTheUseCases(t *testing.T) {
	const tripID, riderID = "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10", "rider-42"
	rec := &recorder{}
	steps := dapr.NewSteps(zerolog.Nop(), rec)
	tests := []struct {
		route, topic string
		handler      http.Handler
		want         any
	}{
		{dapr.RouteStepTripReceived, "trip-created", steps.TripReceived(), app.TripCreated{TripID: tripID, RiderID: riderID}},
		{dapr.RouteStepDriverAssigned, "driver-assigned", steps.DriverAssigned(), app.DriverAssigned{TripID: tripID, RiderID: riderID, Driver: jarda, ETA: 240 * time.Second}},
		{dapr.RouteStepNoDriver, "driver-not-found", steps.NoDriver(), app.DriverNotFound{TripID: tripID, RiderID: riderID}},
	}
	var want []call
	for _, tt := range tests {
		if w := invoke(tt.handler, tt.route, stepBody(t, tt.topic)); w.Code != http.StatusNoContent {
			t.Errorf("%s: status %d, want 204: %s", tt.route, w.Code, w.Body)
		}
		want = append(want, call{Event: tt.want})
	}
	if diff := cmp.Diff(want, rec.calls); diff != "" {
		t.Errorf("use case calls (-want +got):\n%s", diff)
	}
}

func TestStepsRefuseBadBodies(t *testing.T) {
	rec := &recorder{}
	steps := dapr.NewSteps(zerolog.Nop(), rec)
	valid := string(stepBody(t, "trip-created"))
	for name, body := range map[string]string{
		"not JSON":                 "{",
		"empty":                    "",
		"a driver-assigned body":   string(stepBody(t, "driver-assigned")),
		"missing riderId":          strings.Replace(valid, `"riderId":"rider-42",`, ``, 1),
		"larger than 64 KiB":       strings.Replace(valid, `"rider-42"`, `"`+strings.Repeat("r", 64<<10)+`"`, 1),
		"a CloudEvent, not a body": `{"specversion":"1.0","id":"x","data":` + valid + `}`,
	} {
		t.Run(name, func(t *testing.T) {
			want := http.StatusBadRequest
			if len(body) > 64<<10 {
				want = http.StatusRequestEntityTooLarge
			}
			w := invoke(steps.TripReceived(), dapr.RouteStepTripReceived, []byte(body))
			if w.Code != want || w.Header().Get("Content-Type") != "application/problem+json" {
				t.Errorf("status %d %s, want %d problem+json: %s", w.Code, w.Header().Get("Content-Type"), want, w.Body)
			}
		})
	}
	if len(rec.calls) != 0 {
		t.Errorf("refused calls reached the use case: %+v", rec.calls)
	}
}

func TestStepThatCannotBeDoneAsksToRetry(t *testing.T) {
	rec := &recorder{err: errors.New("state store unavailable")}
	w := invoke(dapr.NewSteps(zerolog.Nop(), rec).TripReceived(), dapr.RouteStepTripReceived, stepBody(t, "trip-created"))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
		t.Errorf("status %d, Retry-After %q; want 503 with Retry-After 1", w.Code, w.Header().Get("Retry-After"))
	}
	if strings.Contains(w.Body.String(), "state store unavailable") {
		t.Errorf("the answer shows the service's internals: %s", w.Body)
	}
}

// The reason code of driver-not-found, event or step, decides what the
// rider is told: no_driver_near that no driver is near, anything else
// (no_driver_free, or none, as before the code existed) that none is free.
func TestReasonCodeSaysWhetherNoDriverIsNear(t *testing.T) {
	const tripID, riderID = "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10", "rider-42"
	const code = `"reasonCode": "no_driver_free",`
	for name, tt := range map[string]struct {
		replacement string
		near        bool
	}{
		"no_driver_near":     {`"reasonCode": "no_driver_near",`, true},
		"no_driver_free":     {code, false},
		"no code, as of old": {``, false},
	} {
		t.Run(name, func(t *testing.T) {
			want := []call{{Event: app.DriverNotFound{TripID: tripID, RiderID: riderID, NoneNear: tt.near}, TraceID: traceID}}
			event := exampleWith(t, "driver-not-found", code, tt.replacement)

			s, rec, _ := newSubscriber()
			if got := deliver(t, s, "driver-not-found", event); got != common.SubscriptionResponseStatusSuccess {
				t.Fatalf("event: status %s, want SUCCESS", got)
			}
			if diff := cmp.Diff(want, rec.calls); diff != "" {
				t.Errorf("event: use case calls (-want +got):\n%s", diff)
			}

			rec = &recorder{}
			if w := invoke(dapr.NewSteps(zerolog.Nop(), rec).NoDriver(), dapr.RouteStepNoDriver, stepData(t, event)); w.Code != http.StatusNoContent {
				t.Fatalf("step: status %d, want 204: %s", w.Code, w.Body)
			}
			want[0].TraceID = ""
			if diff := cmp.Diff(want, rec.calls); diff != "" {
				t.Errorf("step: use case calls (-want +got):\n%s", diff)
			}
		})
	}
}

// stepData is the data of the CloudEvent event, as an orchestrator sends it
// to the step standing for the event.
func stepData(tb testing.TB, event []byte) []byte {
	tb.Helper()
	var ce struct{ Data json.RawMessage }
	if err := json.Unmarshal(event, &ce); err != nil {
		tb.Fatal(err)
	}
	return ce.Data
}

// brokenBody is a request body whose reading fails, as when the caller
// is cut off or too slow for the server's ReadTimeout.
type brokenBody struct{}

func (brokenBody) Read([]byte) (int, error) {
	return 0, errors.New("read tcp 127.0.0.1:8082->127.0.0.1:40112: i/o timeout")
}

// A body over 64 KiB is a 413 that says the limit; one that cannot be read
// is a 400 that does not repeat the error (addresses, Go's words), which
// the log keeps.
func TestStepBodyLimits(t *testing.T) {
	steps := dapr.NewSteps(zerolog.Nop(), &recorder{})
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
			steps.NoDriver().ServeHTTP(w, httptest.NewRequest(http.MethodPost, dapr.RouteStepNoDriver, tt.body))
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
