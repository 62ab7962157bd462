package dapr

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dapr/go-sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/driver"
)

// Key prefixes in the state store.
const (
	driverKeyPrefix     = "driver-"
	assignmentKeyPrefix = "assignment-"
)

// StateStore keeps the driver pool, the trips' outcomes and the dead
// letters in the sidecar's state store. It implements app.Store and
// app.DeadLetterStore.
//
// Every write uses first-write concurrency: with an ETag it succeeds only
// if the value is unchanged, without one only if there is no value yet.
type StateStore struct {
	client client.Client
	name   string
}

// NewStateStore returns the state store named name behind sidecar.
func NewStateStore(sidecar *Sidecar, name string) *StateStore {
	return &StateStore{client: sidecar.client, name: name}
}

// driverRecord is a driver as stored under driver-<id>. Status is the
// state the driver was saved in: one saved on_trip is free again from
// BusyUntil on (and at once when BusyUntil is missing, as in records
// written before rides ended).
type driverRecord struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Car       carRecord      `json:"car"`
	Position  positionRecord `json:"position"`
	Status    string         `json:"status"`
	TripID    string         `json:"tripId,omitempty"`
	BusyUntil time.Time      `json:"busyUntil,omitzero"`
}

type carRecord struct {
	Make  string `json:"make"`
	Model string `json:"model"`
	Color string `json:"color"`
	Plate string `json:"plate"`
}

type positionRecord struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// assignmentRecord is a trip's outcome as stored under assignment-<tripId>:
// the event that announces it, published again on every redelivery.
type assignmentRecord struct {
	DriverAssigned *app.DriverAssigned `json:"driverAssigned,omitempty"`
	DriverNotFound *app.DriverNotFound `json:"driverNotFound,omitempty"`
}

// Drivers implements app.Store.
func (s *StateStore) Drivers(ctx context.Context, ids []string) ([]app.StoredDriver, error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = driverKeyPrefix + id
	}
	items, err := s.client.GetBulkState(ctx, s.name, keys, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("get drivers: %w", err)
	}
	byKey := make(map[string]*client.BulkStateItem, len(items))
	for _, item := range items {
		byKey[item.Key] = item
	}
	var stored []app.StoredDriver
	for _, key := range keys {
		item, ok := byKey[key]
		switch {
		case !ok || item.Error == "" && len(item.Value) == 0:
			continue
		case item.Error != "":
			return nil, fmt.Errorf("get %s: %s", key, item.Error)
		}
		var rec driverRecord
		if err := json.Unmarshal(item.Value, &rec); err != nil {
			return nil, fmt.Errorf("decode %s: %w", key, err)
		}
		stored = append(stored, app.StoredDriver{Driver: rec.driver(), ETag: item.Etag})
	}
	return stored, nil
}

// SaveDriver implements app.Store.
func (s *StateStore) SaveDriver(ctx context.Context, d driver.Driver, etag string) error {
	value, err := json.Marshal(newDriverRecord(d))
	if err != nil {
		return fmt.Errorf("encode driver %s: %w", d.ID, err)
	}
	return s.save(ctx, driverKeyPrefix+d.ID, value, etag)
}

// Assignment implements app.Store.
func (s *StateStore) Assignment(ctx context.Context, tripID string) (app.Assignment, bool, error) {
	key := assignmentKeyPrefix + tripID
	item, err := s.client.GetState(ctx, s.name, key, nil)
	if err != nil {
		return app.Assignment{}, false, fmt.Errorf("get %s: %w", key, err)
	}
	if len(item.Value) == 0 {
		return app.Assignment{}, false, nil
	}
	var rec assignmentRecord
	if err := json.Unmarshal(item.Value, &rec); err != nil {
		return app.Assignment{}, false, fmt.Errorf("decode %s: %w", key, err)
	}
	if (rec.DriverAssigned == nil) == (rec.DriverNotFound == nil) {
		return app.Assignment{}, false, fmt.Errorf("decode %s: want exactly one of driverAssigned and driverNotFound", key)
	}
	return app.Assignment{Assigned: rec.DriverAssigned, NotFound: rec.DriverNotFound}, true, nil
}

// CreateAssignment implements app.Store.
func (s *StateStore) CreateAssignment(ctx context.Context, tripID string, a app.Assignment) error {
	value, err := json.Marshal(assignmentRecord{DriverAssigned: a.Assigned, DriverNotFound: a.NotFound})
	if err != nil {
		return fmt.Errorf("encode assignment of trip %s: %w", tripID, err)
	}
	return s.save(ctx, assignmentKeyPrefix+tripID, value, "")
}

// save writes value under key if its ETag is still etag, or, with no etag,
// if key has no value yet; otherwise it returns app.ErrConflict.
func (s *StateStore) save(ctx context.Context, key string, value []byte, etag string) error {
	err := s.client.SaveStateWithETag(ctx, s.name, key, value, etag, nil,
		client.WithConcurrency(client.StateConcurrencyFirstWrite),
		client.WithConsistency(client.StateConsistencyStrong),
	)
	if err == nil {
		return nil
	}
	if status.Code(err) == codes.Aborted {
		return fmt.Errorf("save %s: %w", key, app.ErrConflict)
	}
	if etag == "" && s.exists(ctx, key) {
		// Stores such as Redis refuse a first write to an existing key with
		// a plain error instead of an ETag mismatch.
		return fmt.Errorf("save %s: %w", key, app.ErrConflict)
	}
	return fmt.Errorf("save %s: %w", key, err)
}

// exists reports whether key has a value; a failed read counts as no.
func (s *StateStore) exists(ctx context.Context, key string) bool {
	item, err := s.client.GetState(ctx, s.name, key, nil)
	return err == nil && len(item.Value) > 0
}

func newDriverRecord(d driver.Driver) driverRecord {
	return driverRecord{
		ID:        d.ID,
		Name:      d.Name,
		Car:       carRecord{Make: d.Car.Make, Model: d.Car.Model, Color: d.Car.Color, Plate: d.Car.Plate},
		Position:  positionRecord{Lat: d.Position.Lat, Lon: d.Position.Lon},
		Status:    string(d.Status),
		TripID:    d.TripID,
		BusyUntil: d.BusyUntil.UTC(),
	}
}

func (r driverRecord) driver() driver.Driver {
	return driver.Driver{
		ID:        r.ID,
		Name:      r.Name,
		Car:       driver.Car{Make: r.Car.Make, Model: r.Car.Model, Color: r.Car.Color, Plate: r.Car.Plate},
		Position:  driver.Position{Lat: r.Position.Lat, Lon: r.Position.Lon},
		Status:    driver.Status(r.Status),
		TripID:    r.TripID,
		BusyUntil: r.BusyUntil,
	}
}

var _ app.Store = (*StateStore)(nil)
