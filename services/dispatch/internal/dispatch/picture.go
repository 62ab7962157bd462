package dispatch

import (
	"cmp"
	"slices"
	"time"
)

// Picture is what the dispatchers see at one moment.
type Picture struct {
	At time.Time
	// Waiting are the riders waiting for a driver, longest waiting first.
	Waiting []Trip
	// Assigned and NotFound are the trips decided in the last ShownFor,
	// newest first.
	Assigned, NotFound []Trip
	Counters           Counters
	// Feed is the latest events, newest first.
	Feed []Entry
}

// Counters sum up the picture.
type Counters struct {
	WaitingNow int
	// AssignedRecently and NotFoundRecently count the outcomes of the last
	// CountWindow.
	AssignedRecently, NotFoundRecently int
	// LongestWait is how long the rider waiting longest has waited.
	LongestWait time.Duration
}

// Picture returns what the board shows at now.
func (b Board) Picture(now time.Time) Picture {
	p := Picture{At: now, Waiting: make([]Trip, 0, len(b.Waiting)), Assigned: []Trip{}, NotFound: []Trip{}, Feed: make([]Entry, 0, len(b.Feed))}
	for _, t := range b.Waiting {
		p.Waiting = append(p.Waiting, t)
		p.Counters.LongestWait = max(p.Counters.LongestWait, now.Sub(t.RequestedAt))
	}
	slices.SortFunc(p.Waiting, func(a, b Trip) int {
		if c := a.RequestedAt.Compare(b.RequestedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	p.Counters.WaitingNow = len(p.Waiting)
	for _, t := range slices.Backward(b.Decided) {
		if now.Sub(t.DecidedAt) > ShownFor {
			continue
		}
		if t.Status == Assigned {
			p.Assigned = append(p.Assigned, t)
		} else {
			p.NotFound = append(p.NotFound, t)
		}
	}
	oldest := now.UTC().Add(-CountWindow)
	for _, c := range b.Counts {
		if c.Minute.Add(time.Minute).After(oldest) {
			p.Counters.AssignedRecently += c.Assigned
			p.Counters.NotFoundRecently += c.NotFound
		}
	}
	for _, e := range slices.Backward(b.Feed) {
		p.Feed = append(p.Feed, e)
	}
	return p
}
