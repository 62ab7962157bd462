package httpapi

import (
	"net/http"
	"time"

	"github.com/rs/zerolog"

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

func handleListDrivers(logger zerolog.Logger, lister DriverLister) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		drivers, err := lister.Drivers(r.Context())
		if err != nil {
			writeError(logger, w, r, err)
			return
		}
		resp := driversResponse{Drivers: make([]driverResponse, len(drivers))}
		for i, d := range drivers {
			resp.Drivers[i] = toDriverResponse(d)
		}
		writeJSON(w, http.StatusOK, resp)
	})
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
