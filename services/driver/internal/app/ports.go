package app

import (
	"context"
	"errors"

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

// Store keeps the driver pool and the outcome of every trip.
type Store interface {
	// Drivers returns the stored drivers with the given ids, in that order;
	// an id with nothing stored is left out.
	Drivers(ctx context.Context, ids []string) ([]StoredDriver, error)
	// SaveDriver saves d if its stored ETag is still etag; an empty etag
	// saves d only if nothing is stored for it yet. A lost race returns
	// ErrConflict.
	SaveDriver(ctx context.Context, d driver.Driver, etag string) error
	// Assignment returns the recorded outcome for the trip and whether there
	// is one.
	Assignment(ctx context.Context, tripID string) (Assignment, bool, error)
	// CreateAssignment records the outcome for the trip, or returns
	// ErrConflict when the trip already has one.
	CreateAssignment(ctx context.Context, tripID string, a Assignment) error
}

// Publisher publishes an event, encoded as JSON, to a topic.
type Publisher interface {
	Publish(ctx context.Context, topic string, event any) error
}

// DeadLetterStore keeps the dead letters.
type DeadLetterStore interface {
	// DeadLetters returns the dead letters kept and the ETag that a save
	// must present; none and an empty ETag when nothing is kept yet.
	DeadLetters(ctx context.Context) (DeadLetters, string, error)
	// SaveDeadLetters saves dl if the stored ETag is still etag; an empty
	// etag saves dl only if nothing is stored yet. A lost race returns
	// ErrConflict.
	SaveDeadLetters(ctx context.Context, dl DeadLetters, etag string) error
}
