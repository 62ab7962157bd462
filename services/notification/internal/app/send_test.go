package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/notification/internal/app"
	"github.com/ride-choreography/services/notification/internal/notification"
	"github.com/ride-choreography/services/notification/internal/tracing"
)

const (
	riderID     = "rider-42"
	tripID      = "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10"
	otherTripID = "6f1c8c0e-1b7a-4c1e-9f57-3f1d2b4a5c6d"
)

var (
	now   = time.Date(2026, 11, 27, 9, 30, 2, 0, time.UTC)
	jarda = notification.Driver{
		Name: "Jarda",
		Car:  notification.Car{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"},
	}
)

// newService returns a Service on store whose clock stands still at now,
// the buffer its logs go to and what it counted.
func newService(store app.Store) (*app.Service, *bytes.Buffer, *fakeMetrics) {
	var logs bytes.Buffer
	metrics := &fakeMetrics{}
	clock := func() time.Time { return now.In(time.FixedZone("CET", 3600)) }
	return app.NewService(store, metrics, clock, zerolog.New(&logs)), &logs, metrics
}

// fakeMetrics is an app.Metrics that records the kinds of the
// notifications counted as sent, in order.
type fakeMetrics struct {
	mu   sync.Mutex
	sent []notification.Kind
}

func (m *fakeMetrics) NotificationSent(kind string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, notification.Kind(kind))
}

// kinds returns the kinds counted as sent so far.
func (m *fakeMetrics) kinds() []notification.Kind {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]notification.Kind(nil), m.sent...)
}

// kindsOf returns the kinds of ns, in order.
func kindsOf(ns []notification.Notification) []notification.Kind {
	var kinds []notification.Kind
	for _, n := range ns {
		kinds = append(kinds, n.Kind)
	}
	return kinds
}

type logLine struct {
	Level   string `json:"level"`
	Message string `json:"message"`
	RiderID string `json:"riderId"`
	TripID  string `json:"tripId"`
	Kind    string `json:"kind"`
	TraceID string `json:"traceId"`
}

func logLines(t *testing.T, logs *bytes.Buffer) []logLine {
	t.Helper()
	var lines []logLine
	for _, raw := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if raw == "" {
			continue
		}
		var l logLine
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("log line %q is not JSON: %v", raw, err)
		}
		lines = append(lines, l)
	}
	return lines
}

// events of one trip, in the order the rider should hear of them.
var (
	tripReceived = func(ctx context.Context, s *app.Service) error {
		return s.TripReceived(ctx, app.TripCreated{TripID: tripID, RiderID: riderID})
	}
	driverAssigned = func(ctx context.Context, s *app.Service) error {
		return s.DriverAssigned(ctx, app.DriverAssigned{TripID: tripID, RiderID: riderID, Driver: jarda, ETA: 240 * time.Second})
	}
	noDriver = func(ctx context.Context, s *app.Service) error {
		return s.NoDriver(ctx, app.DriverNotFound{TripID: tripID, RiderID: riderID})
	}
	noDriverNear = func(ctx context.Context, s *app.Service) error {
		return s.NoDriver(ctx, app.DriverNotFound{TripID: tripID, RiderID: riderID, NoneNear: true})
	}
)

