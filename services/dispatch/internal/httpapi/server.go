// Package httpapi is the dispatch service's HTTP surface: the dispatchers'
// page and its sign-in, the board and its live stream, the dead letters,
// health and metrics endpoints and the routes on which the Dapr sidecar
// delivers events. Every route is listed in routes.go.
package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/ride-choreography/services/dispatch/internal/app"
	"github.com/ride-choreography/services/dispatch/internal/dispatch"
	"github.com/ride-choreography/services/dispatch/internal/tracing"
)

// Board is what the dispatchers' endpoints need of the app: the picture
// now, and a signal that this process has just changed it.
type Board interface {
	Picture(ctx context.Context) (dispatch.Picture, error)
	Watch() (wake <-chan struct{}, stop func())
}

// Subscriber serves Dapr's subscription protocol (internal/dapr).
type Subscriber interface {
	Subscriptions() http.Handler
	TripCreated() http.Handler
	DriverAssigned() http.Handler
	DriverNotFound() http.Handler
	DeadLetter() http.Handler
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
	// Auth tells a dispatcher from their token.
	Auth Authenticator
	// SecureCookie marks the session cookie Secure (COOKIE_SECURE): sent
	// over HTTPS only, and over plain HTTP to localhost, which browsers
	// count as secure. Off only for a plain-HTTP host other than
	// localhost.
	SecureCookie bool
	Board        Board
	DeadLetters  DeadLetters
	Subscriber   Subscriber
	Readiness    *Readiness
	// Metrics serves the service's counts in Prometheus's text format
	// (internal/metrics).
	Metrics http.Handler
	// PollInterval is how often a board stream reads the board again, and
	// sends it; zero means a second.
	PollInterval time.Duration
	// MaxStreamsPerDispatcher is how many board streams one dispatcher may
	// have open at once on this process (MAX_STREAMS_PER_DISPATCHER); zero
	// means DefaultMaxStreamsPerDispatcher.
	MaxStreamsPerDispatcher int
}

// DefaultMaxStreamsPerDispatcher is how many board streams a dispatcher
// may have open at once unless Deps says otherwise: a few screens.
const DefaultMaxStreamsPerDispatcher = 4

// NewServer returns the service's HTTP handler.
func NewServer(logger zerolog.Logger, d Deps) http.Handler {
	if d.PollInterval == 0 {
		d.PollInterval = time.Second
	}
	if d.MaxStreamsPerDispatcher == 0 {
		d.MaxStreamsPerDispatcher = DefaultMaxStreamsPerDispatcher
	}
	r := mux.NewRouter()
	addRoutes(r, logger, d)
	r.NotFoundHandler = handleNotFound(logger)
	r.MethodNotAllowedHandler = handleMethodNotAllowed(logger, r)
	return traceRequests(r, logRequests(logger, secureHeaders(r)))
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
// checks, the metrics scrapes, the page's scripts and styles (/static/),
// the sidecar's own calls (/dapr/) or the event deliveries (/events/).
func traced(r *http.Request) bool {
	switch p := r.URL.Path; {
	case p == "/healthz", p == "/readyz", p == "/metrics":
		return false
	case strings.HasPrefix(p, "/dapr/"), strings.HasPrefix(p, "/events/"), strings.HasPrefix(p, "/static/"):
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
// http.ResponseController flushes a board stream through it.
func (s *statusRecorder) Unwrap() http.ResponseWriter {
	return s.ResponseWriter
}
