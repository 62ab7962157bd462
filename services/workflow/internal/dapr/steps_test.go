package dapr

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ride-choreography/services/workflow/internal/contracttest"
	"github.com/ride-choreography/services/workflow/internal/dapr/daprtest"
)

func stepsOf(f *daprtest.Sidecar) *Steps {
	port := 0
	fmt.Sscan(f.URL.Port(), &port)
	sidecar, err := NewSidecar(SidecarOptions{Host: f.URL.Hostname(), HTTPPort: port, GRPCPort: 1, StepTimeout: 2 * time.Second})
	if err != nil {
		panic(err)
	}
	return NewSteps(sidecar, "driver", "notification")
}

// RequestTrip's activities send trip-created data, which the other
// services validate with that schema, and read the contracts' events in
// the driver's answer.
func TestActivitiesSpeakTheContracts(t *testing.T) {
	f := daprtest.Start(t, daprtest.DriverAssigned)
	s := stepsOf(f)
	if err := s.TripReceived(t.Context(), requested); err != nil {
		t.Fatal(err)
	}
	schema := contracttest.Schema(t, "trip-created")
	for _, body := range f.Bodies() {
		if err := contracttest.Validate(t, schema, []byte(body)); err != nil {
			t.Errorf("body %s: %v", body, err)
		}
	}
	for _, topic := range []string{"driver-assigned", "driver-not-found"} {
		var ce struct{ Data json.RawMessage }
		if err := json.Unmarshal(contracttest.Example(t, topic), &ce); err != nil {
			t.Fatal(err)
		}
		answer, _ := json.Marshal(map[string]any{"topic": topic, "event": ce.Data})
		o, err := stepsOf(daprtest.Start(t, string(answer))).AssignDriver(t.Context(), requested)
		if err != nil {
			t.Fatalf("%s: %v", topic, err)
		}
		if (topic == "driver-assigned") != (o.Driver != nil) || o.DecidedAt.IsZero() || !json.Valid(o.Event) {
			t.Errorf("%s: outcome %+v", topic, o)
		}
	}
}

// Any answer but a 2xx fails the activity, which its retry policy then
// retries.
func TestAStepAnsweredOtherThan2xxFailsTheActivity(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusServiceUnavailable} {
		f := daprtest.Start(t, daprtest.DriverAssigned)
		f.AnswerEveryStep(status)
		if err := stepsOf(f).TripReceived(t.Context(), requested); err == nil {
			t.Errorf("answer %d: no error", status)
		}
	}
}

// The driver's answer is read only once its topic's schema accepts its
// event: one that breaks the contract fails the activity, and nobody is
// told a made-up driver.
func TestAssignDriverRefusesAnAnswerItsSchemaRefuses(t *testing.T) {
	forged := `{"topic":"driver-assigned","event":{"tripId":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10","riderId":"rider-42",` +
		`"driver":{"id":"mallory","name":"","car":{"make":"Lada","model":"Niva","color":"black","plate":"6MA 6666"}},"etaSeconds":-5,"assignedAt":"yesterday"}}`
	f := daprtest.Start(t, forged)
	o, err := stepsOf(f).AssignDriver(t.Context(), requested)
	if err == nil || !strings.Contains(err.Error(), "invalid event: driver-assigned") {
		t.Errorf("AssignDriver() = %+v, %v; want an error naming the invalid driver-assigned", o, err)
	}
}
