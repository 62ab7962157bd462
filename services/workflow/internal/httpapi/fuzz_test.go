package httpapi

import (
	"net/http"
	"testing"
)

// FuzzCreateTripRequest: any body POSTed to /trips is either a valid order,
// placed once and answered 202, or refused with a 4xx problem and nothing
// placed. Never a 5xx, never a panic.
func FuzzCreateTripRequest(f *testing.F) {
	f.Add(validOrder)
	f.Add(`{"riderId":"r","pickup":{"lat":90,"lon":-180},"dropoff":{"lat":-90,"lon":180}}`)
	f.Add(`{"riderId":"r","pickup":{"lat":1e400,"lon":0},"dropoff":{"lat":0,"lon":0}}`)
	f.Add(`{"riderId":"\u0000","pickup":{"lat":0,"lon":0},"dropoff":{"lat":0,"lon":0}}`)
	f.Add(`{"riderId":"r","pickup":null,"dropoff":{"lat":0,"lon":0}}`)
	f.Add(`{"riderId":"r","RIDERID":"s","pickup":{"lat":0,"lon":0},"dropoff":{"lat":0,"lon":0}}`)
	f.Add(`[{"riderId":"r"}]`)
	f.Fuzz(func(t *testing.T, body string) {
		trips := &fakeTrips{}
		rec := do(newTestServer(trips, nil), http.MethodPost, "/trips", "application/json", body)
		switch {
		case rec.Code == http.StatusAccepted:
			if len(trips.orders) != 1 {
				t.Fatalf("202 with %d orders placed", len(trips.orders))
			}
			if err := trips.orders[0].Validate(); err != nil {
				t.Errorf("202 for an invalid order %+v: %v", trips.orders[0], err)
			}
		case rec.Code >= 400 && rec.Code < 500:
			if len(trips.orders) != 0 {
				t.Errorf("%d with %d orders placed", rec.Code, len(trips.orders))
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%d with Content-Type %q", rec.Code, ct)
			}
		default:
			t.Errorf("status %d for body %q", rec.Code, body)
		}
	})
}
