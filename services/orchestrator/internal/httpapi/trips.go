package httpapi

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/orchestrator/internal/orchestrator"
	"github.com/ride-choreography/services/orchestrator/internal/tracing"
)

// maxIdempotencyKeyLength bounds the Idempotency-Key header.
const maxIdempotencyKeyLength = 255

// orderRequest is the body of POST /trips. Pointers tell a missing field
// from a zero one (latitude 0 is a place).
type orderRequest struct {
	RiderID *string       `json:"riderId"`
	Pickup  *pointRequest `json:"pickup"`
	Dropoff *pointRequest `json:"dropoff"`
}

type pointRequest struct {
	Lat *float64 `json:"lat"`
	Lon *float64 `json:"lon"`
}

// tripResponse is a trip as the Trip API shows it.
type tripResponse struct {
	TripID      string              `json:"tripId"`
	RiderID     string              `json:"riderId"`
	Status      orchestrator.Status `json:"status"`
	Pickup      pointResponse       `json:"pickup"`
	Dropoff     pointResponse       `json:"dropoff"`
	RequestedAt time.Time           `json:"requestedAt"`
	UpdatedAt   time.Time           `json:"updatedAt"`
	Driver      *driverResponse     `json:"driver,omitempty"`
	ETASeconds  *int                `json:"etaSeconds,omitempty"`
}

type pointResponse struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

type driverResponse struct {
	ID   string      `json:"id"`
	Name string      `json:"name"`
	Car  carResponse `json:"car"`
}

type carResponse struct {
	Make  string `json:"make"`
	Model string `json:"model"`
	Color string `json:"color"`
	Plate string `json:"plate"`
}

// handleCreateTrip answers POST /trips: 202 Accepted with the requested
// trip and its Location. The driver is assigned asynchronously; the client
// follows the trip at its Location.
func handleCreateTrip(logger zerolog.Logger, trips Trips) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req orderRequest
		if err := decodeJSON(w, r, &req); err != nil {
			writeError(logger, w, r, err)
			return
		}
		order, err := req.order(riderOf(r))
		if err != nil {
			writeError(logger, w, r, err)
			return
		}
		key, err := idempotencyKey(r)
		if err != nil {
			writeError(logger, w, r, err)
			return
		}
		t, replayed, err := trips.Order(r.Context(), order, key)
		if err != nil {
			writeError(logger, w, r, err)
			return
		}
		tracing.SetTripID(r.Context(), t.ID)
		logger.Info().
			Str("tripId", t.ID).
			Str("riderId", t.RiderID).
			Bool("replayed", replayed).
			Str("traceId", tracing.TraceID(r.Context())).
			Msg("trip ordered")
		w.Header().Set("Location", "/trips/"+t.ID)
		if replayed {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		writeJSON(w, http.StatusAccepted, toResponse(t))
	})
}

// handleGetTrip answers GET /trips/{id}.
func handleGetTrip(logger zerolog.Logger, trips Trips) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := mux.Vars(r)["id"]
		if u, err := uuid.Parse(id); err != nil || u.String() != id {
			writeError(logger, w, r, badRequest("trip id must be a lowercase UUID, like those POST /trips returns"))
			return
		}
		t, err := trips.Trip(r.Context(), id)
		if err == nil && t.RiderID != riderOf(r) {
			// Another rider's trip is none of this rider's business, not
			// even its existence.
			err = orchestrator.ErrNotFound
		}
		if err != nil {
			writeError(logger, w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, toResponse(t))
	})
}

// order checks that every field is present and that riderId, which may be
// left out, is rider, the token's; the domain checks the values.
func (req orderRequest) order(rider string) (orchestrator.Order, error) {
	if req.RiderID != nil && *req.RiderID != rider {
		return orchestrator.Order{}, errNotYourRider
	}
	var missing []orchestrator.FieldError
	require := func(present bool, field string) {
		if !present {
			missing = append(missing, orchestrator.FieldError{Field: field, Reason: "is required"})
		}
	}
	require(req.Pickup != nil, "pickup")
	require(req.Dropoff != nil, "dropoff")
	if req.Pickup != nil {
		require(req.Pickup.Lat != nil, "pickup.lat")
		require(req.Pickup.Lon != nil, "pickup.lon")
	}
	if req.Dropoff != nil {
		require(req.Dropoff.Lat != nil, "dropoff.lat")
		require(req.Dropoff.Lon != nil, "dropoff.lon")
	}
	if len(missing) > 0 {
		return orchestrator.Order{}, &orchestrator.InvalidOrderError{Fields: missing}
	}
	o := orchestrator.Order{
		RiderID: rider,
		Pickup:  orchestrator.Point{Lat: *req.Pickup.Lat, Lon: *req.Pickup.Lon},
		Dropoff: orchestrator.Point{Lat: *req.Dropoff.Lat, Lon: *req.Dropoff.Lon},
	}
	return o, o.Validate()
}

// idempotencyKey returns the request's Idempotency-Key, or "" without one.
func idempotencyKey(r *http.Request) (string, error) {
	values := r.Header.Values("Idempotency-Key")
	switch {
	case len(values) == 0:
		return "", nil
	case len(values) > 1:
		return "", badRequest("send one Idempotency-Key header, not several")
	}
	key := values[0]
	if key == "" || len(key) > maxIdempotencyKeyLength {
		return "", badRequest("Idempotency-Key must be 1 to 255 characters")
	}
	for _, c := range key {
		if c < 0x21 || c > 0x7e {
			return "", badRequest("Idempotency-Key must be visible ASCII characters")
		}
	}
	return key, nil
}

func toResponse(t orchestrator.Trip) tripResponse {
	resp := tripResponse{
		TripID:      t.ID,
		RiderID:     t.RiderID,
		Status:      t.Status,
		Pickup:      pointResponse(t.Pickup),
		Dropoff:     pointResponse(t.Dropoff),
		RequestedAt: t.RequestedAt,
		UpdatedAt:   t.UpdatedAt,
	}
	if t.Status == orchestrator.StatusDriverAssigned && t.Driver != nil {
		eta := t.ETASeconds
		resp.ETASeconds = &eta
		resp.Driver = &driverResponse{ID: t.Driver.ID, Name: t.Driver.Name, Car: carResponse(t.Driver.Car)}
	}
	return resp
}
