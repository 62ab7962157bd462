// Package httpapi is the orchestrator's HTTP surface: the Trip API (the
// trip service's, unchanged), health endpoints and the metrics. Every
// route is listed in routes.go.
package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/ride-choreography/services/orchestrator/internal/orchestrator"
	"github.com/ride-choreography/services/orchestrator/internal/tracing"
)

// Trips is what the Trip API needs of the app.
type Trips interface {
	Order(ctx context.Context, o orchestrator.Order, idempotencyKey string) (t orchestrator.Trip, replayed bool, err error)
	Trip(ctx context.Context, id string) (orchestrator.Trip, error)
}

// Deps is what the HTTP surface serves.
type Deps struct {
	// Auth tells the rider from the bearer token of a Trip API request.
	Auth Authenticator
	// OrderLimit bounds how often one rider may order (limitOrders).
	OrderLimit OrderLimit
	Trips      Trips
	Readiness  *Readiness
	// Metrics serves what the service counted, in the Prometheus text
	// format (internal/metrics).
	Metrics http.Handler
}

// NewServer returns the service's HTTP handler.
func NewServer(logger zerolog.Logger, d Deps) http.Handler {
	r := mux.NewRouter()
	addRoutes(r, logger, d)
	r.NotFoundHandler = handleNotFound(logger)
	r.MethodNotAllowedHandler = handleMethodNotAllowed(logger)
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
