package dapr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	daprclient "github.com/dapr/go-sdk/client"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ride-choreography/services/trip/internal/app"
	"github.com/ride-choreography/services/trip/internal/tracing"
	"github.com/ride-choreography/services/trip/internal/trip"
)

// TripStore keeps trips in the service's own Dapr state store. It
// implements app.Store.
//
// Every write uses first-write concurrency, so an insert never overwrites
// a trip that is stored already, and an update only the version it read.
//
// It remembers the trips it wrote last (Recent), so that the service's
// next write of a trip, nearly always the driver's answer moments later,
// needs no read first.
type TripStore struct {
	sidecar *Sidecar
	recent  *recentTrips
}

// NewTripStore returns the trip store behind the sidecar.
func NewTripStore(s *Sidecar) *TripStore {
	return &TripStore{sidecar: s, recent: newRecentTrips(recentSize)}
}

// Recent implements app.Store.
func (s *TripStore) Recent(id string) (trip.Trip, string, bool) {
	return s.recent.get(id)
}

// firstWrite makes a write conditional: it succeeds only if the stored
// value is still at the ETag given.
var firstWrite = daprclient.WithConcurrency(daprclient.StateConcurrencyFirstWrite)

// absent is the ETag that means "nothing stored yet" to the Redis state
// store: a first write with it fails with an ETag mismatch when the key
// holds a value written with first-write concurrency, as every write here
// is. A mismatch is answered at once; a plain write error instead would
// be retried by the resiliency policy, slowly, for nothing.
const absent = "0"

// Insert stores the trip unless one with its id is stored already.
func (s *TripStore) Insert(ctx context.Context, t trip.Trip) (inserted bool, err error) {
	ctx, span := startStateSpan(ctx, "state insert trip", t.ID)
	defer func() { tracing.End(span, err) }()
	record, err := json.Marshal(toRecord(t))
	if err != nil {
		return false, fmt.Errorf("encode trip: %w", err)
	}
	err = s.sidecar.client.SaveStateWithETag(ctx, s.sidecar.stateStore, tripKey(t.ID), record, absent, nil, firstWrite)
	switch {
	case err == nil:
		s.recent.put(t, versionAfterInsert)
		return true, nil
	case status.Code(err) == codes.Aborted: // the sidecar's answer to an ETag mismatch
		return false, nil
	}
	return false, fmt.Errorf("write state: %w", err)
}

// Get returns the trip and its ETag, or trip.ErrNotFound.
func (s *TripStore) Get(ctx context.Context, id string) (t trip.Trip, etag string, err error) {
	ctx, span := startStateSpan(ctx, "state get trip", id)
	defer func() {
		if errors.Is(err, trip.ErrNotFound) {
			tracing.End(span, nil) // an answer, not a failed call
			return
		}
		tracing.End(span, err)
	}()
	item, err := s.sidecar.client.GetState(ctx, s.sidecar.stateStore, tripKey(id), nil)
	if err != nil {
		return trip.Trip{}, "", fmt.Errorf("read state: %w", err)
	}
	if len(item.Value) == 0 {
		return trip.Trip{}, "", trip.ErrNotFound
	}
	var r tripRecord
	if err := json.Unmarshal(item.Value, &r); err != nil {
		return trip.Trip{}, "", fmt.Errorf("decode stored trip: %w", err)
	}
	return r.toTrip(), item.Etag, nil
}

// Update replaces the trip if its ETag is still version, else app.ErrConflict.
func (s *TripStore) Update(ctx context.Context, t trip.Trip, version string) (err error) {
	ctx, span := startStateSpan(ctx, "state update trip", t.ID)
	defer func() { tracing.End(span, err) }()
	record, err := json.Marshal(toRecord(t))
	if err != nil {
		return fmt.Errorf("encode trip: %w", err)
	}
	err = s.sidecar.client.SaveStateWithETag(ctx, s.sidecar.stateStore, tripKey(t.ID), record, version, nil, firstWrite)
	if status.Code(err) == codes.Aborted { // the sidecar's answer to an ETag mismatch
		s.recent.forget(t.ID)
		return app.ErrConflict
	}
	if err != nil {
		s.recent.forget(t.ID)
		return fmt.Errorf("write state: %w", err)
	}
	if next, ok := versionAfter(version); ok {
		s.recent.put(t, next)
	} else {
		s.recent.forget(t.ID)
	}
	return nil
}

func tripKey(id string) string { return "trip-" + id }

// startStateSpan starts the span of one call to the state store about a
// trip; the sidecar's own span of the call is its child.
func startStateSpan(ctx context.Context, name, tripID string) (context.Context, trace.Span) {
	return tracing.Start(ctx, name, trace.SpanKindClient, tracing.TripID.String(tripID))
}

// tripRecord is how a trip is stored. It is the service's private format:
// no other service reads it.
type tripRecord struct {
	ID          string        `json:"id"`
	RiderID     string        `json:"riderId"`
	Pickup      pointRecord   `json:"pickup"`
	Dropoff     pointRecord   `json:"dropoff"`
	Status      string        `json:"status"`
	RequestedAt time.Time     `json:"requestedAt"`
	UpdatedAt   time.Time     `json:"updatedAt"`
	Driver      *driverRecord `json:"driver,omitempty"`
	ETASeconds  int           `json:"etaSeconds,omitempty"`
}

type pointRecord struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

type driverRecord struct {
	ID   string    `json:"id"`
	Name string    `json:"name"`
	Car  carRecord `json:"car"`
}

type carRecord struct {
	Make  string `json:"make"`
	Model string `json:"model"`
	Color string `json:"color"`
	Plate string `json:"plate"`
}

func toRecord(t trip.Trip) tripRecord {
	r := tripRecord{
		ID:          t.ID,
		RiderID:     t.RiderID,
		Pickup:      pointRecord(t.Pickup),
		Dropoff:     pointRecord(t.Dropoff),
		Status:      string(t.Status),
		RequestedAt: t.RequestedAt,
		UpdatedAt:   t.UpdatedAt,
		ETASeconds:  t.ETASeconds,
	}
	if t.Driver != nil {
		r.Driver = &driverRecord{ID: t.Driver.ID, Name: t.Driver.Name, Car: carRecord(t.Driver.Car)}
	}
	return r
}

func (r tripRecord) toTrip() trip.Trip {
	t := trip.Trip{
		ID:          r.ID,
		RiderID:     r.RiderID,
		Pickup:      trip.Point(r.Pickup),
		Dropoff:     trip.Point(r.Dropoff),
		Status:      trip.Status(r.Status),
		RequestedAt: r.RequestedAt,
		UpdatedAt:   r.UpdatedAt,
		ETASeconds:  r.ETASeconds,
	}
	if r.Driver != nil {
		t.Driver = &trip.Driver{ID: r.Driver.ID, Name: r.Driver.Name, Car: trip.Car(r.Driver.Car)}
	}
	return t
}
