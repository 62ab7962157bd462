// Package deadletter holds the events the service could never handle, as
// Dapr hands them back on the service's dead-letter topic: the newest of
// them, each with the reason it was refused, and how many there were in all.
package deadletter

import (
	"encoding/json"
	"slices"
	"time"
)

// Limits of a List. MaxBytes keeps the stored list far below the 4 MiB a
// gRPC message to or from the sidecar may carry, even when the letters are
// as large as an event can be.
const (
	// MaxKept is the most letters a List keeps.
	MaxKept = 1000
	// MaxBytes is about the most bytes the letters of a List take
	// together; the newest letter is kept whatever its size.
	MaxBytes = 1 << 20
)

// Letter is one event that was dead-lettered.
type Letter struct {
	// ID is the CloudEvent id; a List keeps a letter once per ID.
	ID string
	// Topic is the topic the event was published on.
	Topic string
	// ReceivedAt is when the service received the letter.
	ReceivedAt time.Time
	// Reason says why the service refused the event.
	Reason string
	// Event is the CloudEvent as it was delivered, a JSON value.
	Event json.RawMessage
}

// size is about the bytes the letter takes when stored.
func (l Letter) size() int {
	return len(l.ID) + len(l.Topic) + len(l.Reason) + len(l.Event)
}

// List is the dead letters kept, oldest first: the newest MaxKept of them,
// fewer when they would take more than MaxBytes. It counts every letter
// ever added. The zero value is an empty list.
type List struct {
	letters []Letter
	count   int
}

// NewList returns a list holding letters in the order given, and count
// letters added in all, as stored earlier. It keeps its own copy of
// letters.
func NewList(letters []Letter, count int) List {
	return List{letters: slices.Clone(letters), count: max(count, len(letters))}
}

// Add appends l unless the list holds a letter with l's ID already, and
// reports whether it added l. The oldest letters make room for it. A
// duplicate older than the letters still kept is added again.
func (ls *List) Add(l Letter) bool {
	if slices.ContainsFunc(ls.letters, func(k Letter) bool { return k.ID == l.ID }) {
		return false
	}
	ls.letters = append(ls.letters, l)
	ls.count++
	ls.trim()
	return true
}

// trim drops the oldest letters while there are more than MaxKept or they
// take more than MaxBytes, keeping at least the newest.
func (ls *List) trim() {
	size := 0
	for _, l := range ls.letters {
		size += l.size()
	}
	drop := 0
	for kept := len(ls.letters); kept > 1 && (kept > MaxKept || size > MaxBytes); kept-- {
		size -= ls.letters[drop].size()
		drop++
	}
	ls.letters = slices.Delete(ls.letters, 0, drop)
}

// Letters returns the letters kept, oldest first.
func (ls List) Letters() []Letter {
	return slices.Clone(ls.letters)
}

// Count returns how many letters were ever added.
func (ls List) Count() int {
	return ls.count
}
