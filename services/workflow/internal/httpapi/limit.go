package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"
)

// OrderLimit bounds how often one rider may order: Burst orders at once,
// then PerMinute a minute. Each replica counts its own riders, so behind a
// load balancer spreading a rider's orders over n replicas the bound is n
// times looser; it is there against a runaway client, not for billing.
type OrderLimit struct {
	PerMinute int
	Burst     int
}

// maxTrackedRiders bounds the riders a limiter remembers at once; past it,
// riders whose allowance is whole again are forgotten (they are as new).
const maxTrackedRiders = 10_000

// riderLimiter keeps a token bucket (x/time/rate) per rider.
type riderLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu        sync.Mutex
	riders    map[string]*rate.Limiter
	lastSweep time.Time
}

func newRiderLimiter(l OrderLimit, now func() time.Time) *riderLimiter {
	return &riderLimiter{
		limit:  rate.Limit(float64(l.PerMinute) / 60),
		burst:  l.Burst,
		now:    now,
		riders: map[string]*rate.Limiter{},
	}
}

// allow takes one order of rider's allowance, or tells how long until
// there is one.
func (rl *riderLimiter) allow(rider string) (ok bool, retryAfter time.Duration) {
	now := rl.now()
	rl.mu.Lock()
	defer rl.mu.Unlock()
	lim, found := rl.riders[rider]
	if !found {
		rl.sweep(now)
		lim = rate.NewLimiter(rl.limit, rl.burst)
		rl.riders[rider] = lim
	}
	r := lim.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		return false, delay
	}
	return true, 0
}

// sweep forgets the riders whose allowance is whole again, when there are
// too many, at most once a second.
func (rl *riderLimiter) sweep(now time.Time) {
	if len(rl.riders) < maxTrackedRiders || now.Sub(rl.lastSweep) < time.Second {
		return
	}
	rl.lastSweep = now
	for rider, lim := range rl.riders {
		if lim.TokensAt(now) >= float64(rl.burst) {
			delete(rl.riders, rider)
		}
	}
}

// limitOrders admits an order to next only within its rider's allowance
// (riderOf: it runs behind fromRider); beyond it, 429 with Retry-After,
// and nothing is ordered.
func limitOrders(logger zerolog.Logger, l OrderLimit, next http.Handler) http.Handler {
	rl := newRiderLimiter(l, time.Now)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, retryAfter := rl.allow(riderOf(r)); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retryAfter.Seconds()))))
			writeError(logger, w, r, &requestError{status: http.StatusTooManyRequests,
				detail: "this rider has ordered as often as allowed for now; retry after the time Retry-After says"})
			return
		}
		next.ServeHTTP(w, r)
	})
}
