// Package app holds the notification service's use cases: telling riders
// about their trips, reading back what they were told, and keeping the
// events the service dropped. It declares the ports it needs; adapters in
// other packages satisfy them.
package app

import (
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
)

// Service sends notifications to riders and reads their histories.
// Sending a notification means storing it in the rider's history, from
// where the rider reads it (the history endpoint and the live stream).
type Service struct {
	store   Store
	metrics Metrics
	now     func() time.Time
	log     zerolog.Logger
	wakeups *wakeups
}

// NewService returns a Service that keeps histories in store, counts the
// notifications it sends with metrics and stamps them with the time now
// returns.
func NewService(store Store, metrics Metrics, now func() time.Time, logger zerolog.Logger) *Service {
	return &Service{store: store, metrics: metrics, now: now, log: logger, wakeups: newWakeups()}
}

// maxAttempts bounds the read-modify-write loop under contention;
// the caller then retries the whole event.
const maxAttempts = 5

// retryOnConflict runs a read-modify-write attempt again while it fails
// with ErrConflict (another writer came first), at most maxAttempts
// times.
func retryOnConflict[T any](attempt func() (T, error)) (T, error) {
	var err error
	for range maxAttempts {
		var v T
		v, err = attempt()
		if !errors.Is(err, ErrConflict) {
			return v, err
		}
	}
	var zero T
	return zero, fmt.Errorf("gave up after %d attempts: %w", maxAttempts, err)
}
