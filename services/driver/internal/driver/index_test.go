package driver_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/driver/internal/driver"
)

// bruteForce returns the pool indices of pool by increasing distance from
// p, the first in the pool on a tie: what a Search must hand out.
func bruteForce(pool []driver.Driver, p driver.Position) []int {
	order := make([]int, len(pool))
	dist := make([]float64, len(pool))
	for i, d := range pool {
		order[i] = i
		dist[i] = driver.Distance(d.Position, p)
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case dist[a] < dist[b]:
			return -1
		case dist[a] > dist[b]:
			return 1
		}
		return 0
	})
	return order
}

// drain returns everything s hands out, in batches of the given sizes
// (the last size repeating).
func drain(s *driver.Search, sizes ...int) []int {
	var out []int
	for i := 0; ; i++ {
		batch := s.Next(sizes[min(i, len(sizes)-1)])
		if len(batch) == 0 {
			return out
		}
		out = append(out, batch...)
	}
}

// randomPool returns n drivers placed by place, some of them sharing a
// position with an earlier one so that ties occur.
func randomPool(r *rand.Rand, n int, place func() driver.Position) []driver.Driver {
	pool := make([]driver.Driver, n)
	for i := range pool {
		pos := place()
		if i > 0 && r.IntN(10) == 0 {
			pos = pool[r.IntN(i)].Position
		}
		pool[i] = driver.Driver{ID: fmt.Sprintf("d%d", i), Position: pos}
	}
	return pool
}

func TestSearchMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	in := func(a driver.Area) func() driver.Position {
		return func() driver.Position {
			return driver.Position{
				Lat: a.Min.Lat + r.Float64()*(a.Max.Lat-a.Min.Lat),
				Lon: a.Min.Lon + r.Float64()*(a.Max.Lon-a.Min.Lon),
			}
		}
	}
	world := driver.Area{Min: driver.Position{Lat: -90, Lon: -180}, Max: driver.Position{Lat: 90, Lon: 180}}
	aroundPrague := driver.Area{Min: driver.Position{Lat: 49.5, Lon: 13.5}, Max: driver.Position{Lat: 50.6, Lon: 15.3}}
	onePoint := func() driver.Position { return driver.Position{Lat: 50.08, Lon: 14.42} }
	northSouthLine := func() driver.Position { return driver.Position{Lat: 49.98 + r.Float64()*0.2, Lon: 14.42} }

	// Pickups: in and around the pool, far away, on the poles and on the
	// antimeridian.
	pickups := func(n int) []driver.Position {
		out := []driver.Position{
			{Lat: 50.0755, Lon: 14.4378},
			{Lat: 50.08, Lon: 14.9},  // east of the area
			{Lat: 49.5, Lon: 13.9},   // south-west of it
			{Lat: 51.5, Lon: -0.12},  // London
			{Lat: -33.9, Lon: 151.2}, // Sydney
			{Lat: 90, Lon: 0},
			{Lat: -90, Lon: 0},
			{Lat: 0, Lon: 180},
			{Lat: 50.08, Lon: -165.58}, // the antipode's longitude
		}
		for range n {
			out = append(out, in(aroundPrague)())
		}
		return out
	}

	tests := []struct {
		name  string
		sizes []int
		pool  func() []driver.Driver
	}{
		{name: "empty pool", sizes: []int{8}, pool: func() []driver.Driver { return nil }},
		{name: "one driver", sizes: []int{8}, pool: func() []driver.Driver { return randomPool(r, 1, in(driver.Prague)) }},
		{name: "default pool", sizes: []int{1}, pool: driver.DefaultPool},
		{name: "all on one point", sizes: []int{3}, pool: func() []driver.Driver { return randomPool(r, 40, onePoint) }},
		{name: "on one meridian", sizes: []int{8, 16}, pool: func() []driver.Driver { return randomPool(r, 300, northSouthLine) }},
		{name: "50 around Prague", sizes: []int{8, 16, 32}, pool: func() []driver.Driver { return randomPool(r, 50, in(driver.Prague)) }},
		{name: "2,000 around Prague", sizes: []int{8, 16, 32, 64}, pool: func() []driver.Driver { return randomPool(r, 2000, in(driver.Prague)) }},
		{name: "generated pool of 3,000", sizes: []int{1, 7, 100}, pool: func() []driver.Driver {
			pool, err := driver.NewPool(3000, driver.Prague)
			if err != nil {
				t.Fatal(err)
			}
			return pool
		}},
		{name: "1,000 over the whole Earth", sizes: []int{8, 64}, pool: func() []driver.Driver { return randomPool(r, 1000, in(world)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 5 {
				pool := tt.pool()
				index := driver.NewIndex(pool)
				if index.Len() != len(pool) {
					t.Fatalf("Len() = %d, want %d", index.Len(), len(pool))
				}
				for _, p := range pickups(10) {
					want := bruteForce(pool, p)
					got := drain(index.Search(p), tt.sizes...)
					if diff := cmp.Diff(want, got, cmpEmptyAsNil); diff != "" {
						t.Fatalf("Search(%v) order mismatch (-brute force +index):\n%s", p, diff)
					}
				}
			}
		})
	}
}

