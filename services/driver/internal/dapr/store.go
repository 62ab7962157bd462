package dapr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dapr/go-sdk/client"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/driver"
	"github.com/ride-choreography/services/driver/internal/tracing"
)

// Key prefixes in the state store.
const (
	driverKeyPrefix      = "driver-"
	reservationKeyPrefix = "reservation-"
	assignmentKeyPrefix  = "assignment-"
)

// bulkKeys is the most keys read or written in one call to the sidecar,
// which keeps each message well below gRPC's 4 MB limit (a driver is about
// 250 bytes) and each call short.
const bulkKeys = 500

// DriverStore keeps the driver pool and the trips' reservations and
// outcomes in the service's own Dapr state store. It implements app.Store.
//
// Every write uses first-write concurrency: with an ETag it succeeds only
// if the value is unchanged, without one only if there is no value yet.
type DriverStore struct {
	sidecar *Sidecar
}

// NewDriverStore returns the driver store behind the sidecar.
func NewDriverStore(s *Sidecar) *DriverStore {
	return &DriverStore{sidecar: s}
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

// reservationRecord is a trip's reservation as stored under
// reservation-<tripId>.
type reservationRecord struct {
	DriverID string `json:"driverId"`
}

// assignmentRecord is a trip's outcome as stored under assignment-<tripId>:
// the event that announces it, published again on every redelivery.
type assignmentRecord struct {
	DriverAssigned *app.DriverAssigned `json:"driverAssigned,omitempty"`
	DriverNotFound *app.DriverNotFound `json:"driverNotFound,omitempty"`
}

// Trip implements app.Store: one GetBulkState call reads the trip's
// outcome, its reservation and the drivers (more calls only beyond
// bulkKeys keys).
func (s *DriverStore) Trip(ctx context.Context, tripID string, driverIDs []string) (app.TripState, []app.StoredDriver, error) {
	assignmentKey, reservationKey := assignmentKeyPrefix+tripID, reservationKeyPrefix+tripID
	keys := append([]string{assignmentKey, reservationKey}, driverKeys(driverIDs)...)
	items, err := s.getBulk(ctx, keys)
	if err != nil {
		return app.TripState{}, nil, fmt.Errorf("get trip %s: %w", tripID, err)
	}
	var state app.TripState
	if item := items[assignmentKey]; item != nil {
		a, err := decodeAssignment(assignmentKey, item.Value)
		if err != nil {
			return app.TripState{}, nil, err
		}
		state.Outcome = &a
	}
	if item := items[reservationKey]; item != nil {
		var rec reservationRecord
		if err := json.Unmarshal(item.Value, &rec); err != nil || rec.DriverID == "" {
			return app.TripState{}, nil, fmt.Errorf("decode %s: %q is not a reservation", reservationKey, item.Value)
		}
		state.Reservation = app.Reservation{DriverID: rec.DriverID, ETag: item.Etag}
	}
	stored, err := decodeDrivers(keys[2:], items)
	if err != nil {
		return app.TripState{}, nil, err
	}
	return state, stored, nil
}

// Drivers implements app.Store, in calls of bulkKeys keys at most.
func (s *DriverStore) Drivers(ctx context.Context, ids []string) ([]app.StoredDriver, error) {
	keys := driverKeys(ids)
	items, err := s.getBulk(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("get drivers: %w", err)
	}
	return decodeDrivers(keys, items)
}

// CreateDrivers implements app.Store, in calls of bulkKeys drivers at
// most. A call that fails (a replica stored some of its drivers first,
// which stores such as Redis report as a plain error) is done again one
// driver at a time.
func (s *DriverStore) CreateDrivers(ctx context.Context, drivers []driver.Driver) error {
	for chunk := range slices.Chunk(drivers, bulkKeys) {
		items := make([]*client.SetStateItem, len(chunk))
		for i, d := range chunk {
			value, err := json.Marshal(newDriverRecord(d))
			if err != nil {
				return fmt.Errorf("encode driver %s: %w", d.ID, err)
			}
			items[i] = &client.SetStateItem{Key: driverKeyPrefix + d.ID, Value: value, Options: firstWrite()}
		}
		if err := s.sidecar.client.SaveBulkState(ctx, s.sidecar.stateStore, items...); err == nil {
			continue
		}
		for _, d := range chunk {
			if err := s.SaveDriver(ctx, d, ""); err != nil && !errors.Is(err, app.ErrConflict) {
				return err
			}
		}
	}
	return nil
}

// SaveDriver implements app.Store.
func (s *DriverStore) SaveDriver(ctx context.Context, d driver.Driver, etag string) error {
	value, err := json.Marshal(newDriverRecord(d))
	if err != nil {
		return fmt.Errorf("encode driver %s: %w", d.ID, err)
	}
	return s.sidecar.save(ctx, driverKeyPrefix+d.ID, value, etag)
}

// SaveReservation implements app.Store.
func (s *DriverStore) SaveReservation(ctx context.Context, tripID, driverID, etag string) error {
	value, err := json.Marshal(reservationRecord{DriverID: driverID})
	if err != nil {
		return fmt.Errorf("encode reservation of trip %s: %w", tripID, err)
	}
	return s.sidecar.save(ctx, reservationKeyPrefix+tripID, value, etag)
}

// CreateAssignment implements app.Store.
func (s *DriverStore) CreateAssignment(ctx context.Context, tripID string, a app.Assignment) error {
	value, err := json.Marshal(assignmentRecord{DriverAssigned: a.Assigned, DriverNotFound: a.NotFound})
	if err != nil {
		return fmt.Errorf("encode assignment of trip %s: %w", tripID, err)
	}
	return s.sidecar.save(ctx, assignmentKeyPrefix+tripID, value, "")
}

// getBulk reads keys in calls of bulkKeys keys at most and returns the
// items that hold a value, by key. An item the store could not read fails
// the whole read.
func (s *DriverStore) getBulk(ctx context.Context, keys []string) (_ map[string]*client.BulkStateItem, err error) {
	ctx, span := tracing.Start(ctx, "state get", trace.SpanKindClient, stateKeys.Int(len(keys)))
	defer func() { tracing.End(span, err) }()
	found := make(map[string]*client.BulkStateItem, len(keys))
	for chunk := range slices.Chunk(keys, bulkKeys) {
		items, err := s.sidecar.client.GetBulkState(ctx, s.sidecar.stateStore, chunk, nil, 0)
		if err != nil {
			return nil, err
		}
		for _, item := range items {
			switch {
			case item.Error != "":
				return nil, fmt.Errorf("get %s: %s", item.Key, item.Error)
			case len(item.Value) > 0:
				found[item.Key] = item
			}
		}
	}
	return found, nil
}

// decodeDrivers returns the drivers stored under keys, in that order, from
// items; keys with no value are left out.
func decodeDrivers(keys []string, items map[string]*client.BulkStateItem) ([]app.StoredDriver, error) {
	var stored []app.StoredDriver
	for _, key := range keys {
		item, ok := items[key]
		if !ok {
			continue
		}
		var rec driverRecord
		if err := json.Unmarshal(item.Value, &rec); err != nil {
			return nil, fmt.Errorf("decode %s: %w", key, err)
		}
		stored = append(stored, app.StoredDriver{Driver: rec.driver(), ETag: item.Etag})
	}
	return stored, nil
}

func decodeAssignment(key string, value []byte) (app.Assignment, error) {
	var rec assignmentRecord
	if err := json.Unmarshal(value, &rec); err != nil {
		return app.Assignment{}, fmt.Errorf("decode %s: %w", key, err)
	}
	if (rec.DriverAssigned == nil) == (rec.DriverNotFound == nil) {
		return app.Assignment{}, fmt.Errorf("decode %s: want exactly one of driverAssigned and driverNotFound", key)
	}
	return app.Assignment{Assigned: rec.DriverAssigned, NotFound: rec.DriverNotFound}, nil
}

func driverKeys(ids []string) []string {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = driverKeyPrefix + id
	}
	return keys
}

