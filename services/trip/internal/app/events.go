package app

import (
	"time"

	"github.com/ride-choreography/services/trip/internal/trip"
)

// TripCreated is the data of the event published on topic trip-created
// (contracts/schemas/trip-created.schema.json).
type TripCreated struct {
	TripID      string    `json:"tripId"`
	RiderID     string    `json:"riderId"`
	Pickup      Point     `json:"pickup"`
	Dropoff     Point     `json:"dropoff"`
	RequestedAt time.Time `json:"requestedAt"`
}

// Point is a position inside an event.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

func newTripCreated(t trip.Trip) TripCreated {
	return TripCreated{
		TripID:      t.ID,
		RiderID:     t.RiderID,
		Pickup:      Point(t.Pickup),
		Dropoff:     Point(t.Dropoff),
		RequestedAt: t.RequestedAt,
	}
}

// DriverAssigned is what the trip service needs of a driver-assigned event.
type DriverAssigned struct {
	TripID     string
	Driver     trip.Driver
	ETASeconds int
	AssignedAt time.Time
}

// DriverNotFound is what the trip service needs of a driver-not-found event.
type DriverNotFound struct {
	TripID    string
	DecidedAt time.Time
}
