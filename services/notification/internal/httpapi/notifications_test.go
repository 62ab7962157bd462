package httpapi_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/notification/internal/auth/authtest"
	"github.com/ride-choreography/services/notification/internal/contracttest"
)

func TestHistory(t *testing.T) {
	ts := newTestServer(t)
	for _, topic := range []string{"trip-created", "driver-assigned"} {
		if got := ts.deliver(t, topic, contracttest.Example(t, topic)); got != "SUCCESS" {
			t.Fatalf("%s: status %s, want SUCCESS", topic, got)
		}
	}

	tests := []struct {
		name string
		path string
		want string
	}{
		{
			name: "rider with notifications, oldest first",
			path: "/riders/rider-42/notifications",
			want: `{"riderId":"rider-42","notifications":[` +
				`{"tripId":"` + tripID + `","kind":"trip_received","text":"We received your order and are looking for a driver.","sentAt":"2026-11-27T09:30:02Z"},` +
				`{"tripId":"` + tripID + `","kind":"driver_assigned","text":"Jarda is on the way in a blue Toyota Corolla, 1AB 2345, about 4 min.","sentAt":"2026-11-27T09:30:02Z"}]}`,
		},
		{
			name: "unknown rider",
			path: "/riders/rider-7/notifications",
			want: `{"riderId":"rider-7","notifications":[]}`,
		},
		{
			name: "rider id with escaped characters",
			path: "/riders/Jana%20Nov%C3%A1kov%C3%A1/notifications",
			want: `{"riderId":"Jana Nováková","notifications":[]}`,
		},
		{
			name: "rider id with an escaped slash",
			path: "/riders/jana%2Fnovakova/notifications",
			want: `{"riderId":"jana/novakova","notifications":[]}`,
		},
		{
			name: "rider id of two dots",
			path: "/riders/../notifications",
			want: `{"riderId":"..","notifications":[]}`,
		},
		{
			name: "rider id of two escaped dots",
			path: "/riders/%2E%2E/notifications",
			want: `{"riderId":"..","notifications":[]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := ts.do(t, http.MethodGet, tt.path, nil)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status %d, want 200", resp.StatusCode)
			}
			var got, want any
			decodeBody(t, resp, "application/json", &got)
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// A store that fails makes every route that reads it answer 503 with a
// problem that asks the client to retry, logged once as an error.
func TestStoreFailures(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		failStore func(*testServer, error)
	}{
		{name: "history", path: "/riders/rider-42/notifications", failStore: func(ts *testServer, err error) { ts.store.fail(err) }},
		{name: "stream at its start", path: "/riders/rider-42/notifications/stream", failStore: func(ts *testServer, err error) { ts.store.fail(err) }},
		{name: "dead letters", path: "/dead-letters", failStore: func(ts *testServer, err error) { ts.deadLetterStore.fail(err) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t)
			tt.failStore(ts, errors.New("state store down"))
			resp := ts.do(t, http.MethodGet, tt.path, nil)

			var got problem
			decodeBody(t, resp, "application/problem+json", &got)
			want := problem{
				Type: "about:blank", Title: "Service Unavailable", Status: 503,
				Detail:   "the notification service cannot reach its state store right now; retry shortly",
				Instance: tt.path,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("problem mismatch (-want +got):\n%s", diff)
			}
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
				t.Errorf("status %d, Retry-After %q; want 503 and 1", resp.StatusCode, resp.Header.Get("Retry-After"))
			}
			lines := ts.logs.Lines(t, "request failed")
			if len(lines) != 1 || lines[0]["level"] != "error" || lines[0]["status"] != 503.0 {
				t.Errorf("request failed logged %v, want one line at level error with status 503", lines)
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	tests := []struct {
		name      string
		method    string
		path      string
		want      problem
		wantAllow string
	}{
		{
			name: "rider id too long", method: http.MethodGet,
			path: "/riders/" + strings.Repeat("r", 129) + "/notifications",
			want: problem{
				Type: "about:blank", Title: "Bad Request", Status: 400,
				Detail:   "invalid rider id: 129 characters, want 1 to 128",
				Instance: "/riders/" + strings.Repeat("r", 129) + "/notifications",
			},
		},
		{
			name: "rider id with a control character", method: http.MethodGet,
			path: "/riders/rider%0A42/notifications",
			want: problem{
				Type: "about:blank", Title: "Bad Request", Status: 400,
				Detail:   "invalid rider id: control character U+000A",
				Instance: "/riders/rider\n42/notifications",
			},
		},
		{
			name: "rider id not UTF-8, on the stream", method: http.MethodGet,
			path: "/riders/rider%FF/notifications/stream",
			want: problem{
				Type: "about:blank", Title: "Bad Request", Status: 400,
				Detail:   "invalid rider id: not UTF-8",
				Instance: "/riders/rider\uFFFD/notifications/stream", // JSON holds no invalid UTF-8
			},
		},
		{
			name: "no rider id", method: http.MethodGet, path: "/riders//notifications",
			want: problem{Type: "about:blank", Title: "Not Found", Status: 404, Detail: "no such route", Instance: "/riders//notifications"},
		},
		{
			name: "unknown path", method: http.MethodGet, path: "/trips/1",
			want: problem{Type: "about:blank", Title: "Not Found", Status: 404, Detail: "no such route", Instance: "/trips/1"},
		},
		{
			name: "posting to notifications", method: http.MethodPost, path: "/riders/rider-42/notifications",
			want: problem{
				Type: "about:blank", Title: "Method Not Allowed", Status: 405,
				Detail: "POST is not allowed here", Instance: "/riders/rider-42/notifications",
			},
			wantAllow: "GET",
		},
		{
			name: "posting to metrics", method: http.MethodPost, path: "/metrics",
			want: problem{
				Type: "about:blank", Title: "Method Not Allowed", Status: 405,
				Detail: "POST is not allowed here", Instance: "/metrics",
			},
			wantAllow: "GET",
		},
		{
			name: "reading an event route", method: http.MethodGet, path: "/events/trip-created",
			want: problem{
				Type: "about:blank", Title: "Method Not Allowed", Status: 405,
				Detail: "GET is not allowed here", Instance: "/events/trip-created",
			},
			wantAllow: "POST",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t)
			resp := ts.do(t, tt.method, tt.path, nil)
			if resp.StatusCode != tt.want.Status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want.Status)
			}
			if got := resp.Header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			var got problem
			decodeBody(t, resp, "application/problem+json", &got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problem mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestARiderReadsOnlyTheirOwn: the history and the stream want the
// rider's own bearer token; another rider's gets 404, as a rider that does
// not exist, and a missing, expired or forged token 401.
func TestARiderReadsOnlyTheirOwn(t *testing.T) {
	ts := newTestServer(t)
	if got := ts.deliver(t, "trip-created", contracttest.Example(t, "trip-created")); got != "SUCCESS" {
		t.Fatalf("status %s, want SUCCESS", got)
	}
	forger := authtest.New(t)
	for _, path := range []string{"/riders/rider-42/notifications", "/riders/rider-42/notifications/stream"} {
		for _, c := range []struct {
			name, authorization string
			status              int
		}{
			{"no token", "", http.StatusUnauthorized},
			{"another rider", ts.issuer.Bearer(t, "rider-7"), http.StatusNotFound},
			{"expired", "Bearer " + ts.issuer.Sign(t, authtest.Claims{Subject: "rider-42", Expiry: time.Now().Add(-time.Minute)}), http.StatusUnauthorized},
			{"forged", "Bearer " + forger.Sign(t, authtest.Claims{Subject: "rider-42", Issuer: ts.issuer.URL}), http.StatusUnauthorized},
		} {
			resp := ts.doAs(t, http.MethodGet, path, nil, c.authorization)
			var p struct {
				Status int
				Detail string
			}
			decodeBody(t, resp, "application/problem+json", &p)
			if resp.StatusCode != c.status || p.Status != c.status || strings.Contains(p.Detail, "rider-42") {
				t.Errorf("GET %s, %s: %d %+v; want %d, naming nobody", path, c.name, resp.StatusCode, p, c.status)
			}
		}
	}
	var history struct{ Notifications []json.RawMessage }
	decodeBody(t, ts.do(t, http.MethodGet, "/riders/rider-42/notifications", nil), "application/json", &history)
	if len(history.Notifications) != 1 {
		t.Errorf("the rider's own history has %d notifications, want 1", len(history.Notifications))
	}
}
