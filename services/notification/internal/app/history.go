package app

import (
	"context"
	"fmt"

	"github.com/ride-choreography/services/notification/internal/notification"
)

// History returns the notifications rider riderID was sent, oldest first;
// an empty history for a rider never seen.
func (s *Service) History(ctx context.Context, riderID string) (notification.History, error) {
	h, _, err := s.store.Load(ctx, riderID)
	if err != nil {
		return notification.History{}, fmt.Errorf("read history of rider %s: %w", riderID, err)
	}
	return h, nil
}

// Watch returns a channel that receives a value soon after this Service
// sent rider riderID a notification, so a reader need not wait for its
// next poll. Wake-ups coalesce: a reader that is busy misses none, but may
// get one for several notifications. Sends by other replicas do not wake
// it. Call stop when done watching.
func (s *Service) Watch(riderID string) (wake <-chan struct{}, stop func()) {
	return s.wakeups.watch(riderID)
}
