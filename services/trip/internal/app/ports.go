package app

import (
	"context"
	"time"

	"github.com/ride-choreography/services/trip/internal/trip"
)

// Store keeps trips.
type Store interface {
	// Insert stores t unless a trip with its id is stored already; it
	// reports whether it stored t.
	Insert(ctx context.Context, t trip.Trip) (bool, error)
	// Get returns the trip and an opaque version for Update, or
	// trip.ErrNotFound.
	Get(ctx context.Context, id string) (trip.Trip, string, error)
	// Update replaces the trip if it is still at version, else ErrConflict.
	Update(ctx context.Context, t trip.Trip, version string) error
	// Recent returns the trip as this process last wrote it, with the
	// version that write left, while it remembers it. It costs no call to
	// the store, and it may be stale (another replica wrote since), so it
	// serves only to skip a write that this process made already, or as
	// the starting point of an Update that ErrConflict then corrects.
	Recent(id string) (trip.Trip, string, bool)
}

// Publisher publishes an event, encoded as JSON, to a topic. A nil error
// means the broker has the event; an error wrapping ErrOutcomeUnknown means
// it may have it (the call was cut off or timed out after it was sent);
// any other error means it has not.
type Publisher interface {
	Publish(ctx context.Context, topic string, event any) error
}

// DeadLetterStore keeps the dead letters, as one record.
type DeadLetterStore interface {
	// Load returns the dead letters kept and the version that a save must
	// present; none and an empty version when nothing is kept yet.
	Load(ctx context.Context) (DeadLetters, string, error)
	// Save saves dl if the stored version is still version; an empty
	// version saves dl only if nothing is stored yet. A lost race returns
	// ErrConflict.
	Save(ctx context.Context, dl DeadLetters, version string) error
}

// Metrics counts what the use cases did (internal/metrics): each thing
// once, never again for a replayed order or a redelivered event.
type Metrics interface {
	// TripOrdered counts an order accepted.
	TripOrdered()
	// TripAssigned counts a trip that got its driver, waited after it
	// was ordered (from its requestedAt to the event's assignedAt).
	TripAssigned(waited time.Duration)
	// TripNoDriver counts a trip for which no driver was found.
	TripNoDriver()
}
