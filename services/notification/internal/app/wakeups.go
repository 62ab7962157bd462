package app

import "sync"

// wakeups tells watchers of a rider that this process stored a new
// notification for them.
type wakeups struct {
	mu       sync.Mutex
	watchers map[string]map[chan struct{}]struct{}
}

func newWakeups() *wakeups {
	return &wakeups{watchers: make(map[string]map[chan struct{}]struct{})}
}

func (w *wakeups) watch(riderID string) (<-chan struct{}, func()) {
	c := make(chan struct{}, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.watchers[riderID] == nil {
		w.watchers[riderID] = make(map[chan struct{}]struct{})
	}
	w.watchers[riderID][c] = struct{}{}
	return c, func() { w.unwatch(riderID, c) }
}

func (w *wakeups) unwatch(riderID string, c chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.watchers[riderID], c)
	if len(w.watchers[riderID]) == 0 {
		delete(w.watchers, riderID)
	}
}

// wake signals every watcher of the rider without blocking: a watcher
// with a wake-up pending already needs no second one.
func (w *wakeups) wake(riderID string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for c := range w.watchers[riderID] {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}
