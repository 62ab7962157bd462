package app

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recordingMetrics records what the use cases count.
type recordingMetrics struct {
	Ordered  int
	Assigned []time.Duration // the waits
	NoDriver int
}

func (r *recordingMetrics) TripOrdered() { r.Ordered++ }

func (r *recordingMetrics) TripAssigned(waited time.Duration) {
	r.Assigned = append(r.Assigned, waited)
}

func (r *recordingMetrics) TripNoDriver() { r.NoDriver++ }

// TestOrdersCounted: an order is counted once it is accepted (its
// trip-created is on the broker), even when its record is written later,
// and never again for a replay or the service's own trip-created.
func TestOrdersCounted(t *testing.T) {
	ctx := context.Background()
	bad := order
	bad.Pickup.Lat = 91
	changed := order
	changed.Dropoff.Lat = 49.19
	tests := []struct {
		name  string
		calls func(*Service, *fakeStore)
		want  int
	}{
		{name: "an order", want: 1, calls: func(s *Service, _ *fakeStore) { s.Order(ctx, order, "") }},
		{name: "two orders without a key", want: 2, calls: func(s *Service, _ *fakeStore) {
			s.Order(ctx, order, "")
			s.Order(ctx, order, "")
		}},
		{name: "an order, replayed", want: 1, calls: func(s *Service, _ *fakeStore) {
			s.Order(ctx, order, "key-1")
			s.Order(ctx, order, "key-1")
		}},
		{name: "an order, then its key reused", want: 1, calls: func(s *Service, _ *fakeStore) {
			s.Order(ctx, order, "key-1")
			s.Order(ctx, changed, "key-1")
		}},
		{name: "an order, then its own trip-created", want: 1, calls: func(s *Service, st *fakeStore) {
			s.Order(ctx, order, "")
			delete(st.remembered, published.created[0].TripID) // as another replica
			s.TripCreated(ctx, published.created[0])
		}},
		{name: "an order whose record is written later", want: 1, calls: func(s *Service, st *fakeStore) {
			st.insertErr = errBad
			s.Order(ctx, order, "")
			st.insertErr = nil
			s.TripCreated(ctx, published.created[0])
		}},
		{name: "an invalid order", want: 0, calls: func(s *Service, _ *fakeStore) { s.Order(ctx, bad, "") }},
		{name: "an order not published", want: 0, calls: func(s *Service, _ *fakeStore) {
			published.err = errBad
			s.Order(ctx, order, "")
		}},
		{name: "an order whose key cannot be looked up", want: 0, calls: func(s *Service, st *fakeStore) {
			st.getErr = errBad
			s.Order(ctx, order, "key-1")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			s := newService(store)
			tt.calls(s, store)
			if diff := cmp.Diff(&recordingMetrics{Ordered: tt.want}, counted); diff != "" {
				t.Errorf("counted (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDriverOutcomesCounted: a trip is counted assigned, with the wait from
// its order to the assignment, or without a driver, when its status
// changes: once, whatever the redeliveries, conflicts and refusals.
func TestDriverOutcomesCounted(t *testing.T) {
	ctx := context.Background()
	assigned := func(id string) DriverAssigned {
		return DriverAssigned{TripID: id, Driver: jarda, ETASeconds: 240, AssignedAt: now.Add(1500 * time.Millisecond)}
	}
	notFound := func(id string) DriverNotFound { return DriverNotFound{TripID: id, DecidedAt: now.Add(time.Minute)} }
	tests := []struct {
		name  string
		calls func(s *Service, store *fakeStore, id string)
		want  recordingMetrics // besides the order
	}{
		{name: "assigned", want: recordingMetrics{Assigned: []time.Duration{1500 * time.Millisecond}},
			calls: func(s *Service, _ *fakeStore, id string) { s.DriverAssigned(ctx, assigned(id)) }},
		{name: "assigned, redelivered", want: recordingMetrics{Assigned: []time.Duration{1500 * time.Millisecond}},
			calls: func(s *Service, _ *fakeStore, id string) {
				s.DriverAssigned(ctx, assigned(id))
				s.DriverAssigned(ctx, assigned(id))
			}},
		{name: "assigned after two conflicts", want: recordingMetrics{Assigned: []time.Duration{1500 * time.Millisecond}},
			calls: func(s *Service, st *fakeStore, id string) {
				st.conflicts = 2
				s.DriverAssigned(ctx, assigned(id))
			}},
		{name: "assigned, but conflicts without end", want: recordingMetrics{},
			calls: func(s *Service, st *fakeStore, id string) {
				st.conflicts = maxAttempts
				s.DriverAssigned(ctx, assigned(id))
			}},
		{name: "assigned, for a trip not recorded", want: recordingMetrics{},
			calls: func(s *Service, _ *fakeStore, _ string) { s.DriverAssigned(ctx, assigned("nope")) }},
		{name: "no driver", want: recordingMetrics{NoDriver: 1},
			calls: func(s *Service, _ *fakeStore, id string) { s.DriverNotFound(ctx, notFound(id)) }},
		{name: "no driver, redelivered", want: recordingMetrics{NoDriver: 1},
			calls: func(s *Service, _ *fakeStore, id string) {
				s.DriverNotFound(ctx, notFound(id))
				s.DriverNotFound(ctx, notFound(id))
			}},
		{name: "no driver, then a driver too late", want: recordingMetrics{NoDriver: 1},
			calls: func(s *Service, _ *fakeStore, id string) {
				s.DriverNotFound(ctx, notFound(id))
				s.DriverAssigned(ctx, assigned(id))
			}},
		{name: "no driver, for a trip not recorded", want: recordingMetrics{},
			calls: func(s *Service, _ *fakeStore, _ string) { s.DriverNotFound(ctx, notFound("nope")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store, tr := ordered(t)
			tt.calls(s, store, tr.ID)
			want := tt.want
			want.Ordered = 1
			if diff := cmp.Diff(&want, counted); diff != "" {
				t.Errorf("counted (-want +got):\n%s", diff)
			}
		})
	}
}
