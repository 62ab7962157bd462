// Package notification holds what the rider is told about a trip: the
// notifications, their texts and the rules of a rider's history.
package notification

import (
	"fmt"
	"math"
	"time"
)

// Kind says which step of a trip a notification tells the rider about.
type Kind string

// The kinds of notification, as they appear in the API.
const (
	KindTripReceived   Kind = "trip_received"
	KindDriverAssigned Kind = "driver_assigned"
	KindNoDriver       Kind = "no_driver"
)

// The fixed texts the rider sees.
const (
	tripReceivedText = "We received your order and are looking for a driver."
	noDriverText     = "Sorry, no driver is free right now. Please order again in a few minutes."
	noDriverNearText = "Sorry, no driver is near your pickup point. We cannot send a taxi there right now."
)

// Notification is one message sent to a rider about one of their trips.
// A trip has at most one notification of each kind.
type Notification struct {
	TripID string
	Kind   Kind
	Text   string
	SentAt time.Time
}

// ID identifies the notification among all of a rider's: "<tripId>:<kind>".
func (n Notification) ID() string {
	return n.TripID + ":" + string(n.Kind)
}

// Driver is the driver assigned to a trip, as the rider gets to know them.
type Driver struct {
	Name string
	Car  Car
}

// Car is the car a driver comes in.
type Car struct {
	Make  string
	Model string
	Color string
	Plate string
}

// TripReceived tells the rider their order for trip tripID arrived.
func TripReceived(tripID string, sentAt time.Time) Notification {
	return Notification{TripID: tripID, Kind: KindTripReceived, Text: tripReceivedText, SentAt: sentAt}
}

// DriverAssigned tells the rider which driver comes for trip tripID and in
// about how many minutes (eta rounded up to whole minutes).
func DriverAssigned(tripID string, d Driver, eta time.Duration, sentAt time.Time) Notification {
	text := fmt.Sprintf("%s is on the way in a %s %s %s, %s, about %.0f min.",
		d.Name, d.Car.Color, d.Car.Make, d.Car.Model, d.Car.Plate, math.Ceil(eta.Minutes()))
	return Notification{TripID: tripID, Kind: KindDriverAssigned, Text: text, SentAt: sentAt}
}

// NoDriver tells the rider that no driver could be found for trip tripID.
func NoDriver(tripID string, sentAt time.Time) Notification {
	return Notification{TripID: tripID, Kind: KindNoDriver, Text: noDriverText, SentAt: sentAt}
}

// NoDriverNear tells the rider that no driver is near the pickup of trip
// tripID: a no_driver notification, which ordering again a few minutes
// later would not change.
func NoDriverNear(tripID string, sentAt time.Time) Notification {
	return Notification{TripID: tripID, Kind: KindNoDriver, Text: noDriverNearText, SentAt: sentAt}
}