var cmpEmptyAsNil = cmp.Transformer("emptyAsNil", func(s []int) []int {
	if len(s) == 0 {
		return nil
	}
	return s
})

func TestSearchNearestFreeMatchesNearest(t *testing.T) {
	// The first free driver a Search hands out is the one Nearest picks
	// from the whole pool.
	r := rand.New(rand.NewPCG(3, 4))
	pool, err := driver.NewPool(2000, driver.Prague)
	if err != nil {
		t.Fatal(err)
	}
	index := driver.NewIndex(pool)
	for trial := range 200 {
		for i := range pool {
			pool[i] = pool[i].Release()
			if r.IntN(100) < trial/2 {
				pool[i], _ = pool[i].Reserve("other", t0, ride)
			}
		}
		p := driver.Position{Lat: 49.9 + r.Float64()*0.35, Lon: 14.1 + r.Float64()*0.6}

		want, wantErr := driver.Nearest(pool, p, t0)
		var got driver.Driver
		gotErr := driver.ErrNoDriverFree
		if k, ok := nearestFree(index, pool, p); ok {
			got, gotErr = pool[k], nil
		}
		if gotErr != wantErr || got.ID != want.ID {
			t.Fatalf("trial %d at %v: index found %q (%v), Nearest %q (%v)", trial, p, got.ID, gotErr, want.ID, wantErr)
		}
	}
}

func TestSearchIsLazy(t *testing.T) {
	pool, err := driver.NewPool(10_000, driver.Prague)
	if err != nil {
		t.Fatal(err)
	}
	index := driver.NewIndex(pool)
	s := index.Search(driver.Position{Lat: 50.08, Lon: 14.42})

	first := s.Next(8)

	if len(first) != 8 {
		t.Fatalf("Next(8) = %d drivers, want 8", len(first))
	}
	if got := s.Measured(); got > 500 {
		t.Errorf("measured the distance to %d drivers for the nearest 8, want a few cells' worth (under 500)", got)
	}
	rest := drain(s, 1000)
	if got := len(first) + len(rest); got != len(pool) {
		t.Errorf("handed out %d drivers in all, want %d", got, len(pool))
	}
}

func TestSearchWithinHandsOutOnlyTheDriversInRange(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pools := map[string][]driver.Driver{
		"default pool": driver.DefaultPool(),
		"2,000 around Prague": randomPool(r, 2000, func() driver.Position {
			return driver.Position{Lat: 49.98 + r.Float64()*0.17, Lon: 14.25 + r.Float64()*0.35}
		}),
	}
	pickups := []driver.Position{
		{Lat: 50.0755, Lon: 14.4378}, // where Jarda waits
		{Lat: 49.98, Lon: 14.25},     // a corner of the area
		{Lat: 50.08, Lon: 16.25},     // about 130 km east
		{Lat: 51.5, Lon: -0.12},      // London
	}
	for name, pool := range pools {
		index := driver.NewIndex(pool)
		for _, p := range pickups {
			for _, meters := range []float64{0, 500, 5_000, 15_000, 130_000, 2_000_000} {
				var want []int
				for _, k := range bruteForce(pool, p) {
					if driver.Distance(pool[k].Position, p) <= meters {
						want = append(want, k)
					}
				}
				got := drain(index.Search(p).Within(meters), 8, 16)
				if diff := cmp.Diff(want, got, cmpEmptyAsNil); diff != "" {
					t.Errorf("%s: Search(%v).Within(%v) (-brute force +index):\n%s", name, p, meters, diff)
				}
			}
		}
	}
}

func TestSearchWithinStopsEarlyFarAway(t *testing.T) {
	pool, err := driver.NewPool(10_000, driver.Prague)
	if err != nil {
		t.Fatal(err)
	}
	s := driver.NewIndex(pool).Search(driver.Position{Lat: 50.08, Lon: 16.25}).Within(15_000)

	if got := s.Next(8); len(got) != 0 {
		t.Errorf("Next(8) 130 km away from the pool, within 15 km = %v, want none", got)
	}
	if got := s.Measured(); got > 500 {
		t.Errorf("measured the distance to %d drivers to find none in range, want a few cells' worth (under 500)", got)
	}
}
