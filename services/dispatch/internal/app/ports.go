package app

import (
	"context"
	"errors"

	"github.com/ride-choreography/services/dispatch/internal/dispatch"
)

// ErrConflict means a Save lost a race: what it would overwrite changed
// since it was loaded (its ETag no longer matches).
var ErrConflict = errors.New("changed concurrently")

// Store keeps the board and what is known of each trip. A Load of what
// was never saved returns its zero value (a new board, an unknown trip) and
// an empty ETag. A Save writes only if the stored value still has the given
// ETag (an empty ETag: only if there is none yet), else it returns an
// error wrapping ErrConflict; on success it returns the ETag the value
// now has, "" when the store does not tell.
type Store interface {
	LoadTrip(ctx context.Context, tripID string) (t dispatch.Trip, etag string, err error)
	SaveTrip(ctx context.Context, t dispatch.Trip, etag string) error
	LoadBoard(ctx context.Context) (b dispatch.Board, etag string, err error)
	SaveBoard(ctx context.Context, b dispatch.Board, etag string) (next string, err error)
}

// Metrics counts what the use cases do (internal/metrics).
type Metrics interface {
	// TripRecorded counts a trip put on the board as status (waiting,
	// assigned, not_found).
	TripRecorded(status string)
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
