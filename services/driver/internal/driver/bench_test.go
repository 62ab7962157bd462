package driver_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ride-choreography/services/driver/internal/driver"
)

// BenchmarkNearestFree finds the nearest free driver with a third of the
// pool on trips, at pickups spread over the area: through the Index, a
// batch at a time as the app reads them (index), and by measuring every
// driver as before the index (scan).
func BenchmarkNearestFree(b *testing.B) {
	for _, size := range []int{50, 10_000} {
		pool, err := driver.NewPool(size, driver.Prague)
		if err != nil {
			b.Fatal(err)
		}
		r := rand.New(rand.NewPCG(5, 6))
		for i := range pool {
			if r.IntN(3) == 0 {
				pool[i], _ = pool[i].Reserve("other", t0, ride)
			}
		}
		pickups := make([]driver.Position, 1024)
		for i := range pickups {
			a := driver.Prague
			pickups[i] = driver.Position{Lat: a.Min.Lat + r.Float64()*(a.Max.Lat-a.Min.Lat), Lon: a.Min.Lon + r.Float64()*(a.Max.Lon-a.Min.Lon)}
		}
		index := driver.NewIndex(pool)

		b.Run(fmt.Sprintf("index/pool=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, ok := nearestFree(index, pool, pickups[i%len(pickups)]); !ok {
					b.Fatal("no free driver")
				}
				i++
			}
		})
		b.Run(fmt.Sprintf("scan/pool=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := driver.Nearest(pool, pickups[i%len(pickups)], t0); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkNewIndex(b *testing.B) {
	pool, err := driver.NewPool(10_000, driver.Prague)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		driver.NewIndex(pool)
	}
}

// nearestFree returns the pool index of the driver free at t0 nearest to
// p, reading the index in batches of 8, 16, 32, ... as the app does.
func nearestFree(index *driver.Index, pool []driver.Driver, p driver.Position) (int, bool) {
	search := index.Search(p)
	for n := 8; ; n *= 2 {
		batch := search.Next(n)
		if len(batch) == 0 {
			return 0, false
		}
		for _, k := range batch {
			if pool[k].FreeAt(t0) {
				return k, true
			}
		}
	}
}
