package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/tracing"
)

// problem is an RFC 9457 problem detail.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// requestError is a client error found while reading the request.
type requestError struct {
	status int
	detail string
}

func (e *requestError) Error() string { return e.detail }

func badRequest(detail string) error {
	return &requestError{status: http.StatusBadRequest, detail: detail}
}

var errNotReady = errors.New("not ready")

// writeError maps an error to its problem response. It is the one place
// an HTTP error is logged.
func writeError(logger zerolog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	p := problem{Type: "about:blank", Instance: r.URL.Path}
	var reqErr *requestError
	switch {
	case errors.As(err, &reqErr):
		p.Status, p.Detail = reqErr.status, reqErr.detail
	case errors.Is(err, errNotReady):
		p.Status, p.Detail = http.StatusServiceUnavailable, notReadyDetail(err)
	case errors.Is(err, app.ErrPoolNotSeeded):
		// The service is starting: it stores its pool once the sidecar
		// answers.
		p.Status, p.Detail = http.StatusServiceUnavailable, "the driver pool is not stored yet; retry shortly"
		w.Header().Set("Retry-After", "1")
	default:
		// The sidecar or the state store failed; the log says how.
		p.Status, p.Detail = http.StatusInternalServerError, "the request could not be handled; see the service log"
	}
	p.Title = http.StatusText(p.Status)

	event := logger.Info() // a client's mistake, not the service's
	if p.Status >= 500 {
		event = logger.Error()
	}
	event.Err(err).
		Str("method", r.Method).
		Str("path", r.URL.Path).
		Int("status", p.Status).
		Str("traceId", tracing.TraceID(r.Context())).
		Msg("request failed")

	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// notReadyDetail says why the service is not ready (Readiness.Ready):
// starting, shutting down, or what it depends on not answering, in words
// of its own; the error of the check, which may hold addresses and the
// sidecar's words, goes to the log only.
func notReadyDetail(err error) string {
	switch {
	case errors.Is(err, errStarting):
		return errStarting.Error()
	case errors.Is(err, errStopping):
		return errStopping.Error()
	}
	return "not ready: the sidecar or the state store does not answer"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// handleNotFound answers routes that do not exist.
func handleNotFound(logger zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(logger, w, r, &requestError{status: http.StatusNotFound, detail: "no such route"})
	})
}

// handleMethodNotAllowed answers known routes called with the wrong method.
func handleMethodNotAllowed(logger zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(logger, w, r, &requestError{status: http.StatusMethodNotAllowed, detail: r.Method + " is not allowed here"})
	})
}
