package dapr

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	daprclient "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ride-choreography/services/trip/internal/app"
	"github.com/ride-choreography/services/trip/internal/trip"
)

// TripStore keeps trips in the service's own Dapr state store. It
// implements app.Store.
//
// The store's component names trip-created as its outbox topic
// (components/trip-store.yaml), so Create's state transaction is also the
// publish: the sidecar relays the event only once the transaction
// committed, and a crash in between loses neither.
type TripStore struct {
	sidecar *Sidecar
}

// NewTripStore returns the trip store behind the sidecar.
func NewTripStore(s *Sidecar) *TripStore {
	return &TripStore{sidecar: s}
}

// The outbox publishes every upsert of a transaction. A second upsert of the
// same key marked as projection replaces the published payload, so
// subscribers get the event rather than the stored record.
var projectionMetadata = map[string]string{
	"outbox.projection": "true",
	"contentType":       "application/json",
}

// Create stores the trip and publishes its trip-created event atomically.
func (s *TripStore) Create(ctx context.Context, t trip.Trip, event app.TripCreated) error {
	record, err := json.Marshal(toRecord(t))
	if err != nil {
		return fmt.Errorf("encode trip: %w", err)
	}
	payload, err := json.Marshal(event)
	if err != nil {
		return fmt.Errorf("encode trip-created: %w", err)
	}
	key := tripKey(t.ID)
	ops := []*daprclient.StateOperation{
		{Type: daprclient.StateOperationTypeUpsert, Item: &daprclient.SetStateItem{Key: key, Value: record}},
		{Type: daprclient.StateOperationTypeUpsert, Item: &daprclient.SetStateItem{Key: key, Value: payload, Metadata: projectionMetadata}},
	}
	if err := s.sidecar.client.ExecuteStateTransaction(ctx, s.sidecar.stateStore, nil, ops); err != nil {
		return fmt.Errorf("store trip with outbox: %w", err)
	}
	return nil
}

// Get returns the trip and its ETag, or trip.ErrNotFound.
func (s *TripStore) Get(ctx context.Context, id string) (trip.Trip, string, error) {
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
// It is a plain state write, not a transaction, so the outbox publishes
// nothing.
func (s *TripStore) Update(ctx context.Context, t trip.Trip, version string) error {
	record, err := json.Marshal(toRecord(t))
	if err != nil {
		return fmt.Errorf("encode trip: %w", err)
	}
	err = s.sidecar.client.SaveStateWithETag(ctx, s.sidecar.stateStore, tripKey(t.ID), record, version, nil,
		daprclient.WithConcurrency(daprclient.StateConcurrencyFirstWrite))
	if status.Code(err) == codes.Aborted { // the sidecar's answer to an ETag mismatch
		return app.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

func tripKey(id string) string { return "trip-" + id }

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
