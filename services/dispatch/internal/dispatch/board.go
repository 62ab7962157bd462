package dispatch

import (
	"fmt"
	"slices"
	"time"
)

// Bounds of a Board: it stays small whatever the rate of trips, since it
// is written again on every change.
const (
	// MaxWaiting is the most waiting riders a board holds; beyond, the one
	// waiting longest is dropped (and the trip's outcome, when it comes, is
	// still counted).
	MaxWaiting = 5000
	// MaxDecided is how many decided trips a board keeps, newest last: the
	// ones shown on the map and their markers' details.
	MaxDecided = 200
	// FeedSize is how many events the feed keeps, newest last.
	FeedSize = 30
	// CountWindow is how far back the counters of outcomes reach.
	CountWindow = 10 * time.Minute
	// ShownFor is how long a decided trip stays on the map.
	ShownFor = 2 * time.Minute
)

// Board is the dispatchers' picture as it is stored: what Picture shows at
// any moment is computed from it.
type Board struct {
	// Waiting holds the trips ordered and not decided yet, by trip id.
	Waiting map[string]Trip
	// Decided holds the latest decided trips, in the order they were
	// recorded.
	Decided []Trip
	// Counts holds the outcomes per minute, oldest first, over CountWindow.
	Counts []MinuteCount
	// Feed holds the latest events recorded, oldest first.
	Feed []Entry
}

// MinuteCount is how many trips were assigned, and how many found no
// driver, in the minute starting at Minute (UTC).
type MinuteCount struct {
	Minute             time.Time
	Assigned, NotFound int
}

// EntryKind is what an Entry of the feed tells.
type EntryKind string

const (
	EntryOrdered  EntryKind = "ordered"
	EntryAssigned EntryKind = "assigned"
	EntryNotFound EntryKind = "not_found"
)

// Entry is a line of the feed.
type Entry struct {
	At     time.Time
	Kind   EntryKind
	TripID string
	Text   string
}

// NewBoard returns an empty board.
func NewBoard() Board {
	return Board{Waiting: map[string]Trip{}}
}

// Clone returns a copy of b that shares nothing with it.
func (b Board) Clone() Board {
	c := Board{
		Waiting: make(map[string]Trip, len(b.Waiting)),
		Decided: slices.Clone(b.Decided),
		Counts:  slices.Clone(b.Counts),
		Feed:    slices.Clone(b.Feed),
	}
	for id, t := range b.Waiting {
		c.Waiting[id] = t
	}
	return c
}

// Record brings the board up to date with t, as it stands after one of its
// events, at now. It reports whether the board changed: recording a trip
// as it was recorded before changes nothing, so a repeated event is
// harmless even when the caller records it twice.
func (b *Board) Record(t Trip, now time.Time) bool {
	if b.Waiting == nil {
		b.Waiting = map[string]Trip{}
	}
	switch {
	case t.Status == Waiting:
		return b.recordWaiting(t, now)
	case t.Status.Decided():
		return b.recordDecided(t, now)
	}
	return false
}

func (b *Board) recordWaiting(t Trip, now time.Time) bool {
	if _, ok := b.Waiting[t.ID]; ok || b.decidedIndex(t.ID) >= 0 {
		return false
	}
	b.Waiting[t.ID] = t
	if len(b.Waiting) > MaxWaiting {
		b.dropLongestWaiting()
	}
	b.note(Entry{At: now, Kind: EntryOrdered, TripID: t.ID, Text: fmt.Sprintf("%s ordered a trip", t.RiderID)})
	return true
}

func (b *Board) recordDecided(t Trip, now time.Time) bool {
	delete(b.Waiting, t.ID)
	if i := b.decidedIndex(t.ID); i >= 0 {
		// Decided before: only the order, seen late, may add to it.
		if b.Decided[i].Pickup != nil || t.Pickup == nil {
			return false
		}
		b.Decided[i].Pickup, b.Decided[i].RequestedAt = t.Pickup, t.RequestedAt
		return true
	}
	b.Decided = append(b.Decided, t)
	if len(b.Decided) > MaxDecided {
		b.Decided = slices.Delete(b.Decided, 0, len(b.Decided)-MaxDecided)
	}
	b.count(t, now)
	b.note(Entry{At: now, Kind: entryKind(t.Status), TripID: t.ID, Text: outcomeText(t)})
	return true
}

// count adds t's outcome to the minute it was decided in (now, if the
// event said no time), and forgets the minutes older than CountWindow.
func (b *Board) count(t Trip, now time.Time) {
	at := t.DecidedAt
	if at.IsZero() || at.After(now) {
		at = now
	}
	minute := at.UTC().Truncate(time.Minute)
	i, found := slices.BinarySearchFunc(b.Counts, minute, func(c MinuteCount, m time.Time) int { return c.Minute.Compare(m) })
	if !found {
		b.Counts = slices.Insert(b.Counts, i, MinuteCount{Minute: minute})
	}
	if t.Status == Assigned {
		b.Counts[i].Assigned++
	} else {
		b.Counts[i].NotFound++
	}
	oldest := now.UTC().Add(-CountWindow).Truncate(time.Minute)
	b.Counts = slices.DeleteFunc(b.Counts, func(c MinuteCount) bool { return c.Minute.Before(oldest) })
}

func (b *Board) note(e Entry) {
	b.Feed = append(b.Feed, e)
	if len(b.Feed) > FeedSize {
		b.Feed = slices.Delete(b.Feed, 0, len(b.Feed)-FeedSize)
	}
}

func (b *Board) decidedIndex(tripID string) int {
	return slices.IndexFunc(b.Decided, func(t Trip) bool { return t.ID == tripID })
}

func (b *Board) dropLongestWaiting() {
	var oldest Trip
	for _, t := range b.Waiting {
		if oldest.ID == "" || t.RequestedAt.Before(oldest.RequestedAt) {
			oldest = t
		}
	}
	delete(b.Waiting, oldest.ID)
}

func entryKind(s Status) EntryKind {
	if s == Assigned {
		return EntryAssigned
	}
	return EntryNotFound
}

// outcomeText is the feed's line for a decided trip.
func outcomeText(t Trip) string {
	if t.Status == Assigned {
		d := t.Driver
		return fmt.Sprintf("%s is on the way to %s in a %s %s (%s), about %s",
			d.Name, t.RiderID, d.Car.Color, d.Car.Make, d.Car.Plate, minutes(t.ETA))
	}
	if t.NoneNear {
		return fmt.Sprintf("No driver near %s", t.RiderID)
	}
	return fmt.Sprintf("No driver free for %s", t.RiderID)
}

// minutes says d in whole minutes, at least one.
func minutes(d time.Duration) string {
	m := max(1, int((d+30*time.Second)/time.Minute))
	if m == 1 {
		return "1 min"
	}
	return fmt.Sprintf("%d min", m)
}
