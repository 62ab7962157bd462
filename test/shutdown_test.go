package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// shutdownBudget is what Azure Container Apps gives a container between
// SIGTERM and SIGKILL (DESIGN.md).
const shutdownBudget = 5 * time.Second

// inFlight is a request that a test starts and whose answer comes later.
type inFlight struct {
	answer chan string // the status and body, or the transport error
}

// send starts a request in the background.
func send(method, url, contentType, body string, header ...string) *inFlight {
	r := &inFlight{answer: make(chan string, 1)}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
		if err != nil {
			r.answer <- err.Error()
			return
		}
		req.Header.Set("Content-Type", contentType)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := streamClient.Do(req) // no timeout: the answer may take the whole shutdown
		if err != nil {
			r.answer <- "no answer: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r.answer <- fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}()
	return r
}

// brief shortens an answer for the figures: the status, and the delivery
// status of a subscription answer; "no answer" when the connection closed.
func brief(answer string) string {
	if strings.HasPrefix(answer, "no answer") {
		return "nothing"
	}
	code, body, _ := strings.Cut(answer, " ")
	for _, status := range []string{"SUCCESS", "RETRY", "DROP"} {
		if strings.Contains(body, `"`+status+`"`) {
			return code + " " + status
		}
	}
	return code
}

// Every service, sent SIGTERM, exits 0 within 5 s: while idle, and while
// it handles a request or an event that it cannot finish (its sidecar is
// frozen with SIGSTOP, so the handler's call into it hangs). The request
// or event it could not finish is not reported done: an order is answered
// "outcome unknown" (its publish may still happen), an event is not
// acknowledged (no SUCCESS or DROP), so daprd delivers it again.
func TestGracefulShutdownWithin5s(t *testing.T) {
	s := startSystem(t)
	riderInFlight := newID("rider")
	event := string(cloudEvent(t, newID("inflight"), "trip-created", map[string]any{
		"tripId":      newUUID(),
		"riderId":     newID("rider"),
		"pickup":      map[string]float64{"lat": 50.0755, "lon": 14.4378},
		"dropoff":     map[string]float64{"lat": 50.1, "lon": 14.26},
		"requestedAt": time.Now().UTC().Format(time.RFC3339Nano),
	}))
	// What each service is handling when SIGTERM comes: the trip service
	// an order, the others a trip-created event as daprd delivers it.
	work := map[string]func(a *app) *inFlight{
		"trip": func(a *app) *inFlight {
			return send(http.MethodPost, a.url()+"/trips", "application/json", orderBody(riderInFlight, jardasCorner))
		},
		"driver": func(a *app) *inFlight {
			return send(http.MethodPost, a.url()+"/events/trip-created", "application/cloudevents+json", event, "dapr-api-token", a.appToken)
		},
		"notification": func(a *app) *inFlight {
			return send(http.MethodPost, a.url()+"/events/trip-created", "application/cloudevents+json", event, "dapr-api-token", a.appToken)
		},
	}
	// finished says whether an answer reports the work done.
	finished := func(service, answer string) bool {
		if service == "trip" {
			return strings.HasPrefix(answer, "2")
		}
		return strings.HasPrefix(answer, "200 ") && !strings.Contains(answer, `"RETRY"`)
	}

	var lines []string
	var orderInFlight string // what POST /trips answered at SIGTERM
	for _, name := range services {
		a := s.app(name)
		t.Run(name+"/idle", func(t *testing.T) {
			e := s.stopService(t, a, syscall.SIGTERM)
			lines = append(lines, fmt.Sprintf("%s idle %s exit %d", name, e.after.Round(time.Millisecond), e.code))
			if e.code != 0 || e.after >= shutdownBudget {
				t.Errorf("SIGTERM while idle: %s after %s, want exit 0 within %s", e.state, e.after.Round(time.Millisecond), shutdownBudget)
			}
			s.startApp(t, a)
		})
		t.Run(name+"/in_flight", func(t *testing.T) {
			thaw := s.freezeSidecar(t, a)
			req := work[name](a)
			select {
			case answer := <-req.answer:
				t.Fatalf("answered before SIGTERM, with its sidecar frozen: %s", answer)
			case <-time.After(500 * time.Millisecond): // it waits for the sidecar now
			}
			e := s.stopService(t, a, syscall.SIGTERM)
			answer := <-req.answer
			thaw()
			lines = append(lines, fmt.Sprintf("%s in flight %s exit %d (answered %s)", name, e.after.Round(time.Millisecond), e.code, brief(answer)))
			if e.code != 0 || e.after >= shutdownBudget {
				t.Errorf("SIGTERM with a handler waiting for the sidecar: %s after %s, want exit 0 within %s", e.state, e.after.Round(time.Millisecond), shutdownBudget)
			}
			if finished(name, answer) {
				t.Errorf("the unfinished work was answered %q, as if it were done", answer)
			}
			t.Logf("the work in flight was answered: %s", answer)
			if name == "trip" {
				orderInFlight = answer
			}
			s.startApp(t, a)
		})
	}

	// The order in flight was cut off in its publish, which the frozen
	// sidecar may still carry out once it runs again: the answer must say
	// that the outcome is unknown, not that the order was refused. Then the
	// system still works, and the order in flight either left nothing or
	// completed exactly once: tally judges it so.
	if !strings.HasPrefix(orderInFlight, "503 ") || !strings.Contains(orderInFlight, problemOutcomeUnknown) {
		t.Errorf("the order in flight at SIGTERM was answered %q, want 503 with the problem type %s", orderInFlight, problemOutcomeUnknown)
	}
	riderID := newID("rider")
	trip := accepted(t, s.orderTrip(t, orderBody(riderID, jardasCorner)))
	f := s.tally(t, []order{
		{riderID: riderID, status: http.StatusAccepted, tripID: trip.TripID},
		{riderID: riderInFlight, status: http.StatusServiceUnavailable, problem: true, unknown: true, answer: orderInFlight},
	}, time.Minute)
	f.check(t)
	lines = append(lines, f.String())
	report(t, "%s", strings.Join(lines, "; "))
}
