package dapr

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/ride-choreography/services/trip/internal/contracttest"
)

// FuzzDecodeDriverAssigned: whatever the broker delivers, the decoder
// either returns an event that keeps every rule of the contract or an
// invalid-event error (DROP); it never panics.
func FuzzDecodeDriverAssigned(f *testing.F) {
	f.Add(contracttest.Example(f, "driver-assigned"))
	f.Add([]byte(envelope(assignedData)))
	f.Add([]byte(envelope(`"` + `{\"tripId\":\"` + exampleTripID + `\"}` + `"`)))
	f.Add([]byte(`{"specversion":"1.0","id":"x","data":{"etaSeconds":1e400}}`))
	f.Add([]byte(`{"specversion":"1.0","id":"x","data":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ce, err := decodeCloudEvent(bytes.NewReader(body))
		if err != nil {
			requireInvalid(t, err)
			return
		}
		e, err := decodeDriverAssigned(ce.Data)
		if err != nil {
			requireInvalid(t, err)
			return
		}
		requireTripID(t, e.TripID)
		d := e.Driver
		if d.ID == "" || d.Name == "" || d.Car.Make == "" || d.Car.Model == "" || d.Car.Color == "" || d.Car.Plate == "" {
			t.Errorf("accepted a driver with an empty field: %+v", d)
		}
		if e.ETASeconds < 0 {
			t.Errorf("accepted etaSeconds %d", e.ETASeconds)
		}
		if e.AssignedAt.IsZero() || e.AssignedAt.Location().String() != "UTC" {
			t.Errorf("assignedAt %v, want a UTC time", e.AssignedAt)
		}
	})
}

// FuzzDecodeDriverNotFound: as FuzzDecodeDriverAssigned, for
// driver-not-found.
func FuzzDecodeDriverNotFound(f *testing.F) {
	f.Add(contracttest.Example(f, "driver-not-found"))
	f.Add([]byte(envelope(`{"tripId":"` + exampleTripID + `","riderId":"r","reason":"x","decidedAt":"2026-11-27T09:31:00+01:00"}`)))
	f.Add([]byte(envelope(`{"tripId":"` + exampleTripID + `","riderId":"","reason":"","decidedAt":"2026-13-01T00:00:00Z"}`)))
	f.Fuzz(func(t *testing.T, body []byte) {
		ce, err := decodeCloudEvent(bytes.NewReader(body))
		if err != nil {
			requireInvalid(t, err)
			return
		}
		e, err := decodeDriverNotFound(ce.Data)
		if err != nil {
			requireInvalid(t, err)
			return
		}
		requireTripID(t, e.TripID)
		if e.DecidedAt.IsZero() {
			t.Error("accepted a zero decidedAt")
		}
	})
}

func requireInvalid(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, errInvalidEvent) {
		t.Fatalf("refused with %v, which does not wrap errInvalidEvent: the event would be retried forever", err)
	}
}

func requireTripID(t *testing.T, id string) {
	t.Helper()
	if u, err := uuid.Parse(id); err != nil || u.String() != id {
		t.Errorf("accepted trip id %q, want a lowercase UUID", id)
	}
}
