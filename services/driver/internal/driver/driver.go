// Package driver is the domain of driver assignment: the drivers of the
// pool, where they are, whether they are free, and which free driver is
// nearest to a pickup. It uses the standard library only.
package driver

import (
	"errors"
	"fmt"
)

// Sentinel errors of the domain.
var (
	// ErrNoDriverFree means every driver of the pool is on a trip.
	ErrNoDriverFree = errors.New("no driver is free")
	// ErrDriverBusy means a driver that is on a trip was asked to take another.
	ErrDriverBusy = errors.New("driver is on a trip")
	// ErrInvalidPosition means a latitude or longitude is out of range.
	ErrInvalidPosition = errors.New("invalid position")
)

// Status says whether a driver can take a trip.
type Status string

// The states of a driver.
const (
	StatusFree   Status = "free"
	StatusOnTrip Status = "on_trip"
)

// Car is what a driver drives; the rider looks for it at the pickup.
type Car struct {
	Make  string
	Model string
	Color string
	Plate string
}

// Driver is one driver of the pool and their current state.
type Driver struct {
	ID       string
	Name     string
	Car      Car
	Position Position
	Status   Status
	// TripID is the trip the driver is on; empty while the driver is free.
	TripID string
}

// Reserve returns d on the trip tripID, or ErrDriverBusy when d is not free.
func (d Driver) Reserve(tripID string) (Driver, error) {
	if d.Status != StatusFree {
		return Driver{}, fmt.Errorf("reserve %s for trip %s: %w", d.ID, tripID, ErrDriverBusy)
	}
	d.Status = StatusOnTrip
	d.TripID = tripID
	return d, nil
}

// Release returns d free again.
func (d Driver) Release() Driver {
	d.Status = StatusFree
	d.TripID = ""
	return d
}

// Carries reports whether d is on the trip tripID.
func (d Driver) Carries(tripID string) bool {
	return d.Status == StatusOnTrip && d.TripID == tripID
}
