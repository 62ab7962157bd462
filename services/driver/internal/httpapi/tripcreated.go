package httpapi

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/driver"
)

// uuidPattern is the tripId pattern of contracts/schemas.
var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// dateTimePattern is the shape of an RFC 3339 date-time, which the
// schemas' format "date-time" means. time.Parse checks the ranges but on
// its own also takes shapes RFC 3339 does not, such as a one-digit hour.
var dateTimePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$`)

// parseDateTime parses an RFC 3339 date-time, in which T and Z may also be
// written in lower case.
func parseDateTime(s string) (time.Time, error) {
	if !dateTimePattern.MatchString(s) {
		return time.Time{}, fmt.Errorf("%q is not shaped as an RFC 3339 date-time", s)
	}
	return time.Parse(time.RFC3339Nano, strings.ToUpper(s))
}

// tripCreatedEvent is a trip-created CloudEvent as far as decodeTripCreated
// could read it.
type tripCreatedEvent struct {
	envelope cloudEvent
	// tripID is the tripId the data names, valid or not, for the log.
	tripID string
	// trip is the trip the event describes; set only for a valid event.
	trip app.TripCreated
}

// decodeTripCreated decodes a trip-created CloudEvent
// (contracts/schemas/trip-created.schema.json). An error wraps
// errInvalidEvent: the event can never be handled. With an error, the
// event returned holds what could be read, for the log.
func decodeTripCreated(body []byte) (tripCreatedEvent, error) {
	var ev tripCreatedEvent
	if err := ev.decode(body); err != nil {
		return ev, fmt.Errorf("%w: %w", errInvalidEvent, err)
	}
	return ev, nil
}

func (ev *tripCreatedEvent) decode(body []byte) error {
	var err error
	if ev.envelope, err = decodeCloudEvent(body); err != nil {
		return err
	}
	var data tripCreatedData
	if err := ev.envelope.decodeData(&data); err != nil {
		return err
	}
	ev.tripID = data.TripID
	trip, err := data.trip()
	if err != nil {
		return err
	}
	ev.trip = trip
	return nil
}

// tripCreatedData is the data of a trip-created event as received;
// unknown properties are ignored.
type tripCreatedData struct {
	TripID      string
	RiderID     string
	Pickup      *pointData
	Dropoff     *pointData
	RequestedAt string
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

// pointData is a point (contracts/schemas/point.schema.json) as received.
type pointData struct {
	Lat *number
	Lon *number
}

// UnmarshalJSON decodes the properties by their exact names.
func (p *pointData) UnmarshalJSON(b []byte) error {
	return decodeObject(b, property{"lat", &p.Lat}, property{"lon", &p.Lon})
}

// number is a JSON number as received: its value, and its text for what
// the value, rounded to a float64, no longer tells.
type number struct {
	value float64
	text  string
}

// UnmarshalJSON decodes a JSON number, and nothing else.
func (n *number) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &n.value); err != nil {
		return err
	}
	n.text = string(b)
	return nil
}

// beyond reports whether n lies outside [-limit, limit]. A number just
// outside rounds onto the limit itself (90.00000000000000001 is 90 as a
// float64), so at the limit the text decides, exactly.
func (n number) beyond(limit float64) bool {
	if math.Abs(n.value) != limit {
		return math.Abs(n.value) > limit
	}
	exact, ok := new(big.Rat).SetString(n.text)
	return !ok || exact.Abs(exact).Cmp(new(big.Rat).SetFloat64(limit)) > 0
}

// trip validates d against the schema and returns the trip it describes.
func (d tripCreatedData) trip() (app.TripCreated, error) {
	if !uuidPattern.MatchString(d.TripID) {
		return app.TripCreated{}, fmt.Errorf("tripId %q is not a lowercase UUID", d.TripID)
	}
	if n := utf8.RuneCountInString(d.RiderID); n < 1 || n > 128 {
		return app.TripCreated{}, fmt.Errorf("riderId has %d characters, want 1 to 128", n)
	}
	pickup, err := d.Pickup.position("pickup")
	if err != nil {
		return app.TripCreated{}, err
	}
	dropoff, err := d.Dropoff.position("dropoff")
	if err != nil {
		return app.TripCreated{}, err
	}
	requestedAt, err := parseDateTime(d.RequestedAt)
	if err != nil {
		return app.TripCreated{}, fmt.Errorf("requestedAt %q is not an RFC 3339 date-time", d.RequestedAt)
	}
	return app.TripCreated{TripID: d.TripID, RiderID: d.RiderID, Pickup: pickup, Dropoff: dropoff, RequestedAt: requestedAt}, nil
}

func (p *pointData) position(name string) (driver.Position, error) {
	if p == nil || p.Lat == nil || p.Lon == nil {
		return driver.Position{}, fmt.Errorf("%s needs lat and lon", name)
	}
	pos := driver.Position{Lat: p.Lat.value, Lon: p.Lon.value}
	err := pos.Validate()
	if err == nil && (p.Lat.beyond(90) || p.Lon.beyond(180)) {
		err = fmt.Errorf("%w: %s, %s is just outside [-90, 90] x [-180, 180]", driver.ErrInvalidPosition, p.Lat.text, p.Lon.text)
	}
	if err != nil {
		return driver.Position{}, fmt.Errorf("%s: %w", name, err)
	}
	return pos, nil
}
