// Package apptest provides hand-written, recording fakes of the app's
// ports for tests: an in-memory Store (also the DeadLetterStore) with ETags
// and a Publisher that remembers what it published.
package apptest

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

// Store is an in-memory app.Store and app.DeadLetterStore that checks
// ETags the way a Dapr state store does.
type Store struct {
	// Err, when set, fails every call, as an unreachable sidecar would.
	Err error
	// BeforeSaveDriver, when set, runs at the start of every SaveDriver,
	// so that a test can let a rival replica write first.
	BeforeSaveDriver func()
	// BeforeCreateAssignment, when set, runs at the start of every
	// CreateAssignment, for the same purpose.
	BeforeCreateAssignment func()
	// BeforeSaveDeadLetters, when set, runs at the start of every
	// SaveDeadLetters, for the same purpose.
	BeforeSaveDeadLetters func()

	mu                 sync.Mutex
	drivers            map[string]storedDriver
	assignments        map[string]app.Assignment
	deadLetters        app.DeadLetters
	deadLettersVersion int
}

// NewStore returns a Store holding drivers.
func NewStore(drivers ...driver.Driver) *Store {
	s := &Store{drivers: map[string]storedDriver{}, assignments: map[string]app.Assignment{}}
	for _, d := range drivers {
		s.drivers[d.ID] = storedDriver{driver: d, version: 1}
	}
	return s
}

// Drivers implements app.Store.
func (s *Store) Drivers(_ context.Context, ids []string) ([]app.StoredDriver, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return nil, s.Err
	}
	var out []app.StoredDriver
	for _, id := range ids {
		if sd, ok := s.drivers[id]; ok {
			out = append(out, app.StoredDriver{Driver: sd.driver, ETag: strconv.Itoa(sd.version)})
		}
	}
	return out, nil
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

// Assignment implements app.Store.
func (s *Store) Assignment(_ context.Context, tripID string) (app.Assignment, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return app.Assignment{}, false, s.Err
	}
	a, ok := s.assignments[tripID]
	return a, ok, nil
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

// DeadLetters implements app.DeadLetterStore.
func (s *Store) DeadLetters(context.Context) (app.DeadLetters, string, error) {
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

// SaveDeadLetters implements app.DeadLetterStore.
func (s *Store) SaveDeadLetters(_ context.Context, dl app.DeadLetters, etag string) error {
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

// Recorded returns the outcome recorded for the trip and whether there is one.
func (s *Store) Recorded(tripID string) (app.Assignment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.assignments[tripID]
	return a, ok
}
