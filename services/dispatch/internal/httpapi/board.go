package httpapi

import (
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/dispatch/internal/dispatch"
)

// handleBoard answers the picture the board shows now, as JSON.
func handleBoard(logger zerolog.Logger, board Board) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := board.Picture(r.Context())
		if err != nil {
			writeError(logger, w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, toPictureJSON(p))
	})
}

// pictureJSON is the board as the page and the API read it.
type pictureJSON struct {
	At       time.Time      `json:"at"`
	Waiting  []waitingJSON  `json:"waiting"`
	Assigned []assignedJSON `json:"assigned"`
	NotFound []notFoundJSON `json:"notFound"`
	Counters countersJSON   `json:"counters"`
	Feed     []entryJSON    `json:"feed"`
}

type pointJSON struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

type waitingJSON struct {
	TripID        string    `json:"tripId"`
	RiderID       string    `json:"riderId"`
	Pickup        pointJSON `json:"pickup"`
	RequestedAt   time.Time `json:"requestedAt"`
	WaitedSeconds int64     `json:"waitedSeconds"`
}

type carJSON struct {
	Make  string `json:"make"`
	Model string `json:"model"`
	Color string `json:"color"`
	Plate string `json:"plate"`
}

type driverJSON struct {
	ID   string  `json:"id"`
	Name string  `json:"name"`
	Car  carJSON `json:"car"`
}

type assignedJSON struct {
	TripID     string     `json:"tripId"`
	RiderID    string     `json:"riderId"`
	Pickup     *pointJSON `json:"pickup,omitempty"` // absent while the order is not seen yet
	Driver     driverJSON `json:"driver"`
	ETASeconds int64      `json:"etaSeconds"`
	AssignedAt time.Time  `json:"assignedAt"`
}

type notFoundJSON struct {
	TripID     string     `json:"tripId"`
	RiderID    string     `json:"riderId"`
	Pickup     *pointJSON `json:"pickup,omitempty"`
	ReasonCode string     `json:"reasonCode"`
	DecidedAt  time.Time  `json:"decidedAt"`
}

type countersJSON struct {
	WaitingNow         int   `json:"waitingNow"`
	AssignedRecently   int   `json:"assignedRecently"`
	NotFoundRecently   int   `json:"notFoundRecently"`
	WindowMinutes      int   `json:"windowMinutes"`
	LongestWaitSeconds int64 `json:"longestWaitSeconds"`
}

type entryJSON struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	TripID string    `json:"tripId"`
	Text   string    `json:"text"`
}

func toPictureJSON(p dispatch.Picture) pictureJSON {
	out := pictureJSON{
		At:       p.At.UTC(),
		Waiting:  make([]waitingJSON, 0, len(p.Waiting)),
		Assigned: make([]assignedJSON, 0, len(p.Assigned)),
		NotFound: make([]notFoundJSON, 0, len(p.NotFound)),
		Counters: countersJSON{
			WaitingNow:         p.Counters.WaitingNow,
			AssignedRecently:   p.Counters.AssignedRecently,
			NotFoundRecently:   p.Counters.NotFoundRecently,
			WindowMinutes:      int(dispatch.CountWindow / time.Minute),
			LongestWaitSeconds: int64(p.Counters.LongestWait / time.Second),
		},
		Feed: make([]entryJSON, 0, len(p.Feed)),
	}
	for _, t := range p.Waiting {
		out.Waiting = append(out.Waiting, waitingJSON{
			TripID: t.ID, RiderID: t.RiderID, Pickup: *toPointJSON(t.Pickup), RequestedAt: t.RequestedAt.UTC(),
			WaitedSeconds: int64(max(0, p.At.Sub(t.RequestedAt)) / time.Second),
		})
	}
	for _, t := range p.Assigned {
		d := t.Driver
		out.Assigned = append(out.Assigned, assignedJSON{
			TripID: t.ID, RiderID: t.RiderID, Pickup: toPointJSON(t.Pickup),
			Driver:     driverJSON{ID: d.ID, Name: d.Name, Car: carJSON{Make: d.Car.Make, Model: d.Car.Model, Color: d.Car.Color, Plate: d.Car.Plate}},
			ETASeconds: int64(t.ETA / time.Second), AssignedAt: t.DecidedAt.UTC(),
		})
	}
	for _, t := range p.NotFound {
		code := "no_driver_free"
		if t.NoneNear {
			code = "no_driver_near"
		}
		out.NotFound = append(out.NotFound, notFoundJSON{
			TripID: t.ID, RiderID: t.RiderID, Pickup: toPointJSON(t.Pickup), ReasonCode: code, DecidedAt: t.DecidedAt.UTC(),
		})
	}
	for _, e := range p.Feed {
		out.Feed = append(out.Feed, entryJSON{At: e.At.UTC(), Kind: string(e.Kind), TripID: e.TripID, Text: e.Text})
	}
	return out
}

func toPointJSON(p *dispatch.Point) *pointJSON {
	if p == nil {
		return nil
	}
	return &pointJSON{Lat: p.Lat, Lon: p.Lon}
}
