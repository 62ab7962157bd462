package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/notification/internal/notification"
	"github.com/ride-choreography/services/notification/internal/tracing"
)

// TripReceived tells the rider of a trip-created event that their order
// arrived.
func (s *Service) TripReceived(ctx context.Context, e TripCreated) error {
	return s.send(ctx, e.RiderID, notification.TripReceived(e.TripID, s.sentAt()))
}

// DriverAssigned tells the rider which driver comes for the trip and when.
// A rider not told yet that the trip was received is told that first (the
// event overtook trip-created).
func (s *Service) DriverAssigned(ctx context.Context, e DriverAssigned) error {
	return s.send(ctx, e.RiderID, notification.DriverAssigned(e.TripID, e.Driver, e.ETA, s.sentAt()))
}

// NoDriver tells the rider that no driver was found for the trip, or that
// none is near its pickup, after telling them that the trip was received
// if nobody did yet.
func (s *Service) NoDriver(ctx context.Context, e DriverNotFound) error {
	if e.NoneNear {
		return s.send(ctx, e.RiderID, notification.NoDriverNear(e.TripID, s.sentAt()))
	}
	return s.send(ctx, e.RiderID, notification.NoDriver(e.TripID, s.sentAt()))
}

// send tells the rider n by adding it to their history, unless the
// history holds it already: a duplicate is not an error, the rider was
// told already. Each notification added is logged and counted; a
// duplicate, which adds none, is neither.
func (s *Service) send(ctx context.Context, riderID string, n notification.Notification) error {
	sent, err := s.add(ctx, riderID, n)
	if err != nil {
		return fmt.Errorf("send %s to rider %s: %w", n.ID(), riderID, err)
	}
	log := s.logFor(ctx)
	for _, n := range sent {
		s.metrics.NotificationSent(string(n.Kind))
		log.Info().
			Str("riderId", riderID).
			Str("tripId", n.TripID).
			Str("kind", string(n.Kind)).
			Msg("notification sent")
	}
	if len(sent) > 0 {
		s.wakeups.wake(riderID)
	}
	return nil
}

// add stores n in the rider's history unless it is there already, and
// returns what it stored: n, after the trip's trip_received notification
// when the rider has none yet, for the driver's answer may overtake
// trip-created (the rider still hears first that the order arrived, and
// trip-created then finds it sent). It loads the history again and retries
// when another writer changed it in between (retryOnConflict).
//
// The first attempt starts from the history as this process last saved
// it, when it remembers it: the rider's second notification then costs one
// call to the store instead of two. The save is conditional on its ETag,
// so a stale start costs a conflict and a load, never a lost notification;
// only a loaded history decides that n is a duplicate or too early.
func (s *Service) add(ctx context.Context, riderID string, n notification.Notification) ([]notification.Notification, error) {
	first := true
	return retryOnConflict(func() ([]notification.Notification, error) {
		h, etag, remembered := s.store.Recent(riderID)
		remembered = remembered && first
		first = false
		if !remembered {
			var err error
			if h, etag, err = s.store.Load(ctx, riderID); err != nil {
				return nil, err
			}
		}
		sent := []notification.Notification{n}
		added, err := h.Add(n)
		if errors.Is(err, notification.ErrTripNotReceived) && !remembered {
			receipt := notification.TripReceived(n.TripID, n.SentAt)
			sent = []notification.Notification{receipt, n}
			if _, err = h.Add(receipt); err == nil {
				added, err = h.Add(n)
			}
		}
		if remembered && (err != nil || !added) {
			return nil, ErrConflict // decide on the stored history
		}
		if err != nil || !added {
			return nil, err
		}
		if err := s.store.Save(ctx, riderID, h, etag); err != nil {
			return nil, err
		}
		return sent, nil
	})
}

func (s *Service) sentAt() time.Time {
	return s.now().UTC()
}

// logFor returns the logger ctx carries, the handled event's (with its id,
// topic and trace id), or else the service's own with the trace id of ctx.
func (s *Service) logFor(ctx context.Context) *zerolog.Logger {
	if log := zerolog.Ctx(ctx); log.GetLevel() != zerolog.Disabled {
		return log
	}
	log := s.log
	if trace := tracing.TraceID(ctx); trace != "" {
		log = log.With().Str("traceId", trace).Logger()
	}
	return &log
}
