package dapr_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/orchestrator/internal/app"
	"github.com/ride-choreography/services/orchestrator/internal/contracttest"
	"github.com/ride-choreography/services/orchestrator/internal/dapr"
	"github.com/ride-choreography/services/orchestrator/internal/dapr/daprtest"
	"github.com/ride-choreography/services/orchestrator/internal/orchestrator"
)

var requested = orchestrator.Trip{
	ID: "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10", RiderID: "rider-42",
	Pickup: orchestrator.Point{Lat: 50.08, Lon: 14.42}, Dropoff: orchestrator.Point{Lat: 50.1, Lon: 14.26},
	Status: orchestrator.StatusRequested, RequestedAt: time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC),
}

func steps(f *daprtest.Sidecar) *dapr.Steps {
	port := 0
	fmt.Sscan(f.URL.Port(), &port)
	return dapr.NewSteps(dapr.NewSidecar(dapr.SidecarOptions{Host: f.URL.Hostname(), HTTPPort: port, StepTimeout: 2 * time.Second}), "driver", "notification")
}

// The body of the steps about a new trip is trip-created data: the other
// services validate it with that schema.
func TestStepsSendTripCreatedData(t *testing.T) {
	f := daprtest.Start(t, daprtest.DriverAssigned)
	s := steps(f)
	if err := s.TripReceived(t.Context(), requested); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AssignDriver(t.Context(), requested); err != nil {
		t.Fatal(err)
	}
	schema := contracttest.Schema(t, "trip-created")
	for _, body := range f.Bodies() {
		if err := contracttest.Validate(t, schema, []byte(body)); err != nil {
			t.Errorf("body %s: %v", body, err)
		}
	}
	if got := f.Invocations(); len(got) != 2 || got[0] != "notification trip-received" || got[1] != "driver assign-driver" {
		t.Errorf("invocations %v", got)
	}
}

// The driver's answer carries the events of the contracts: the
// orchestrator reads their examples' data into the outcome, and passes the
// event on to the notification step as it came.
func TestAssignDriverReadsTheContractsEvents(t *testing.T) {
	for _, topic := range []string{"driver-assigned", "driver-not-found"} {
		t.Run(topic, func(t *testing.T) {
			var ce struct{ Data json.RawMessage }
			if err := json.Unmarshal(contracttest.Example(t, topic), &ce); err != nil {
				t.Fatal(err)
			}
			answer, _ := json.Marshal(map[string]any{"topic": topic, "event": ce.Data})
			f := daprtest.Start(t, string(answer))
			o, err := steps(f).AssignDriver(t.Context(), requested)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case topic == "driver-assigned" && (o.Driver == nil || o.Driver.Name != "Jarda" || o.ETASeconds <= 0 || o.DecidedAt.IsZero()):
				t.Errorf("outcome %+v, want Jarda with an ETA and the time assigned", o)
			case topic == "driver-not-found" && (o.Driver != nil || o.Reason == "" || o.DecidedAt.IsZero()):
				t.Errorf("outcome %+v, want no driver, with a reason and the time decided", o)
			}
			if !cmp.Equal(decoded(t, o.Event), decoded(t, ce.Data)) {
				t.Errorf("event passed on %s, want the answer's %s", o.Event, ce.Data)
			}
		})
	}
}

func decoded(t *testing.T, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return v
}

// A step that may succeed later (5xx, 429, no answer at all) is
// retryable; any other refusal is final.
func TestInvokeTellsRetryableFromFinal(t *testing.T) {
	for _, tt := range []struct {
		status    int
		retryable bool
	}{
		{http.StatusInternalServerError, true},
		{http.StatusServiceUnavailable, true},
		{http.StatusTooManyRequests, true},
		{http.StatusBadRequest, false},
		{http.StatusNotFound, false},
	} {
		f := daprtest.Start(t, daprtest.DriverAssigned)
		f.AnswerEveryStep(tt.status)
		err := steps(f).TripReceived(t.Context(), requested)
		if err == nil || errors.Is(err, app.ErrRetryable) != tt.retryable {
			t.Errorf("answer %d: error %v, want retryable %v", tt.status, err, tt.retryable)
		}
	}
	unreachable := dapr.NewSteps(dapr.NewSidecar(dapr.SidecarOptions{Host: "127.0.0.1", HTTPPort: 1, StepTimeout: time.Second}), "driver", "notification")
	if err := unreachable.TripReceived(t.Context(), requested); !errors.Is(err, app.ErrRetryable) {
		t.Errorf("no sidecar: error %v, want retryable", err)
	}
}

// The driver's answer is read only once its topic's schema accepts its
// event: one that breaks the contract is refused, finally (a retry gets
// the same answer), and nobody is told a made-up driver.
func TestAssignDriverRefusesAnAnswerItsSchemaRefuses(t *testing.T) {
	forged := `{"topic":"driver-assigned","event":{"tripId":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10","riderId":"rider-42",` +
		`"driver":{"id":"mallory","name":"","car":{"make":"Lada","model":"Niva","color":"black","plate":"6MA 6666"}},"etaSeconds":-5,"assignedAt":"yesterday"}}`
	f := daprtest.Start(t, forged)
	o, err := steps(f).AssignDriver(t.Context(), requested)
	if err == nil || !strings.Contains(err.Error(), "invalid event: driver-assigned") || errors.Is(err, app.ErrRetryable) {
		t.Errorf("AssignDriver() = %+v, %v; want a final error naming the invalid driver-assigned", o, err)
	}
}
