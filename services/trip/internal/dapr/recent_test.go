package dapr

import (
	"strconv"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ride-choreography/services/trip/internal/trip"
)

func TestRecentTripsForgetsTheOldestFirst(t *testing.T) {
	r := newRecentTrips(3)
	for i := range 4 {
		r.put(trip.Trip{ID: strconv.Itoa(i)}, "1")
	}
	r.put(trip.Trip{ID: "3", Status: trip.StatusDriverAssigned}, "2") // written again: no new slot
	for id, want := range map[string]bool{"0": false, "1": true, "2": true, "3": true} {
		if _, _, ok := r.get(id); ok != want {
			t.Errorf("remembers trip %s: %v, want %v", id, ok, want)
		}
	}
	if got, version, _ := r.get("3"); got.Status != trip.StatusDriverAssigned || version != "2" {
		t.Errorf("trip 3 = %+v at %q, want the last write at version 2", got, version)
	}
	r.forget("2")
	r.put(trip.Trip{ID: "4"}, "1") // takes the slot of 1, the oldest
	for id, want := range map[string]bool{"1": false, "2": false, "3": true, "4": true} {
		if _, _, ok := r.get(id); ok != want {
			t.Errorf("after forget and put: remembers trip %s: %v, want %v", id, ok, want)
		}
	}
}

func TestVersionAfter(t *testing.T) {
	for _, tt := range []struct {
		version, want string
		ok            bool
	}{{"1", "2", true}, {"41", "42", true}, {"W/\"abc\"", "", false}, {"", "", false}} {
		if got, ok := versionAfter(tt.version); got != tt.want || ok != tt.ok {
			t.Errorf("versionAfter(%q) = %q, %v; want %q, %v", tt.version, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMayHaveHappened(t *testing.T) {
	for code, want := range map[codes.Code]bool{
		codes.DeadlineExceeded: true, codes.Canceled: true, codes.Unknown: true,
		codes.Unavailable: false, codes.Internal: false, codes.InvalidArgument: false,
	} {
		if got := mayHaveHappened(status.Error(code, "x")); got != want {
			t.Errorf("mayHaveHappened(%s) = %v, want %v", code, got, want)
		}
	}
}
