// Package workflow is the workflow app's domain: the trip service's own
// (an ordered trip, its status and the transitions the rest of the system
// may cause), since it serves the same Trip API. Standard library only.
package workflow

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Status is where a trip stands. A trip starts requested and ends in exactly
// one of the other two.
type Status string

// The statuses a trip goes through.
const (
	StatusRequested      Status = "requested"
	StatusDriverAssigned Status = "driver_assigned"
	StatusNoDriver       Status = "no_driver"
)

// Sentinel errors. Callers match them with errors.Is.
var (
	// ErrInvalidOrder wraps every reason an order is refused; see InvalidOrderError.
	ErrInvalidOrder = errors.New("invalid order")
	// ErrNotFound means no trip has the id.
	ErrNotFound = errors.New("trip not found")
	// ErrOutcomeConflict means an event contradicts the trip's final status,
	// for example a second, different driver for an assigned trip.
	ErrOutcomeConflict = errors.New("trip outcome conflict")
)

// MaxRiderIDLength bounds a rider id, in characters.
const MaxRiderIDLength = 128

// Point is a WGS 84 position.
type Point struct {
	Lat float64
	Lon float64
}

// Car is what the rider looks for at the pickup.
type Car struct {
	Make  string
	Model string
	Color string
	Plate string
}

// Driver is the driver assigned to a trip, as the driver service announced it.
type Driver struct {
	ID   string
	Name string
	Car  Car
}

// Order is what a rider asks for.
type Order struct {
	RiderID string
	Pickup  Point
	Dropoff Point
}

// FieldError says what is wrong with one field of an order.
type FieldError struct {
	Field  string
	Reason string
}

// InvalidOrderError lists every problem found in an order.
type InvalidOrderError struct {
	Fields []FieldError
}

func (e *InvalidOrderError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + " " + f.Reason
	}
	return "invalid order: " + strings.Join(parts, "; ")
}

// Unwrap makes errors.Is(err, ErrInvalidOrder) true.
func (e *InvalidOrderError) Unwrap() error { return ErrInvalidOrder }

// Validate reports every problem of the order at once, so a client fixes
// them in one round trip.
func (o Order) Validate() error {
	var fields []FieldError
	if reason := checkRiderID(o.RiderID); reason != "" {
		fields = append(fields, FieldError{Field: "riderId", Reason: reason})
	}
	fields = append(fields, o.Pickup.check("pickup")...)
	fields = append(fields, o.Dropoff.check("dropoff")...)
	if len(fields) > 0 {
		return &InvalidOrderError{Fields: fields}
	}
	return nil
}

func checkRiderID(id string) string {
	switch {
	case id == "":
		return "is required"
	case !utf8.ValidString(id):
		return "must be valid UTF-8"
	case utf8.RuneCountInString(id) > MaxRiderIDLength:
		return fmt.Sprintf("must be at most %d characters", MaxRiderIDLength)
	case strings.TrimSpace(id) != id:
		return "must not start or end with white space"
	case strings.ContainsFunc(id, unicode.IsControl):
		return "must not contain control characters"
	}
	return ""
}

func (p Point) check(name string) []FieldError {
	var fields []FieldError
	if !(p.Lat >= -90 && p.Lat <= 90) { // also refuses NaN
		fields = append(fields, FieldError{Field: name + ".lat", Reason: "must be between -90 and 90"})
	}
	if !(p.Lon >= -180 && p.Lon <= 180) {
		fields = append(fields, FieldError{Field: name + ".lon", Reason: "must be between -180 and 180"})
	}
	return fields
}

// Trip is an ordered ride and what the system has decided about it so far.
type Trip struct {
	ID          string
	RiderID     string
	Pickup      Point
	Dropoff     Point
	Status      Status
	RequestedAt time.Time
	UpdatedAt   time.Time
	// Driver and ETASeconds are set once the status is StatusDriverAssigned.
	Driver     *Driver
	ETASeconds int
}

// New creates a requested trip from a valid order.
func New(id string, o Order, now time.Time) (Trip, error) {
	if err := o.Validate(); err != nil {
		return Trip{}, err
	}
	return Trip{
		ID:          id,
		RiderID:     o.RiderID,
		Pickup:      o.Pickup,
		Dropoff:     o.Dropoff,
		Status:      StatusRequested,
		RequestedAt: now,
		UpdatedAt:   now,
	}, nil
}

// Order returns what the rider asked for.
func (t Trip) Order() Order {
	return Order{RiderID: t.RiderID, Pickup: t.Pickup, Dropoff: t.Dropoff}
}

// AssignDriver records the driver on a requested trip and reports whether
// anything changed. The same assignment again is a duplicate: no change, no
// error. A different driver, or an assignment after no_driver, is
// ErrOutcomeConflict: the driver service promises one outcome per trip.
func (t *Trip) AssignDriver(d Driver, etaSeconds int, at time.Time) (bool, error) {
	switch t.Status {
	case StatusRequested:
		t.Status = StatusDriverAssigned
		t.Driver = &d
		t.ETASeconds = etaSeconds
		t.UpdatedAt = at
		return true, nil
	case StatusDriverAssigned:
		if t.Driver != nil && t.Driver.ID == d.ID {
			return false, nil
		}
		return false, fmt.Errorf("%w: trip %s already has driver %s, not %s", ErrOutcomeConflict, t.ID, t.Driver.ID, d.ID)
	default:
		return false, fmt.Errorf("%w: trip %s is %s, cannot assign driver %s", ErrOutcomeConflict, t.ID, t.Status, d.ID)
	}
}

// MarkNoDriver records that no driver could be found and reports whether
// anything changed. Marking it again is a duplicate; after an assignment it
// is ErrOutcomeConflict.
func (t *Trip) MarkNoDriver(at time.Time) (bool, error) {
	switch t.Status {
	case StatusRequested:
		t.Status = StatusNoDriver
		t.UpdatedAt = at
		return true, nil
	case StatusNoDriver:
		return false, nil
	default:
		return false, fmt.Errorf("%w: trip %s is %s, cannot mark it no_driver", ErrOutcomeConflict, t.ID, t.Status)
	}
}
