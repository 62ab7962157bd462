package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestOrdersPerRiderAreLimited: a rider may place Burst orders at once;
// the next is 429 with Retry-After and orders nothing, while another rider
// still may order.
func TestOrdersPerRiderAreLimited(t *testing.T) {
	trips := &fakeTrips{}
	readiness := NewReadiness(nil)
	readiness.Start()
	h := NewServer(zerolog.Nop(), Deps{Auth: fakeAuth{}, OrderLimit: OrderLimit{PerMinute: 6, Burst: 3}, Trips: trips,
		Readiness: readiness, Metrics: stubMetrics})
	for i := range 3 {
		if rec := do(h, http.MethodPost, "/trips", "application/json", validOrder); rec.Code != http.StatusAccepted {
			t.Fatalf("order %d of the burst: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	rec := do(h, http.MethodPost, "/trips", "application/json", validOrder)
	p := decodeProblem(t, rec)
	retryAfter, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if rec.Code != http.StatusTooManyRequests || p.Status != http.StatusTooManyRequests || err != nil || retryAfter < 1 || retryAfter > 10 {
		t.Errorf("order beyond the burst: %d, Retry-After %q, %+v; want 429 and about 10 s (6 a minute)", rec.Code, rec.Header().Get("Retry-After"), p)
	}
	if len(trips.orders) != 3 {
		t.Errorf("%d orders placed, want the burst's 3", len(trips.orders))
	}
	other := `{"pickup":{"lat":50.08,"lon":14.42},"dropoff":{"lat":50.1,"lon":14.26}}`
	if rec := do(h, http.MethodPost, "/trips", "application/json", other, "Authorization", "Bearer rider-43"); rec.Code != http.StatusAccepted {
		t.Errorf("another rider's order: %d %s, want 202", rec.Code, rec.Body)
	}
}

// TestRiderLimiterRefills: the allowance comes back at the rate, and the
// riders whose allowance is whole are forgotten when too many are known.
func TestRiderLimiterRefills(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	rl := newRiderLimiter(OrderLimit{PerMinute: 60, Burst: 2}, func() time.Time { return now })
	for i := range 2 {
		if ok, _ := rl.allow("rider-42"); !ok {
			t.Fatalf("order %d of the burst refused", i+1)
		}
	}
	if ok, wait := rl.allow("rider-42"); ok || wait <= 0 || wait > time.Second {
		t.Fatalf("third order at once: ok %v, wait %v; want refused for up to 1 s", ok, wait)
	}
	now = now.Add(time.Second)
	if ok, _ := rl.allow("rider-42"); !ok {
		t.Error("an order a second later (60 a minute) was refused")
	}

	for i := range maxTrackedRiders {
		rl.allow(fmt.Sprintf("rider-%d", i))
	}
	now = now.Add(time.Minute) // every allowance whole again
	rl.allow("rider-new")
	if n := len(rl.riders); n > 2 {
		t.Errorf("%d riders remembered after the sweep, want only those whose allowance is not whole", n)
	}
}
