package driver

import (
	"fmt"
	"math"
	"time"
)

// earthRadiusMeters is the mean radius of the Earth used by Distance.
const earthRadiusMeters = 6_371_000

// speedMetersPerSecond is the average speed of a taxi in town: 30 km/h.
const speedMetersPerSecond = 30_000.0 / 3600

// minETA is the shortest ETA ever promised: a driver next to the rider
// still needs a moment to set off.
const minETA = 60 * time.Second

// Position is a WGS 84 point.
type Position struct {
	Lat float64
	Lon float64
}

// Validate returns ErrInvalidPosition when p is not a point on Earth.
func (p Position) Validate() error {
	if math.IsNaN(p.Lat) || p.Lat < -90 || p.Lat > 90 {
		return fmt.Errorf("%w: latitude %v is outside [-90, 90]", ErrInvalidPosition, p.Lat)
	}
	if math.IsNaN(p.Lon) || p.Lon < -180 || p.Lon > 180 {
		return fmt.Errorf("%w: longitude %v is outside [-180, 180]", ErrInvalidPosition, p.Lon)
	}
	return nil
}

// Distance returns the great-circle distance between a and b in meters
// (haversine formula).
func Distance(a, b Position) float64 {
	return newPoint(a).distance(newPoint(b))
}

// point is a position with what Distance computes from it alone, so that
// an Index computes it once per driver.
type point struct {
	lat    float64 // radians
	cosLat float64
	lon    float64 // degrees
}

func newPoint(p Position) point {
	lat := radians(p.Lat)
	return point{lat: lat, cosLat: math.Cos(lat), lon: p.Lon}
}

// distance is Distance(a, b) for a and b made by newPoint.
func (a point) distance(b point) float64 {
	sinLat := math.Sin((b.lat - a.lat) / 2)
	sinLon := math.Sin(radians(b.lon-a.lon) / 2)
	h := sinLat*sinLat + a.cosLat*b.cosLat*(sinLon*sinLon)
	return 2 * earthRadiusMeters * math.Asin(math.Min(1, math.Sqrt(h)))
}

// ETA returns how long a driver needs for distanceMeters at 30 km/h, in
// whole seconds rounded up, and never less than a minute.
func ETA(distanceMeters float64) time.Duration {
	eta := time.Duration(math.Ceil(distanceMeters/speedMetersPerSecond)) * time.Second
	return max(eta, minETA)
}

func radians(degrees float64) float64 {
	return degrees * math.Pi / 180
}
