package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/driver/internal/app"
)

var (
	errRouteNotFound    = errors.New("no such route")
	errMethodNotAllowed = errors.New("method not allowed")
	errNotReady         = errors.New("not ready")
	errBadQuery         = errors.New("bad query parameter")
)

// problem is an RFC 9457 problem details body.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// writeError answers err as application/problem+json with the status it
// maps to, and logs it: the one place an HTTP error is logged.
func writeError(logger zerolog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	detail := err.Error()
	event := logger.Debug()
	switch {
	case status == http.StatusInternalServerError:
		detail = "the request could not be handled; see the service log"
		event = logger.Error()
	case status >= http.StatusInternalServerError:
		event = logger.Warn()
	}
	event.Err(err).Str("method", r.Method).Str("path", r.URL.Path).Int("status", status).Msg("request failed")

	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail})
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, errBadQuery):
		return http.StatusBadRequest
	case errors.Is(err, errRouteNotFound):
		return http.StatusNotFound
	case errors.Is(err, errMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, errNotReady), errors.Is(err, app.ErrPoolNotSeeded):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

func handleNotFound(logger zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(logger, w, r, fmt.Errorf("%w: %s %s", errRouteNotFound, r.Method, r.URL.Path))
	})
}

func handleMethodNotAllowed(logger zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(logger, w, r, fmt.Errorf("%w: %s %s", errMethodNotAllowed, r.Method, r.URL.Path))
	})
}

// writeJSON answers v as application/json with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
