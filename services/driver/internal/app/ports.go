package app

import (
	"context"
	"errors"
	"time"

	"github.com/ride-choreography/services/driver/internal/driver"
)

// ErrConflict is returned by a Store when a conditional write lost: the
// value changed since it was read, or a value that had to be new exists.
var ErrConflict = errors.New("state changed concurrently")

// StoredDriver is a driver as read from the Store, with the ETag that a
// conditional save must present.
type StoredDriver struct {
	Driver driver.Driver
	ETag   string
}

// Reservation names the driver that a handler is reserving for a trip. It
// is saved before the driver is, so that a handler that stops between
// reserving a driver and recording the outcome leaves a trace that the
// next delivery of the trip follows, instead of reading every driver.
type Reservation struct {
	// DriverID is empty while the trip has no reservation.
	DriverID string
	// ETag is what a save of the next reservation must present.
	ETag string
}

// TripState is what the Store holds about one trip.
type TripState struct {
	// Outcome is the recorded outcome; nil while there is none.
	Outcome     *Assignment
	Reservation Reservation
}

// Store keeps the driver pool and, for every trip, its reservation and
// its outcome.
type Store interface {
	// Trip returns what is stored about the trip and, in the same round
	// trip, the stored drivers with the given ids, as Drivers does.
	Trip(ctx context.Context, tripID string, driverIDs []string) (TripState, []StoredDriver, error)
	// Drivers returns the stored drivers with the given ids, in that order;
	// an id with nothing stored is left out. Any number of ids may be
	// asked for at once.
	Drivers(ctx context.Context, ids []string) ([]StoredDriver, error)
	// CreateDrivers stores every driver of drivers that is not stored yet;
	// a driver stored already keeps what is stored, and is no error. Any
	// number of drivers may be given at once.
	CreateDrivers(ctx context.Context, drivers []driver.Driver) error
	// SaveDriver saves d if its stored ETag is still etag; an empty etag
	// saves d only if nothing is stored for it yet. A lost race returns
	// ErrConflict.
	SaveDriver(ctx context.Context, d driver.Driver, etag string) error
	// SaveReservation saves the trip's reservation, naming driverID, if
	// its stored ETag is still etag; an empty etag saves it only if the
	// trip has none yet. A lost race returns ErrConflict.
	SaveReservation(ctx context.Context, tripID, driverID, etag string) error
	// CreateAssignment records the outcome for the trip, or returns
	// ErrConflict when the trip already has one.
	CreateAssignment(ctx context.Context, tripID string, a Assignment) error
}

// Publisher publishes an event, encoded as JSON, to a topic.
type Publisher interface {
	Publish(ctx context.Context, topic string, event any) error
}

// Metrics counts what the use cases did (internal/metrics).
type Metrics interface {
	// AssignmentRecorded counts a trip whose outcome (OutcomeDriverAssigned
	// or OutcomeNoDriver) was recorded, waited after the trip was
	// requested. It is called once per trip, when the outcome is first
	// recorded, never for a redelivery that publishes it again.
	AssignmentRecorded(outcome string, waited time.Duration)
}

// DeadLetterStore keeps the dead letters.
type DeadLetterStore interface {
	// Load returns the dead letters kept and the version that a save must
	// present; none and an empty version when nothing is kept yet.
	Load(ctx context.Context) (DeadLetters, string, error)
	// Save saves dl if the stored version is still version; an empty
	// version saves dl only if nothing is stored yet. A lost race returns
	// ErrConflict.
	Save(ctx context.Context, dl DeadLetters, version string) error
}
