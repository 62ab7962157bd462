package dispatch_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/dispatch/internal/dispatch"
)

var (
	t0     = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	pickup = dispatch.Point{Lat: 50.08, Lon: 14.42}
	jarda  = dispatch.Driver{ID: "jarda", Name: "Jarda", Car: dispatch.Car{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"}}
)

func ordered(id string, at time.Time) dispatch.Trip {
	t, _ := dispatch.Trip{}.Ordered(id, "rider-"+id, pickup, at)
	return t
}

func TestTheFirstOutcomeOfATripStands(t *testing.T) {
	trip := ordered("t1", t0)
	if _, changed := trip.Ordered("t1", "rider-t1", dispatch.Point{Lat: 1, Lon: 1}, t0.Add(time.Second)); changed {
		t.Error("a second order changed the trip")
	}
	assigned, changed := trip.Assigned("t1", "rider-t1", jarda, 4*time.Minute, t0.Add(time.Second))
	if !changed || assigned.Status != dispatch.Assigned || assigned.Driver.Name != "Jarda" {
		t.Fatalf("Assigned = %+v, %v; want the trip assigned to Jarda", assigned, changed)
	}
	for name, change := range map[string]func(dispatch.Trip) (dispatch.Trip, bool){
		"assigned again": func(t dispatch.Trip) (dispatch.Trip, bool) {
			return t.Assigned("t1", "rider-t1", dispatch.Driver{Name: "Mallory"}, time.Minute, t0)
		},
		"no driver after all": func(t dispatch.Trip) (dispatch.Trip, bool) { return t.NotFound("t1", "rider-t1", true, t0) },
	} {
		if got, changed := change(assigned); changed || !cmp.Equal(got, assigned) {
			t.Errorf("%s: %+v, %v; want the assignment unchanged", name, got, changed)
		}
	}
}

func TestAnOutcomeMayComeBeforeTheOrder(t *testing.T) {
	trip, changed := dispatch.Trip{}.NotFound("t1", "rider-t1", true, t0.Add(time.Second))
	if !changed || trip.Status != dispatch.NotFound || trip.Pickup != nil {
		t.Fatalf("NotFound = %+v, %v", trip, changed)
	}
	trip, changed = trip.Ordered("t1", "rider-t1", pickup, t0)
	if !changed || trip.Status != dispatch.NotFound || *trip.Pickup != pickup || !trip.RequestedAt.Equal(t0) {
		t.Errorf("the late order: %+v, %v; want the pickup added and the outcome kept", trip, changed)
	}
}

func TestTheBoardFollowsATrip(t *testing.T) {
	b := dispatch.NewBoard()
	now := t0.Add(time.Second)
	trip := ordered("t1", t0)
	if !b.Record(trip, now) {
		t.Fatal("the order did not change the board")
	}
	if b.Record(trip, now) {
		t.Error("recording the order again changed the board")
	}
	p := b.Picture(t0.Add(90 * time.Second))
	if len(p.Waiting) != 1 || p.Counters.WaitingNow != 1 || p.Counters.LongestWait != 90*time.Second {
		t.Fatalf("picture %+v, want t1 waiting 90 s", p)
	}

	assigned, _ := trip.Assigned("t1", "rider-t1", jarda, 4*time.Minute, t0.Add(2*time.Minute))
	if !b.Record(assigned, t0.Add(2*time.Minute)) {
		t.Fatal("the assignment did not change the board")
	}
	if b.Record(assigned, t0.Add(2*time.Minute)) || b.Record(trip, t0.Add(3*time.Minute)) {
		t.Error("recording the assignment again, or the order after it, changed the board")
	}
	p = b.Picture(t0.Add(3 * time.Minute))
	if len(p.Waiting) != 0 || len(p.Assigned) != 1 || p.Counters.AssignedRecently != 1 || p.Counters.LongestWait != 0 {
		t.Fatalf("picture %+v, want t1 assigned, counted once, nobody waiting", p)
	}
	wantFeed := []dispatch.Entry{
		{At: t0.Add(2 * time.Minute), Kind: dispatch.EntryAssigned, TripID: "t1", Text: "Jarda is on the way to rider-t1 in a blue Toyota (1AB 2345), about 4 min"},
		{At: now, Kind: dispatch.EntryOrdered, TripID: "t1", Text: "rider-t1 ordered a trip"},
	}
	if diff := cmp.Diff(wantFeed, p.Feed); diff != "" {
		t.Errorf("feed (-want +got):\n%s", diff)
	}

	// Past ShownFor it leaves the map; past CountWindow the counters.
	if p := b.Picture(t0.Add(2*time.Minute + dispatch.ShownFor + time.Second)); len(p.Assigned) != 0 || p.Counters.AssignedRecently != 1 {
		t.Errorf("after %v: %d assigned shown, %d counted; want 0 and 1", dispatch.ShownFor, len(p.Assigned), p.Counters.AssignedRecently)
	}
	if p := b.Picture(t0.Add(3*time.Minute + dispatch.CountWindow)); p.Counters.AssignedRecently != 0 {
		t.Errorf("after %v: %d counted, want 0", dispatch.CountWindow, p.Counters.AssignedRecently)
	}
}

func TestAnOutcomeBeforeItsOrderIsCountedOnce(t *testing.T) {
	b := dispatch.NewBoard()
	notFound, _ := dispatch.Trip{}.NotFound("t1", "rider-t1", true, t0.Add(time.Second))
	b.Record(notFound, t0.Add(time.Second))
	late, _ := notFound.Ordered("t1", "rider-t1", pickup, t0)
	if !b.Record(late, t0.Add(2*time.Second)) {
		t.Error("the late order did not add the pickup")
	}
	p := b.Picture(t0.Add(3 * time.Second))
	if len(p.Waiting) != 0 || len(p.NotFound) != 1 || p.NotFound[0].Pickup == nil || p.Counters.NotFoundRecently != 1 || len(p.Feed) != 1 {
		t.Errorf("picture %+v, want t1 without a driver at its pickup, counted once, one line in the feed", p)
	}
	if got := p.Feed[0].Text; got != "No driver near rider-t1" {
		t.Errorf("feed says %q", got)
	}
}

func TestTheBoardStaysSmall(t *testing.T) {
	b := dispatch.NewBoard()
	for i := range dispatch.MaxWaiting + 1 {
		b.Record(ordered(fmt.Sprint("w", i), t0.Add(time.Duration(i)*time.Millisecond)), t0)
	}
	if len(b.Waiting) != dispatch.MaxWaiting {
		t.Errorf("%d waiting, want %d", len(b.Waiting), dispatch.MaxWaiting)
	}
	if _, ok := b.Waiting["w0"]; ok {
		t.Error("the rider waiting longest was kept, and the newest dropped")
	}
	for i := range dispatch.MaxDecided + 5 {
		trip, _ := ordered(fmt.Sprint("d", i), t0).Assigned(fmt.Sprint("d", i), "r", jarda, time.Minute, t0)
		b.Record(trip, t0)
	}
	if len(b.Decided) != dispatch.MaxDecided || len(b.Feed) != dispatch.FeedSize {
		t.Errorf("%d decided and %d in the feed, want %d and %d", len(b.Decided), len(b.Feed), dispatch.MaxDecided, dispatch.FeedSize)
	}
	if p := b.Picture(t0); p.Counters.AssignedRecently != dispatch.MaxDecided+5 {
		t.Errorf("%d counted, want every one of %d", p.Counters.AssignedRecently, dispatch.MaxDecided+5)
	}
	late, _ := ordered("late", t0).NotFound("late", "r", false, t0.Add(time.Hour))
	b.Record(late, t0.Add(time.Hour))
	if len(b.Counts) != 1 {
		t.Errorf("%d minutes counted an hour later, want only the last one's", len(b.Counts))
	}
}

func TestCloneSharesNothing(t *testing.T) {
	b := dispatch.NewBoard()
	b.Record(ordered("t1", t0), t0)
	c := b.Clone()
	c.Record(ordered("t2", t0), t0)
	if len(b.Waiting) != 1 || len(b.Feed) != 1 {
		t.Errorf("changing the clone changed the board: %d waiting, %d in the feed", len(b.Waiting), len(b.Feed))
	}
}
