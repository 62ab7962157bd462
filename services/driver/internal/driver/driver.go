// Package driver is the domain of driver assignment: the drivers of the
// pool, where they are, whether they are free, and which free driver is
// nearest to a pickup. It uses the standard library only.
package driver

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the domain.
var (
	// ErrNoDriverFree means every driver of the pool (within the maximum
	// pickup distance) is on a trip.
	ErrNoDriverFree = errors.New("no driver is free")
	// ErrNoDriverNear means no driver of the pool, free or not, is within
	// the maximum pickup distance.
	ErrNoDriverNear = errors.New("no driver is near")
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

// Driver is one driver of the pool and their state when it was last saved.
//
// A ride ends on its own: a driver saved on a trip is free again once
// BusyUntil has passed, with no write to mark it. Ask At, FreeAt or
// Carries, which take the moment, rather than reading Status.
type Driver struct {
	ID       string
	Name     string
	Car      Car
	Position Position
	Status   Status
	// TripID is the trip the driver took; empty while the driver is free.
	TripID string
	// BusyUntil is when the ride on TripID ends; zero while the driver is
	// free.
	BusyUntil time.Time
}

// At returns d as they are at now: a driver whose ride has ended is free.
func (d Driver) At(now time.Time) Driver {
	if d.Status == StatusOnTrip && !now.Before(d.BusyUntil) {
		return d.Release()
	}
	return d
}

// FreeAt reports whether d can take a trip at now.
func (d Driver) FreeAt(now time.Time) bool {
	return d.At(now).Status == StatusFree
}

// Reserve returns d on the trip tripID from now until the ride, which
// lasts ride, ends; or ErrDriverBusy when d is still on a trip at now.
func (d Driver) Reserve(tripID string, now time.Time, ride time.Duration) (Driver, error) {
	if !d.FreeAt(now) {
		return Driver{}, fmt.Errorf("reserve %s for trip %s: %w", d.ID, tripID, ErrDriverBusy)
	}
	d.Status = StatusOnTrip
	d.TripID = tripID
	d.BusyUntil = now.Add(ride)
	return d, nil
}

// Release returns d free again.
func (d Driver) Release() Driver {
	d.Status = StatusFree
	d.TripID = ""
	d.BusyUntil = time.Time{}
	return d
}

// Carries reports whether d is on the trip tripID at now.
func (d Driver) Carries(tripID string, now time.Time) bool {
	d = d.At(now)
	return d.Status == StatusOnTrip && d.TripID == tripID
}
