package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/driver"
	"github.com/ride-choreography/services/driver/internal/testkit"
)

func TestListDeadLetters(t *testing.T) {
	kept := app.DeadLetters{Count: 3, Items: []app.DeadLetter{
		{
			ID: "evt-1", Topic: "trip-created", ReceivedAt: requestedAt.Add(time.Second),
			Reason: "invalid event: trip-created: at '/riderId': minLength: got 0, want 1",
			Event:  json.RawMessage(`{"specversion":"1.0","id":"evt-1"}`),
		},
		{
			ID: "sha256:7ccfa1fbf3940e6f", ReceivedAt: requestedAt.Add(2 * time.Second),
			Reason: "invalid event: body is not a JSON CloudEvent", Event: json.RawMessage(`"not json"`),
		},
	}}
	tests := []struct {
		name       string
		kept       *app.DeadLetters
		storeErr   error
		wantStatus int
		wantBody   string
	}{
		{name: "none yet", wantStatus: http.StatusOK, wantBody: `{"count":0,"deadLetters":[]}`},
		{
			name: "the last kept of three", kept: &kept, wantStatus: http.StatusOK,
			wantBody: `{"count":3,"deadLetters":[
				{"id":"evt-1","topic":"trip-created","receivedAt":"2026-11-27T09:30:01Z","reason":"invalid event: trip-created: at '/riderId': minLength: got 0, want 1","event":{"specversion":"1.0","id":"evt-1"}},
				{"id":"sha256:7ccfa1fbf3940e6f","topic":"","receivedAt":"2026-11-27T09:30:02Z","reason":"invalid event: body is not a JSON CloudEvent","event":"not json"}
			]}`,
		},
		{name: "store unreachable", storeErr: errors.New("connection refused"), wantStatus: http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(requestedAt, driver.DefaultPool()...)
			if tt.kept != nil {
				if err := s.store.Save(context.Background(), *tt.kept, ""); err != nil {
					t.Fatal(err)
				}
			}
			s.store.Err = tt.storeErr

			resp, body := s.do(t, http.MethodGet, "/dead-letters", "")

			if tt.wantStatus != http.StatusOK {
				assertProblem(t, resp, body, tt.wantStatus)
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			testkit.Equal(t, tt.wantBody, body)
		})
	}
}
