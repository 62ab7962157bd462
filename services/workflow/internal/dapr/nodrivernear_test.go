package dapr

import (
	"encoding/json"
	"testing"

	"github.com/ride-choreography/services/workflow/internal/dapr/daprtest"
)

// noDriverNear is the driver's answer for a pickup with no driver within
// its maximum pickup distance.
const noDriverNear = `{"topic":"driver-not-found","event":{"tripId":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10","riderId":"rider-42",` +
	`"reason":"no driver within 15 km of the pickup","reasonCode":"no_driver_near","decidedAt":"2026-12-02T10:00:00Z"}}`

// The driver answers "nobody near" with 200 and the event: the AssignDriver
// activity succeeds (its retry policy never runs), and the outcome the
// workflow keeps carries the event, its reasonCode included, to the
// NoDriver activity, so the rider hears that no driver is near, as in the
// choreography.
func TestNoDriverNearIsAnOutcomePassedOnWithItsReason(t *testing.T) {
	f := daprtest.Start(t, noDriverNear)
	s := stepsOf(f)

	o, err := s.AssignDriver(t.Context(), requested)
	if err != nil {
		t.Fatalf("AssignDriver() error = %v, want the no-driver outcome", err)
	}
	// The activity's output goes through the workflow's history as JSON.
	kept, err := json.Marshal(newOutcomeRecord(o))
	if err != nil {
		t.Fatal(err)
	}
	var rec outcomeRecord
	if err := json.Unmarshal(kept, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Driver != nil || rec.DecidedAt.IsZero() {
		t.Errorf("outcome %+v, want no driver and the time decided", rec)
	}
	if err := s.tell(t.Context(), "steps/no-driver", rec.Event); err != nil {
		t.Fatal(err)
	}

	if got := f.Invocations(); len(got) != 2 || got[0] != "driver assign-driver" || got[1] != "notification no-driver" {
		t.Fatalf("invocations %v, want assign-driver once, then no-driver", got)
	}
	var told struct{ ReasonCode string }
	if err := json.Unmarshal([]byte(f.Bodies()[1]), &told); err != nil || told.ReasonCode != "no_driver_near" {
		t.Errorf("no-driver step body %s, want the driver's event with reasonCode no_driver_near (%v)", f.Bodies()[1], err)
	}
}
