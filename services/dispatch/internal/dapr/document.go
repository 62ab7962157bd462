package dapr

import (
	"time"

	"github.com/ride-choreography/services/dispatch/internal/dispatch"
)

// How the board and the trips are kept in the state store: JSON with
// names of their own, so that renaming a field of the domain does not
// change what is stored.

type storedTrip struct {
	ID          string        `json:"tripId"`
	RiderID     string        `json:"riderId,omitempty"`
	Pickup      *storedPoint  `json:"pickup,omitempty"`
	RequestedAt time.Time     `json:"requestedAt,omitzero"`
	Status      string        `json:"status,omitempty"`
	Driver      *storedDriver `json:"driver,omitempty"`
	ETASeconds  int64         `json:"etaSeconds,omitempty"`
	NoneNear    bool          `json:"noneNear,omitempty"`
	DecidedAt   time.Time     `json:"decidedAt,omitzero"`
}

type storedPoint struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

type storedDriver struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Make  string `json:"make"`
	Model string `json:"model"`
	Color string `json:"color"`
	Plate string `json:"plate"`
}

type storedBoard struct {
	Waiting []storedTrip  `json:"waiting"`
	Decided []storedTrip  `json:"decided"`
	Counts  []storedCount `json:"counts"`
	Feed    []storedEntry `json:"feed"`
}

type storedCount struct {
	Minute   time.Time `json:"minute"`
	Assigned int       `json:"assigned"`
	NotFound int       `json:"notFound"`
}

type storedEntry struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	TripID string    `json:"tripId"`
	Text   string    `json:"text"`
}

func storedTripOf(t dispatch.Trip) storedTrip {
	s := storedTrip{
		ID: t.ID, RiderID: t.RiderID, RequestedAt: t.RequestedAt, Status: string(t.Status),
		ETASeconds: int64(t.ETA / time.Second), NoneNear: t.NoneNear, DecidedAt: t.DecidedAt,
	}
	if t.Pickup != nil {
		s.Pickup = &storedPoint{Lat: t.Pickup.Lat, Lon: t.Pickup.Lon}
	}
	if d := t.Driver; d != nil {
		s.Driver = &storedDriver{ID: d.ID, Name: d.Name, Make: d.Car.Make, Model: d.Car.Model, Color: d.Car.Color, Plate: d.Car.Plate}
	}
	return s
}

func (s storedTrip) trip() dispatch.Trip {
	t := dispatch.Trip{
		ID: s.ID, RiderID: s.RiderID, RequestedAt: s.RequestedAt, Status: dispatch.Status(s.Status),
		ETA: time.Duration(s.ETASeconds) * time.Second, NoneNear: s.NoneNear, DecidedAt: s.DecidedAt,
	}
	if s.Pickup != nil {
		t.Pickup = &dispatch.Point{Lat: s.Pickup.Lat, Lon: s.Pickup.Lon}
	}
	if d := s.Driver; d != nil {
		t.Driver = &dispatch.Driver{ID: d.ID, Name: d.Name, Car: dispatch.Car{Make: d.Make, Model: d.Model, Color: d.Color, Plate: d.Plate}}
	}
	return t
}

func storedBoardOf(b dispatch.Board) storedBoard {
	s := storedBoard{
		Waiting: make([]storedTrip, 0, len(b.Waiting)),
		Decided: make([]storedTrip, 0, len(b.Decided)),
		Counts:  make([]storedCount, 0, len(b.Counts)),
		Feed:    make([]storedEntry, 0, len(b.Feed)),
	}
	for _, t := range b.Waiting {
		s.Waiting = append(s.Waiting, storedTripOf(t))
	}
	for _, t := range b.Decided {
		s.Decided = append(s.Decided, storedTripOf(t))
	}
	for _, c := range b.Counts {
		s.Counts = append(s.Counts, storedCount{Minute: c.Minute, Assigned: c.Assigned, NotFound: c.NotFound})
	}
	for _, e := range b.Feed {
		s.Feed = append(s.Feed, storedEntry{At: e.At, Kind: string(e.Kind), TripID: e.TripID, Text: e.Text})
	}
	return s
}

func (s storedBoard) board() dispatch.Board {
	b := dispatch.NewBoard()
	for _, t := range s.Waiting {
		b.Waiting[t.ID] = t.trip()
	}
	for _, t := range s.Decided {
		b.Decided = append(b.Decided, t.trip())
	}
	for _, c := range s.Counts {
		b.Counts = append(b.Counts, dispatch.MinuteCount{Minute: c.Minute, Assigned: c.Assigned, NotFound: c.NotFound})
	}
	for _, e := range s.Feed {
		b.Feed = append(b.Feed, dispatch.Entry{At: e.At, Kind: dispatch.EntryKind(e.Kind), TripID: e.TripID, Text: e.Text})
	}
	return b
}
