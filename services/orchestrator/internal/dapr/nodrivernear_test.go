package dapr_test

import (
	"encoding/json"
	"testing"

	"github.com/ride-choreography/services/orchestrator/internal/dapr/daprtest"
)

// noDriverNear is the driver's answer for a pickup with no driver within
// its maximum pickup distance.
const noDriverNear = `{"topic":"driver-not-found","event":{"tripId":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10","riderId":"rider-42",` +
	`"reason":"no driver within 15 km of the pickup","reasonCode":"no_driver_near","decidedAt":"2026-12-02T10:00:00Z"}}`

// The driver answers "nobody near" with 200 and the event: an outcome, not
// a failure, so the flow does not retry it, and the event, its reasonCode
// included, goes to the notification step as it came, so the rider hears
// that no driver is near, as in the choreography.
func TestNoDriverNearIsAnOutcomePassedOnWithItsReason(t *testing.T) {
	f := daprtest.Start(t, noDriverNear)
	s := steps(f)

	o, err := s.AssignDriver(t.Context(), requested)
	if err != nil {
		t.Fatalf("AssignDriver() error = %v, want the no-driver outcome", err)
	}
	if o.Driver != nil || o.Reason != "no driver within 15 km of the pickup" || o.DecidedAt.IsZero() {
		t.Errorf("outcome %+v, want no driver, with the reason and the time decided", o)
	}
	if err := s.NoDriver(t.Context(), requested, o); err != nil {
		t.Fatal(err)
	}

	if got, want := f.Invocations(), []string{"driver assign-driver", "notification no-driver"}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("invocations %v, want %v", got, want)
	}
	var told struct{ ReasonCode string }
	if err := json.Unmarshal([]byte(f.Bodies()[1]), &told); err != nil || told.ReasonCode != "no_driver_near" {
		t.Errorf("no-driver step body %s, want the driver's event with reasonCode no_driver_near (%v)", f.Bodies()[1], err)
	}
}