func TestSendStoresEachNotificationOnce(t *testing.T) {
	type event func(context.Context, *app.Service) error
	tests := []struct {
		name   string
		events []event
		want   []notification.Notification
	}{
		{
			name:   "trip received",
			events: []event{tripReceived},
			want:   []notification.Notification{notification.TripReceived(tripID, now)},
		},
		{
			name:   "trip received, delivered three times",
			events: []event{tripReceived, tripReceived, tripReceived},
			want:   []notification.Notification{notification.TripReceived(tripID, now)},
		},
		{
			name:   "driver assigned, delivered twice",
			events: []event{tripReceived, driverAssigned, tripReceived, driverAssigned},
			want: []notification.Notification{
				notification.TripReceived(tripID, now),
				notification.DriverAssigned(tripID, jarda, 240*time.Second, now),
			},
		},
		{
			name:   "no driver, delivered twice",
			events: []event{tripReceived, noDriver, noDriver},
			want: []notification.Notification{
				notification.TripReceived(tripID, now),
				notification.NoDriver(tripID, now),
			},
		},
		{
			name:   "no driver near, delivered twice",
			events: []event{tripReceived, noDriverNear, noDriverNear},
			want: []notification.Notification{
				notification.TripReceived(tripID, now),
				notification.NoDriverNear(tripID, now),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			svc, logs, metrics := newService(store)
			for i, e := range tt.events {
				if err := e(t.Context(), svc); err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
			}
			if diff := cmp.Diff(tt.want, store.notifications(riderID)); diff != "" {
				t.Errorf("stored notifications mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(kindsOf(tt.want), metrics.kinds()); diff != "" {
				t.Errorf("notifications counted as sent (-want +got):\n%s", diff)
			}
			var wantLogs []logLine
			for _, n := range tt.want {
				wantLogs = append(wantLogs, logLine{
					Level: "info", Message: "notification sent",
					RiderID: riderID, TripID: n.TripID, Kind: string(n.Kind),
				})
			}
			if diff := cmp.Diff(wantLogs, logLines(t, logs)); diff != "" {
				t.Errorf("logs mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSendLogsTheTraceID(t *testing.T) {
	svc, logs, _ := newService(newFakeStore())
	ctx := tracing.ContinueTrace(t.Context(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if err := svc.TripReceived(ctx, app.TripCreated{TripID: tripID, RiderID: riderID}); err != nil {
		t.Fatal(err)
	}
	want := []logLine{{
		Level: "info", Message: "notification sent", RiderID: riderID, TripID: tripID,
		Kind: "trip_received", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
	}}
	if diff := cmp.Diff(want, logLines(t, logs)); diff != "" {
		t.Errorf("logs mismatch (-want +got):\n%s", diff)
	}
}

// The driver's answer may overtake trip-created: the rider is then told
// first that the order arrived, in the same save, and trip-created later
// finds that notification sent.
func TestOutcomeBeforeTripReceivedTellsTheReceiptFirst(t *testing.T) {
	tests := []struct {
		name  string
		event func(context.Context, *app.Service) error
		kind  notification.Kind
	}{
		{name: "driver assigned", event: driverAssigned, kind: notification.KindDriverAssigned},
		{name: "no driver", event: noDriver, kind: notification.KindNoDriver},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			store.put(riderID, notification.TripReceived(otherTripID, now))
			svc, logs, metrics := newService(store)

			if err := tt.event(t.Context(), svc); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range store.notifications(riderID) {
				got = append(got, n.TripID+" "+string(n.Kind))
			}
			want := []string{otherTripID + " trip_received", tripID + " trip_received", tripID + " " + string(tt.kind)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
			if store.saves != 1 {
				t.Errorf("saves = %d, want both in one", store.saves)
			}
			if lines := logLines(t, logs); len(lines) != 2 || lines[0].Kind != "trip_received" || lines[1].Kind != string(tt.kind) {
				t.Errorf("logs %+v, want trip_received then %s sent", lines, tt.kind)
			}
			wantSent := []notification.Kind{notification.KindTripReceived, tt.kind}
			if diff := cmp.Diff(wantSent, metrics.kinds()); diff != "" {
				t.Errorf("notifications counted as sent (-want +got):\n%s", diff)
			}

			// trip-created, late, finds the receipt sent.
			if err := tripReceived(t.Context(), svc); err != nil {
				t.Fatal(err)
			}
			if n := len(store.notifications(riderID)); n != 3 || store.saves != 1 {
				t.Errorf("after the late trip-created: %d notifications, %d saves; want 3 and 1", n, store.saves)
			}
			if diff := cmp.Diff(wantSent, metrics.kinds()); diff != "" {
				t.Errorf("after the late trip-created, counted as sent (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSendRetriesAfterAConflict(t *testing.T) {
	store := newFakeStore()
	svc, logs, metrics := newService(store)
	raced := false
	store.beforeSave = func() {
		if !raced {
			raced = true
			store.put(riderID, notification.TripReceived(otherTripID, now))
		}
	}

	if err := svc.TripReceived(t.Context(), app.TripCreated{TripID: tripID, RiderID: riderID}); err != nil {
		t.Fatal(err)
	}

	want := []notification.Notification{
		notification.TripReceived(otherTripID, now),
		notification.TripReceived(tripID, now),
	}
	if diff := cmp.Diff(want, store.notifications(riderID)); diff != "" {
		t.Errorf("stored notifications mismatch (-want +got):\n%s", diff)
	}
	if store.saves != 2 {
		t.Errorf("saves = %d, want 2", store.saves)
	}
	if got := len(logLines(t, logs)); got != 1 {
		t.Errorf("%d log lines, want 1", got)
	}
	if diff := cmp.Diff([]notification.Kind{notification.KindTripReceived}, metrics.kinds()); diff != "" {
		t.Errorf("notifications counted as sent, two saves for one (-want +got):\n%s", diff)
	}
}

func TestSendGivesUpAfterRepeatedConflicts(t *testing.T) {
	store := newFakeStore()
	svc, logs, metrics := newService(store)
	store.beforeSave = func() { store.put(riderID, notification.TripReceived(otherTripID, now)) }

	err := svc.TripReceived(t.Context(), app.TripCreated{TripID: tripID, RiderID: riderID})
	if !errors.Is(err, app.ErrConflict) {
		t.Fatalf("error = %v, want %v", err, app.ErrConflict)
	}
	if store.saves != 5 {
		t.Errorf("saves = %d, want 5", store.saves)
	}
	if diff := cmp.Diff([]logLine(nil), logLines(t, logs)); diff != "" {
		t.Errorf("logs mismatch (-want +got):\n%s", diff)
	}
	if got := metrics.kinds(); len(got) != 0 {
		t.Errorf("counted %v as sent, want nothing", got)
	}
}

func TestSendFailsWhenTheStoreFails(t *testing.T) {
	errDown := errors.New("state store down")
	tests := []struct {
		name       string
		breakStore func(*fakeStore)
	}{
		{name: "load", breakStore: func(s *fakeStore) { s.loadErr = errDown }},
		{name: "save", breakStore: func(s *fakeStore) { s.saveErr = errDown }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			tt.breakStore(store)
			svc, logs, metrics := newService(store)

			err := svc.TripReceived(t.Context(), app.TripCreated{TripID: tripID, RiderID: riderID})
			if !errors.Is(err, errDown) {
				t.Fatalf("error = %v, want %v", err, errDown)
			}
			if diff := cmp.Diff([]logLine(nil), logLines(t, logs)); diff != "" {
				t.Errorf("logs mismatch (-want +got):\n%s", diff)
			}
			if got := metrics.kinds(); len(got) != 0 {
				t.Errorf("counted %v as sent, want nothing", got)
			}
		})
	}
}

func TestSecondNotificationStartsFromTheSavedHistory(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	s, _, _ := newService(store)
	if err := s.TripReceived(ctx, app.TripCreated{TripID: tripID, RiderID: riderID}); err != nil {
		t.Fatal(err)
	}
	loads := store.loads
	if err := s.DriverAssigned(ctx, app.DriverAssigned{TripID: tripID, RiderID: riderID, Driver: jarda, ETA: 4 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if store.loads != loads || store.saves != 2 {
		t.Errorf("the second notification: %d loads and %d saves in all; want no load and 2 saves", store.loads-loads, store.saves)
	}
	if got := len(store.notifications(riderID)); got != 2 {
		t.Errorf("%d notifications stored, want 2", got)
	}
}

func TestStaleSavedHistoryIsCorrectedByTheStore(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// meanwhile is what another replica stored after this one's save.
		meanwhile []notification.Notification
		send      func(*app.Service) error
		want      []notification.Kind
		// wantSent is what this replica counted as sent, its first
		// trip_received included.
		wantSent []notification.Kind
	}{
		{
			name:      "another replica sent the same notification: a duplicate, sent once",
			meanwhile: []notification.Notification{notification.TripReceived(tripID, now), notification.DriverAssigned(tripID, jarda, 4*time.Minute, now)},
			send: func(s *app.Service) error {
				return s.DriverAssigned(ctx, app.DriverAssigned{TripID: tripID, RiderID: riderID, Driver: jarda, ETA: 4 * time.Minute})
			},
			want:     []notification.Kind{notification.KindTripReceived, notification.KindDriverAssigned},
			wantSent: []notification.Kind{notification.KindTripReceived},
		},
		{
			name:      "another replica received a second trip: this one is added after it",
			meanwhile: []notification.Notification{notification.TripReceived(tripID, now), notification.TripReceived(otherTripID, now)},
			send: func(s *app.Service) error {
				return s.NoDriver(ctx, app.DriverNotFound{TripID: otherTripID, RiderID: riderID})
			},
			want:     []notification.Kind{notification.KindTripReceived, notification.KindTripReceived, notification.KindNoDriver},
			wantSent: []notification.Kind{notification.KindTripReceived, notification.KindNoDriver},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newFakeStore()
			s, _, metrics := newService(store)
			if err := s.TripReceived(ctx, app.TripCreated{TripID: tripID, RiderID: riderID}); err != nil {
				t.Fatal(err)
			}
			store.put(riderID, tt.meanwhile...) // what this process remembers is stale now
			if err := tt.send(s); err != nil {
				t.Fatal(err)
			}
			var got []notification.Kind
			for _, n := range store.notifications(riderID) {
				got = append(got, n.Kind)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("stored kinds (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSent, metrics.kinds()); diff != "" {
				t.Errorf("notifications counted as sent (-want +got):\n%s", diff)
			}
		})
	}
}
