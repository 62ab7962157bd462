package dapr

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ride-choreography/services/dispatch/internal/app"
	"github.com/ride-choreography/services/dispatch/internal/dispatch"
)

// errInvalidEvent marks an event that can never be handled: not a
// CloudEvent, or data that violates the schema of its topic.
var errInvalidEvent = errors.New("invalid event")

// The decoders first validate an event's data against its topic's schema,
// then read the app's plain struct from the validated JSON by the exact
// property names. They never decode data with encoding/json into a
// struct, which would match names in any case ("TRIPID" for "tripId") and
// refuse date-times the schema accepts (the leap second 23:59:60).

// decodeTripCreated decodes the data of a trip-created event
// (contracts/schemas/trip-created.schema.json). An error wraps
// errInvalidEvent: the event can never be handled.
func decodeTripCreated(data []byte) (app.TripCreated, error) {
	o, err := validate(TopicTripCreated, data)
	if err != nil {
		return app.TripCreated{}, err
	}
	pickup := o.obj("pickup")
	return app.TripCreated{
		TripID:      o.str("tripId"),
		RiderID:     o.str("riderId"),
		Pickup:      dispatch.Point{Lat: pickup.float("lat"), Lon: pickup.float("lon")},
		RequestedAt: o.time("requestedAt"),
	}, nil
}

// decodeDriverAssigned decodes the data of a driver-assigned event
// (contracts/schemas/driver-assigned.schema.json). An error wraps
// errInvalidEvent: the event can never be handled.
func decodeDriverAssigned(data []byte) (app.DriverAssigned, error) {
	o, err := validate(TopicDriverAssigned, data)
	if err != nil {
		return app.DriverAssigned{}, err
	}
	driver := o.obj("driver")
	car := driver.obj("car")
	return app.DriverAssigned{
		TripID:  o.str("tripId"),
		RiderID: o.str("riderId"),
		Driver: dispatch.Driver{
			ID:   driver.str("id"),
			Name: driver.str("name"),
			Car:  dispatch.Car{Make: car.str("make"), Model: car.str("model"), Color: car.str("color"), Plate: car.str("plate")},
		},
		ETA:        seconds(o.integer("etaSeconds")),
		AssignedAt: o.time("assignedAt"),
	}, nil
}

// decodeDriverNotFound decodes the data of a driver-not-found event
// (contracts/schemas/driver-not-found.schema.json). An error wraps
// errInvalidEvent: the event can never be handled.
func decodeDriverNotFound(data []byte) (app.DriverNotFound, error) {
	o, err := validate(TopicDriverNotFound, data)
	if err != nil {
		return app.DriverNotFound{}, err
	}
	return app.DriverNotFound{
		TripID:    o.str("tripId"),
		RiderID:   o.str("riderId"),
		NoneNear:  o.str("reasonCode") == reasonNoDriverNear,
		DecidedAt: o.time("decidedAt"),
	}, nil
}

// reasonNoDriverNear is the reasonCode of a driver-not-found event for a
// trip with no driver near its pickup. Any other code, or none, is told
// as no driver free.
const reasonNoDriverNear = "no_driver_near"

// object is a JSON object as validate read it: property names exactly as
// written, numbers as json.Number. Its readers are used only on an object
// that its schema accepted, so they never fail: each returns what the
// schema guarantees is there.
type object map[string]any

// str returns the string property key.
func (o object) str(key string) string {
	s, _ := o[key].(string)
	return s
}

// obj returns the object property key.
func (o object) obj(key string) object {
	m, _ := o[key].(map[string]any)
	return m
}

// float returns the number property key, rounded to the nearest float64
// (beyond the float64 range, an infinity; the schemas bound the numbers
// the service reads well inside it).
func (o object) float(key string) float64 {
	n, _ := o[key].(json.Number)
	f, _ := strconv.ParseFloat(string(n), 64)
	return f
}

// integer returns the integer property key (240, 240.0 or 2.4e2, as JSON
// Schema counts them), saturating beyond the range of int64.
func (o object) integer(key string) int64 {
	f := o.float(key)
	switch {
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// time returns the date-time property key (RFC 3339, as the schema's
// format date-time checked). RFC 3339 allows what Go's parser refuses: a
// "t" and "z" in lower case, read as upper case, and a leap second
// (23:59:60), read as the instant after 23:59:59, like time.Date does.
func (o object) time(key string) time.Time {
	s := strings.ToUpper(o.str(key))
	leap := len(s) >= 19 && s[17:19] == "60"
	if leap {
		s = s[:17] + "59" + s[19:]
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	if leap {
		t = t.Add(time.Second)
	}
	return t
}

// seconds converts a non-negative whole number of seconds to a duration:
// the longest one for numbers beyond it.
func seconds(s int64) time.Duration {
	if s > math.MaxInt64/int64(time.Second) {
		return math.MaxInt64
	}
	return time.Duration(s) * time.Second
}
