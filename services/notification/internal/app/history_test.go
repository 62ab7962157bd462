package app_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/notification/internal/app"
	"github.com/ride-choreography/services/notification/internal/notification"
)

func TestHistory(t *testing.T) {
	store := newFakeStore()
	stored := []notification.Notification{
		notification.TripReceived(tripID, now),
		notification.NoDriver(tripID, now.Add(time.Minute)),
	}
	store.put(riderID, stored...)
	svc, _, _ := newService(store)

	tests := []struct {
		riderID string
		want    []notification.Notification
	}{
		{riderID: riderID, want: stored},
		{riderID: "never-seen", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.riderID, func(t *testing.T) {
			h, err := svc.History(t.Context(), tt.riderID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, h.Notifications()); diff != "" {
				t.Errorf("history mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHistoryFailsWhenTheStoreFails(t *testing.T) {
	errDown := errors.New("state store down")
	store := newFakeStore()
	store.loadErr = errDown
	svc, _, _ := newService(store)

	if _, err := svc.History(t.Context(), riderID); !errors.Is(err, errDown) {
		t.Errorf("error = %v, want %v", err, errDown)
	}
}

func TestWatchWakesOnlyForNewNotificationsOfTheRider(t *testing.T) {
	svc, _, _ := newService(newFakeStore())
	wake, stop := svc.Watch(riderID)
	defer stop()
	otherWake, stopOther := svc.Watch("rider-7")
	defer stopOther()

	if err := svc.TripReceived(t.Context(), app.TripCreated{TripID: tripID, RiderID: riderID}); err != nil {
		t.Fatal(err)
	}
	if !woken(wake) {
		t.Error("watcher of the rider not woken by a new notification")
	}
	if woken(otherWake) {
		t.Error("watcher of another rider woken")
	}

	if err := svc.TripReceived(t.Context(), app.TripCreated{TripID: tripID, RiderID: riderID}); err != nil {
		t.Fatal(err)
	}
	if woken(wake) {
		t.Error("watcher woken by a duplicate")
	}
}

func TestWatchCoalescesAndStops(t *testing.T) {
	svc, _, _ := newService(newFakeStore())
	wake, stop := svc.Watch(riderID)

	if err := svc.TripReceived(t.Context(), app.TripCreated{TripID: tripID, RiderID: riderID}); err != nil {
		t.Fatal(err)
	}
	if err := svc.NoDriver(t.Context(), app.DriverNotFound{TripID: tripID, RiderID: riderID}); err != nil {
		t.Fatal(err)
	}
	if !woken(wake) {
		t.Error("watcher not woken by two notifications")
	}
	if woken(wake) {
		t.Error("watcher woken twice for two notifications it had not looked at yet")
	}

	stop()
	if err := svc.TripReceived(t.Context(), app.TripCreated{TripID: otherTripID, RiderID: riderID}); err != nil {
		t.Fatal(err)
	}
	if woken(wake) {
		t.Error("watcher woken after stop")
	}
}

// woken reports whether wake holds a wake-up. Sends wake watchers before
// they return, so there is nothing to wait for.
func woken(wake <-chan struct{}) bool {
	select {
	case <-wake:
		return true
	default:
		return false
	}
}
