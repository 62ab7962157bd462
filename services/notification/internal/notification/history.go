package notification

import "errors"

// ErrTripNotReceived means a driver_assigned or no_driver notification came
// before the trip's trip_received one: the rider must hear first that their
// order arrived, so the caller tries again later.
var ErrTripNotReceived = errors.New("trip not received yet")

// History is the ordered list of notifications sent to one rider, oldest
// first. The zero value is an empty history.
type History struct {
	items []Notification
}

// NewHistory returns a history holding ns in the order given, as stored
// earlier. It keeps its own copy of ns.
func NewHistory(ns []Notification) History {
	return History{items: append([]Notification(nil), ns...)}
}

// Clone returns a copy of h that can be added to without changing h.
func (h History) Clone() History {
	return NewHistory(h.items)
}

// Notifications returns the notifications, oldest first.
func (h History) Notifications() []Notification {
	return append([]Notification(nil), h.items...)
}

// Add appends n unless the history already holds the notification with n's
// ID, and reports whether it added n. A driver_assigned or no_driver
// notification needs its trip's trip_received one first: without it Add
// returns ErrTripNotReceived.
func (h *History) Add(n Notification) (bool, error) {
	if h.has(n.TripID, n.Kind) {
		return false, nil
	}
	if n.Kind != KindTripReceived && !h.has(n.TripID, KindTripReceived) {
		return false, ErrTripNotReceived
	}
	h.items = append(h.items, n)
	return true, nil
}

// Since returns the notifications after the one with the given ID, oldest
// first: all of them when id is empty or names no notification in h.
func (h History) Since(id string) []Notification {
	for i, n := range h.items {
		if n.ID() == id {
			return append([]Notification(nil), h.items[i+1:]...)
		}
	}
	return h.Notifications()
}

func (h History) has(tripID string, k Kind) bool {
	for _, n := range h.items {
		if n.TripID == tripID && n.Kind == k {
			return true
		}
	}
	return false
}