func firstWrite() *client.StateOptions {
	return &client.StateOptions{Concurrency: client.StateConcurrencyFirstWrite, Consistency: client.StateConsistencyStrong}
}

// save writes value under key in the service's state store if its ETag is
// still etag, or, with no etag, if key has no value yet; otherwise it
// returns app.ErrConflict.
func (s *Sidecar) save(ctx context.Context, key string, value []byte, etag string) (err error) {
	ctx, span := tracing.Start(ctx, "state save", trace.SpanKindClient, stateKey.String(key))
	defer func() { tracing.End(span, err) }()
	if etag == "" {
		etag = absent
	}
	err = s.client.SaveStateWithETag(ctx, s.stateStore, key, value, etag, nil,
		client.WithConcurrency(client.StateConcurrencyFirstWrite),
		client.WithConsistency(client.StateConsistencyStrong),
	)
	if err == nil {
		return nil
	}
	if status.Code(err) == codes.Aborted { // the sidecar's answer to an ETag mismatch
		return fmt.Errorf("save %s: %w", key, app.ErrConflict)
	}
	return fmt.Errorf("save %s: %w", key, err)
}

// absent is the ETag that means "nothing stored yet" to the Redis state
// store: a first write with it fails with an ETag mismatch when the key
// holds a value written with first-write concurrency, as every write here
// is. A write with no ETag at all would fail with a plain error instead,
// which the resiliency policy retries for seconds before it is answered.
const absent = "0"

// Attributes of the spans of state calls: the key written, and how many
// keys a bulk read asked for.
const (
	stateKey  = attribute.Key("state.key")
	stateKeys = attribute.Key("state.keys")
)

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

var _ app.Store = (*DriverStore)(nil)
