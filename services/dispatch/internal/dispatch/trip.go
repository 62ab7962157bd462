// Package dispatch is the dispatchers' live picture of the area: the
// riders waiting for a driver, the trips just assigned or left without
// one, counters and a feed of the latest events. It is built only from the
// events other services publish, which may arrive late, twice or out of
// order; each change says whether it changed anything, so that a repeated
// event changes nothing. Standard library only.
package dispatch

import "time"

// Point is a WGS 84 position.
type Point struct {
	Lat, Lon float64
}

// Status is where a trip stands, as far as the dispatchers can tell.
type Status string

const (
	// Unknown: no event of the trip seen yet.
	Unknown Status = ""
	// Waiting: the trip was ordered, and no driver is known for it yet.
	Waiting Status = "waiting"
	// Assigned: a driver comes for the trip.
	Assigned Status = "assigned"
	// NotFound: no driver can be sent for the trip.
	NotFound Status = "not_found"
)

// Decided reports whether s is an outcome: Assigned or NotFound. Once a
// trip is decided its status never changes.
func (s Status) Decided() bool { return s == Assigned || s == NotFound }

// Car is a driver's car.
type Car struct {
	Make, Model, Color, Plate string
}

// Driver is the driver coming for a trip.
type Driver struct {
	ID, Name string
	Car      Car
}

// Trip is what the dispatchers know of one trip, from its events in
// whatever order they came: an outcome may arrive before the order.
type Trip struct {
	ID      string
	RiderID string
	// Pickup is where the rider waits; nil until the order (trip-created)
	// is seen.
	Pickup *Point
	// RequestedAt is when the rider ordered; zero until the order is seen.
	RequestedAt time.Time
	Status      Status
	// Driver and ETA are set when Status is Assigned.
	Driver *Driver
	ETA    time.Duration
	// NoneNear says, when Status is NotFound, that no driver is near the
	// pickup at all (rather than that none came free in time).
	NoneNear bool
	// DecidedAt is when the outcome was decided; zero while undecided.
	DecidedAt time.Time
}

// Ordered applies the trip's order (trip-created). It reports whether
// that changed t: an order seen before changes nothing, and one seen after
// the outcome only adds where and when the rider ordered.
func (t Trip) Ordered(id, riderID string, pickup Point, requestedAt time.Time) (Trip, bool) {
	if t.Pickup != nil {
		return t, false
	}
	t.ID, t.RiderID = id, riderID
	t.Pickup = &pickup
	t.RequestedAt = requestedAt
	if t.Status == Unknown {
		t.Status = Waiting
	}
	return t, true
}

// Assigned applies the trip's driver (driver-assigned). It reports whether
// that changed t: the first outcome of a trip stands, so a repeated
// assignment, or one after "no driver", changes nothing.
func (t Trip) Assigned(id, riderID string, d Driver, eta time.Duration, at time.Time) (Trip, bool) {
	if t.Status.Decided() {
		return t, false
	}
	t.ID, t.RiderID = id, riderID
	t.Status = Assigned
	t.Driver = &d
	t.ETA = eta
	t.DecidedAt = at
	return t, true
}

// NotFound applies that no driver can be sent (driver-not-found). It
// reports whether that changed t, as Assigned does.
func (t Trip) NotFound(id, riderID string, noneNear bool, at time.Time) (Trip, bool) {
	if t.Status.Decided() {
		return t, false
	}
	t.ID, t.RiderID = id, riderID
	t.Status = NotFound
	t.NoneNear = noneNear
	t.DecidedAt = at
	return t, true
}
