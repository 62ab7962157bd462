package driver

// Nearest returns the free driver nearest to pickup, the first in drivers
// on a tie, or ErrNoDriverFree when every driver is on a trip.
func Nearest(drivers []Driver, pickup Position) (Driver, error) {
	var (
		best     Driver
		bestDist float64
		found    bool
	)
	for _, d := range drivers {
		if d.Status != StatusFree {
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
