package dapr

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/driver"
)

// errInvalidEvent marks an event that can never be handled: not a
// CloudEvent, or data that violates the schema of its topic.
var errInvalidEvent = errors.New("invalid event")

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

// dateTime returns the date-time property key, in UTC. It reads what the
// schemas' format "date-time" accepts (jsonschema's check of RFC 3339,
// which reads each two-character field with strconv.Atoi): T and Z in
// either case, any number of fractional digits (nanoseconds are kept), an
// offset, and the leap second 23:59:60 UTC, which time.Parse refuses: it is
// read as 23:59:59 and one second more, the next day's first instant (Go's
// time has no leap seconds).
func (o object) dateTime(key string) time.Time {
	s := o.str(key)
	date, _ := time.Parse(time.DateOnly, s[:10])
	clock := s[11:]
	hour, _ := strconv.Atoi(clock[0:2])
	minute, _ := strconv.Atoi(clock[3:5])
	second, _ := strconv.Atoi(clock[6:8])
	rest := clock[8:]
	nanos := 0
	if frac, ok := strings.CutPrefix(rest, "."); ok {
		digits := len(frac) - len(strings.TrimLeft(frac, "0123456789"))
		kept := frac[:min(digits, 9)]
		nanos, _ = strconv.Atoi(kept + strings.Repeat("0", 9-len(kept)))
		rest = frac[digits:]
	}
	east := 0 // the offset, in seconds east of UTC
	if rest != "Z" && rest != "z" {
		h, _ := strconv.Atoi(rest[1:3])
		m, _ := strconv.Atoi(rest[4:6])
		east = (h*60 + m) * 60
		if rest[0] == '-' {
			east = -east
		}
	}
	// time.Date takes the leap second 60 for the next minute's first.
	return time.Date(date.Year(), date.Month(), date.Day(), hour, minute, second, nanos, time.UTC).Add(-time.Duration(east) * time.Second)
}

// decodeTripCreated decodes the data of a trip-created event
// (contracts/schemas/trip-created.schema.json). An error wraps
// errInvalidEvent: the event can never be handled.
func decodeTripCreated(data []byte) (app.TripCreated, error) {
	o, err := validate(app.TopicTripCreated, data)
	if err != nil {
		return app.TripCreated{}, err
	}
	return app.TripCreated{
		TripID:      o.str("tripId"),
		RiderID:     o.str("riderId"),
		Pickup:      position(o.obj("pickup")),
		Dropoff:     position(o.obj("dropoff")),
		RequestedAt: o.dateTime("requestedAt"),
	}, nil
}

// position reads a point (contracts/schemas/point.schema.json).
func position(p object) driver.Position {
	return driver.Position{Lat: p.float("lat"), Lon: p.float("lon")}
}
