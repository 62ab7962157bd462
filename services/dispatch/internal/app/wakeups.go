package app

import "sync"

// wakeups tells the watchers of the board that this process changed it.
type wakeups struct {
	mu       sync.Mutex
	watchers map[chan struct{}]struct{}
}

func newWakeups() *wakeups {
	return &wakeups{watchers: make(map[chan struct{}]struct{})}
}

func (w *wakeups) watch() (<-chan struct{}, func()) {
	c := make(chan struct{}, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.watchers[c] = struct{}{}
	return c, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.watchers, c)
	}
}

// wake signals every watcher without blocking: a watcher with a wake-up
// pending already needs no second one.
func (w *wakeups) wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for c := range w.watchers {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}
