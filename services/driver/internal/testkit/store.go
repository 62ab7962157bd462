// Package testkit holds what the tests of several packages share: here,
// hand-written, recording fakes of the app's ports (an in-memory Store (also the DeadLetterStore) with ETags
// that remembers which drivers it read, a Publisher that remembers what it
// published, and a Metrics that remembers what it counted), and the
// comparison of JSON documents and log lines.
package testkit

import (
	"context"
	"slices"
	"strconv"
	"sync"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/driver"
)

type storedDriver struct {
	driver  driver.Driver
	version int
}

type storedReservation struct {
	driverID string
	version  int
}

// Store is an in-memory app.Store and app.DeadLetterStore that checks
// ETags the way a Dapr state store does, and remembers which drivers it
// was asked to read.
type Store struct {
	// Err, when set, fails every call, as an unreachable sidecar would.
	Err error
	// BeforeSaveDriver, when set, runs at the start of every SaveDriver,
	// so that a test can let a rival replica write first.
	BeforeSaveDriver func()
	// BeforeCreateDrivers, BeforeSaveReservation, BeforeCreateAssignment
	// and BeforeSaveDeadLetters, when set, run at the start of every call
	// of the method they name, for the same purpose.
	BeforeCreateDrivers    func()
	BeforeSaveReservation  func()
	BeforeCreateAssignment func()
	BeforeSaveDeadLetters  func()

	mu                 sync.Mutex
	drivers            map[string]storedDriver
	reservations       map[string]storedReservation
	assignments        map[string]app.Assignment
	deadLetters        app.DeadLetters
	deadLettersVersion int
	reads              [][]string
}

// NewStore returns a Store holding drivers.
func NewStore(drivers ...driver.Driver) *Store {
	s := &Store{
		drivers:      map[string]storedDriver{},
		reservations: map[string]storedReservation{},
		assignments:  map[string]app.Assignment{},
	}
	for _, d := range drivers {
		s.drivers[d.ID] = storedDriver{driver: d, version: 1}
	}
	return s
}

// Trip implements app.Store.
func (s *Store) Trip(_ context.Context, tripID string, driverIDs []string) (app.TripState, []app.StoredDriver, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return app.TripState{}, nil, s.Err
	}
	var state app.TripState
	if a, ok := s.assignments[tripID]; ok {
		state.Outcome = &a
	}
	if r, ok := s.reservations[tripID]; ok {
		state.Reservation = app.Reservation{DriverID: r.driverID, ETag: strconv.Itoa(r.version)}
	}
	return state, s.read(driverIDs), nil
}

// Drivers implements app.Store.
func (s *Store) Drivers(_ context.Context, ids []string) ([]app.StoredDriver, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return nil, s.Err
	}
	return s.read(ids), nil
}

// read returns the stored drivers with the ids and remembers it was asked
// for them; s.mu is held.
func (s *Store) read(ids []string) []app.StoredDriver {
	if len(ids) > 0 {
		s.reads = append(s.reads, slices.Clone(ids))
	}
	var out []app.StoredDriver
	for _, id := range ids {
		if sd, ok := s.drivers[id]; ok {
			out = append(out, app.StoredDriver{Driver: sd.driver, ETag: strconv.Itoa(sd.version)})
		}
	}
	return out
}

// CreateDrivers implements app.Store.
func (s *Store) CreateDrivers(_ context.Context, drivers []driver.Driver) error {
	if s.BeforeCreateDrivers != nil {
		s.BeforeCreateDrivers()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	for _, d := range drivers {
		if _, exists := s.drivers[d.ID]; !exists {
			s.drivers[d.ID] = storedDriver{driver: d, version: 1}
		}
	}
	return nil
}

// SaveDriver implements app.Store.
func (s *Store) SaveDriver(_ context.Context, d driver.Driver, etag string) error {
	if s.BeforeSaveDriver != nil {
		s.BeforeSaveDriver()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	current, exists := s.drivers[d.ID]
	if exists && etag != strconv.Itoa(current.version) || !exists && etag != "" {
		return app.ErrConflict
	}
	s.drivers[d.ID] = storedDriver{driver: d, version: current.version + 1}
	return nil
}

// SaveReservation implements app.Store.
func (s *Store) SaveReservation(_ context.Context, tripID, driverID, etag string) error {
	if s.BeforeSaveReservation != nil {
		s.BeforeSaveReservation()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	current, exists := s.reservations[tripID]
	if exists && etag != strconv.Itoa(current.version) || !exists && etag != "" {
		return app.ErrConflict
	}
	s.reservations[tripID] = storedReservation{driverID: driverID, version: current.version + 1}
	return nil
}

// CreateAssignment implements app.Store.
func (s *Store) CreateAssignment(_ context.Context, tripID string, a app.Assignment) error {
	if s.BeforeCreateAssignment != nil {
		s.BeforeCreateAssignment()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if _, ok := s.assignments[tripID]; ok {
		return app.ErrConflict
	}
	s.assignments[tripID] = a
	return nil
}

// Load implements app.DeadLetterStore.
func (s *Store) Load(context.Context) (app.DeadLetters, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return app.DeadLetters{}, "", s.Err
	}
	if s.deadLettersVersion == 0 {
		return app.DeadLetters{}, "", nil
	}
	kept := app.DeadLetters{Count: s.deadLetters.Count, Items: slices.Clone(s.deadLetters.Items)}
	return kept, strconv.Itoa(s.deadLettersVersion), nil
}

// Save implements app.DeadLetterStore.
func (s *Store) Save(_ context.Context, dl app.DeadLetters, etag string) error {
	if s.BeforeSaveDeadLetters != nil {
		s.BeforeSaveDeadLetters()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if etag != "" && etag != strconv.Itoa(s.deadLettersVersion) || etag == "" && s.deadLettersVersion != 0 {
		return app.ErrConflict
	}
	s.deadLetters = app.DeadLetters{Count: dl.Count, Items: slices.Clone(dl.Items)}
	s.deadLettersVersion++
	return nil
}

// Pool returns every stored driver, by id.
func (s *Store) Pool() map[string]driver.Driver {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]driver.Driver, len(s.drivers))
	for id, sd := range s.drivers {
		out[id] = sd.driver
	}
	return out
}

// Reserved returns the driver the trip's reservation names and whether it
// has one.
func (s *Store) Reserved(tripID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reservations[tripID]
	return r.driverID, ok
}

// PutReservation stores a reservation of the trip naming driverID, as a
// handler that stopped afterwards would have left it.
func (s *Store) PutReservation(tripID, driverID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reservations[tripID] = storedReservation{driverID: driverID, version: s.reservations[tripID].version + 1}
}

// Reads returns the ids of every read of drivers so far, one list a read
// (Trip and Drivers calls that asked for any), and forgets them.
func (s *Store) Reads() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	reads := s.reads
	s.reads = nil
	return reads
}

// Recorded returns the outcome recorded for the trip and whether there is one.
func (s *Store) Recorded(tripID string) (app.Assignment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.assignments[tripID]
	return a, ok
}
