package dapr

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/ride-choreography/services/trip/internal/app"
	"github.com/ride-choreography/services/trip/internal/trip"
)

// errInvalidEvent marks an event that violates its contract
// (contracts/schemas): it is dropped, never retried.
var errInvalidEvent = errors.New("invalid event")

// tripCreatedData mirrors contracts/schemas/trip-created.schema.json: the
// event this service publishes, and reads back from its own subscription
// to record orders whose record was not written at once.
type tripCreatedData struct {
	TripID      *string
	RiderID     *string
	Pickup      *pointData
	Dropoff     *pointData
	RequestedAt *string
}

// UnmarshalJSON decodes the properties by their exact names.
func (d *tripCreatedData) UnmarshalJSON(b []byte) error {
	return decodeObject(b,
		property{"tripId", &d.TripID},
		property{"riderId", &d.RiderID},
		property{"pickup", &d.Pickup},
		property{"dropoff", &d.Dropoff},
		property{"requestedAt", &d.RequestedAt},
	)
}

// pointData is a position of a trip-created event.
type pointData struct {
	Lat, Lon *coordinate
}

// UnmarshalJSON decodes the properties by their exact names.
func (p *pointData) UnmarshalJSON(b []byte) error {
	return decodeObject(b, property{"lat", &p.Lat}, property{"lon", &p.Lon})
}

// point returns the position, reporting a missing one or a missing or
// out-of-range coordinate.
func (v *validator) point(field string, p *pointData) app.Point {
	if p == nil {
		v.missing(field)
		return app.Point{}
	}
	read := func(name string, c *coordinate, limit int64) float64 {
		if c == nil {
			v.missing(field + "." + name)
			return 0
		}
		f, ok := c.within(limit)
		if !ok {
			v.problem(fmt.Sprintf("%s.%s must be from %d to %d", field, name, -limit, limit))
		}
		return f
	}
	return app.Point{Lat: read("lat", p.Lat, 90), Lon: read("lon", p.Lon, 180)}
}

func decodeTripCreated(data []byte) (app.TripCreated, error) {
	var d tripCreatedData
	if err := json.Unmarshal(data, &d); err != nil {
		return app.TripCreated{}, fmt.Errorf("%w: trip-created: %w", errInvalidEvent, err)
	}
	var v validator
	v.tripID(d.TripID)
	v.text("riderId", d.RiderID)
	v.maxLength("riderId", d.RiderID, 128)
	pickup := v.point("pickup", d.Pickup)
	dropoff := v.point("dropoff", d.Dropoff)
	requestedAt := v.dateTime("requestedAt", d.RequestedAt)
	if err := v.err("trip-created"); err != nil {
		return app.TripCreated{}, err
	}
	return app.TripCreated{TripID: *d.TripID, RiderID: *d.RiderID, Pickup: pickup, Dropoff: dropoff, RequestedAt: requestedAt}, nil
}

// driverAssignedData mirrors contracts/schemas/driver-assigned.schema.json.
// Pointers tell a missing property from a zero value. Properties are read
// by their exact names; others are ignored, so producers may add fields.
type driverAssignedData struct {
	TripID     *string
	RiderID    *string
	Driver     *driverData
	ETASeconds *integer
	AssignedAt *string
}

// UnmarshalJSON decodes the properties by their exact names.
func (d *driverAssignedData) UnmarshalJSON(b []byte) error {
	return decodeObject(b,
		property{"tripId", &d.TripID},
		property{"riderId", &d.RiderID},
		property{"driver", &d.Driver},
		property{"etaSeconds", &d.ETASeconds},
		property{"assignedAt", &d.AssignedAt},
	)
}

// driverData is the driver of a driver-assigned event.
type driverData struct {
	ID   *string
	Name *string
	Car  *carData
}

// UnmarshalJSON decodes the properties by their exact names.
func (d *driverData) UnmarshalJSON(b []byte) error {
	return decodeObject(b, property{"id", &d.ID}, property{"name", &d.Name}, property{"car", &d.Car})
}

// carData is the car of a driver-assigned event's driver.
type carData struct {
	Make, Model, Color, Plate *string
}

// UnmarshalJSON decodes the properties by their exact names.
func (c *carData) UnmarshalJSON(b []byte) error {
	return decodeObject(b,
		property{"make", &c.Make},
		property{"model", &c.Model},
		property{"color", &c.Color},
		property{"plate", &c.Plate},
	)
}

