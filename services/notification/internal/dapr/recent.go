package dapr

import (
	"strconv"
	"sync"

	"github.com/ride-choreography/services/notification/internal/notification"
)

// recentSize bounds how many riders' histories the store remembers: about
// a minute of new riders at 300 a second, far longer than the gap between
// a rider's first two notifications.
const recentSize = 1 << 14

// recentHistories remembers the histories this process saved last, each
// with the ETag its save left, oldest forgotten first.
type recentHistories struct {
	mu    sync.Mutex
	items map[string]recentHistory
	ring  []string // rider ids in the order they were first remembered
	next  int      // the slot of the ring to reuse next
}

type recentHistory struct {
	history notification.History
	etag    string
}

func newRecentHistories(size int) *recentHistories {
	return &recentHistories{items: make(map[string]recentHistory, size), ring: make([]string, size)}
}

// get returns a copy of the remembered history, which the caller may
// change.
func (r *recentHistories) get(riderID string) (notification.History, string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rh, ok := r.items[riderID]
	return rh.history.Clone(), rh.etag, ok
}

// put remembers a copy of h at etag, forgetting the oldest rider when full.
func (r *recentHistories) put(riderID string, h notification.History, etag string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.items[riderID]; !ok {
		delete(r.items, r.ring[r.next])
		r.ring[r.next] = riderID
		r.next = (r.next + 1) % len(r.ring)
	}
	r.items[riderID] = recentHistory{history: h.Clone(), etag: etag}
}

func (r *recentHistories) forget(riderID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.items, riderID)
}

// etagAfter guesses the ETag a save over etag leaves ("" or "0": nothing
// stored before). The Redis state store numbers a key's versions 1, 2, 3,
// ... and uses the number as its ETag; a wrong guess (another store,
// another numbering) costs one ETag mismatch and a load, never a lost
// write.
func etagAfter(etag string) (string, bool) {
	if etag == "" {
		return "1", true
	}
	n, err := strconv.Atoi(etag)
	if err != nil {
		return "", false
	}
	return strconv.Itoa(n + 1), true
}
