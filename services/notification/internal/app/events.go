package app

import (
	"time"

	"github.com/ride-choreography/services/notification/internal/notification"
)

// The events the service reads (contracts/schemas), reduced to what it
// tells riders. The Dapr adapter builds them from events their schemas
// accepted, so they are valid: the use cases do not check them again.

// TripCreated is a trip-created event: a rider ordered a trip.
type TripCreated struct {
	TripID  string
	RiderID string
}

// DriverAssigned is a driver-assigned event: a driver comes for the trip.
type DriverAssigned struct {
	TripID  string
	RiderID string
	Driver  notification.Driver
	// ETA is how long the driver needs to the pickup.
	ETA time.Duration
}

// DriverNotFound is a driver-not-found event: no driver came free in time,
// or none is near the pickup.
type DriverNotFound struct {
	TripID  string
	RiderID string
	// NoneNear says that no driver is within the driver service's maximum
	// pickup distance (reasonCode no_driver_near), rather than that none
	// came free in time (no_driver_free, or no code at all).
	NoneNear bool
}
