package dapr

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ride-choreography/services/trip/internal/app"
	"github.com/ride-choreography/services/trip/internal/trip"
)

// errInvalidEvent marks an event that violates its contract
// (contracts/schemas): it is dropped, never retried.
var errInvalidEvent = errors.New("invalid event")

// The decoders first validate an event's data against its topic's schema,
// then read the app's plain struct from the validated JSON by the exact
// property names. They never decode data with encoding/json into a
// struct, which would match names in any case ("TRIPID" for "tripId") and
// refuse date-times the schema accepts (the leap second 23:59:60).

func decodeTripCreated(data []byte) (app.TripCreated, error) {
	o, err := validate(TopicTripCreated, data)
	if err != nil {
		return app.TripCreated{}, err
	}
	return app.TripCreated{
		TripID:      o.str("tripId"),
		RiderID:     o.str("riderId"),
		Pickup:      o.obj("pickup").point(),
		Dropoff:     o.obj("dropoff").point(),
		RequestedAt: o.dateTime("requestedAt"),
	}, nil
}

func decodeDriverAssigned(data []byte) (app.DriverAssigned, error) {
	o, err := validate(TopicDriverAssigned, data)
	if err != nil {
		return app.DriverAssigned{}, err
	}
	driver := o.obj("driver")
	car := driver.obj("car")
	return app.DriverAssigned{
		TripID: o.str("tripId"),
		Driver: trip.Driver{
			ID:   driver.str("id"),
			Name: driver.str("name"),
			Car:  trip.Car{Make: car.str("make"), Model: car.str("model"), Color: car.str("color"), Plate: car.str("plate")},
		},
		ETASeconds: int(min(o.integer("etaSeconds"), math.MaxInt32)),
		AssignedAt: o.dateTime("assignedAt"),
	}, nil
}

func decodeDriverNotFound(data []byte) (app.DriverNotFound, error) {
	o, err := validate(TopicDriverNotFound, data)
	if err != nil {
		return app.DriverNotFound{}, err
	}
	return app.DriverNotFound{TripID: o.str("tripId"), DecidedAt: o.dateTime("decidedAt")}, nil
}

// object is a JSON object that its schema has accepted. Its readers take
// a property by its exact name and trust the schema for its presence and
// type: on a validated object they cannot fail.
type object map[string]any

func (o object) str(key string) string {
	s, _ := o[key].(string)
	return s
}

func (o object) obj(key string) object {
	m, _ := o[key].(map[string]any)
	return m
}

func (o object) float(key string) float64 {
	n, _ := o[key].(json.Number)
	f, _ := n.Float64() // a coordinate the schema accepted is in range
	return f
}

// integer reads a JSON Schema integer (240, 240.0 or 2.4e2), saturating
// beyond the range of int64.
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

func (o object) point() app.Point {
	return app.Point{Lat: o.float("lat"), Lon: o.float("lon")}
}

// dateTime reads an RFC 3339 date-time that the schema's format check
// accepted, in UTC. It reads the fields where that check does, so that it
// takes exactly what the check took, the leap second 23:59:60 included
// (time.Date carries it into the next minute; time.Parse refuses it).
func (o object) dateTime(key string) time.Time {
	s := o.str(key)
	if len(s) < 20 {
		return time.Time{}
	}
	date, _ := time.Parse(time.DateOnly, s[:10])
	clock := s[11:]
	hour, minute, sec := atoi(clock[0:2]), atoi(clock[3:5]), atoi(clock[6:8])
	rest := clock[8:]
	nsec := 0
	if frac, ok := strings.CutPrefix(rest, "."); ok {
		digits := len(frac) - len(strings.TrimLeft(frac, "0123456789"))
		nsec = atoi((frac[:digits] + "000000000")[:9])
		rest = frac[digits:]
	}
	offset := 0
	if len(rest) == 6 { // ±hh:mm; else Z or z
		offset = (atoi(rest[1:3])*60 + atoi(rest[4:6])) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	}
	y, mo, d := date.Date()
	return time.Date(y, mo, d, hour, minute, sec, nsec, time.FixedZone("", offset)).UTC()
}

// atoi reads a number the format check has read already.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
