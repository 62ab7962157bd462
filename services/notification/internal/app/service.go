// Package app holds the notification service's use cases: telling riders
// about their trips, reading back what they were told, and keeping the
// events the service dropped. It declares the ports it needs; adapters in
// other packages satisfy them.
package app

import (
	"time"

	"github.com/rs/zerolog"
)

// Service sends notifications to riders and reads their histories.
// Sending a notification means storing it in the rider's history, from
// where the rider reads it (the history endpoint and the live stream).
type Service struct {
	store   Store
	now     func() time.Time
	log     zerolog.Logger
	wakeups *wakeups
}

// New returns a Service that keeps histories in store and stamps
// notifications with the time now returns.
func New(store Store, now func() time.Time, logger zerolog.Logger) *Service {
	return &Service{store: store, now: now, log: logger, wakeups: newWakeups()}
}
