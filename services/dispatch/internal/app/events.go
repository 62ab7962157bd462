package app

import (
	"time"

	"github.com/ride-choreography/services/dispatch/internal/dispatch"
)

// The events the service reads (contracts/schemas), reduced to what the
// dispatchers see. The Dapr adapter builds them from events their schemas
// accepted, so they are valid: the use cases do not check them again.

// TripCreated is a trip-created event: a rider ordered a trip.
type TripCreated struct {
	TripID      string
	RiderID     string
	Pickup      dispatch.Point
	RequestedAt time.Time
}

// DriverAssigned is a driver-assigned event: a driver comes for the trip.
type DriverAssigned struct {
	TripID     string
	RiderID    string
	Driver     dispatch.Driver
	ETA        time.Duration
	AssignedAt time.Time
}

// DriverNotFound is a driver-not-found event: no driver came free in time,
// or none is near the pickup.
type DriverNotFound struct {
	TripID  string
	RiderID string
	// NoneNear says that no driver is within the driver service's maximum
	// pickup distance (reasonCode no_driver_near).
	NoneNear  bool
	DecidedAt time.Time
}
