package driver_test

import (
	"errors"
	"math"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/driver/internal/driver"
)

func TestNewPoolStartsWithTheNamedDrivers(t *testing.T) {
	tests := []struct {
		size    int
		wantIDs []string
	}{
		{size: 1, wantIDs: []string{"jarda"}},
		{size: 3, wantIDs: []string{"jarda", "petra", "tomas"}},
		{size: 5, wantIDs: []string{"jarda", "petra", "tomas", "eva", "marek"}},
		{size: 8, wantIDs: []string{"jarda", "petra", "tomas", "eva", "marek", "d00001", "d00002", "d00003"}},
	}
	for _, tt := range tests {
		t.Run("", func(t *testing.T) {
			pool, err := driver.NewPool(tt.size, driver.Prague)
			if err != nil {
				t.Fatalf("NewPool(%d) error = %v", tt.size, err)
			}
			var ids []string
			for _, d := range pool {
				ids = append(ids, d.ID)
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("NewPool(%d) ids mismatch (-want +got):\n%s", tt.size, diff)
			}
			named := min(tt.size, 5)
			if diff := cmp.Diff(driver.DefaultPool()[:named], pool[:named]); diff != "" {
				t.Errorf("NewPool(%d) named drivers mismatch (-want +got):\n%s", tt.size, diff)
			}
		})
	}
}

