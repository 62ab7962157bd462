package notification_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/notification/internal/notification"
)

const otherTripID = "6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d"

func TestHistoryAdd(t *testing.T) {
	later := sentAt.Add(time.Minute)
	received := notification.TripReceived(tripID, sentAt)
	assigned := notification.DriverAssigned(tripID, jarda, 4*time.Minute, sentAt)
	noDriver := notification.NoDriver(tripID, sentAt)

	tests := []struct {
		name      string
		before    []notification.Notification
		add       notification.Notification
		wantAdded bool
		wantErr   error
		want      []notification.Notification
	}{
		{
			name:      "trip received into an empty history",
			add:       received,
			wantAdded: true,
			want:      []notification.Notification{received},
		},
		{
			name:   "trip received again is a duplicate, even sent later",
			before: []notification.Notification{received},
			add:    notification.TripReceived(tripID, later),
			want:   []notification.Notification{received},
		},
		{
			name:      "driver assigned after trip received",
			before:    []notification.Notification{received},
			add:       assigned,
			wantAdded: true,
			want:      []notification.Notification{received, assigned},
		},
		{
			name:   "driver assigned again is a duplicate",
			before: []notification.Notification{received, assigned},
			add:    notification.DriverAssigned(tripID, jarda, 9*time.Minute, later),
			want:   []notification.Notification{received, assigned},
		},
		{
			name:      "no driver after trip received",
			before:    []notification.Notification{received},
			add:       noDriver,
			wantAdded: true,
			want:      []notification.Notification{received, noDriver},
		},
		{
			name:    "driver assigned before trip received",
			add:     assigned,
			wantErr: notification.ErrTripNotReceived,
		},
		{
			name:    "no driver before trip received",
			add:     noDriver,
			wantErr: notification.ErrTripNotReceived,
		},
		{
			name:    "another trip's trip received does not count",
			before:  []notification.Notification{notification.TripReceived(otherTripID, sentAt)},
			add:     assigned,
			wantErr: notification.ErrTripNotReceived,
			want:    []notification.Notification{notification.TripReceived(otherTripID, sentAt)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := notification.NewHistory(tt.before)
			added, err := h.Add(tt.add)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Add() error = %v, want %v", err, tt.wantErr)
			}
			if added != tt.wantAdded {
				t.Errorf("Add() added = %t, want %t", added, tt.wantAdded)
			}
			if diff := cmp.Diff(tt.want, h.Notifications()); diff != "" {
				t.Errorf("notifications mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHistorySince(t *testing.T) {
	received := notification.TripReceived(tripID, sentAt)
	assigned := notification.DriverAssigned(tripID, jarda, 4*time.Minute, sentAt)
	other := notification.TripReceived(otherTripID, sentAt)
	h := notification.NewHistory([]notification.Notification{received, assigned, other})

	tests := []struct {
		name string
		id   string
		want []notification.Notification
	}{
		{name: "no id: everything", id: "", want: []notification.Notification{received, assigned, other}},
		{name: "after the first", id: received.ID(), want: []notification.Notification{assigned, other}},
		{name: "after the last: nothing", id: other.ID(), want: nil},
		{name: "unknown id: everything", id: "nope:trip_received", want: []notification.Notification{received, assigned, other}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, h.Since(tt.id)); diff != "" {
				t.Errorf("Since(%q) mismatch (-want +got):\n%s", tt.id, diff)
			}
		})
	}
}

func TestNewHistoryKeepsItsOwnCopy(t *testing.T) {
	ns := []notification.Notification{notification.TripReceived(tripID, sentAt)}
	h := notification.NewHistory(ns)
	ns[0].Text = "changed by the caller"

	got := h.Notifications()
	got[0].Text = "changed through Notifications"

	want := []notification.Notification{notification.TripReceived(tripID, sentAt)}
	if diff := cmp.Diff(want, h.Notifications()); diff != "" {
		t.Errorf("history changed from outside (-want +got):\n%s", diff)
	}
}

func TestCloneIsIndependent(t *testing.T) {
	h := notification.NewHistory([]notification.Notification{notification.TripReceived("t1", time.Unix(0, 0))})
	c := h.Clone()
	if _, err := c.Add(notification.TripReceived("t2", time.Unix(0, 0))); err != nil {
		t.Fatal(err)
	}
	if len(h.Notifications()) != 1 || len(c.Notifications()) != 2 {
		t.Errorf("original %d, clone %d notifications; want 1 and 2", len(h.Notifications()), len(c.Notifications()))
	}
}
