package driver

import "time"

// Nearest returns the driver free at now who is nearest to pickup, the
// first in drivers on a tie, or ErrNoDriverFree when every driver is on a
// trip.
func Nearest(drivers []Driver, pickup Position, now time.Time) (Driver, error) {
	var (
		best     Driver
		bestDist float64
		found    bool
	)
	for _, d := range drivers {
		if !d.FreeAt(now) {
			continue
		}
		if dist := Distance(d.Position, pickup); !found || dist < bestDist {
			best, bestDist, found = d, dist, true
		}
	}
	if !found {
		return Driver{}, ErrNoDriverFree
	}
	return best, nil
}