func TestNewPoolGeneratesTheSameDriversEveryTime(t *testing.T) {
	// Pinned: every replica and every version must make this driver, or
	// the stored pool and the one in memory drift apart.
	want := driver.Driver{
		ID:       "d00001",
		Name:     "Ondrej",
		Car:      driver.Car{Make: "Toyota", Model: "Camry", Color: "green", Plate: "6A0 0001"},
		Position: driver.Position{Lat: 50.068217, Lon: 14.326916},
		Status:   driver.StatusFree,
	}

	small, err := driver.NewPool(50, driver.Prague)
	if err != nil {
		t.Fatal(err)
	}
	large, err := driver.NewPool(10_000, driver.Prague)
	if err != nil {
		t.Fatal(err)
	}
	again, err := driver.NewPool(10_000, driver.Prague)
	if err != nil {
		t.Fatal(err)
	}

	if diff := cmp.Diff(want, small[5]); diff != "" {
		t.Errorf("first generated driver mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(large, again); diff != "" {
		t.Errorf("two pools of 10,000 differ (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(small, large[:50]); diff != "" {
		t.Errorf("a larger pool does not start with the smaller one (-small +large):\n%s", diff)
	}
}

func TestNewPoolGeneratedDrivers(t *testing.T) {
	area := driver.Area{Min: driver.Position{Lat: 49.1, Lon: 16.5}, Max: driver.Position{Lat: 49.3, Lon: 16.7}}
	pool, err := driver.NewPool(driver.MaxPoolSize, area)
	if err != nil {
		t.Fatalf("NewPool(%d) error = %v", driver.MaxPoolSize, err)
	}
	if len(pool) != driver.MaxPoolSize {
		t.Fatalf("len = %d, want %d", len(pool), driver.MaxPoolSize)
	}

	idPattern := regexp.MustCompile(`^d\d{5}$`)
	platePattern := regexp.MustCompile(`^\d[A-Z][0-9A-Z] \d{4}$`)
	ids := map[string]bool{}
	plates := map[string]bool{}
	names := map[string]bool{}
	for i, d := range pool {
		if ids[d.ID] || plates[d.Car.Plate] {
			t.Fatalf("driver %d (%s, %s) repeats an id or a plate", i, d.ID, d.Car.Plate)
		}
		ids[d.ID], plates[d.Car.Plate] = true, true
		if !platePattern.MatchString(d.Car.Plate) {
			t.Errorf("driver %s plate %q is not like 1AB 2345", d.ID, d.Car.Plate)
		}
		if i < 5 {
			continue
		}
		names[d.Name] = true
		if !idPattern.MatchString(d.ID) {
			t.Fatalf("driver %d id %q is not like d00042", i, d.ID)
		}
		if !area.Contains(d.Position) {
			t.Fatalf("driver %s at %v is outside %v", d.ID, d.Position, area)
		}
		if d.Name == "" || d.Car.Make == "" || d.Car.Model == "" || d.Car.Color == "" {
			t.Fatalf("driver %s = %+v, want a name and a whole car", d.ID, d)
		}
		if d.Status != driver.StatusFree || d.TripID != "" || !d.BusyUntil.IsZero() {
			t.Fatalf("driver %s starts as %q on trip %q, want free", d.ID, d.Status, d.TripID)
		}
	}
	if len(names) < 10 {
		t.Errorf("only %d first names among %d drivers", len(names), len(pool))
	}
	if pool[len(pool)-1].ID != "d99995" {
		t.Errorf("last id = %s, want d99995", pool[len(pool)-1].ID)
	}
}

func TestNewPoolSpreadsDriversOverTheArea(t *testing.T) {
	pool, err := driver.NewPool(10_005, driver.Prague)
	if err != nil {
		t.Fatal(err)
	}
	// Ten by ten parts of the area each get about a hundred drivers.
	var counts [10][10]int
	a := driver.Prague
	for _, d := range pool[5:] {
		row := min(int((d.Position.Lat-a.Min.Lat)/(a.Max.Lat-a.Min.Lat)*10), 9)
		col := min(int((d.Position.Lon-a.Min.Lon)/(a.Max.Lon-a.Min.Lon)*10), 9)
		counts[row][col]++
	}
	for row := range counts {
		for col, n := range counts[row] {
			if n < 50 || n > 150 {
				t.Errorf("part %d,%d holds %d drivers, want about 100", row, col, n)
			}
		}
	}
}

func TestNewPoolRejects(t *testing.T) {
	tests := []struct {
		name string
		size int
		area driver.Area
	}{
		{name: "no drivers", size: 0, area: driver.Prague},
		{name: "negative size", size: -1, area: driver.Prague},
		{name: "over the maximum", size: driver.MaxPoolSize + 1, area: driver.Prague},
		{name: "corners swapped", size: 6, area: driver.Area{Min: driver.Prague.Max, Max: driver.Prague.Min}},
		{name: "no width", size: 6, area: driver.Area{Min: driver.Position{Lat: 50, Lon: 14}, Max: driver.Position{Lat: 50.1, Lon: 14}}},
		{name: "off the Earth", size: 6, area: driver.Area{Min: driver.Position{Lat: 50, Lon: 14}, Max: driver.Position{Lat: 95, Lon: 15}}},
		{name: "not a number", size: 6, area: driver.Area{Min: driver.Position{Lat: math.NaN(), Lon: 14}, Max: driver.Position{Lat: 50, Lon: 15}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool, err := driver.NewPool(tt.size, tt.area)
			if !errors.Is(err, driver.ErrInvalidPool) {
				t.Errorf("NewPool(%d, %v) = %d drivers, error %v; want %v", tt.size, tt.area, len(pool), err, driver.ErrInvalidPool)
			}
		})
	}
}

func TestNewPoolOfNamedDriversNeedsNoArea(t *testing.T) {
	pool, err := driver.NewPool(5, driver.Area{})
	if err != nil {
		t.Fatalf("NewPool(5, no area) error = %v", err)
	}
	if diff := cmp.Diff(driver.DefaultPool(), pool); diff != "" {
		t.Errorf("pool mismatch (-want +got):\n%s", diff)
	}
}

func TestAreaString(t *testing.T) {
	if got, want := driver.Prague.String(), "49.98,14.25,50.15,14.6"; got != want {
		t.Errorf("Prague.String() = %q, want %q", got, want)
	}
}
