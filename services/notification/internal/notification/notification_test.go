package notification_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/notification/internal/notification"
)

var (
	sentAt = time.Date(2026, 11, 27, 9, 30, 2, 0, time.UTC)
	jarda  = notification.Driver{
		Name: "Jarda",
		Car:  notification.Car{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"},
	}
)

const tripID = "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10"

func TestNotificationTexts(t *testing.T) {
	tests := []struct {
		name string
		got  notification.Notification
		want notification.Notification
	}{
		{
			name: "trip received",
			got:  notification.TripReceived(tripID, sentAt),
			want: notification.Notification{
				TripID: tripID, Kind: notification.KindTripReceived, SentAt: sentAt,
				Text: "We received your order and are looking for a driver.",
			},
		},
		{
			name: "driver assigned, eta of whole minutes",
			got:  notification.DriverAssigned(tripID, jarda, 240*time.Second, sentAt),
			want: notification.Notification{
				TripID: tripID, Kind: notification.KindDriverAssigned, SentAt: sentAt,
				Text: "Jarda is on the way in a blue Toyota Corolla, 1AB 2345, about 4 min.",
			},
		},
		{
			name: "no driver",
			got:  notification.NoDriver(tripID, sentAt),
			want: notification.Notification{
				TripID: tripID, Kind: notification.KindNoDriver, SentAt: sentAt,
				Text: "Sorry, no driver is free right now. Please order again in a few minutes.",
			},
		},
		{
			name: "no driver near",
			got:  notification.NoDriverNear(tripID, sentAt),
			want: notification.Notification{
				TripID: tripID, Kind: notification.KindNoDriver, SentAt: sentAt,
				Text: "Sorry, no driver is near your pickup point. We cannot send a taxi there right now.",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("notification mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDriverAssignedRoundsETAUp(t *testing.T) {
	tests := []struct {
		eta  time.Duration
		want string
	}{
		{eta: 0, want: "about 0 min."},
		{eta: 1 * time.Second, want: "about 1 min."},
		{eta: 60 * time.Second, want: "about 1 min."},
		{eta: 61 * time.Second, want: "about 2 min."},
		{eta: 239 * time.Second, want: "about 4 min."},
		{eta: 241 * time.Second, want: "about 5 min."},
		{eta: 2 * time.Hour, want: "about 120 min."},
	}
	for _, tt := range tests {
		t.Run(tt.eta.String(), func(t *testing.T) {
			text := notification.DriverAssigned(tripID, jarda, tt.eta, sentAt).Text
			want := "Jarda is on the way in a blue Toyota Corolla, 1AB 2345, " + tt.want
			if diff := cmp.Diff(want, text); diff != "" {
				t.Errorf("text mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNotificationID(t *testing.T) {
	got := notification.NoDriver(tripID, sentAt).ID()
	if diff := cmp.Diff(tripID+":no_driver", got); diff != "" {
		t.Errorf("ID mismatch (-want +got):\n%s", diff)
	}
}
