package httpapi

import (
	"context"
	"math"
	"regexp"
	"time"

	"github.com/ride-choreography/services/notification/internal/notification"
)

// The payloads of the subscribed topics, as contracts/schemas define them.
// The decoders check every required property, including those the service
// does not use, so that what they accept is what the schemas accept.

// decoders maps each subscribed topic to the decoder of its events' data.
var decoders = map[string]decodeFunc{
	topicTripCreated:    decodeTripCreated,
	topicDriverAssigned: decodeDriverAssigned,
	topicDriverNotFound: decodeDriverNotFound,
}

// tripIDPattern is the schemas' pattern of a trip id: a lower-case UUID.
var tripIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// tripCreated is the data of a trip-created event.
type tripCreated struct {
	tripID  string
	riderID string
}

func decodeTripCreated(data object) (event, error) {
	var r schemaReader
	e := tripCreated{tripID: r.tripID(data), riderID: r.riderID(data)}
	r.point(data, "pickup")
	r.point(data, "dropoff")
	r.dateTime(data, "requestedAt")
	return e, r.err
}

func (e tripCreated) apply(ctx context.Context, events Events) error {
	return events.TripReceived(ctx, e.riderID, e.tripID)
}

// driverAssigned is the data of a driver-assigned event.
type driverAssigned struct {
	tripID  string
	riderID string
	driver  notification.Driver
	eta     time.Duration
}

func decodeDriverAssigned(data object) (event, error) {
	var r schemaReader
	e := driverAssigned{tripID: r.tripID(data), riderID: r.riderID(data)}
	driver := r.object(data, "driver")
	r.text(driver, "id")
	e.driver.Name = r.text(driver, "name")
	car := r.object(driver, "car")
	e.driver.Car = notification.Car{
		Make:  r.text(car, "make"),
		Model: r.text(car, "model"),
		Color: r.text(car, "color"),
		Plate: r.text(car, "plate"),
	}
	e.eta = seconds(r.integer(data, "etaSeconds", 0))
	r.dateTime(data, "assignedAt")
	return e, r.err
}

func (e driverAssigned) apply(ctx context.Context, events Events) error {
	return events.DriverAssigned(ctx, e.riderID, e.tripID, e.driver, e.eta)
}

// driverNotFound is the data of a driver-not-found event.
type driverNotFound struct {
	tripID  string
	riderID string
}

func decodeDriverNotFound(data object) (event, error) {
	var r schemaReader
	e := driverNotFound{tripID: r.tripID(data), riderID: r.riderID(data)}
	r.text(data, "reason")
	r.dateTime(data, "decidedAt")
	return e, r.err
}

func (e driverNotFound) apply(ctx context.Context, events Events) error {
	return events.NoDriver(ctx, e.riderID, e.tripID)
}

func (r *schemaReader) tripID(o object) string {
	return r.match(o, "tripId", tripIDPattern)
}

func (r *schemaReader) riderID(o object) string {
	return r.string(o, "riderId", 1, notification.MaxRiderIDLength)
}

// point reads a required WGS 84 position (point.schema.json).
func (r *schemaReader) point(o object, name string) {
	p := r.object(o, name)
	r.number(p, "lat", -90, 90)
	r.number(p, "lon", -180, 180)
}

// seconds converts a non-negative whole number of seconds to a duration,
// the longest one for numbers beyond it.
func seconds(s float64) time.Duration {
	if s >= math.MaxInt64/float64(time.Second) {
		return math.MaxInt64
	}
	return time.Duration(s) * time.Second
}
