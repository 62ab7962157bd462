package app_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/ride-choreography/services/notification/internal/app"
	"github.com/ride-choreography/services/notification/internal/notification"
)

// fakeStore is an in-memory app.Store that checks ETags like the real one
// and records what it was asked to do.
type fakeStore struct {
	mu        sync.Mutex
	histories map[string]notification.History
	versions  map[string]int

	loadErr error
	saveErr error
	// beforeSave, when set, runs at the start of every Save, with the
	// store unlocked: it plays another writer racing this one.
	beforeSave func()

	saves, loads int
	// remembered is what Recent answers: each history as this store last
	// saved it, as the Dapr adapter remembers its own saves.
	remembered map[string]rememberedHistory
}

type rememberedHistory struct {
	history notification.History
	etag    string
}

func newFakeStore() *fakeStore {
	return &fakeStore{histories: map[string]notification.History{}, versions: map[string]int{}, remembered: map[string]rememberedHistory{}}
}

func (s *fakeStore) Recent(riderID string) (notification.History, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.remembered[riderID]
	return r.history.Clone(), r.etag, ok
}

func (s *fakeStore) Load(_ context.Context, riderID string) (notification.History, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loads++
	if s.loadErr != nil {
		return notification.History{}, "", s.loadErr
	}
	return s.histories[riderID], s.etag(riderID), nil
}

func (s *fakeStore) Save(_ context.Context, riderID string, h notification.History, etag string) error {
	if s.beforeSave != nil {
		s.beforeSave()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saves++
	if s.saveErr != nil {
		return s.saveErr
	}
	if etag != s.etag(riderID) {
		return fmt.Errorf("save rider %s with etag %q: %w", riderID, etag, app.ErrConflict)
	}
	s.histories[riderID] = h
	s.versions[riderID]++
	s.remembered[riderID] = rememberedHistory{h.Clone(), s.etag(riderID)}
	return nil
}

// put stores ns as the rider's history, as another replica would.
func (s *fakeStore) put(riderID string, ns ...notification.Notification) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.histories[riderID] = notification.NewHistory(ns)
	s.versions[riderID]++
}

func (s *fakeStore) notifications(riderID string) []notification.Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.histories[riderID].Notifications()
}

func (s *fakeStore) etag(riderID string) string {
	if s.versions[riderID] == 0 {
		return ""
	}
	return strconv.Itoa(s.versions[riderID])
}