// driverNotFoundData mirrors contracts/schemas/driver-not-found.schema.json.
type driverNotFoundData struct {
	TripID    *string
	RiderID   *string
	Reason    *string
	DecidedAt *string
}

// UnmarshalJSON decodes the properties by their exact names.
func (d *driverNotFoundData) UnmarshalJSON(b []byte) error {
	return decodeObject(b,
		property{"tripId", &d.TripID},
		property{"riderId", &d.RiderID},
		property{"reason", &d.Reason},
		property{"decidedAt", &d.DecidedAt},
	)
}

func decodeDriverAssigned(data []byte) (app.DriverAssigned, error) {
	var d driverAssignedData
	if err := json.Unmarshal(data, &d); err != nil {
		return app.DriverAssigned{}, fmt.Errorf("%w: driver-assigned: %w", errInvalidEvent, err)
	}
	var v validator
	v.tripID(d.TripID)
	v.text("riderId", d.RiderID)
	v.maxLength("riderId", d.RiderID, 128)
	if d.Driver == nil {
		v.missing("driver")
	} else {
		v.text("driver.id", d.Driver.ID)
		v.text("driver.name", d.Driver.Name)
		if d.Driver.Car == nil {
			v.missing("driver.car")
		} else {
			v.text("driver.car.make", d.Driver.Car.Make)
			v.text("driver.car.model", d.Driver.Car.Model)
			v.text("driver.car.color", d.Driver.Car.Color)
			v.text("driver.car.plate", d.Driver.Car.Plate)
		}
	}
	switch {
	case d.ETASeconds == nil:
		v.missing("etaSeconds")
	case *d.ETASeconds < 0:
		v.problem("etaSeconds must not be negative")
	}
	assignedAt := v.dateTime("assignedAt", d.AssignedAt)
	if err := v.err("driver-assigned"); err != nil {
		return app.DriverAssigned{}, err
	}
	car := d.Driver.Car
	return app.DriverAssigned{
		TripID: *d.TripID,
		Driver: trip.Driver{
			ID:   *d.Driver.ID,
			Name: *d.Driver.Name,
			Car:  trip.Car{Make: *car.Make, Model: *car.Model, Color: *car.Color, Plate: *car.Plate},
		},
		ETASeconds: int(*d.ETASeconds),
		AssignedAt: assignedAt,
	}, nil
}

func decodeDriverNotFound(data []byte) (app.DriverNotFound, error) {
	var d driverNotFoundData
	if err := json.Unmarshal(data, &d); err != nil {
		return app.DriverNotFound{}, fmt.Errorf("%w: driver-not-found: %w", errInvalidEvent, err)
	}
	var v validator
	v.tripID(d.TripID)
	v.text("riderId", d.RiderID)
	v.maxLength("riderId", d.RiderID, 128)
	v.text("reason", d.Reason)
	decidedAt := v.dateTime("decidedAt", d.DecidedAt)
	if err := v.err("driver-not-found"); err != nil {
		return app.DriverNotFound{}, err
	}
	return app.DriverNotFound{TripID: *d.TripID, DecidedAt: decidedAt}, nil
}

// validator collects every contract violation of one event.
type validator struct {
	problems []string
}

func (v *validator) problem(p string) { v.problems = append(v.problems, p) }

func (v *validator) missing(field string) { v.problem(field + " is required") }

func (v *validator) text(field string, s *string) {
	switch {
	case s == nil:
		v.missing(field)
	case *s == "":
		v.problem(field + " must not be empty")
	}
}

func (v *validator) maxLength(field string, s *string, n int) {
	if s != nil && utf8.RuneCountInString(*s) > n {
		v.problem(fmt.Sprintf("%s must not be longer than %d characters", field, n))
	}
}

// dateTime returns the RFC 3339 date-time s, in UTC.
func (v *validator) dateTime(field string, s *string) time.Time {
	if s == nil {
		v.missing(field)
		return time.Time{}
	}
	t, err := parseDateTime(*s)
	if err != nil {
		v.problem(field + " is " + err.Error())
	}
	return t.UTC()
}

func (v *validator) tripID(id *string) {
	v.text("tripId", id)
	if id == nil || *id == "" {
		return
	}
	if u, err := uuid.Parse(*id); err != nil || u.String() != *id {
		v.problem("tripId must be a lowercase UUID")
	}
}

func (v *validator) err(event string) error {
	if len(v.problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s: %s", errInvalidEvent, event, strings.Join(v.problems, "; "))
}
