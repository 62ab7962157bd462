package driver

import (
	"errors"
	"fmt"
	"math"
)

// MaxPoolSize is the largest pool NewPool makes.
const MaxPoolSize = 100_000

// ErrInvalidPool means a pool size or area that NewPool cannot make a pool
// from.
var ErrInvalidPool = errors.New("invalid pool")

// poolSeed seeds the generation of drivers, so that every replica and
// every restart makes the same pool.
const poolSeed = 0x5EED_D41E_5EED_D41E

// DefaultPool returns the drivers a new installation starts with, all free.
// Jarda comes first.
func DefaultPool() []Driver {
	return []Driver{
		{ID: "jarda", Name: "Jarda", Car: Car{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"}, Position: Position{Lat: 50.0755, Lon: 14.4378}, Status: StatusFree},
		{ID: "petra", Name: "Petra", Car: Car{Make: "Skoda", Model: "Octavia", Color: "white", Plate: "2AC 4411"}, Position: Position{Lat: 50.0870, Lon: 14.4208}, Status: StatusFree},
		{ID: "tomas", Name: "Tomas", Car: Car{Make: "Hyundai", Model: "i30", Color: "grey", Plate: "3AD 1290"}, Position: Position{Lat: 50.1030, Lon: 14.3920}, Status: StatusFree},
		{ID: "eva", Name: "Eva", Car: Car{Make: "Kia", Model: "Ceed", Color: "red", Plate: "4AE 7763"}, Position: Position{Lat: 50.0600, Lon: 14.4600}, Status: StatusFree},
		{ID: "marek", Name: "Marek", Car: Car{Make: "Volkswagen", Model: "Passat", Color: "black", Plate: "5AF 3057"}, Position: Position{Lat: 50.0950, Lon: 14.4700}, Status: StatusFree},
	}
}

// Area is a box of latitudes and longitudes, edges included. It does not
// cross the antimeridian.
type Area struct {
	Min Position // south-west corner
	Max Position // north-east corner
}

// Prague is a box around Prague, where the default pool's drivers wait.
var Prague = Area{Min: Position{Lat: 49.98, Lon: 14.25}, Max: Position{Lat: 50.15, Lon: 14.60}}

// Validate returns ErrInvalidPool unless both corners are on Earth and Min
// is south-west of Max.
func (a Area) Validate() error {
	if err := errors.Join(a.Min.Validate(), a.Max.Validate()); err != nil {
		return fmt.Errorf("%w: area %s: %w", ErrInvalidPool, a, err)
	}
	if !(a.Min.Lat < a.Max.Lat) || !(a.Min.Lon < a.Max.Lon) {
		return fmt.Errorf("%w: area %s: the first corner must be south-west of the second", ErrInvalidPool, a)
	}
	return nil
}

// String returns a as minLat,minLon,maxLat,maxLon, the form of
// DRIVER_POOL_AREA.
func (a Area) String() string {
	return fmt.Sprintf("%g,%g,%g,%g", a.Min.Lat, a.Min.Lon, a.Max.Lat, a.Max.Lon)
}

// Contains reports whether p is in a, edges included.
func (a Area) Contains(p Position) bool {
	return p.Lat >= a.Min.Lat && p.Lat <= a.Max.Lat && p.Lon >= a.Min.Lon && p.Lon <= a.Max.Lon
}

// NewPool returns a pool of size drivers, all free: the drivers of
// DefaultPool first (the first size of them when size is smaller), then
// size-5 generated drivers placed in area, with ids d00001, d00002, ...
//
// Generation is deterministic: every call with the same area makes the
// same drivers, and a larger pool starts with the drivers of a smaller one.
// Plates are unique. It returns ErrInvalidPool when size is not from 1 to
// MaxPoolSize or area is not valid.
func NewPool(size int, area Area) ([]Driver, error) {
	if size < 1 || size > MaxPoolSize {
		return nil, fmt.Errorf("%w: size %d is not from 1 to %d", ErrInvalidPool, size, MaxPoolSize)
	}
	named := DefaultPool()
	if size <= len(named) {
		return named[:size], nil
	}
	if err := area.Validate(); err != nil {
		return nil, err
	}
	pool := make([]Driver, size)
	copy(pool, named)
	for i := len(named); i < size; i++ {
		pool[i] = generated(i-len(named)+1, area)
	}
	return pool, nil
}

// Names, cars and colors of generated drivers.
var (
	firstNames = []string{
		"Adam", "Alena", "Barbora", "David", "Filip", "Hana", "Jakub", "Jan",
		"Jana", "Jiri", "Josef", "Karel", "Katerina", "Klara", "Lenka", "Lucie",
		"Lukas", "Martin", "Michal", "Monika", "Ondrej", "Pavel", "Petr", "Radek",
		"Simona", "Tereza", "Vojtech", "Zdenek", "Zuzana",
	}
	cars = []Car{
		{Make: "Skoda", Model: "Octavia"}, {Make: "Skoda", Model: "Fabia"},
		{Make: "Skoda", Model: "Superb"}, {Make: "Skoda", Model: "Scala"},
		{Make: "Toyota", Model: "Corolla"}, {Make: "Toyota", Model: "Camry"},
		{Make: "Hyundai", Model: "i30"}, {Make: "Kia", Model: "Ceed"},
		{Make: "Volkswagen", Model: "Passat"}, {Make: "Volkswagen", Model: "Golf"},
		{Make: "Ford", Model: "Focus"}, {Make: "Dacia", Model: "Logan"},
	}
	colors = []string{"white", "black", "grey", "silver", "blue", "red", "green"}
	// regions are the letters of Czech registration regions.
	regions = "ABCEHJKLMPSTUZ"
)

// generated returns the n-th generated driver (n from 1), placed in area.
// Each driver depends only on n and area, through its own random stream.
func generated(n int, area Area) Driver {
	r := splitMix64{state: poolSeed ^ uint64(n)*0x9E3779B97F4A7C15}
	name := firstNames[r.intN(len(firstNames))]
	car := cars[r.intN(len(cars))]
	car.Color = colors[r.intN(len(colors))]
	// Unique: the number n is spelled by the third character and the last
	// four digits (n < 100,000). The named drivers' plates have a letter
	// third, these a digit, so they never meet.
	car.Plate = fmt.Sprintf("%d%c%d %04d", 1+r.intN(9), regions[r.intN(len(regions))], n/10_000, n%10_000)
	pos := Position{
		Lat: within(area.Min.Lat+r.float64()*(area.Max.Lat-area.Min.Lat), area.Min.Lat, area.Max.Lat),
		Lon: within(area.Min.Lon+r.float64()*(area.Max.Lon-area.Min.Lon), area.Min.Lon, area.Max.Lon),
	}
	return Driver{
		ID:       fmt.Sprintf("d%05d", n),
		Name:     name,
		Car:      car,
		Position: pos,
		Status:   StatusFree,
	}
}

// within rounds v to six decimals (about 10 cm) and keeps it in [lo, hi].
func within(v, lo, hi float64) float64 {
	return min(max(math.Round(v*1e6)/1e6, lo), hi)
}

// splitMix64 is the SplitMix64 generator, written out here so that the
// pool does not depend on how a Go release implements math/rand.
type splitMix64 struct {
	state uint64
}

func (r *splitMix64) next() uint64 {
	r.state += 0x9E3779B97F4A7C15
	z := r.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// intN returns a number in [0, n); the bias is negligible for small n.
func (r *splitMix64) intN(n int) int {
	return int(r.next() % uint64(n))
}

// float64 returns a number in [0, 1).
func (r *splitMix64) float64() float64 {
	return float64(r.next()>>11) / (1 << 53)
}
