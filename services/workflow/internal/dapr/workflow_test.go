package dapr

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/workflow/internal/workflow"
)

var requested = workflow.Trip{
	ID: "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10", RiderID: "rider-42",
	Pickup: workflow.Point{Lat: 50.0755, Lon: 14.4378}, Dropoff: workflow.Point{Lat: 50.1, Lon: 14.26},
	Status: workflow.StatusRequested, RequestedAt: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC),
}

// The workflow keeps a trip as JSON (its input, custom status and output):
// read back, it is the same trip, in the contracts' lower-case names.
func TestTripRecordRoundTrip(t *testing.T) {
	assigned := requested
	assigned.Status, assigned.ETASeconds = workflow.StatusDriverAssigned, 60
	assigned.Driver = &workflow.Driver{ID: "jarda", Name: "Jarda", Car: workflow.Car{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"}}
	for _, want := range []workflow.Trip{requested, assigned} {
		raw, err := json.Marshal(newTripRecord(want))
		if err != nil {
			t.Fatal(err)
		}
		var r tripRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, r.trip()); diff != "" {
			t.Errorf("round trip of %s (-want +got):\n%s", raw, diff)
		}
	}
	raw, _ := json.Marshal(newTripRecord(assigned))
	var fields map[string]any
	_ = json.Unmarshal(raw, &fields)
	if car := fields["driver"].(map[string]any)["car"].(map[string]any); car["make"] != "Toyota" {
		t.Errorf("car is written as %v, want lower-case names", car)
	}
}

// settled applies the driver service's outcome as the trip service does.
func TestSettled(t *testing.T) {
	at := requested.RequestedAt.Add(2 * time.Second)
	r := newTripRecord(requested).settled(outcomeRecord{
		Driver: &driverRecord{ID: "jarda", Name: "Jarda", Car: carRecord{Make: "Toyota"}}, ETASeconds: 60, DecidedAt: at,
	})
	if r.Status != workflow.StatusDriverAssigned || r.Driver == nil || r.Driver.ID != "jarda" || r.ETASeconds != 60 || !r.UpdatedAt.Equal(at) {
		t.Errorf("settled with a driver: %+v", r)
	}
	r = newTripRecord(requested).settled(outcomeRecord{DecidedAt: at})
	if r.Status != workflow.StatusNoDriver || r.Driver != nil {
		t.Errorf("settled with no driver: %+v", r)
	}
}
