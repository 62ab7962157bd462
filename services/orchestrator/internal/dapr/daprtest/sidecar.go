// Package daprtest is a fake Dapr sidecar for unit tests: it answers the
// readiness probe and the service invocations of the steps, as daprd and
// the driver and notification services behind it would, and records the
// invocations. The end-to-end tests use real daprd.
package daprtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// DriverAssigned is the driver's answer with Jarda.
const DriverAssigned = `{"topic":"driver-assigned","event":{"tripId":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10","riderId":"rider-42",` +
	`"driver":{"id":"jarda","name":"Jarda","car":{"make":"Toyota","model":"Corolla","color":"blue","plate":"1AB 2345"}},` +
	`"etaSeconds":60,"assignedAt":"2026-12-02T10:00:00Z"}}`

// Sidecar is the fake. Assign is the driver's answer to assign-driver.
type Sidecar struct {
	URL    *url.URL
	Assign string

	mu     sync.Mutex
	calls  []string
	tokens []string
	bodies []string
	status int
}

// Start starts a fake sidecar whose driver answers assign; the test's end
// stops it.
func Start(t testing.TB, assign string) *Sidecar {
	t.Helper()
	f := &Sidecar{Assign: assign}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL, _ = url.Parse(srv.URL)
	return f
}

func (f *Sidecar) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1.0/healthz/outbound" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	call, ok := strings.CutPrefix(r.URL.Path, "/v1.0/invoke/")
	if !ok || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "not an invocation", http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if !json.Valid(body) {
		http.Error(w, "body is not JSON", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, strings.Replace(call, "/method/steps/", " ", 1))
	f.tokens = append(f.tokens, r.Header.Get("dapr-api-token"))
	f.bodies = append(f.bodies, string(body))
	status := f.status
	f.mu.Unlock()
	switch {
	case status != 0:
		w.WriteHeader(status)
	case call == "driver/method/steps/assign-driver":
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, f.Assign)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// Invocations returns the steps called so far, as "app step".
func (f *Sidecar) Invocations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// Bodies returns the bodies of the invocations so far.
func (f *Sidecar) Bodies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

// AnswerEveryStep makes every step answer status from now on.
func (f *Sidecar) AnswerEveryStep(status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status = status
}

// Tokens returns the dapr-api-token each invocation carried, "" for none.
func (f *Sidecar) Tokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.tokens...)
}
