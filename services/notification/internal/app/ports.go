package app

import (
	"context"
	"errors"

	"github.com/ride-choreography/services/notification/internal/notification"
)

// ErrConflict means a Save lost a race: what it would overwrite changed
// since it was loaded (its ETag no longer matches).
var ErrConflict = errors.New("changed concurrently")

// Store keeps each rider's notification history. Load returns an empty
// history and an empty ETag for a rider it has never seen. Save writes h
// only if the stored history still has the given ETag (an empty ETag: only
// if there is none yet), else it returns an error wrapping ErrConflict.
//
// Recent returns the rider's history as this process last saved it, with
// the ETag that save left, while it remembers it. It costs no call to the
// store and may be stale (another replica saved since), so it serves only
// as the starting point of a Save that ErrConflict then corrects.
type Store interface {
	Load(ctx context.Context, riderID string) (h notification.History, etag string, err error)
	Save(ctx context.Context, riderID string, h notification.History, etag string) error
	Recent(riderID string) (h notification.History, etag string, ok bool)
}

// Metrics counts what the use cases do (internal/metrics).
type Metrics interface {
	// NotificationSent counts a notification of kind added to a rider's
	// history.
	NotificationSent(kind string)
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
