package dapr

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ride-choreography/services/trip/internal/app"
	"github.com/ride-choreography/services/trip/internal/trip"
)

// errInvalidEvent marks an event that violates its contract
// (contracts/schemas): it is dropped, never retried.
var errInvalidEvent = errors.New("invalid event")

// driverAssignedData mirrors contracts/schemas/driver-assigned.schema.json.
// Pointers tell a missing property from a zero value. Unknown properties
// are ignored, so producers may add fields.
type driverAssignedData struct {
	TripID  *string `json:"tripId"`
	RiderID *string `json:"riderId"`
	Driver  *struct {
		ID   *string `json:"id"`
		Name *string `json:"name"`
		Car  *struct {
			Make  *string `json:"make"`
			Model *string `json:"model"`
			Color *string `json:"color"`
			Plate *string `json:"plate"`
		} `json:"car"`
	} `json:"driver"`
	ETASeconds *int       `json:"etaSeconds"`
	AssignedAt *time.Time `json:"assignedAt"`
}

// driverNotFoundData mirrors contracts/schemas/driver-not-found.schema.json.
type driverNotFoundData struct {
	TripID    *string    `json:"tripId"`
	RiderID   *string    `json:"riderId"`
	Reason    *string    `json:"reason"`
	DecidedAt *time.Time `json:"decidedAt"`
}

func decodeDriverAssigned(data []byte) (app.DriverAssigned, error) {
	var d driverAssignedData
	if err := json.Unmarshal(data, &d); err != nil {
		return app.DriverAssigned{}, fmt.Errorf("%w: driver-assigned: %w", errInvalidEvent, err)
	}
	var v validator
	v.tripID(d.TripID)
	v.text("riderId", d.RiderID)
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
	if d.AssignedAt == nil {
		v.missing("assignedAt")
	}
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
		ETASeconds: *d.ETASeconds,
		AssignedAt: d.AssignedAt.UTC(),
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
	v.text("reason", d.Reason)
	if d.DecidedAt == nil {
		v.missing("decidedAt")
	}
	if err := v.err("driver-not-found"); err != nil {
		return app.DriverNotFound{}, err
	}
	return app.DriverNotFound{TripID: *d.TripID, DecidedAt: d.DecidedAt.UTC()}, nil
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
