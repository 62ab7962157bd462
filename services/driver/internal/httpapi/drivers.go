package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/driver"
)

type driversResponse struct {
	Drivers []driverResponse `json:"drivers"`
}

type driverResponse struct {
	ID       string           `json:"id"`
	Name     string           `json:"name"`
	Car      carResponse      `json:"car"`
	Position positionResponse `json:"position"`
	Status   string           `json:"status"`
	// TripID and BusyUntil are set while the driver is on a trip.
	TripID    string    `json:"tripId,omitempty"`
	BusyUntil time.Time `json:"busyUntil,omitzero"`
}

type carResponse struct {
	Make  string `json:"make"`
	Model string `json:"model"`
	Color string `json:"color"`
	Plate string `json:"plate"`
}

type positionResponse struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// handleListDrivers answers GET /drivers: the pool in pool order. The
// query parameters offset (drivers to skip) and limit (most drivers to
// answer) select a page of a large pool.
func handleListDrivers(logger zerolog.Logger, drivers Drivers) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, err := decodePage(r.URL.Query())
		if err != nil {
			writeError(logger, w, r, err)
			return
		}
		list, err := drivers.Drivers(r.Context(), page)
		if err != nil {
			writeError(logger, w, r, err)
			return
		}
		resp := driversResponse{Drivers: make([]driverResponse, len(list))}
		for i, d := range list {
			resp.Drivers[i] = toDriverResponse(d)
		}
		writeJSON(w, http.StatusOK, resp)
	})
}

// decodePage reads the query parameters offset, a whole number (0 when
// absent), and limit, a whole number from 1 (no limit when absent).
func decodePage(q url.Values) (app.Page, error) {
	var page app.Page
	for _, p := range []struct {
		name  string
		least int
		to    *int
	}{{"offset", 0, &page.Offset}, {"limit", 1, &page.Limit}} {
		if !q.Has(p.name) {
			continue
		}
		v := q.Get(p.name)
		n, err := strconv.Atoi(v)
		if err != nil || n < p.least {
			return app.Page{}, badRequest(fmt.Sprintf("query parameter %s=%q: want a whole number from %d", p.name, v, p.least))
		}
		*p.to = n
	}
	return page, nil
}

func toDriverResponse(d driver.Driver) driverResponse {
	return driverResponse{
		ID:        d.ID,
		Name:      d.Name,
		Car:       carResponse{Make: d.Car.Make, Model: d.Car.Model, Color: d.Car.Color, Plate: d.Car.Plate},
		Position:  positionResponse{Lat: d.Position.Lat, Lon: d.Position.Lon},
		Status:    string(d.Status),
		TripID:    d.TripID,
		BusyUntil: d.BusyUntil.UTC(),
	}
}
