package dapr

import (
	"strconv"
	"sync"

	"github.com/ride-choreography/services/trip/internal/trip"
)

// recentSize bounds how many trips the store remembers: about a minute of
// orders at 300 trips/s, far longer than a driver takes to answer, in a few
// megabytes.
const recentSize = 1 << 14

// recentTrips remembers the trips this process wrote last, each with the
// version its write left, oldest forgotten first.
type recentTrips struct {
	mu    sync.Mutex
	items map[string]recentTrip
	ring  []string // ids in the order they were first remembered
	next  int      // the slot of the ring to reuse next
}

type recentTrip struct {
	trip    trip.Trip
	version string
}

func newRecentTrips(size int) *recentTrips {
	return &recentTrips{items: make(map[string]recentTrip, size), ring: make([]string, size)}
}

func (r *recentTrips) get(id string) (trip.Trip, string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rt, ok := r.items[id]
	return rt.trip, rt.version, ok
}

// put remembers t at version, forgetting the oldest trip when full.
func (r *recentTrips) put(t trip.Trip, version string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.items[t.ID]; !ok {
		delete(r.items, r.ring[r.next])
		r.ring[r.next] = t.ID
		r.next = (r.next + 1) % len(r.ring)
	}
	r.items[t.ID] = recentTrip{trip: t, version: version}
}

func (r *recentTrips) forget(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.items, id)
}

// The Redis state store numbers a key's versions 1, 2, 3, ... and uses the
// number as its ETag. The store guesses the version a write left from the
// one it wrote over; a wrong guess (another store, another numbering)
// costs one ETag mismatch and a read, never a lost write.

// versionAfterInsert is the version a first write leaves.
const versionAfterInsert = "1"

// versionAfter returns the version a write over version leaves, and
// whether it can tell.
func versionAfter(version string) (string, bool) {
	n, err := strconv.Atoi(version)
	if err != nil {
		return "", false
	}
	return strconv.Itoa(n + 1), true
}
