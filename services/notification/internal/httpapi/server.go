// Package httpapi is the notification service's HTTP surface: the riders'
// notification history and live stream, the dead letters, health and
// metrics endpoints and the routes on which the Dapr sidecar delivers events. Every route is
// listed in routes.go.
package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/ride-choreography/services/notification/internal/app"
	"github.com/ride-choreography/services/notification/internal/notification"
	"github.com/ride-choreography/services/notification/internal/tracing"
)

// Riders is what the rider endpoints need of the app: a rider's history,
// and a signal that this process has just added to it.
type Riders interface {
	History(ctx context.Context, riderID string) (notification.History, error)
	Watch(riderID string) (wake <-chan struct{}, stop func())
}

// Subscriber serves Dapr's subscription protocol (internal/dapr).
type Subscriber interface {
	Subscriptions() http.Handler
	TripCreated() http.Handler
	DriverAssigned() http.Handler
	DriverNotFound() http.Handler
	DeadLetter() http.Handler
}

// Steps serves the service's steps to orchestrators (internal/dapr).
type Steps interface {
	TripReceived() http.Handler
	DriverAssigned() http.Handler
	NoDriver() http.Handler
}

// DeadLetters lists the events the service dropped.
type DeadLetters interface {
	List(ctx context.Context) (app.DeadLetters, error)
}

// Deps is what the HTTP surface serves.
type Deps struct {
	// SidecarToken is the token the sidecar sends with each of its calls
	// (APP_API_TOKEN); fromSidecar refuses the sidecar's routes without it.
	SidecarToken string
	// Auth tells the rider from the bearer token of a request for
	// notifications.
	Auth        Authenticator
	Riders      Riders
	DeadLetters DeadLetters
	Subscriber  Subscriber
	Steps       Steps
	Readiness   *Readiness
	// Metrics serves the service's counts in Prometheus's text format
	// (internal/metrics).
	Metrics http.Handler
	// PollInterval is how often a notification stream reads the rider's
	// history again; zero means 500 ms.
	PollInterval time.Duration
	// Heartbeat is how often an idle notification stream sends a comment
	// to keep the connection open; zero means 15 s.
	Heartbeat time.Duration
}

// NewServer returns the service's HTTP handler.
func NewServer(logger zerolog.Logger, d Deps) http.Handler {
	if d.PollInterval == 0 {
		d.PollInterval = 500 * time.Millisecond
	}
	if d.Heartbeat == 0 {
		d.Heartbeat = 15 * time.Second
	}
	// Routes match the path as sent, escapes kept and unclean paths not
	// redirected, so that a rider id may hold any character: "a%2Fb" is
	// rider "a/b", "%2E%2E" or ".." rider "..".
	r := mux.NewRouter().UseEncodedPath().SkipClean(true)
	addRoutes(r, logger, d)
	r.NotFoundHandler = handleNotFound(logger)
	r.MethodNotAllowedHandler = handleMethodNotAllowed(logger, r)
	return traceRequests(r, logRequests(logger, r))
}

// traceRequests starts a server span for each request to the public API,
// continuing the caller's trace when it sends a traceparent. Health checks,
// metrics scrapes and the subscription protocol get none: event deliveries
// have spans of their own (internal/dapr), and the rest is noise.
func traceRequests(router *mux.Router, next http.Handler) http.Handler {
	return otelhttp.NewHandler(next, "http",
		otelhttp.WithFilter(traced),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			var m mux.RouteMatch
			if router.Match(r, &m) && m.Route != nil {
				if template, err := m.Route.GetPathTemplate(); err == nil {
					return r.Method + " " + template
				}
			}
			return r.Method
		}))
}

// traced reports whether r gets a span of traceRequests': not the health
// checks, the metrics scrapes, the sidecar's own calls (/dapr/) or the
// event deliveries (/events/).
func traced(r *http.Request) bool {
	switch p := r.URL.Path; {
	case p == "/healthz", p == "/readyz", p == "/metrics":
		return false
	case strings.HasPrefix(p, "/dapr/"), strings.HasPrefix(p, "/events/"):
		return false
	}
	return true
}

// logRequests logs every request at debug level; errors are logged once,
// by writeError.
func logRequests(logger zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		logger.Debug().
			Str("method", r.Method).
			Str("path", r.URL.Path).
			Int("status", rec.status).
			Dur("duration", time.Since(start)).
			Str("traceId", tracing.TraceID(r.Context())).
			Msg("request")
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(status int) {
	s.status = status
	s.ResponseWriter.WriteHeader(status)
}

// Unwrap returns the ResponseWriter recorded, so that an
// http.ResponseController flushes a notification stream through it.
func (s *statusRecorder) Unwrap() http.ResponseWriter {
	return s.ResponseWriter
}
