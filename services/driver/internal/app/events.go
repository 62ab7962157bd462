package app

import (
	"fmt"
	"time"

	"github.com/ride-choreography/services/driver/internal/driver"
)

// Topics, as named in contracts/, and the service's dead-letter topic.
const (
	TopicTripCreated    = "trip-created"
	TopicDriverAssigned = "driver-assigned"
	TopicDriverNotFound = "driver-not-found"
	TopicDeadLetters    = "driver-dead-letters"
)

// TripCreated is a rider's order, as received on TopicTripCreated.
type TripCreated struct {
	TripID      string
	RiderID     string
	Pickup      driver.Position
	Dropoff     driver.Position
	RequestedAt time.Time
}

// DriverAssigned is published on TopicDriverAssigned
// (contracts/schemas/driver-assigned.schema.json).
type DriverAssigned struct {
	TripID     string      `json:"tripId"`
	RiderID    string      `json:"riderId"`
	Driver     EventDriver `json:"driver"`
	ETASeconds int         `json:"etaSeconds"`
	AssignedAt time.Time   `json:"assignedAt"`
}

// EventDriver is the driver as the rider sees them in DriverAssigned.
type EventDriver struct {
	ID   string   `json:"id"`
	Name string   `json:"name"`
	Car  EventCar `json:"car"`
}

// EventCar is the car as the rider sees it in DriverAssigned.
type EventCar struct {
	Make  string `json:"make"`
	Model string `json:"model"`
	Color string `json:"color"`
	Plate string `json:"plate"`
}

// DriverNotFound is published on TopicDriverNotFound
// (contracts/schemas/driver-not-found.schema.json).
type DriverNotFound struct {
	TripID  string `json:"tripId"`
	RiderID string `json:"riderId"`
	Reason  string `json:"reason"`
	// ReasonCode is ReasonNoDriverFree or ReasonNoDriverNear; empty in an
	// outcome recorded before the code existed, which is published again
	// as it was.
	ReasonCode string    `json:"reasonCode,omitempty"`
	DecidedAt  time.Time `json:"decidedAt"`
}

// The reason codes of DriverNotFound (reasonCode in the contract).
const (
	// ReasonNoDriverFree: every driver near enough stayed on a trip until
	// the assign deadline.
	ReasonNoDriverFree = "no_driver_free"
	// ReasonNoDriverNear: no driver of the pool is within the maximum
	// pickup distance; decided at once.
	ReasonNoDriverNear = "no_driver_near"
)

// Assignment is the recorded outcome of a trip: exactly one of Assigned and
// NotFound is set. It is published again, unchanged, on every redelivery.
type Assignment struct {
	Assigned *DriverAssigned
	NotFound *DriverNotFound
}

// The outcomes of an assignment, as Metrics counts them.
const (
	OutcomeDriverAssigned = "driver_assigned"
	OutcomeNoDriver       = "no_driver"
)

// Outcome names the outcome: OutcomeDriverAssigned or OutcomeNoDriver.
func (a Assignment) Outcome() string {
	if a.Assigned != nil {
		return OutcomeDriverAssigned
	}
	return OutcomeNoDriver
}

// Event returns the topic and the event that announce the outcome.
func (a Assignment) Event() (topic string, event any) {
	if a.Assigned != nil {
		return TopicDriverAssigned, *a.Assigned
	}
	return TopicDriverNotFound, *a.NotFound
}

func newDriverAssigned(t TripCreated, d driver.Driver, now time.Time) Assignment {
	eta := driver.ETA(driver.Distance(d.Position, t.Pickup))
	return Assignment{Assigned: &DriverAssigned{
		TripID:  t.TripID,
		RiderID: t.RiderID,
		Driver: EventDriver{
			ID:   d.ID,
			Name: d.Name,
			Car:  EventCar{Make: d.Car.Make, Model: d.Car.Model, Color: d.Car.Color, Plate: d.Car.Plate},
		},
		ETASeconds: int(eta / time.Second),
		AssignedAt: now.UTC(),
	}}
}

// noDriverFree is the outcome of a trip for which no driver came free
// within the deadline.
func noDriverFree(t TripCreated, deadline time.Duration, now time.Time) Assignment {
	return newDriverNotFound(t, ReasonNoDriverFree, fmt.Sprintf("no driver became free within %gs", deadline.Seconds()), now)
}

// noDriverNear is the outcome of a trip with no driver of the pool within
// maxPickupMeters of its pickup.
func noDriverNear(t TripCreated, maxPickupMeters float64, now time.Time) Assignment {
	return newDriverNotFound(t, ReasonNoDriverNear, fmt.Sprintf("no driver within %g km of the pickup", maxPickupMeters/1000), now)
}

func newDriverNotFound(t TripCreated, code, reason string, now time.Time) Assignment {
	return Assignment{NotFound: &DriverNotFound{
		TripID:     t.TripID,
		RiderID:    t.RiderID,
		Reason:     reason,
		ReasonCode: code,
		DecidedAt:  now.UTC(),
	}}
}
